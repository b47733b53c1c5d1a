"""HTTP side of the federation: the endpoints downstream nodes push to, the sync status page,
and, on a national node, the redirect of a stamp it does not hold to the node that issued it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.deps import DB, Caller
from truyxuat.auth.principal import Principal
from truyxuat.config import Settings
from truyxuat.epcis.service import _gc_paused
from truyxuat.errors import N_, Forbidden, invalid
from truyxuat.federation import receiver, sender
from truyxuat.federation.models import SyncNode, SyncRecord
from truyxuat.registry.models import Product
from truyxuat.stamps.models import Stamp
from truyxuat.web import problems
from truyxuat.web.templating import add_template_dir, render

add_template_dir(Path(__file__).resolve().parent / "templates")
NEXT_INDEX_HEADER = "Sync-Next-Index"
# /01/{gtin}[/10/{lot}]/21/{serial}: a stamp's Digital Link.
_STAMP_PATH = re.compile(r"^/01/(\d{8,14})(?:/10/[^/]+)?/21/([^/]+)")


# A refused batch tells the sender where the receiver's log stands.
ProblemRoute = problems.problem_route(
    lambda exc: (
        {NEXT_INDEX_HEADER: str(exc.params["next_index"])} if "next_index" in exc.params else None
    )
)


router = APIRouter(route_class=ProblemRoute, tags=["federation"])
pages = APIRouter(include_in_schema=False)


async def _read(request: Request) -> bytes:
    settings: Settings = request.app.state.settings
    data = await request.body()
    if len(data) > settings.capture_max_bytes:
        raise invalid(
            [], N_("The batch is larger than {max} bytes"), max=settings.capture_max_bytes
        )
    return data


def _parse(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise invalid([], N_("Not a sync batch: {reason}"), reason=str(exc)) from None
    if not isinstance(body, dict):
        raise invalid([], N_("Not a sync batch: {reason}"), reason="not an object")
    return body


def _receive_events(
    db: Session, settings: Settings, caller: Principal, data: bytes, key: str
) -> dict[str, Any]:
    # A batch is hundreds of thousands of fresh objects and no cyclic garbage: the collector
    # is paused as during an EPCIS capture.
    with _gc_paused():
        return receiver.receive_events(db, settings, caller, _parse(data), key)


@router.post("/events")
async def post_events(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """Takes the next batch of a downstream node's log (events with their ledger leaves),
    verified against the node's signed checkpoint; a batch already held is acknowledged again
    (`duplicate`), one that does not start where this node's copy ends is 409 with
    `Sync-Next-Index`."""
    receiver.check_sender(caller)
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        raise invalid(["Idempotency-Key"], N_("An Idempotency-Key header is required"))
    data = await _read(request)
    answer = await run_in_threadpool(
        _receive_events, db, request.app.state.settings, caller, data, key
    )
    return JSONResponse(answer)


@router.post("/records")
async def post_records(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """Takes public master-data records (organizations, facilities, growing areas, products,
    certificates, stamp runs) from a downstream node, stored under the sender's IDs."""
    receiver.check_sender(caller)
    body = _parse(await _read(request))
    answer = await run_in_threadpool(
        receiver.receive_records, db, request.app.state.settings, caller, body
    )
    return JSONResponse(answer)


def _check_overseer(principal: Principal) -> None:
    if not (principal.is_platform_admin or principal.jurisdictions()):
        raise Forbidden(N_("Only authorities see the sync status"))


def status_context(db: Session, settings: Settings) -> dict[str, Any]:
    """What this node pushes upstream and what it holds from downstream nodes."""
    return {
        "node": {
            "name": sender.node_name(settings),
            "role": settings.node_role,
            "base_url": sender.node_base_url(settings),
            "origin": settings.ledger_origin,
        },
        "upstreams": sender.status(db, settings),
        "downstreams": [
            {
                "origin": node.origin,
                "name": node.name,
                "role": node.role,
                "base_url": node.base_url,
                "next_index": node.next_index,
                "tree_size": node.tree_size,
                "events": node.events,
                "records": node.records,
                "updated_at": node.updated_at,
            }
            for node in sender.downstream_nodes(db)
        ],
    }


@router.get("/status")
def get_status(request: Request, db: DB, caller: Caller) -> JSONResponse:
    """This node's sync status: upstream positions and pending leaves, downstream nodes."""
    _check_overseer(caller)
    context = status_context(db, request.app.state.settings)
    return JSONResponse(json.loads(json.dumps(context, default=str)))


@pages.get("/sync")
def status_page(request: Request, db: DB, caller: Caller) -> Response:
    """The sync status page for authorities and platform administrators."""
    _check_overseer(caller)
    return render(request, "federation/status.html", status_context(db, request.app.state.settings))


def issuing_node(db: Session, gtin: str, serial: str) -> str | None:
    """On a national node: the base URL of the node that issued a stamp this node lacks."""
    if db.scalar(select(Stamp.id).where(Stamp.gtin == gtin, Stamp.serial == serial)) is not None:
        return None
    org_id = db.scalar(select(Product.org_id).where(Product.gtin == gtin))
    if org_id is None:
        return None
    return (
        db.scalar(
            select(SyncNode.base_url)
            .join(SyncRecord, SyncRecord.origin == SyncNode.origin)
            .where(SyncRecord.entity == "organization", SyncRecord.entity_id == org_id)
        )
        or None
    )


def _redirect_target(factory: Callable[[], Session], path: str) -> str | None:
    match = _STAMP_PATH.match(path)
    if match is None:
        return None
    gtin, serial = match.group(1).zfill(14), unquote(match.group(2))
    with factory() as db:
        return issuing_node(db, gtin, serial)


def install(app: FastAPI) -> None:
    """Mounts the federation endpoints and page; a national node redirects foreign stamps."""
    app.include_router(router, prefix="/federation/v1")
    app.include_router(pages)
    settings: Settings = app.state.settings
    if settings.node_role != "national":
        return

    @app.middleware("http")
    async def foreign_stamps(request: Request, call_next: Any) -> Response:
        """Sends a scan of a stamp issued by a province node (not held here) to that node."""
        if request.method in ("GET", "HEAD") and request.url.path.startswith("/01/"):
            base = await run_in_threadpool(
                _redirect_target, request.app.state.sessionmaker, request.url.path
            )
            if base:
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(f"{base}{request.url.path}{query}", status_code=307)
        response: Response = await call_next(request)
        return response
