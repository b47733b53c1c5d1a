"""RFC 9457 problem+json for every API error; a readable HTML page for browser routes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from truyxuat.errors import N_, DomainError, FieldError, ValidationFailed
from truyxuat.i18n import gettext

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_HTTP_TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Payload too large"),
    415: N_("Unsupported media type"),
    422: N_("Validation failed"),
    429: N_("Too many requests"),
    503: N_("Not configured"),
    500: N_("Internal server error"),
}


class ProblemFieldError(BaseModel):
    """One field that broke a rule."""

    loc: list[str | int]
    pointer: str = Field(description="JSON pointer to the field in the request, e.g. #/gtin")
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem detail; `errors` lists each offending field."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None


def _documented(status: int, description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented(400, "Bad request"),
    401: _documented(401, "No or invalid credentials"),
    403: _documented(403, "The caller's role or organization may not do this"),
    404: _documented(404, "No such resource, or not visible to the caller"),
    409: _documented(409, "Clashes with existing data or state"),
    413: _documented(413, "The request body is too large"),
    415: _documented(415, "Unsupported media type"),
    422: _documented(422, "Validation failed; `errors` names each field"),
    429: _documented(429, "Too many requests; try again later"),
    503: _documented(503, "The node is not configured for this (e.g. no EPCIS schema)"),
}
"""Every API operation may answer these problems; documented once for the whole OpenAPI."""


def document_problems(app: FastAPI) -> None:
    """Makes the OpenAPI say what is sent: errors as application/problem+json.

    FastAPI files every documented model under application/json; the error handlers below
    answer every 4xx with problem+json, so the document is corrected once when first built.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if code.isdigit() and int(code) >= 400 and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _locale(request: Request) -> str:
    """The reader's language, chosen as for pages: ?lang=, the language cookie, the browser."""
    from truyxuat.auth.deps import request_locale

    return request_locale(request)


def _pointer(loc: list[str | int]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def field_errors_json(errors: list[FieldError], locale: str) -> list[dict[str, Any]]:
    """Renders field errors with translated messages and JSON pointers."""
    return [
        {
            "loc": e.loc,
            "pointer": _pointer(e.loc),
            "field": str(e.loc[-1]) if e.loc else "",
            "message": gettext(locale, e.message, **e.params),
        }
        for e in errors
    ]


def problem(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Builds a problem+json response."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


MACHINE_PREFIXES = ("/epcis", "/ledger/")
"""Paths for machines (EPCIS clients, witnesses) unless a browser asks for HTML."""


def _is_api(request: Request) -> bool:
    path, accept = request.url.path, request.headers.get("accept", "")
    if path.startswith("/api/") or "json" in accept:
        return True
    return path.startswith(MACHINE_PREFIXES) and "text/html" not in accept


def domain_problem(
    request: Request, exc: DomainError, headers: dict[str, str] | None = None
) -> Response:
    """A domain error as problem+json in the reader's language (401 names the Bearer scheme)."""
    locale = _locale(request)
    errors = field_errors_json(exc.errors, locale) if isinstance(exc, ValidationFailed) else None
    if exc.status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return problem(
        request,
        exc.status,
        exc.type_slug,
        gettext(locale, exc.title),
        gettext(locale, exc.message, **exc.params),
        errors,
        headers,
    )


def problem_route(
    extra_headers: Callable[[DomainError], dict[str, str] | None] = lambda exc: None,
) -> type[APIRoute]:
    """A route class answering domain errors with problem+json whatever the Accept header
    (for machine protocols: EPCIS, the ledger, federation), with protocol headers of its own."""

    class ProblemRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except DomainError as exc:
                    return domain_problem(request, exc, extra_headers(exc))

            return guarded

    return ProblemRoute


async def on_domain_error(request: Request, exc: Exception) -> Response:
    """Maps a domain error to problem+json (API) or an error page (browser)."""
    assert isinstance(exc, DomainError)
    if not _is_api(request):
        locale = _locale(request)
        errors = (
            field_errors_json(exc.errors, locale) if isinstance(exc, ValidationFailed) else None
        )
        title, detail = gettext(locale, exc.title), gettext(locale, exc.message, **exc.params)
        return _html_error(request, exc.status, title, detail, errors)
    return domain_problem(request, exc)


async def on_request_validation(request: Request, exc: Exception) -> Response:
    """Maps FastAPI's request validation to problem+json naming each field."""
    assert isinstance(exc, RequestValidationError)
    locale = _locale(request)
    errors: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
        errors.append(
            {
                "loc": loc,
                "pointer": _pointer(loc),
                "field": str(loc[-1]) if loc else "",
                "message": err.get("msg", ""),
                "code": err.get("type", ""),
            }
        )
    title = gettext(locale, _HTTP_TITLES[422])
    return problem(request, 422, "validation-error", title, None, errors)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Maps framework HTTP errors (404 route, 405 method...) to problem+json."""
    assert isinstance(exc, StarletteHTTPException)
    locale = _locale(request)
    title = gettext(locale, _HTTP_TITLES.get(exc.status_code, N_("Error")))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if not _is_api(request):
        return _html_error(request, exc.status_code, title, detail, None)
    return problem(
        request,
        exc.status_code,
        f"http-{exc.status_code}",
        title,
        detail,
        headers=getattr(exc, "headers", None),
    )


async def on_database_error(request: Request, exc: Exception) -> Response:
    """NUL characters in text are the input's fault (PostgreSQL refuses them, SQLite keeps
    them): a 422 naming the rule. Anything else is unexpected. Either way the request's
    transaction is rolled back."""
    if isinstance(exc, DBAPIError) and "NUL (0x00)" in str(exc.orig):
        failed = ValidationFailed([FieldError([], N_("Text cannot contain NUL characters"))])
        return await on_domain_error(request, failed)
    return await on_unexpected(request, exc)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Logs an unexpected failure and answers 500 without leaking internals."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    title = gettext(_locale(request), _HTTP_TITLES[500])
    return problem(request, 500, "internal-error", title)


def _html_error(
    request: Request,
    status: int,
    title: str,
    detail: str | None,
    errors: list[dict[str, Any]] | None,
) -> Response:
    from truyxuat.web.templating import render

    if status == 401:
        from fastapi.responses import RedirectResponse

        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail, "errors": errors or []},
        status_code=status,
    )


def install(app: FastAPI) -> None:
    """Registers the error handlers on an app."""
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
    document_problems(app)
