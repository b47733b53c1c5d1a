"""Public HTTP face of the ledger under /ledger: checkpoint, tiles (C2SP tlog-tiles), proofs,
offline bundles, the witness endpoint and the verification page. Reading needs no sign-in.

Errors are problem+json whatever the Accept header (these are machine endpoints), except on
the HTML verification page.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from truyxuat.auth.deps import DB
from truyxuat.config import Settings
from truyxuat.db import session_scope
from truyxuat.errors import N_, NotFound, invalid
from truyxuat.ledger import service
from truyxuat.ledger.merkle import HASH_SIZE
from truyxuat.ledger.models import LedgerEntry, LedgerTile
from truyxuat.ledger.tiles import TILE_WIDTH
from truyxuat.web import problems
from truyxuat.web.templating import add_template_dir, render

add_template_dir(Path(__file__).resolve().parent / "templates")
log = logging.getLogger(__name__)


# Witnesses and verifiers are told the tree size a refused request was checked against.
ProblemRoute = problems.problem_route(
    lambda exc: (
        {"Ledger-Tree-Size": str(exc.params["tree_size"])} if "tree_size" in exc.params else None
    )
)


router = APIRouter(route_class=ProblemRoute, tags=["ledger"])
pages = APIRouter(include_in_schema=False)
NOTE = "text/plain; charset=utf-8"
_TILE_PATH = re.compile(r"^(\d+)/((?:x\d{3}/)*\d{3})(?:\.p/(\d+))?$")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/checkpoint", response_class=Response)
def get_checkpoint(db: DB) -> Response:
    """The latest checkpoint as a C2SP signed note, with every witness cosignature."""
    checkpoint = service.latest_checkpoint(db)
    if checkpoint is None:
        raise NotFound(N_("The ledger has no checkpoint yet"))
    return Response(
        service.checkpoint_note(db, checkpoint),
        media_type=NOTE,
        headers={"Cache-Control": "no-cache"},
    )


def parse_tile_path(path: str) -> tuple[int, int, int | None]:
    """Reads `L/N[.p/W]` of C2SP tlog-tiles (N in groups of three digits, `x` before all but
    the last)."""
    match = _TILE_PATH.match(path)
    if match is None:
        raise NotFound(N_("No such tile"))
    level = int(match.group(1))
    index = int(match.group(2).replace("x", "").replace("/", ""))
    width = int(match.group(3)) if match.group(3) else None
    if level > 63 or (width is not None and not 0 < width < TILE_WIDTH):
        raise NotFound(N_("No such tile"))
    return level, index, width


@router.get("/tile/entries/{path:path}", response_class=Response)
def get_entry_bundle(path: str, db: DB) -> Response:
    """The data of 256 leaves (or the first W, `.p/W`): each leaf's d, the salted hash the
    leaf hash is SHA-256(0x00 || d) of, as a C2SP tlog-tiles entry bundle (uint16 length, d).
    Mirrors can rebuild the tree from them; they reveal nothing but the tree does not."""
    _, index, width = parse_tile_path(f"0/{path}")
    first = index * TILE_WIDTH
    count = width or TILE_WIDTH
    rows = db.execute(
        select(LedgerEntry.salt, LedgerEntry.kind, LedgerEntry.payload)
        .where(LedgerEntry.leaf_index >= first, LedgerEntry.leaf_index < first + count)
        .order_by(LedgerEntry.leaf_index)
    ).all()
    if len(rows) != count:
        raise NotFound(N_("No such tile"))
    data = b"".join(
        len(d).to_bytes(2, "big") + d
        for d in (service.leaf_data(bytes(salt), kind, payload) for salt, kind, payload in rows)
    )
    cache = "public, max-age=31536000, immutable" if width is None else "no-cache"
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get("/tile/{path:path}", response_class=Response)
def get_tile(path: str, db: DB) -> Response:
    """A tile of hashes: full (256 hashes, immutable) or its first W hashes (`.p/W`)."""
    level, index, width = parse_tile_path(path)
    blob = db.scalar(
        select(LedgerTile.hashes).where(LedgerTile.level == level, LedgerTile.idx == index)
    )
    wanted = (width or TILE_WIDTH) * HASH_SIZE
    if blob is None or len(blob) < wanted:
        raise NotFound(N_("No such tile"))
    cache = "public, max-age=31536000, immutable" if width is None else "no-cache"
    return Response(
        bytes(blob)[:wanted],
        media_type="application/octet-stream",
        headers={"Cache-Control": cache},
    )


@router.get("/proof/inclusion")
def get_inclusion_proof(
    db: DB,
    leaf_index: int | None = Query(None, ge=0),
    tree_size: int | None = Query(None, ge=1),
    event_hash: str | None = Query(None, max_length=256),
) -> dict[str, Any]:
    """The inclusion proof of a leaf (by index, or by the event hash it logs) in a tree size,
    by default the latest checkpoint's."""
    if event_hash is not None:
        entry = service.find_entry(db, event_hash)
        if entry is None or entry.leaf_index is None:
            raise NotFound(N_("This hash is not in the ledger (yet)"))
        leaf_index = entry.leaf_index
    if leaf_index is None:
        raise invalid(["leaf_index"], N_("Give leaf_index or event_hash"))
    if tree_size is None:
        checkpoint = service.latest_checkpoint(db)
        tree_size = checkpoint.tree_size if checkpoint is not None else 0
    proof = service.inclusion_proof(db, leaf_index, tree_size)
    return {
        "leaf_index": leaf_index,
        "tree_size": tree_size,
        "inclusion_proof": [service.b64(p) for p in proof],
    }


@router.get("/proof/consistency")
def get_consistency_proof(
    db: DB, first: int = Query(..., ge=1), second: int = Query(..., ge=1)
) -> dict[str, Any]:
    """The proof that the tree of `second` leaves extends the tree of `first` leaves."""
    proof = service.consistency_proof(db, first, second)
    return {
        "first": first,
        "second": second,
        "consistency_proof": [service.b64(p) for p in proof],
    }


@router.get("/bundle")
def get_bundle(db: DB, event_hash: str = Query(..., max_length=256)) -> dict[str, Any]:
    """The offline proof bundle of an event hash (see `truyxuat ledger verify-bundle`)."""
    bundle = service.proof_bundle(db, event_hash)
    if bundle is None:
        raise NotFound(N_("This hash is not in the ledger (yet)"))
    return bundle


def parse_cosign_request(text: str) -> tuple[int, list[bytes], str]:
    """Reads a witness request: `old <size>`, consistency proof lines, a blank line, the
    checkpoint note (the C2SP tlog-witness add-checkpoint body)."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old ") or not lines[0][4:].isdigit():
        raise invalid(["body"], N_("Send 'old <size>', the proof lines, a blank line, the note"))
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error:
        raise invalid(["body"], N_("A consistency proof line is not base64")) from None
    return int(lines[0][4:]), proof, note


@router.post("/cosign", response_class=Response)
async def post_cosign(request: Request, db: DB) -> Response:
    """As a witness: cosigns a checkpoint of a log this node follows if it is consistent with
    the last one cosigned (409 problem+json otherwise, with `Ledger-Tree-Size`)."""
    body = (await request.body()).decode("utf-8", "replace")
    old_size, proof, note = parse_cosign_request(body)
    line = service.cosign(db, _settings(request), old_size=old_size, proof=proof, note=note)
    return Response(line, media_type=NOTE)


@pages.get("/ledger/verify")
def verify_page(request: Request, db: DB, event_hash: str = Query("", max_length=256)) -> Response:
    """A public page showing the ledger badge of an event hash, checked in the browser."""
    bundle = service.proof_bundle(db, event_hash) if event_hash else None
    status = 200 if bundle is not None or not event_hash else 404
    return render(
        request,
        "ledger/verify.html",
        {"event_hash": event_hash, "bundle": bundle},
        status_code=status,
    )


# --- background integration ---------------------------------------------------------------


def run_once(factory: Callable[[], Session], settings: Settings) -> int:
    """Integrates pending entries and signs a checkpoint if the tree grew, then asks the
    witnesses in TRUYXUAT_LEDGER_WITNESS_URLS to cosign it; returns how many entries."""
    signed = False
    with session_scope(factory) as db:  # type: ignore[arg-type]
        count = service.integrate(db)
        latest = service.latest_checkpoint(db)
        if count or latest is None or latest.tree_size != service.tree_size(db):
            signed = service.sign_checkpoint(db, settings) is not latest
    if signed and settings.ledger_witness_urls:
        import httpx

        with httpx.Client(timeout=10) as http:
            for url in settings.ledger_witness_urls:
                try:
                    with session_scope(factory) as db:  # type: ignore[arg-type]
                        service.request_cosignature(db, settings, url, http)
                except (service.LedgerError, httpx.HTTPError) as exc:
                    log.warning("witness %s did not cosign: %s", url, exc)
    return count


def install(app: FastAPI) -> None:
    """Mounts the ledger and, for a real store, runs the integrator every interval seconds."""
    app.include_router(router, prefix="/ledger")
    app.include_router(pages)
    settings: Settings = app.state.settings
    factory = app.state.sessionmaker
    # Tests hand the app a session bound to their own transaction: no thread may share it.
    if settings.ledger_integrate_interval <= 0 or not isinstance(factory, sessionmaker):
        return
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(settings.ledger_integrate_interval):
                try:
                    run_once(factory, settings)
                except Exception:  # pragma: no cover - logged, retried next interval
                    log.exception("ledger integration failed")

        thread = threading.Thread(target=loop, name="ledger-integrator", daemon=True)
        thread.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            stop.set()
            thread.join(timeout=10)

    app.router.lifespan_context = lifespan
