"""The downstream side: push this node's log and public master data to its upstream nodes.

The outbox is the ledger: every captured event and logged registry change got its ledger
entry in the same transaction as the data, and the integrator gives entries their leaf
indexes once, in order. So a batch is simply the leaves [position, position + n) of the
latest signed checkpoint, and `sync_cursor.position` — written only after the upstream
acknowledged — is where the next run resumes after a crash. A batch sent again (the answer
was lost, the process was killed after the upstream committed) is acknowledged by the
upstream without storing anything twice; the upstream's position wins when the two disagree.

Each request is retried on network errors, timeouts and 5xx answers with exponential backoff
and full jitter, up to TRUYXUAT_SYNC_MAX_ATTEMPTS tries.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session, sessionmaker

from truyxuat import __version__
from truyxuat.config import Settings
from truyxuat.db import session_scope, utcnow
from truyxuat.epcis.models import EpcisEvent
from truyxuat.federation import records as master
from truyxuat.federation.models import SyncCursor, SyncSent
from truyxuat.federation.receiver import EVENT_KINDS
from truyxuat.ledger import service as ledger
from truyxuat.ledger.models import LedgerCheckpoint, LedgerEntry

log = logging.getLogger(__name__)
EVENTS_PATH = "/federation/v1/events"
RECORDS_PATH = "/federation/v1/records"
RECORDS_PER_REQUEST = 500
_LOOKUP_CHUNK = 500


class SyncError(Exception):
    """An upstream could not be reached or refused a batch; the run stops there."""


@dataclass
class Report:
    """What one run did for one upstream."""

    upstream: str
    position: int = 0
    tree_size: int = 0
    batches: int = 0
    leaves: int = 0
    stored: int = 0
    duplicates: int = 0
    records: int = 0
    errors: list[str] = field(default_factory=list)


def node_name(settings: Settings) -> str:
    """This node's name in the federation."""
    return settings.node_name or settings.ledger_origin


def node_base_url(settings: Settings) -> str:
    """Where other nodes reach this one."""
    return (settings.node_base_url or settings.public_base_url).rstrip("/")


def _about(settings: Settings) -> dict[str, str]:
    return {
        "name": node_name(settings),
        "base_url": node_base_url(settings),
        "role": settings.node_role,
        "version": __version__,
    }


# --- the wire -----------------------------------------------------------------------------


def post(
    http: httpx.Client,
    settings: Settings,
    url: str,
    content: bytes,
    *,
    idempotency_key: str,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """POSTs JSON upstream, retrying network errors, timeouts, 429 and 5xx with exponential
    backoff and full jitter; returns the first other answer, SyncError after the last try."""
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        "Accept-Language": settings.default_locale,
    }
    if settings.node_upstream_api_key:
        headers["Authorization"] = f"Bearer {settings.node_upstream_api_key}"
    attempts = max(1, settings.sync_max_attempts)
    reason = ""
    for attempt in range(attempts):
        try:
            response = http.post(
                url, content=content, headers=headers, timeout=settings.sync_timeout_seconds
            )
            if response.status_code < 500 and response.status_code != 429:
                return response
            reason = f"{response.status_code} {response.text[:200]}"
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if attempt + 1 < attempts:
            delay = random.uniform(0, settings.sync_backoff_seconds * (2**attempt))
            log.warning("%s failed (%s); retrying in %.2f s", url, reason, delay)
            sleep(delay)
    raise SyncError(f"{url}: {reason} (after {attempts} tries)")


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("detail") or body.get("title") or response.text)
    except ValueError:
        return response.text[:300]


# --- the outbox ---------------------------------------------------------------------------


def _cursor(db: Session, upstream: str) -> SyncCursor:
    cursor = db.get(SyncCursor, upstream)
    if cursor is None:
        cursor = SyncCursor(upstream=upstream, position=0, last_error="", updated_at=utcnow())
        db.add(cursor)
        db.flush()
    return cursor


def checkpoint_note(checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint signed by this node's log key (cosignatures are the witnesses' business)."""
    return checkpoint.body + "\n" + checkpoint.signature


class RawJSON(str):
    """An event as the JSON text the store holds, sent without decoding and encoding it."""


def _events(
    db: Session, wanted: Mapping[str, Sequence[str]], *, raw: bool = False
) -> dict[tuple[str, str, bool], Any]:
    """The stored events by (org ID, hash, error declared) for the hashes wanted per org:
    as dicts, or (`raw`) as their JSON text."""
    found: dict[tuple[str, str, bool], Any] = {}
    column: Any = cast(EpcisEvent.event, Text) if raw else EpcisEvent.event
    for subject, hashes in wanted.items():
        unique = sorted(set(hashes))
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start : start + _LOOKUP_CHUNK]
            statement = select(EpcisEvent.event_hash, EpcisEvent.error_declared, column).where(
                EpcisEvent.org_id == uuid.UUID(subject), EpcisEvent.event_hash.in_(chunk)
            )
            for digest, declared, event in db.execute(statement):
                found[(subject, digest, declared)] = RawJSON(event) if raw else event
    return found


def encode_batch(batch: Mapping[str, Any]) -> bytes:
    """The batch as the JSON request body (raw events copied in as they are)."""
    compact: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":")}
    parts = []
    for *fields, event in batch["leaves"]:
        text = event if isinstance(event, RawJSON) else json.dumps(event, **compact)
        parts.append(json.dumps(fields, **compact)[:-1] + "," + text + "]")
    head = json.dumps({k: v for k, v in batch.items() if k != "leaves"}, **compact)
    return (head[:-1] + ',"leaves":[' + ",".join(parts) + "]}").encode()


def build_batch(
    db: Session,
    settings: Settings,
    checkpoint: LedgerCheckpoint,
    first: int,
    limit: int,
    *,
    raw: bool = False,
) -> dict[str, Any]:
    """The leaves [first, first + limit) of the log (within the checkpoint) with their events,
    the checkpoint, the consistency proof from the batch's end to it, and the records of the
    organizations the events belong to."""
    last = min(first + limit, checkpoint.tree_size)
    entries = db.execute(
        select(LedgerEntry.kind, LedgerEntry.payload, LedgerEntry.subject, LedgerEntry.salt)
        .where(LedgerEntry.leaf_index >= first, LedgerEntry.leaf_index < last)
        .order_by(LedgerEntry.leaf_index)
    ).all()
    if len(entries) != last - first:
        raise SyncError(f"the ledger is missing leaves between {first} and {last}")
    wanted: dict[str, list[str]] = defaultdict(list)
    for kind, payload, subject, _salt in entries:
        if kind in EVENT_KINDS and subject:
            wanted[subject].append(payload)
    events = _events(db, wanted, raw=raw)
    leaves: list[list[Any]] = []
    for kind, payload, subject, salt in entries:
        event = None
        if kind in EVENT_KINDS:
            event = events.get((subject or "", payload, kind == ledger.ERROR_DECLARATION))
            if event is None:
                raise SyncError(f"the event {payload} of the ledger is not stored")
        leaves.append([kind, payload, subject, base64.b64encode(bytes(salt)).decode(), event])
    org_ids = [uuid.UUID(s) for s in wanted]
    organizations = list(master.public_records(db, "organization", org_ids)) if org_ids else []
    proof = ledger.consistency_proof(db, last, checkpoint.tree_size) if last else []
    return {
        "node": _about(settings),
        "checkpoint": checkpoint_note(checkpoint),
        "first": first,
        "proof": [base64.b64encode(p).decode() for p in proof],
        "organizations": organizations,
        "leaves": leaves,
    }


def _latest_checkpoint(factory: sessionmaker[Session], settings: Settings) -> None:
    """Integrates pending ledger entries and signs a checkpoint covering them."""
    from truyxuat.ledger.api import run_once

    run_once(factory, settings)


# --- pushing ------------------------------------------------------------------------------


def push_records(
    factory: sessionmaker[Session], settings: Settings, upstream: str, http: httpx.Client
) -> int:
    """Sends the public master-data records that changed since the upstream acknowledged
    them, parents first; returns how many were sent."""
    with session_scope(factory) as db:
        checkpoint = ledger.latest_checkpoint(db)
        if checkpoint is None:
            return 0
        note = checkpoint_note(checkpoint)
        sent = {
            (entity, entity_id): digest
            for entity, entity_id, digest in db.execute(
                select(SyncSent.entity, SyncSent.entity_id, SyncSent.digest).where(
                    SyncSent.upstream == upstream
                )
            )
        }
        changed: list[tuple[str, dict[str, Any], str]] = []
        for entity in master.ENTITIES:
            for record in master.public_records(db, entity):
                digest = master.digest(record)
                if sent.get((entity, uuid.UUID(record["id"]))) != digest:
                    changed.append((entity, record, digest))
    for start in range(0, len(changed), RECORDS_PER_REQUEST):
        chunk = changed[start : start + RECORDS_PER_REQUEST]
        body = {
            "node": _about(settings),
            "checkpoint": note,
            "records": [{"entity": entity, "record": record} for entity, record, _ in chunk],
        }
        key = f"records:{master.digest(body)}"
        response = post(
            http,
            settings,
            upstream.rstrip("/") + RECORDS_PATH,
            json.dumps(body, ensure_ascii=False).encode(),
            idempotency_key=key,
        )
        if response.status_code != 200:
            raise SyncError(
                f"{upstream} refused records ({response.status_code}): {_problem(response)}"
            )
        with session_scope(factory) as db:
            for entity, record, digest in chunk:
                db.merge(
                    SyncSent(
                        upstream=upstream,
                        entity=entity,
                        entity_id=uuid.UUID(record["id"]),
                        digest=digest,
                    )
                )
    return len(changed)


@dataclass
class _Prepared:
    """A batch ready to send: its leaf range, the checkpoint's size and the request body."""

    first: int
    last: int
    tree_size: int
    content: bytes


def _prepare(factory: sessionmaker[Session], settings: Settings, first: int) -> _Prepared | int:
    """The batch starting at leaf `first`, or the checkpoint's size when there is none."""
    with session_scope(factory) as db:
        checkpoint = ledger.latest_checkpoint(db)
        if checkpoint is None or first >= checkpoint.tree_size:
            return checkpoint.tree_size if checkpoint else 0
        batch = build_batch(db, settings, checkpoint, first, settings.sync_batch_size, raw=True)
        size = checkpoint.tree_size
    last = first + len(batch["leaves"])
    content = encode_batch(batch)
    return _Prepared(first, last, size, content)


def push_events(
    factory: sessionmaker[Session],
    settings: Settings,
    upstream: str,
    http: httpx.Client,
    report: Report,
    *,
    on_batch: Callable[[Report], None] | None = None,
) -> None:
    """Sends the log from the acknowledged position up to the latest checkpoint, batch by
    batch, moving the position after each acknowledgement.

    The next batch is read and encoded while the upstream stores the current one (it is
    used only if the upstream acknowledges exactly the current batch's end).
    """
    url = upstream.rstrip("/") + EVENTS_PATH
    origin = settings.ledger_origin
    with session_scope(factory) as db:
        _cursor(db, upstream).attempted_at = utcnow()
    ahead: tuple[int, Future[_Prepared | int]] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-prepare") as pool:
        while True:
            with session_scope(factory) as db:
                position = _cursor(db, upstream).position
            report.position = position
            if ahead is not None and ahead[0] == position:
                prepared = ahead[1].result()
            else:
                prepared = _prepare(factory, settings, position)
            ahead = None
            if isinstance(prepared, int):
                report.tree_size = prepared
                return
            report.tree_size = prepared.tree_size
            if prepared.last < prepared.tree_size:
                ahead = (
                    prepared.last,
                    pool.submit(_prepare, factory, settings, prepared.last),
                )
            response = post(
                http,
                settings,
                url,
                prepared.content,
                idempotency_key=f"{origin}:{position}-{prepared.last}",
            )
            if (
                response.status_code == 409
                and response.headers.get("Sync-Next-Index", "").isdigit()
            ):
                # The upstream holds a different prefix (restored from a backup, or this
                # node's cursor was): resume from where it is.
                expected = int(response.headers["Sync-Next-Index"])
                if expected == position or expected > report.tree_size:
                    raise SyncError(f"{upstream} expects leaf {expected}: {_problem(response)}")
                _acknowledge(factory, upstream, expected, error="")
                continue
            if response.status_code != 200:
                raise SyncError(
                    f"{upstream} refused the batch ({response.status_code}): {_problem(response)}"
                )
            try:
                answer = response.json()
                acknowledged = int(answer["next"])
            except (ValueError, KeyError, TypeError):
                raise SyncError(f"{upstream} answered the batch with no position") from None
            _acknowledge(factory, upstream, acknowledged, error="")
            report.batches += 1
            report.leaves += prepared.last - position
            report.stored += int(answer.get("stored", 0))
            report.duplicates += bool(answer.get("duplicate"))
            report.position = acknowledged
            if on_batch is not None:
                on_batch(report)


def _acknowledge(
    factory: sessionmaker[Session], upstream: str, position: int, *, error: str
) -> None:
    with session_scope(factory) as db:
        cursor = _cursor(db, upstream)
        cursor.position = position
        cursor.acknowledged_at = utcnow()
        cursor.last_error = error
        cursor.updated_at = utcnow()


def _note_error(factory: sessionmaker[Session], upstream: str, error: str) -> None:
    with session_scope(factory) as db:
        cursor = _cursor(db, upstream)
        cursor.last_error = error[:2000]
        cursor.attempted_at = utcnow()
        cursor.updated_at = utcnow()


@contextmanager
def _client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    if http is not None:
        yield http
        return
    with httpx.Client() as client:
        yield client


def run(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    upstreams: Sequence[str] | None = None,
    http: httpx.Client | None = None,
    on_batch: Callable[[Report], None] | None = None,
) -> list[Report]:
    """One sync run: sign a checkpoint of everything logged so far, then push master data and
    the log to each upstream. A failing upstream is reported (and noted in its cursor); the
    others are still served."""
    targets = list(upstreams if upstreams is not None else settings.node_upstream_urls)
    if not targets:
        return []
    _latest_checkpoint(factory, settings)
    reports = []
    with _client(http) as client:
        for upstream in targets:
            report = Report(upstream)
            reports.append(report)
            try:
                report.records = push_records(factory, settings, upstream, client)
                push_events(factory, settings, upstream, client, report, on_batch=on_batch)
            except SyncError as exc:
                report.errors.append(str(exc))
                _note_error(factory, upstream, str(exc))
    return reports


# --- status -------------------------------------------------------------------------------


def status(db: Session, settings: Settings) -> list[dict[str, Any]]:
    """Per upstream: acknowledged position, leaves logged, what is pending, last success/error."""
    size = ledger.tree_size(db)
    rows = []
    for upstream in settings.node_upstream_urls:
        cursor = db.get(SyncCursor, upstream)
        position = cursor.position if cursor else 0
        rows.append(
            {
                "upstream": upstream,
                "position": position,
                "tree_size": size,
                "pending": max(0, size - position),
                "acknowledged_at": cursor.acknowledged_at if cursor else None,
                "attempted_at": cursor.attempted_at if cursor else None,
                "last_error": cursor.last_error if cursor else "",
            }
        )
    return rows


def downstream_nodes(db: Session) -> list[Any]:
    """As a receiver: every node that sent to this one."""
    from truyxuat.federation.models import SyncNode

    return list(db.scalars(select(SyncNode).order_by(SyncNode.origin)))
