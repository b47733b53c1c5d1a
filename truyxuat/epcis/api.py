"""The EPCIS 2.0 REST binding: capture (documents and single events) and event queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from truyxuat.auth.deps import DB, Caller
from truyxuat.db import utcnow
from truyxuat.epcis import service
from truyxuat.epcis.models import CaptureJob, CaptureState
from truyxuat.epcis.schemas import CaptureJobOut
from truyxuat.errors import DomainError, ValidationFailed
from truyxuat.i18n import gettext, negotiate
from truyxuat.web.problems import field_errors_json, problem

JSON_LD = "application/ld+json"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}


class ProblemRoute(APIRoute):
    """Answers domain errors with problem+json whatever the Accept header (EPCIS clients)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wraps the handler so DomainError becomes problem+json."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                locale = negotiate(
                    request.headers.get("accept-language"), request.query_params.get("lang")
                )
                errors = (
                    field_errors_json(exc.errors, locale)
                    if isinstance(exc, ValidationFailed)
                    else None
                )
                return problem(
                    request,
                    exc.status,
                    exc.type_slug,
                    gettext(locale, exc.title),
                    gettext(locale, exc.message, **exc.params),
                    errors,
                    {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None,
                )

        return route


router = APIRouter(tags=["epcis"], route_class=ProblemRoute)


def _job_out(job: CaptureJob) -> dict[str, Any]:
    """The capture job in the shape of the EPCIS REST binding."""
    return CaptureJobOut(
        captureID=job.id,
        running=job.state is CaptureState.running,
        success=job.state is CaptureState.success,
        errors=job.errors or [],
        eventCount=job.event_count,
        createdAt=job.created_at,
        finishedAt=job.finished_at,
    ).model_dump(mode="json")


def _params(request: Request) -> dict[str, list[str]]:
    """The query string as name -> every value given."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


@router.post("/capture", status_code=202)
async def capture(request: Request, db: DB, caller: Caller) -> Response:
    """Captures an EPCISDocument (JSON-LD or XML), all events or none; the job is done on reply."""
    body = await request.body()
    validator = service.validator_for(request.app.state.settings.epcis_schema)
    job = service.capture_document(
        db,
        caller,
        data=body,
        content_type=request.headers.get("content-type", "application/json"),
        validator=validator,
    )
    return JSONResponse(
        _job_out(job),
        status_code=202,
        headers={"Location": f"/epcis/capture/{job.id}", **EPCIS_HEADERS},
    )


@router.get("/capture/{capture_id}")
def capture_job(capture_id: uuid.UUID, db: DB, caller: Caller) -> JSONResponse:
    """Reports a capture job of the caller's organization."""
    return JSONResponse(_job_out(service.get_capture_job(db, caller, capture_id)))


@router.post("/events", status_code=201)
async def capture_one(request: Request, db: DB, caller: Caller) -> Response:
    """Captures a single event sent as JSON-LD."""
    body = await request.body()
    validator = service.validator_for(request.app.state.settings.epcis_schema)
    event = service.read_event(body, request.headers.get("content-type", "application/json"))
    row = service.capture_event(db, caller, event=event, validator=validator)
    location = f"/epcis/events/{quote(row.event_id, safe='')}"
    return Response(status_code=201, headers={"Location": location, **EPCIS_HEADERS})


@router.get("/events")
def events(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """Runs a SimpleEventQuery; answers an EPCISQueryDocument, paged by nextPageToken."""
    params = _params(request)
    rows, token = service.query_events(db, caller, params)
    headers = dict(EPCIS_HEADERS)
    if token is not None:
        params["nextPageToken"] = [token]
        query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, vs in params.items() for v in vs)
        headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    document = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": utcnow().isoformat().replace("+00:00", "Z"),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [service.event_document(row) for row in rows]},
            }
        },
    }
    return JSONResponse(document, media_type=JSON_LD, headers=headers)


@router.get("/events/{event_id:path}")
def event(event_id: str, db: DB, caller: Caller) -> JSONResponse:
    """One event by its eventID (or its event hash), as captured."""
    row = service.get_event(db, caller, event_id)
    return JSONResponse(service.event_document(row), media_type=JSON_LD, headers=EPCIS_HEADERS)
