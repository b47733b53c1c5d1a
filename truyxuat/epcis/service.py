"""EPCIS capture: validate a whole document, hash every event, store them all or none.

Capture is synchronous: the capture job is already finished when POST /epcis/capture answers.
Re-sending an event already held by the organization (same eventID or same CBV 2.0 hash) is
not an error and does not store it twice. On PostgreSQL the rows go in with COPY.
"""

from __future__ import annotations

import gc
import json
import math
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice, zip_longest
from pathlib import Path
from typing import Any

import psycopg
from lxml.etree import XMLSchema
from sqlalchemy import insert, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal, can_write, ensure_readable
from truyxuat.db import new_id, utcnow
from truyxuat.epcis import sensors
from truyxuat.epcis.epc_format import canonical_identifier
from truyxuat.epcis.extensions import FIELD_COLUMNS, has_fields
from truyxuat.epcis.extensions import field_rows as extension_rows
from truyxuat.epcis.hashing import XML_MEDIA_TYPES, document_events, event_hash, read_document
from truyxuat.epcis.models import (
    CaptureJob,
    CaptureState,
    EpcisEvent,
    EpcisEventEpc,
    EpcisEventField,
    EpcisEventParty,
    EpcisSensorReading,
    EpcRole,
)
from truyxuat.epcis.query import PageToken, build_event_query, normalize_term, per_page
from truyxuat.epcis.sharing import event_parties
from truyxuat.epcis.validation import (
    MAX_ERRORS,
    EpcisValidator,
    _custom_event_errors,
    default_validator,
    load_schema,
)
from truyxuat.epcis.vocabulary import BIZ_STEP, DISPOSITION
from truyxuat.epcis.xsd import xsd_errors
from truyxuat.errors import (
    N_,
    Conflict,
    FieldError,
    Forbidden,
    NotConfigured,
    NotFound,
    ValidationFailed,
    invalid,
)
from truyxuat.registry.models import Organization

_CHUNK = 500
# Rows per COPY write: PostgreSQL takes one chunk in while the next is prepared.
_COPY_CHUNK = 1000
_FRACTION = re.compile(r"(\.\d{6})\d+")
_PLAIN_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_EPC_ROLES: dict[str, EpcRole] = {
    "epcList": EpcRole.epc,
    "childEPCs": EpcRole.child,
    "inputEPCList": EpcRole.input,
    "outputEPCList": EpcRole.output,
}
_QUANTITY_ROLES: dict[str, EpcRole] = {
    "quantityList": EpcRole.quantity,
    "childQuantityList": EpcRole.child_quantity,
    "inputQuantityList": EpcRole.input_quantity,
    "outputQuantityList": EpcRole.output_quantity,
}
_EVENT_COLUMNS = (
    "org_id",
    "id",
    "event_id",
    "event_hash",
    "error_declared",
    "event_type",
    "event_time",
    "event_time_zone_offset",
    "record_time",
    "action",
    "biz_step",
    "disposition",
    "read_point",
    "biz_location",
    "event",
    "capture_id",
)
_EPC_COLUMNS = ("org_id", "event_row_id", "role", "epc")
_PARTY_COLUMNS = ("org_id", "event_row_id", "gln")
_TABLES: dict[str, type[Any]] = {
    model.__tablename__: model
    for model in (EpcisEvent, EpcisEventEpc, EpcisEventField, EpcisEventParty, EpcisSensorReading)
}


@lru_cache(maxsize=4)
def _validator_from(path: Path) -> EpcisValidator:
    """The validator for one schema file, built once per process."""
    return EpcisValidator(load_schema(path))


def validator_for(schema_path: Path | None) -> EpcisValidator:
    """The validator of the configured schema file (TRUYXUAT_EPCIS_SCHEMA).

    Without it nothing is captured: a 503 problem tells the caller (and the operator) why,
    instead of accepting events the official schema was never asked about.
    """
    try:
        return default_validator() if schema_path is None else _validator_from(schema_path)
    except FileNotFoundError:
        raise NotConfigured(
            N_(
                "This node cannot capture EPCIS events yet: its operator must set "
                "TRUYXUAT_EPCIS_SCHEMA to the GS1 EPCIS 2.0 JSON schema"
            )
        ) from None


def parse_time(value: str) -> datetime:
    """Parses an RFC 3339 date-time with a zone (fractions beyond microseconds are cut)."""
    if _PLAIN_TIME.fullmatch(value):
        # The usual form: the C parser alone reads it the same way (Z as UTC).
        return datetime.fromisoformat(value)
    text = _FRACTION.sub(r"\1", value.strip().upper().replace("Z", "+00:00"))
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("a time zone is required")
    return parsed


def writer_org_id(principal: Principal) -> uuid.UUID:
    """The organization the caller captures events for; Forbidden unless it may write there."""
    org_id = principal.default_org_id()
    if org_id is None or not can_write(principal, org_id):
        raise Forbidden(N_("Only staff of an organization may capture its events"))
    return org_id


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while a document is captured (nesting, threads).

    A large document is hundreds of thousands of fresh objects, none of them cyclic garbage;
    the collector would traverse them again and again (about a tenth of the capture time).
    Reference counting still frees everything; the collector resumes when the last capture
    under way ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def capture_document(
    db: Session,
    principal: Principal,
    *,
    data: bytes,
    content_type: str,
    validator: EpcisValidator,
    xsd: XMLSchema | None = None,
    proceed: bool = False,
) -> CaptureJob:
    """Validates an EPCISDocument (JSON-LD, or XML against `xsd` when given) and stores
    every event, or none (GS1-Capture-Error-Behaviour: rollback).

    With `proceed`, the valid events are stored and the invalid ones reported in the job's
    errors; a problem outside the events (the document itself) still refuses it all.
    """
    org_id = writer_org_id(principal)
    with _gc_paused():
        return _capture_document(
            db,
            org_id,
            data=data,
            content_type=content_type,
            validator=validator,
            xsd=xsd,
            proceed=proceed,
        )


def _event_index(error: FieldError) -> int | None:
    """The place in the eventList of the event an error is about, or None."""
    loc = error.loc
    if len(loc) >= 3 and loc[0] == "epcisBody" and loc[1] == "eventList":
        index = loc[2]
        return index if isinstance(index, int) else None
    return None


def _capture_document(
    db: Session,
    org_id: uuid.UUID,
    *,
    data: bytes,
    content_type: str,
    validator: EpcisValidator,
    xsd: XMLSchema | None = None,
    proceed: bool = False,
) -> CaptureJob:
    """`capture_document` once the caller may write for the organization."""
    document = read_document(data, content_type)
    is_xml = content_type.split(";", 1)[0].strip().lower() in XML_MEDIA_TYPES
    if not is_xml and document.get("type") != "EPCISDocument":
        raise invalid(["type"], N_("A capture takes an EPCISDocument"))
    events = document_events(document)
    if is_xml:
        # The JSON schema does not accept the URN forms of the XML binding: the XML form is
        # checked by the XSD, then by the rules beyond it (vocabularies, times, keys, required
        # fields).
        errors: list[FieldError] = (
            [] if xsd is None else xsd_errors(data, xsd, None if proceed else MAX_ERRORS)
        )
        errors.extend(
            error
            for index, event in enumerate(events)
            for error in _custom_event_errors(event, ["epcisBody", "eventList", index])
        )
    else:
        errors = validator.document_errors(document)
        if errors and proceed:
            # The document's errors stop at MAX_ERRORS: check every event on its own.
            errors = [e for e in errors if _event_index(e) is None]
            errors.extend(
                error
                for index, event in enumerate(events)
                for error in validator.event_errors(event, index)
            )
    if errors and (not proceed or any(_event_index(e) is None for e in errors)):
        raise ValidationFailed(errors[:MAX_ERRORS])
    refused = {_event_index(e) for e in errors}
    now = utcnow()
    job = CaptureJob(
        id=new_id(),
        org_id=org_id,
        state=CaptureState.error if errors else CaptureState.success,
        error_behaviour="proceed" if proceed else "rollback",
        errors=[{"loc": e.loc, "message": e.message, "params": e.params} for e in errors] or None,
        created_at=now,
        finished_at=now,
    )
    db.add(job)
    db.flush()
    kept = [event for index, event in enumerate(events) if index not in refused]
    job.event_count = store_events(db, org_id, kept, record_time=now, capture_id=job.id)
    db.flush()
    return job


def read_event(data: bytes, content_type: str) -> dict[str, Any]:
    """Parses the body of POST /epcis/events (one event in JSON-LD)."""
    return read_document(data, content_type)


def capture_event(
    db: Session, principal: Principal, *, event: Mapping[str, Any], validator: EpcisValidator
) -> EpcisEvent:
    """Validates and stores a single event (POST /epcis/events); returns its stored row."""
    org_id = writer_org_id(principal)
    if not isinstance(event, Mapping):
        raise invalid([], N_("An event must be an object"))
    prefix = ["epcisBody", "eventList", 0]
    errors = [
        FieldError(
            error.loc[len(prefix) :] if error.loc[:3] == prefix else error.loc,
            error.message,
            error.params,
        )
        for error in validator.event_errors(event, 0)
    ]
    if errors:
        raise ValidationFailed(errors)
    (prepared,) = document_events(event)
    store_events(db, org_id, [prepared], record_time=utcnow(), capture_id=None)
    row = _find_stored(db, org_id, prepared)
    if row is None:  # pragma: no cover - just stored or already held
        raise NotFound()
    return row


def get_capture_job(db: Session, principal: Principal, capture_id: uuid.UUID) -> CaptureJob:
    """A capture job the caller may see; NotFound otherwise."""
    job = db.get(CaptureJob, capture_id)
    if job is None:
        raise NotFound()
    province = db.scalar(select(Organization.province_code).where(Organization.id == job.org_id))
    ensure_readable(principal, job.org_id, (province,))
    return job


# --- storing ------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    """A JSON value as a list (a single value counts as a list of one)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _place(value: Any) -> str | None:
    """The id of a readPoint or bizLocation, in canonical GS1 Digital Link form."""
    if isinstance(value, Mapping):
        place = value.get("id")
        return _canonical(place) if isinstance(place, str) else None
    return None


@lru_cache(maxsize=1 << 14)
def _canonical(identifier: str) -> str:
    """`canonical_identifier` remembered (places and classes recur across events)."""
    return canonical_identifier(identifier)


def event_identifiers(event: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every (role, identifier) an event names, for MATCH_* queries.

    Identifiers are in canonical GS1 Digital Link form (EPC URNs converted), so a query finds
    them whichever form the event or the query used.
    """
    found: set[tuple[str, str]] = set()
    for field, role in _EPC_ROLES.items():
        if field in event:
            found.update(
                (role.value, canonical_identifier(epc))
                for epc in _as_list(event[field])
                if isinstance(epc, str)
            )
    parent = event.get("parentID")
    if isinstance(parent, str):
        found.add((EpcRole.parent.value, canonical_identifier(parent)))
    for field, role in _QUANTITY_ROLES.items():
        if field not in event:
            continue
        for element in _as_list(event[field]):
            if isinstance(element, Mapping) and isinstance(element.get("epcClass"), str):
                found.add((role.value, _canonical(element["epcClass"])))
    return found


def _event_id(event: Mapping[str, Any], digest: str) -> str:
    """The key an event is stored under: its eventID, or its hash when it has none."""
    event_id = event.get("eventID")
    return event_id if isinstance(event_id, str) and event_id else digest


def _row(
    org_id: uuid.UUID,
    event: Mapping[str, Any],
    digest: str,
    record_time: datetime,
    capture_id: uuid.UUID | None,
) -> tuple[Any, ...]:
    """The epcis_event row of one validated event, its values in _EVENT_COLUMNS order."""
    biz_step, disposition = event.get("bizStep"), event.get("disposition")
    return (
        org_id,
        new_id(),
        _event_id(event, digest),
        digest,
        "errorDeclaration" in event,
        str(event.get("type")),
        parse_time(str(event.get("eventTime"))),
        str(event.get("eventTimeZoneOffset")),
        record_time,
        event.get("action"),
        _biz_step(biz_step) if isinstance(biz_step, str) else None,
        _disposition(disposition) if isinstance(disposition, str) else None,
        _place(event.get("readPoint")),
        _place(event.get("bizLocation")),
        event,
        capture_id,
    )


@lru_cache(maxsize=4096)
def _biz_step(value: str) -> str:
    """A bizStep in its GS1 Web URI form (remembered: documents repeat a few steps)."""
    return normalize_term(value, BIZ_STEP)


@lru_cache(maxsize=4096)
def _disposition(value: str) -> str:
    """A disposition in its GS1 Web URI form (remembered: documents repeat a few)."""
    return normalize_term(value, DISPOSITION)


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Slices a list so IN (...) lists stay under the store's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


_HELD_PG = sql_text(
    "(epcis_event.event_hash = ANY(ARRAY("
    "SELECT jsonb_array_elements_text(CAST(:hashes AS jsonb))))"
    " OR epcis_event.event_id = ANY(ARRAY("
    "SELECT jsonb_array_elements_text(CAST(:ids AS jsonb)))))"
)


def _held(
    db: Session, org_id: uuid.UUID, hashes: Sequence[str], event_ids: Sequence[str]
) -> tuple[set[tuple[str, bool]], set[tuple[str, bool]]]:
    """The (hash, error_declared) and (event_id, error_declared) pairs the org already holds."""
    by_hash: set[tuple[str, bool]] = set()
    by_id: set[tuple[str, bool]] = set()
    columns = (EpcisEvent.event_hash, EpcisEvent.event_id, EpcisEvent.error_declared)
    wanted_hashes, wanted_ids = sorted(set(hashes)), sorted(set(event_ids))
    if db.get_bind().dialect.name == "postgresql":
        # Two JSON array parameters rather than one parameter per value: building and
        # parsing a statement with 20,000 placeholders (or adapting two lists of 10,000
        # strings) costs more than the lookup itself.
        # ANY(ARRAY(SELECT ...)) rather than IN (SELECT ...) keeps both index scans.
        statement = select(*columns).where(
            EpcisEvent.org_id == org_id,
            _HELD_PG.bindparams(hashes=json.dumps(wanted_hashes), ids=json.dumps(wanted_ids)),
        )
        for digest, event_id, declared in db.execute(statement):
            by_hash.add((digest, declared))
            by_id.add((event_id, declared))
        return by_hash, by_id
    # SQLite takes 32,766 parameters per statement (999 before 3.32).
    size = _CHUNK
    for hash_chunk, id_chunk in zip_longest(
        _chunks(wanted_hashes, size), _chunks(wanted_ids, size), fillvalue=()
    ):
        for digest, event_id, declared in db.execute(
            select(*columns).where(
                EpcisEvent.org_id == org_id,
                or_(EpcisEvent.event_hash.in_(hash_chunk), EpcisEvent.event_id.in_(id_chunk)),
            )
        ):
            by_hash.add((digest, declared))
            by_id.add((event_id, declared))
    return by_hash, by_id


def store_events(
    db: Session,
    org_id: uuid.UUID,
    events: Iterable[Mapping[str, Any]],
    *,
    record_time: datetime,
    capture_id: uuid.UUID | None,
) -> int:
    """Stores validated events the org does not hold yet; returns how many were new.

    The rows of the new events are built while they are written, so on PostgreSQL the
    database takes in one chunk while the next is prepared.
    """
    events = list(events)
    digests = [event_hash(event) for event in events]
    event_ids = [_event_id(event, digest) for event, digest in zip(events, digests, strict=True)]
    by_hash, by_id = _held(db, org_id, digests, event_ids)
    new: list[tuple[Mapping[str, Any], str]] = []
    for event, digest, event_id in zip(events, digests, event_ids, strict=True):
        declared = "errorDeclaration" in event
        if (digest, declared) in by_hash or (event_id, declared) in by_id:
            continue
        by_hash.add((digest, declared))
        by_id.add((event_id, declared))
        new.append((event, digest))
    epc_rows: list[tuple[Any, ...]] = []
    party_rows: list[tuple[Any, ...]] = []
    reading_rows: list[tuple[Any, ...]] = []
    field_rows: list[tuple[Any, ...]] = []

    def new_rows() -> Iterator[tuple[Any, ...]]:
        """The rows of the new events, noting down their identifiers', trading partners' and
        sensor readings' rows on the way."""
        for event, digest in new:
            row = _row(org_id, event, digest, record_time, capture_id)
            row_id = row[1]
            epc_rows.extend(
                (org_id, row_id, role, epc) for role, epc in sorted(event_identifiers(event))
            )
            if "sourceList" in event or "destinationList" in event:
                party_rows.extend((org_id, row_id, gln) for gln in sorted(event_parties(event)))
            if has_fields(event):
                field_rows.extend(extension_rows(org_id, row_id, event))
            if "sensorElementList" in event:
                reading_rows.extend(sensors.reading_rows(org_id, row_id, event, row[6], parse_time))
            yield row

    try:
        with db.begin_nested():
            if new:
                _insert(db, EpcisEvent.__tablename__, _EVENT_COLUMNS, new_rows())
            if epc_rows:
                _insert(db, EpcisEventEpc.__tablename__, _EPC_COLUMNS, epc_rows)
            if new:  # every stored event gets its (salted) ledger leaf in this transaction
                from truyxuat.ledger.service import append_events

                append_events(db, org_id, new)
            if party_rows:
                _insert(db, EpcisEventParty.__tablename__, _PARTY_COLUMNS, party_rows)
            if field_rows:
                _insert(db, EpcisEventField.__tablename__, FIELD_COLUMNS, field_rows)
            if reading_rows:
                _insert(db, EpcisSensorReading.__tablename__, sensors.READING_COLUMNS, reading_rows)
    except (IntegrityError, psycopg.IntegrityError):
        # Another capture stored one of these events between our lookup and our insert.
        raise Conflict(
            N_("Some of these events were stored by another capture meanwhile; send it again")
        ) from None
    return len(new)


def _insert(
    db: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Inserts rows (values in `columns` order): COPY on PostgreSQL, chunk by chunk, and
    executemany elsewhere."""
    connection = db.connection()
    if connection.dialect.name != "postgresql":
        target = _TABLES[table]
        db.execute(insert(target), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    remaining = iter(rows)
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        while chunk := list(islice(remaining, _COPY_CHUNK)):
            data = _copy_text(chunk)
            if data is None:
                # From here on psycopg formats the rows (after the chunks already sent).
                for row in chain(chunk, remaining):
                    copy.write_row(
                        [json.dumps(value) if type(value) is dict else value for value in row]
                    )
                return
            copy.write(data)


# Characters COPY's text format escapes (psycopg escapes them, and refuses NUL).
_COPY_SPECIAL = re.compile(r"[\x00\b\t\n\v\f\r\\]")


def _copy_text(rows: list[tuple[Any, ...]]) -> str | None:
    """The rows in COPY text format, byte for byte what psycopg's write_row would send.

    None when a value needs psycopg after all (a string with characters to escape, or a type
    not written here), so the rows go through write_row instead. A dict is the event, sent as
    its JSON, which has no raw control characters (json.dumps escapes them): only its
    backslashes are doubled.
    """
    lines: list[str] = []
    for row in rows:
        fields: list[str] = []
        for value in row:
            kind = type(value)
            if kind is str:
                if (not value.isprintable() or "\\" in value) and _COPY_SPECIAL.search(value):
                    return None
                fields.append(value)
            elif value is None:
                fields.append("\\N")
            elif kind is uuid.UUID:
                fields.append(value.hex)
            elif kind is datetime:
                fields.append(str(value))
            elif kind is bool:
                fields.append("t" if value else "f")
            elif kind is int or (kind is float and math.isfinite(value)):
                fields.append(repr(value))
            elif kind is dict:
                fields.append(json.dumps(value).replace("\\", "\\\\"))
            else:
                return None
        lines.append("\t".join(fields))
    lines.append("")
    return "\n".join(lines)


def _find_stored(db: Session, org_id: uuid.UUID, event: Mapping[str, Any]) -> EpcisEvent | None:
    """The stored row of an event (by hash, or by eventID when it has one)."""
    digest = event_hash(event)
    clauses = [EpcisEvent.event_hash == digest]
    if isinstance(event.get("eventID"), str):
        clauses.append(EpcisEvent.event_id == event["eventID"])
    return db.scalar(
        select(EpcisEvent)
        .where(
            EpcisEvent.org_id == org_id,
            EpcisEvent.error_declared == ("errorDeclaration" in event),
            or_(*clauses),
        )
        .limit(1)
    )


# --- reading ------------------------------------------------------------------------------


def event_document(row: EpcisEvent) -> dict[str, Any]:
    """The event as captured, with the repository's recordTime when it carried none."""
    event = dict(row.event)
    event.setdefault("recordTime", row.record_time.isoformat().replace("+00:00", "Z"))
    return event


def query_events(
    db: Session, principal: Principal, params: Mapping[str, Sequence[str]]
) -> tuple[list[EpcisEvent], str | None]:
    """One page of the events the caller may read matching the query, and the next page token."""
    size = per_page(params)
    rows = list(db.scalars(build_event_query(db, principal, params).limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], PageToken(last.record_time, last.id).encode()


def get_event(db: Session, principal: Principal, event_id: str) -> EpcisEvent:
    """The event with this eventID (or hash) that the caller may read; NotFound otherwise.

    When an error has been declared for the event, the declaring version is returned.
    """
    row = db.scalar(
        build_event_query(db, principal, {"EQ_eventID": [event_id]})
        .order_by(None)
        .order_by(EpcisEvent.error_declared.desc(), EpcisEvent.record_time.desc())
        .limit(1)
    )
    if row is None:
        row = db.scalar(
            build_event_query(db, principal, {})
            .where(EpcisEvent.event_hash == event_id)
            .order_by(None)
            .order_by(EpcisEvent.error_declared.desc())
            .limit(1)
        )
    if row is None:
        raise NotFound()
    return row
