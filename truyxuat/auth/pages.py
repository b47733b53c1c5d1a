"""Web pages for signing in and out, switching language and organization, and the home page."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from truyxuat.auth import service
from truyxuat.auth.deps import DB, LOCALE_COOKIE, SESSION_COOKIE, Locale, MaybeCaller
from truyxuat.errors import DomainError
from truyxuat.i18n import LOCALES
from truyxuat.web.forms import form_errors, read_form
from truyxuat.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths may be redirected to after login (no open redirect)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: MaybeCaller) -> Response:
    """The landing page: what the platform is, and the caller's work if signed in."""
    return render(request, "home.html", {})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: MaybeCaller, next: str = "/") -> Response:
    """Shows the sign-in form."""
    return render(request, "login.html", {"next": _safe_next(next), "errors": {}, "email": ""})


@router.post("/login")
def login(
    request: Request,
    db: DB,
    locale: Locale,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Checks credentials and opens a session (login CSRF is moot: it sets a new session)."""
    try:
        user = service.authenticate_password(
            db,
            email=email,
            password=password,
            client=request.client.host if request.client else None,
        )
    except DomainError as exc:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "errors": form_errors(exc, locale), "email": email},
            status_code=exc.status,
        )
    token = service.start_web_session(
        db, user=user, max_age=request.app.state.settings.session_max_age
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        max_age=request.app.state.settings.session_max_age,
    )
    return response


@router.post("/logout")
async def logout(request: Request, db: DB, principal: MaybeCaller) -> Response:
    """Ends the session."""
    await read_form(request, principal)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_web_session(db, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{locale}")
def switch_language(locale: str, request: Request, next: str = "/") -> Response:
    """Remembers the chosen UI language in a cookie."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.post("/switch-org")
async def switch_org(request: Request, db: DB, principal: MaybeCaller) -> Response:
    """Changes the organization the session acts for."""
    form = await read_form(request, principal)
    assert principal is not None
    token = request.cookies.get(SESSION_COOKIE, "")
    service.switch_active_org(
        db, token=token, principal=principal, org_id=uuid.UUID(str(form.get("org_id")))
    )
    return RedirectResponse(_safe_next(str(form.get("next") or "/")), status_code=303)
