"""The upstream side: accept a downstream node's batches of its log and its master data.

A batch of events is the next run of leaves of the sender's ledger, each with the event (or
registry record hash) it logged and its salt, plus the sender's signed checkpoint and the
consistency proof from the batch's end to that checkpoint. The receiver keeps the compact
range of the sender's leaves it has verified so far, so accepting a batch proves that every
leaf it holds from that node — this batch's and all before — is in the checkpoint the node
signed. An event changed after it was logged no longer hashes to its leaf: the whole batch is
refused. A batch the receiver already holds is acknowledged again without storing anything,
and one that skips ahead is refused with the position expected (409, `Sync-Next-Index`).
"""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Principal
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.epcis.hashing import event_hash
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.service import store_events
from truyxuat.errors import N_, Conflict, Forbidden, invalid
from truyxuat.federation import records as master
from truyxuat.federation.models import SyncBatch, SyncLeaf, SyncNode, SyncRecord
from truyxuat.ledger import merkle
from truyxuat.ledger.keys import witnessed_logs
from truyxuat.ledger.notes import Checkpoint, NoteError, parse_checkpoint, split_note, verified_by
from truyxuat.ledger.service import ERROR_DECLARATION, EVENT, entry_leaf_hash
from truyxuat.registry.models import Organization

SENDER_ROLES = frozenset({Role.authority})
EVENT_KINDS = frozenset({EVENT, ERROR_DECLARATION})


class PositionConflict(Conflict):
    """The batch does not start where the receiver's copy of the sender's log ends."""

    type_slug = "sync-position"


def check_sender(principal: Principal) -> None:
    if not (principal.is_platform_admin or principal.jurisdictions(SENDER_ROLES)):
        raise Forbidden(N_("Only a node's authority key may push data to this node"))


def _check_province(principal: Principal, province_code: str | None) -> None:
    """A province's key sends its own province's data only."""
    if not (principal.is_platform_admin or principal.oversees(province_code, SENDER_ROLES)):
        raise Forbidden(
            N_("This key may not send data of province {province}"),
            province=province_code or "-",
        )


def verified_checkpoint(settings: Settings, note: str) -> tuple[Checkpoint, str]:
    """The sender's checkpoint, if signed by the key of a log this node follows; and its vkey."""
    try:
        body, _ = split_note(note)
        checkpoint = parse_checkpoint(body)
        logs = [v for v in witnessed_logs(settings) if v.name == checkpoint.origin]
        if not logs or checkpoint.origin not in verified_by(note, logs):
            raise Forbidden(
                N_("The checkpoint is not signed by a node this node follows ({origin})"),
                origin=checkpoint.origin,
            )
    except (NoteError, ValueError) as exc:
        raise invalid(
            ["checkpoint"], N_("Not a valid checkpoint: {reason}"), reason=str(exc)
        ) from None
    return checkpoint, logs[0].vkey()


def _node(db: Session, origin: str) -> SyncNode:
    """The receiver's row for a sender, locked for this batch (created on first contact)."""
    node = db.scalar(select(SyncNode).where(SyncNode.origin == origin).with_for_update())
    if node is None:
        try:
            with db.begin_nested():
                db.add(
                    SyncNode(
                        origin=origin,
                        name="",
                        base_url="",
                        role="",
                        vkey="",
                        next_index=0,
                        frontier=b"",
                        tree_size=0,
                        root_hash=b"",
                        checkpoint="",
                        events=0,
                        records=0,
                        updated_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass
        node = db.scalar(select(SyncNode).where(SyncNode.origin == origin).with_for_update())
        assert node is not None
    return node


def _describe(node: SyncNode, about: Mapping[str, Any]) -> None:
    """Notes the sender's declared name, address and role."""
    node.name = str(about.get("name") or node.name)[:256]
    node.base_url = str(about.get("base_url") or node.base_url).rstrip("/")[:300]
    node.role = str(about.get("role") or node.role)[:16]


def _frontier(node: SyncNode) -> merkle.CompactRange:
    raw = bytes(node.frontier)
    hashes = [raw[i : i + merkle.HASH_SIZE] for i in range(0, len(raw), merkle.HASH_SIZE)]
    return merkle.CompactRange(node.next_index, hashes)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _hash(event: dict[str, Any]) -> str | None:
    """The event's CBV 2.0 hash, or None when it is not an event that can be hashed."""
    try:
        return event_hash(event)
    except Exception:  # a malformed event from a sender is its problem, answered with 422
        return None


def receive_events(
    db: Session,
    settings: Settings,
    principal: Principal,
    body: Mapping[str, Any],
    idempotency_key: str,
) -> dict[str, Any]:
    """Verifies and stores one batch of a sender's log; returns the position acknowledged.

    All of it or nothing: a refusal rolls back what the batch wrote so far, even when the
    caller's unit of work commits afterwards (the API answers refusals as problems).
    """
    with db.begin_nested():
        return _receive_events(db, settings, principal, body, idempotency_key)


def _receive_events(
    db: Session,
    settings: Settings,
    principal: Principal,
    body: Mapping[str, Any],
    idempotency_key: str,
) -> dict[str, Any]:
    check_sender(principal)
    try:
        note = str(body["checkpoint"])
        first = int(body["first"])
        leaves: Sequence[Sequence[Any]] = body["leaves"]
        proof = [base64.b64decode(p, validate=True) for p in body.get("proof", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid([], N_("Not a sync batch: {reason}"), reason=str(exc)) from None
    checkpoint, vkey = verified_checkpoint(settings, note)
    node = _node(db, checkpoint.origin)
    _describe(node, body.get("node") or {})
    last = first + len(leaves)
    if first < node.next_index and last <= node.next_index:
        return {"next": node.next_index, "stored": 0, "duplicate": True}
    if first != node.next_index:
        raise PositionConflict(
            N_("This node holds the log up to leaf {next_index}; send from there"),
            next_index=node.next_index,
        )
    if last > checkpoint.size:
        raise invalid(["leaves"], N_("The batch goes beyond the checkpoint"))
    hashes: list[bytes] = []
    by_org: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    for offset, leaf in enumerate(leaves):
        try:
            kind, payload, subject, salt_text, event = leaf
            kind, payload = str(kind), str(payload)
            salt = base64.b64decode(salt_text, validate=True)
        except (TypeError, ValueError) as exc:
            raise invalid(
                ["leaves", offset], N_("Not a ledger leaf: {reason}"), reason=str(exc)
            ) from None
        if kind in EVENT_KINDS:
            if not isinstance(event, dict) or not _is_uuid(subject) or _hash(event) != payload:
                raise invalid(
                    ["leaves", offset],
                    N_("Leaf {leaf_index} does not match its event: refused"),
                    leaf_index=first + offset,
                )
            by_org[str(subject)].append((event, payload))
        hashes.append(entry_leaf_hash(salt, kind, payload))
        rows.append(
            {
                "origin": checkpoint.origin,
                "leaf_index": first + offset,
                "kind": kind,
                "payload": payload,
                "subject": subject,
                "salt": salt,
            }
        )
    tree = _frontier(node)
    tree.extend(hashes)
    root = tree.root()
    try:
        if last == checkpoint.size:
            if root != checkpoint.root:
                raise merkle.ProofError("the leaves do not make the checkpoint's root")
        else:
            merkle.verify_consistency(last, checkpoint.size, root, checkpoint.root, proof)
    except merkle.ProofError as exc:
        raise invalid(
            ["leaves"],
            N_("The batch is not in the sender's signed checkpoint: {reason}"),
            reason=str(exc),
        ) from None
    for record in body.get("organizations", []):
        _upsert(db, principal, checkpoint.origin, "organization", record)
    stored = 0
    now = utcnow()
    for subject, events in by_org.items():
        org_id = uuid.UUID(subject)
        province = db.scalar(select(Organization.province_code).where(Organization.id == org_id))
        if province is None and db.get(Organization, org_id) is None:
            raise Conflict(
                N_("Organization {org} is unknown here: send its record first"), org=subject
            )
        _check_province(principal, province)
        new = store_events(
            db, org_id, [event for event, _ in events], record_time=now, capture_id=None
        )
        if new < len(events):
            # Some were held already: the same events (a resend), or others under their IDs.
            _check_not_contradicting(db, org_id, events)
        stored += new
    _insert_leaves(db, rows)
    try:
        with db.begin_nested():
            db.add(
                SyncBatch(
                    origin=checkpoint.origin,
                    idempotency_key=idempotency_key[:300],
                    first_index=first,
                    next_index=last,
                    tree_size=checkpoint.size,
                    stored=stored,
                    sent_by=principal.label[:200],
                    received_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(
            N_("Idempotency key {key} was used for another batch"), key=idempotency_key
        ) from None
    node.next_index = last
    node.frontier = b"".join(tree.hashes)
    if checkpoint.size >= node.tree_size:
        node.tree_size = checkpoint.size
        node.root_hash = checkpoint.root
        node.checkpoint = note
    node.vkey = vkey
    node.events += stored
    node.updated_at = now
    db.flush()
    return {"next": last, "stored": stored, "duplicate": False}


_ID_CHUNK = 500


def _check_not_contradicting(
    db: Session, org_id: uuid.UUID, events: Sequence[tuple[dict[str, Any], str]]
) -> None:
    """Conflict when this node holds an event under the same eventID with other content."""
    incoming: dict[tuple[str, bool], str] = {}
    for event, digest in events:
        event_id = event.get("eventID")
        if isinstance(event_id, str) and event_id:
            incoming[(event_id, "errorDeclaration" in event)] = digest
    ids = sorted({event_id for event_id, _ in incoming})
    for start in range(0, len(ids), _ID_CHUNK):
        statement = select(
            EpcisEvent.event_id, EpcisEvent.error_declared, EpcisEvent.event_hash
        ).where(
            EpcisEvent.org_id == org_id, EpcisEvent.event_id.in_(ids[start : start + _ID_CHUNK])
        )
        for event_id, declared, digest in db.execute(statement):
            sent = incoming.get((event_id, declared))
            if sent is not None and sent != digest:
                raise Conflict(
                    N_("Event {event_id} contradicts the event this node holds under that ID"),
                    event_id=event_id,
                )


_LEAF_COLUMNS = ("origin", "leaf_index", "kind", "payload", "subject", "salt")


def _insert_leaves(db: Session, rows: list[dict[str, Any]]) -> None:
    """Writes the batch's leaves: COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    connection = db.connection()
    if connection.dialect.name != "postgresql":
        db.execute(insert(SyncLeaf), rows)
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = f"COPY sync_leaf ({', '.join(_LEAF_COLUMNS)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in _LEAF_COLUMNS])


def _upsert(
    db: Session, principal: Principal, origin: str, entity: str, record: Mapping[str, Any]
) -> bool:
    """Inserts or updates one master-data record under its ID; True when it changed."""
    if entity not in master.ENTITIES:
        raise invalid(["entity"], N_("Unknown record type {entity}"), entity=entity)
    model, _fields = master.ENTITIES[entity]
    try:
        values = master.column_values(entity, record)
    except (TypeError, ValueError) as exc:
        raise invalid(["records"], N_("Not a valid record: {reason}"), reason=str(exc)) from None
    if entity == "organization":
        _check_province(principal, values.get("province_code"))
    else:
        province = db.scalar(
            select(Organization.province_code).where(Organization.id == values.get("org_id"))
        )
        _check_province(principal, province)
    record_digest = master.digest(record)
    seen = db.get(SyncRecord, (entity, values["id"]))
    if seen is not None and seen.digest == record_digest:
        return False
    if seen is not None and seen.origin != origin:
        raise Conflict(
            N_("{entity} {id} was sent by another node"), entity=entity, id=str(values["id"])
        )
    row = db.get(model, values["id"])
    try:
        with db.begin_nested():
            if row is None:
                if seen is None and entity == "organization" and _local_org(db, values):
                    raise Conflict(
                        N_("{entity} {id} contradicts a record this node holds"),
                        entity=entity,
                        id=str(values["id"]),
                    )
                db.add(model(**values))
            else:
                if seen is None:
                    raise Conflict(
                        N_("{entity} {id} contradicts a record this node holds"),
                        entity=entity,
                        id=str(values["id"]),
                    )
                for name, value in values.items():
                    setattr(row, name, value)
            db.flush()
    except IntegrityError:
        raise Conflict(
            N_("{entity} {id} contradicts a record this node holds"),
            entity=entity,
            id=str(values["id"]),
        ) from None
    if seen is None:
        db.add(
            SyncRecord(
                entity=entity,
                entity_id=values["id"],
                origin=origin,
                digest=record_digest,
                received_at=utcnow(),
            )
        )
    else:
        seen.digest = record_digest
        seen.received_at = utcnow()
    return True


def _local_org(db: Session, values: Mapping[str, Any]) -> bool:
    """True when this node already holds another organization under the same code."""
    return db.scalar(select(Organization.id).where(Organization.code == values["code"])) is not None


def receive_records(
    db: Session, settings: Settings, principal: Principal, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Stores a batch of master-data records ({entity, record} items, parents first), all of
    them or none."""
    with db.begin_nested():
        return _receive_records(db, settings, principal, body)


def _receive_records(
    db: Session, settings: Settings, principal: Principal, body: Mapping[str, Any]
) -> dict[str, Any]:
    check_sender(principal)
    try:
        checkpoint, _vkey = verified_checkpoint(settings, str(body["checkpoint"]))
        items = [(str(item["entity"]), item["record"]) for item in body["records"]]
    except (KeyError, TypeError) as exc:
        raise invalid([], N_("Not a record batch: {reason}"), reason=str(exc)) from None
    node = _node(db, checkpoint.origin)
    _describe(node, body.get("node") or {})
    changed = sum(
        _upsert(db, principal, checkpoint.origin, entity, record) for entity, record in items
    )
    node.records += changed
    node.updated_at = utcnow()
    db.flush()
    return {"received": len(items), "changed": changed}
