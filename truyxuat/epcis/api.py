"""The EPCIS 2.0 REST binding: capture (documents and single events), event queries and the
discovery listings (/eventTypes, /epcs, /bizSteps, /bizLocations, /readPoints, /dispositions)
and named queries (/queries) with their webhook subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from truyxuat.auth.deps import DB, Caller
from truyxuat.db import utcnow
from truyxuat.epcis import (
    epc_format,
    named_queries,
    query,
    service,
    subscriptions,
    xml_writer,
)
from truyxuat.epcis import xsd as xsd_module
from truyxuat.epcis.models import CaptureJob, CaptureState, EpcisEvent, NamedQuery, Subscription
from truyxuat.epcis.schemas import CaptureJobOut, NamedQueryIn, SubscriptionIn
from truyxuat.errors import N_, FieldError, invalid
from truyxuat.i18n import negotiate
from truyxuat.registry.service.files import PayloadTooLarge
from truyxuat.web import problems
from truyxuat.web.problems import field_errors_json

JSON_LD = "application/ld+json"
EPCIS_CONTEXT = xml_writer.EPCIS_CONTEXT
XML_TYPES = frozenset({"application/xml", "text/xml"})
EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}


ProblemRoute = problems.problem_route()


router = APIRouter(tags=["epcis"], route_class=ProblemRoute)
# Event answers follow the Accept header: JSON-LD (default), plain JSON or EPCIS XML.
EVENTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An EPCISQueryDocument (or one event) in the negotiated format",
        "content": {JSON_LD: {}, "application/json": {}, "application/xml": {}},
    }
}


def _job_out(job: CaptureJob, request: Request) -> dict[str, Any]:
    """The capture job in the shape of the EPCIS REST binding, its errors in the reader's
    language."""
    locale = negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))
    errors = [
        FieldError(list(e.get("loc", [])), str(e.get("message", "")), dict(e.get("params", {})))
        for e in job.errors or []
    ]
    return CaptureJobOut(
        captureID=job.id,
        running=job.state is CaptureState.running,
        success=job.state is CaptureState.success,
        captureErrorBehaviour=job.error_behaviour,
        errors=field_errors_json(errors, locale),
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


CAPTURE_ERROR_BEHAVIOUR = "GS1-Capture-Error-Behaviour"


def _proceeds(request: Request) -> bool:
    """GS1-Capture-Error-Behaviour: `rollback` (the default: the whole document or nothing)
    or `proceed` (store the valid events, report the others in the capture job)."""
    wanted = request.headers.get(CAPTURE_ERROR_BEHAVIOUR, "rollback").strip().lower()
    if wanted not in ("rollback", "proceed"):
        raise invalid(
            [CAPTURE_ERROR_BEHAVIOUR],
            N_("GS1-Capture-Error-Behaviour must be rollback or proceed"),
        )
    return wanted == "proceed"


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(N_("The document is larger than {max} bytes"), max=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(N_("The document is larger than {max} bytes"), max=limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/capture", status_code=202)
async def capture(request: Request, db: DB, caller: Caller) -> Response:
    """Captures an EPCISDocument (JSON-LD or XML), all events or none; the job is done on reply."""
    settings = request.app.state.settings
    proceed = _proceeds(request)
    body = await _read_body(request, settings.capture_max_bytes)
    validator = service.validator_for(settings.epcis_schema)
    content_type = request.headers.get("content-type", "application/json")
    is_xml = content_type.split(";", 1)[0].strip().lower() in XML_TYPES
    xsd = (
        xsd_module.load_xsd(xsd_module.find_xsd(settings.epcis_xsd, settings.epcis_schema))
        if is_xml
        else None
    )
    # In the thread pool: validating and storing a document must not hold the event loop,
    # which every other request of the worker (consumer scans first) waits on.
    job = await run_in_threadpool(
        service.capture_document,
        db,
        caller,
        data=body,
        content_type=content_type,
        validator=validator,
        xsd=xsd,
        proceed=proceed,
    )
    return JSONResponse(
        _job_out(job, request),
        status_code=202,
        headers={"Location": f"/epcis/capture/{job.id}", **EPCIS_HEADERS},
    )


@router.get("/capture/{capture_id}")
def capture_job(capture_id: uuid.UUID, request: Request, db: DB, caller: Caller) -> JSONResponse:
    """Reports a capture job of the caller's organization."""
    return JSONResponse(_job_out(service.get_capture_job(db, caller, capture_id), request))


@router.post("/events", status_code=201)
async def capture_one(request: Request, db: DB, caller: Caller) -> Response:
    """Captures a single event sent as JSON-LD."""
    body = await _read_body(request, request.app.state.settings.capture_max_bytes)
    validator = service.validator_for(request.app.state.settings.epcis_schema)
    event = service.read_event(body, request.headers.get("content-type", "application/json"))
    row = await run_in_threadpool(
        service.capture_event, db, caller, event=event, validator=validator
    )
    location = f"/epcis/events/{quote(row.event_id, safe='')}"
    return Response(status_code=201, headers={"Location": location, **EPCIS_HEADERS})


def _next_link(request: Request, params: dict[str, list[str]], token: str) -> str:
    """The Link header pointing at the next page of the same request."""
    params = {**params, "nextPageToken": [token]}
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, vs in params.items() for v in vs)
    return f'<{request.url.path}?{query}>; rel="next"'


def _wants_xml(request: Request) -> bool:
    """True when the Accept header prefers the XML binding to JSON-LD."""
    for part in request.headers.get("accept", "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in XML_TYPES:
            return True
        if media in ("application/json", "application/ld+json"):
            return False
    return False


def _epc_format(request: Request, db: DB) -> tuple[Callable[[str], str], dict[str, str]]:
    """How to write identifiers for the GS1-EPC-Format header, and the header to echo."""
    wanted = request.headers.get("GS1-EPC-Format")
    if wanted is None:
        return epc_format.converter(None), {}
    if wanted not in epc_format.FORMATS:
        expected = ", ".join(sorted(epc_format.FORMATS))
        raise invalid(["GS1-EPC-Format"], N_("Must be one of: {expected}"), expected=expected)
    prefixes = query.company_prefixes(db) if wanted == epc_format.ALWAYS_URN else ()
    return epc_format.converter(wanted, prefixes), {"GS1-EPC-Format": wanted}


def _query_response(
    request: Request,
    db: DB,
    rows: list[EpcisEvent],
    token: str | None,
    params: dict[str, list[str]],
    query_name: str = "SimpleEventQuery",
) -> Response:
    """One page of events as an EPCISQueryDocument (JSON-LD or XML), Link to the next page."""
    convert, format_header = _epc_format(request, db)
    headers = {**EPCIS_HEADERS, **format_header}
    if token is not None:
        headers["Link"] = _next_link(request, params, token)
    events = [epc_format.convert_event(service.event_document(row), convert) for row in rows]
    if _wants_xml(request):
        body = xml_writer.query_document_xml(events, query_name=query_name, creation_date=utcnow())
        return Response(body, media_type="application/xml", headers=headers)
    document = xml_writer.query_document(events, query_name=query_name, creation_date=utcnow())
    return JSONResponse(document, media_type=JSON_LD, headers=headers)


@router.get("/events", responses=EVENTS_RESPONSES)
def events(request: Request, db: DB, caller: Caller) -> Response:
    """Runs a SimpleEventQuery; answers an EPCISQueryDocument, paged by nextPageToken."""
    params = _params(request)
    rows, token = service.query_events(db, caller, params)
    return _query_response(request, db, rows, token, params)


@router.get("/events/{event_id:path}", responses=EVENTS_RESPONSES)
def event(event_id: str, request: Request, db: DB, caller: Caller) -> Response:
    """One event by its eventID (or its event hash), as captured."""
    row = service.get_event(db, caller, event_id)
    convert, format_header = _epc_format(request, db)
    document = epc_format.convert_event(service.event_document(row), convert)
    headers = {**EPCIS_HEADERS, **format_header}
    if _wants_xml(request):
        body = xml_writer.event_xml(document).encode()
        return Response(body, media_type="application/xml", headers=headers)
    return JSONResponse(document, media_type=JSON_LD, headers=headers)


def _collection(request: Request, resource: str, db: DB, caller: Caller) -> JSONResponse:
    """A discovery listing: the distinct values of a resource among the caller's events."""
    params = _params(request)
    values, token = query.discover(db, caller, resource, params)
    convert, format_header = _epc_format(request, db)
    if resource in ("epcs", "readPoints", "bizLocations"):
        # Stored in canonical Digital Link form; written as the GS1-EPC-Format header asks.
        values = [convert(value) for value in values]
    headers = {**EPCIS_HEADERS, **format_header}
    if token is not None:
        headers["Link"] = _next_link(request, params, token)
    body = {"@context": [EPCIS_CONTEXT], "type": "Collection", "member": values}
    return JSONResponse(body, headers=headers)


def _resource_events(
    request: Request, resource: str, value: str, db: DB, caller: Caller
) -> Response:
    """The events naming one value of a discovery resource (e.g. one business step)."""
    params = _params(request)
    name = query.RESOURCE_PARAMETER[resource]
    if name in params:
        raise invalid([name], N_("Unknown query parameter “{name}”"), name=name)
    rows, token = service.query_events(db, caller, {**params, name: [value]})
    return _query_response(request, db, rows, token, params)


@router.get("/eventTypes")
def event_types(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The event types of the events the caller may see."""
    return _collection(request, "eventTypes", db, caller)


@router.get("/eventTypes/{value}/events", responses=EVENTS_RESPONSES)
def event_type_events(value: str, request: Request, db: DB, caller: Caller) -> Response:
    """The events of one event type."""
    return _resource_events(request, "eventTypes", value, db, caller)


@router.get("/epcs")
def epcs(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The EPCs (instance identifiers) named by the events the caller may see."""
    return _collection(request, "epcs", db, caller)


@router.get("/epcs/{value:path}/events", responses=EVENTS_RESPONSES)
def epc_events(value: str, request: Request, db: DB, caller: Caller) -> Response:
    """The events naming one EPC in any of their lists."""
    return _resource_events(request, "epcs", value, db, caller)


@router.get("/bizSteps")
def biz_steps(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The business steps of the events the caller may see."""
    return _collection(request, "bizSteps", db, caller)


@router.get("/bizSteps/{value:path}/events", responses=EVENTS_RESPONSES)
def biz_step_events(value: str, request: Request, db: DB, caller: Caller) -> Response:
    """The events of one business step."""
    return _resource_events(request, "bizSteps", value, db, caller)


@router.get("/bizLocations")
def biz_locations(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The business locations of the events the caller may see."""
    return _collection(request, "bizLocations", db, caller)


@router.get("/bizLocations/{value:path}/events", responses=EVENTS_RESPONSES)
def biz_location_events(value: str, request: Request, db: DB, caller: Caller) -> Response:
    """The events at one business location."""
    return _resource_events(request, "bizLocations", value, db, caller)


@router.get("/readPoints")
def read_points(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The read points of the events the caller may see."""
    return _collection(request, "readPoints", db, caller)


@router.get("/readPoints/{value:path}/events", responses=EVENTS_RESPONSES)
def read_point_events(value: str, request: Request, db: DB, caller: Caller) -> Response:
    """The events seen at one read point."""
    return _resource_events(request, "readPoints", value, db, caller)


@router.get("/dispositions")
def dispositions(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The dispositions of the events the caller may see."""
    return _collection(request, "dispositions", db, caller)


@router.get("/dispositions/{value:path}/events", responses=EVENTS_RESPONSES)
def disposition_events(value: str, request: Request, db: DB, caller: Caller) -> Response:
    """The events leaving objects in one disposition."""
    return _resource_events(request, "dispositions", value, db, caller)


def _query_out(row: NamedQuery) -> dict[str, Any]:
    """A named query as the REST binding shows it."""
    return {"name": row.name, "query": row.query}


@router.post(
    "/queries",
    status_code=201,
    response_class=Response,
    responses={201: {"description": "Saved; the Location header names the query"}},
)
def create_query(body: NamedQueryIn, db: DB, caller: Caller) -> Response:
    """Saves a named query for the caller's organization."""
    row = named_queries.create_query(db, caller, name=body.name, query=body.query)
    location = f"/epcis/queries/{quote(row.name, safe='')}"
    return Response(status_code=201, headers={"Location": location, **EPCIS_HEADERS})


@router.get("/queries")
def list_queries(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """The organization's named queries, by name, paged."""
    params = _params(request)
    rows, token = named_queries.list_queries(db, caller, params)
    headers = dict(EPCIS_HEADERS)
    if token is not None:
        headers["Link"] = _next_link(request, params, token)
    return JSONResponse([_query_out(row) for row in rows], headers=headers)


@router.get("/queries/{name}")
def get_query(name: str, db: DB, caller: Caller) -> JSONResponse:
    """One named query's definition."""
    return JSONResponse(
        _query_out(named_queries.get_query(db, caller, name)), headers=EPCIS_HEADERS
    )


@router.delete("/queries/{name}", status_code=204)
def delete_query(name: str, db: DB, caller: Caller) -> Response:
    """Deletes a named query and its subscriptions."""
    named_queries.delete_query(db, caller, name)
    return Response(status_code=204, headers=EPCIS_HEADERS)


@router.get("/queries/{name}/events", responses=EVENTS_RESPONSES)
def query_events(name: str, request: Request, db: DB, caller: Caller) -> Response:
    """Runs a named query: one page of its events as an EPCISQueryDocument."""
    params = _params(request)
    rows, token = named_queries.run_query(db, caller, name, params)
    return _query_response(request, db, rows, token, params, query_name=name)


def _subscription_out(row: Subscription, query_name: str) -> dict[str, Any]:
    """A subscription as the REST binding shows it (never its secret)."""

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat().replace("+00:00", "Z")

    return {
        "subscriptionID": str(row.id),
        "queryName": query_name,
        "dest": row.dest,
        "stream": True,
        "reportIfEmpty": row.report_if_empty,
        "epcFormat": row.epc_format,
        "createdAt": when(row.created_at),
        "lastNotifiedAt": when(row.last_notified_at),
        "minRecordTime": when(row.cursor_record_time),
    }


@router.post("/queries/{name}/subscriptions", status_code=201)
def subscribe(
    name: str, body: SubscriptionIn, request: Request, db: DB, caller: Caller
) -> JSONResponse:
    """Subscribes a webhook to a named query: its new events are pushed, signed, as they come."""
    row = subscriptions.create_subscription(
        db,
        caller,
        query_name=name,
        dest=body.dest,
        secret=body.signatureToken or body.secret or "",
        report_if_empty=body.reportIfEmpty,
        epc_format_name=request.headers.get("GS1-EPC-Format"),
        initial_record_time=body.initialRecordTime,
        now=utcnow(),
    )
    location = f"/epcis/queries/{quote(name, safe='')}/subscriptions/{row.id}"
    return JSONResponse(
        _subscription_out(row, name),
        status_code=201,
        headers={"Location": location, **EPCIS_HEADERS},
    )


@router.get("/queries/{name}/subscriptions")
def list_subscriptions(name: str, db: DB, caller: Caller) -> JSONResponse:
    """The subscriptions of a named query."""
    rows = subscriptions.list_subscriptions(db, caller, name)
    return JSONResponse([_subscription_out(row, name) for row in rows], headers=EPCIS_HEADERS)


@router.get("/queries/{name}/subscriptions/{subscription_id}")
def get_subscription(name: str, subscription_id: uuid.UUID, db: DB, caller: Caller) -> JSONResponse:
    """One subscription of a named query."""
    row = subscriptions.get_subscription(db, caller, name, subscription_id)
    return JSONResponse(_subscription_out(row, name), headers=EPCIS_HEADERS)


@router.delete("/queries/{name}/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(name: str, subscription_id: uuid.UUID, db: DB, caller: Caller) -> Response:
    """Deletes a subscription."""
    subscriptions.delete_subscription(db, caller, name, subscription_id)
    return Response(status_code=204, headers=EPCIS_HEADERS)
