"""Recall service: open a recall, compute what it reaches, notify, acknowledge; and the public
banner lookup a passport makes."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Principal, can_write, read_filter
from truyxuat.db import new_id, utcnow
from truyxuat.epcis.models import EpcisEventEpc, Subscription
from truyxuat.epcis.subscriptions import SIGNATURE_HEADER, HttpPost, sign
from truyxuat.epcis.subscriptions import http_post as default_http_post
from truyxuat.errors import N_, Conflict, Forbidden, NotFound, invalid
from truyxuat.recall.models import (
    NotificationChannel,
    NotificationState,
    Recall,
    RecallItem,
    RecallItemKind,
    RecallNotification,
    RecallRecipient,
    RecallSeverity,
    RecallState,
)
from truyxuat.registry.models import Facility, Organization, Product
from truyxuat.stamps.models import Stamp, StampState
from truyxuat.trace.graph import (
    MAX_DEPTH,
    Direction,
    TraceGraph,
    canonical,
    gtin_lot,
    gtin_serial,
    identifier_kind,
    trace,
)
from truyxuat.webhooks import service as webhooks

# Items that carry the banner on a passport: the lots and serialized items reached.
_BANNER_KINDS = (RecallItemKind.lot.value, RecallItemKind.item.value)


@dataclass(frozen=True)
class RecallNotice:
    """What a passport shows about a live recall of its lot (public: no tenant data)."""

    recall_id: uuid.UUID
    reason: str
    severity: str
    opened_at: datetime
    opened_by: str
    state: str


def recall_notice(db: Session, gtin: str, lot: str | None) -> RecallNotice | None:
    """The newest open, non-drill recall reaching this GTIN and lot, or None.

    With no lot (a passport of a product, or a stamp printed without one), any recalled lot of
    the GTIN raises the banner: the consumer cannot tell the lots apart.
    """
    query = (
        select(Recall, Organization.name)
        .join(RecallItem, RecallItem.recall_id == Recall.id)
        .join(Organization, Organization.id == Recall.org_id)
        .where(
            RecallItem.gtin == gtin,
            RecallItem.kind.in_(_BANNER_KINDS),
            Recall.state == RecallState.open,
            Recall.drill.is_(False),
        )
        .order_by(Recall.opened_at.desc())
        .limit(1)
    )
    if lot is not None:
        query = query.where(RecallItem.lot == lot)
    found = db.execute(query).first()
    if found is None:
        return None
    recall, org_name = found
    return RecallNotice(
        recall_id=recall.id,
        reason=recall.reason,
        severity=recall.severity.value,
        opened_at=recall.opened_at,
        opened_by=org_name,
        state=recall.state.value,
    )


# --- opening a recall ---------------------------------------------------------------------

# A recall follows the whole downstream, however long, within a generous node budget.
RECALL_MAX_NODES = 200_000
_CHUNK = 500


@dataclass(frozen=True)
class RecallRequest:
    """What opening a recall takes: the lot (Digital Link or EPC URN), why, how severe."""

    epc: str
    reason: str
    severity: RecallSeverity
    drill: bool = False


def _authority_org(principal: Principal) -> uuid.UUID | None:
    """The authority organization the caller acts for, if any (platform admins count)."""
    for grant in principal.grants:
        if grant.role in (Role.authority, Role.platform_admin):
            return grant.org_id
    return None


def _opener_org(db: Session, principal: Principal, epc: str, gtin: str | None) -> uuid.UUID:
    """The organization opening the recall: an authority, or a writer holding the lot."""
    authority = _authority_org(principal)
    if authority is not None:
        return authority
    writable = principal.writable_org_ids()
    if not writable:
        raise Forbidden()
    holders = set(
        db.scalars(
            select(EpcisEventEpc.org_id).where(
                EpcisEventEpc.epc == epc, EpcisEventEpc.org_id.in_(writable)
            )
        )
    )
    if gtin:
        holders |= set(
            db.scalars(
                select(Product.org_id).where(Product.gtin == gtin, Product.org_id.in_(writable))
            )
        )
    if not holders:
        raise NotFound(N_("None of your organizations holds this lot"))
    active = principal.active_org_id
    return active if active in holders else sorted(holders)[0]


def _record_hash(recall: Recall, items: list[RecallItem]) -> str:
    """SHA-256 of the canonical JSON of the recall and what it reaches (for the ledger)."""
    record = {
        "id": str(recall.id),
        "org": str(recall.org_id),
        "epc": recall.epc,
        "reason": recall.reason,
        "severity": recall.severity.value,
        "drill": recall.drill,
        "openedAt": recall.opened_at.isoformat(),
        "items": sorted([i.kind.value, i.ref] for i in items),
    }
    data = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _holders(graph: TraceGraph, identifiers: set[str]) -> dict[str, uuid.UUID]:
    """Who holds each identifier now: the organization of the latest event naming it."""
    latest: dict[str, tuple[datetime, uuid.UUID]] = {}
    for event in graph.events.values():
        for ident in event.all_named() & identifiers:
            seen = latest.get(ident)
            if seen is None or event.event_time >= seen[0]:
                latest[ident] = (event.event_time, event.org_id)
    return {ident: org for ident, (_, org) in latest.items()}


def _party_orgs(db: Session, values: set[str]) -> dict[str, uuid.UUID]:
    """Registered organizations behind party/location identifiers (by GLN)."""
    glns: dict[str, str] = {}
    for value in values:
        pairs = _gln_pairs(value)
        if pairs:
            glns[value] = pairs
    if not glns:
        return {}
    wanted = set(glns.values())
    by_gln: dict[str | None, uuid.UUID] = {
        gln: org
        for gln, org in db.execute(
            select(Organization.gln, Organization.id).where(Organization.gln.in_(wanted))
        )
    }
    by_facility: dict[str | None, uuid.UUID] = {
        gln: org
        for gln, org in db.execute(
            select(Facility.gln, Facility.org_id).where(Facility.gln.in_(wanted))
        )
    }
    found: dict[str, uuid.UUID] = {}
    for value, gln in glns.items():
        org = by_gln.get(gln) or by_facility.get(gln)
        if org is not None:
            found[value] = org
    return found


def _gln_pairs(value: str) -> str | None:
    """The GLN of a /414/ or /417/ Digital Link."""
    for key in ("/414/", "/417/"):
        if key in value:
            gln = value.split(key, 1)[1].split("/", 1)[0]
            if len(gln) == 13 and gln.isdigit():
                return gln
    return None


def _reached_stamps(
    db: Session, lots: set[tuple[str, str]], items: set[tuple[str, str]]
) -> list[Stamp]:
    """Activated stamps of the reached lots (GTIN + lot) and serialized items (GTIN + serial)."""
    found: dict[uuid.UUID, Stamp] = {}
    for pairs, column in ((sorted(lots), Stamp.lot), (sorted(items), Stamp.serial)):
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start : start + _CHUNK]
            for stamp in db.scalars(
                select(Stamp).where(
                    tuple_(Stamp.gtin, column).in_(chunk), Stamp.state == StampState.activated
                )
            ):
                found[stamp.id] = stamp
    return sorted(found.values(), key=lambda s: (s.gtin, s.serial))


def open_recall(db: Session, principal: Principal, request: RecallRequest) -> Recall:
    """Opens a recall (or a drill) on a lot and computes, marks and notifies what it reaches.

    The downstream is computed by the platform over every organization's events (safety comes
    before tenancy); who may then read what is decided by `visible_recalls`.
    """
    epc = canonical(request.epc)
    if identifier_kind(epc) not in ("lot", "item"):
        raise invalid(["epc"], N_("A recall names a lot or an item (Digital Link or EPC URN)"))
    reason = request.reason.strip()
    if not reason:
        raise invalid(["reason"], N_("Give the reason for the recall"))
    gtin, lot = gtin_lot(epc)
    if lot is None:
        gtin, _serial = gtin_serial(epc)
    known = db.scalar(select(EpcisEventEpc.org_id).where(EpcisEventEpc.epc == epc).limit(1))
    if known is None:
        raise NotFound(N_("No event names this lot"))
    org_id = _opener_org(db, principal, epc, gtin)
    started = time.perf_counter()
    graph = trace(
        db,
        epc,
        Direction.forward,
        principal=None,
        max_depth=MAX_DEPTH,
        max_nodes=RECALL_MAX_NODES,
    )
    recall = Recall(
        id=new_id(),
        org_id=org_id,
        epc=epc,
        gtin=gtin,
        lot=lot,
        reason=reason,
        severity=request.severity,
        drill=request.drill,
        state=RecallState.open,
        opened_by=principal.label,
        opened_at=utcnow(),
        summary={},
    )
    db.add(recall)
    items = _reached_items(db, recall, graph)
    recipients = _recipient_orgs(db, graph, items) - {org_id}
    compute_ms = (time.perf_counter() - started) * 1000
    db.add_all(items)
    recall.compute_ms = round(compute_ms, 3)
    counts = {kind.value: 0 for kind in RecallItemKind}
    for item in items:
        counts[item.kind.value] += 1
    recall.summary = {**counts, "recipients": len(recipients), "depth": graph.reached_depth}
    recall.record_hash = _record_hash(recall, items)
    db.flush()
    _notify(db, recall, sorted(recipients))
    if not recall.drill:
        _log(db, recall)
    db.flush()
    return recall


def _reached_items(db: Session, recall: Recall, graph: TraceGraph) -> list[RecallItem]:
    """The lots, items, SSCCs, shipments and activated stamps the recall reaches."""
    identifiers = {n.id: n for n in graph.nodes.values() if n.kind in ("lot", "item", "sscc")}
    holders = _holders(graph, set(identifiers))
    items: list[RecallItem] = []
    lots: set[tuple[str, str]] = set()
    serials: set[tuple[str, str]] = set()
    for ident, node in sorted(identifiers.items()):
        gtin, lot = gtin_lot(ident)
        _, serial = gtin_serial(ident)
        if gtin and lot:
            lots.add((gtin, lot))
        if gtin and serial:
            serials.add((gtin, serial))
        items.append(
            RecallItem(
                recall_id=recall.id,
                kind=RecallItemKind(node.kind),
                ref=ident,
                gtin=gtin,
                lot=lot,
                org_id=holders.get(ident),
                depth=node.depth,
            )
        )
    for event in sorted(graph.events.values(), key=lambda e: (e.event_time, e.event_id)):
        if event.step != "shipping" or not event.objects() & identifiers.keys():
            continue
        depth = min(identifiers[i].depth for i in event.objects() & identifiers.keys())
        items.append(
            RecallItem(
                recall_id=recall.id,
                kind=RecallItemKind.shipment,
                ref=event.event_id,
                org_id=event.org_id,
                depth=depth,
            )
        )
    for stamp in _reached_stamps(db, lots, serials):
        items.append(
            RecallItem(
                recall_id=recall.id,
                kind=RecallItemKind.stamp,
                ref=f"{stamp.gtin}/{stamp.serial}",
                gtin=stamp.gtin,
                lot=stamp.lot,
                org_id=stamp.org_id,
                depth=0,
            )
        )
    return items


def _recipient_orgs(db: Session, graph: TraceGraph, items: list[RecallItem]) -> set[uuid.UUID]:
    """Organizations holding something reached, or named as the destination of a shipment."""
    orgs = {i.org_id for i in items if i.org_id is not None and i.kind is not RecallItemKind.stamp}
    shipped = {i.ref for i in items if i.kind is RecallItemKind.shipment}
    destinations: set[str] = set()
    for event in graph.events.values():
        if event.event_id in shipped:
            destinations.update(event.parties("destination"))
    orgs |= set(_party_orgs(db, destinations).values())
    return orgs


def _notify(db: Session, recall: Recall, recipients: list[uuid.UUID]) -> None:
    """A recipient row per organization, and its webhook and e-mail outbox records."""
    if not recipients:
        return
    now = utcnow()
    orgs = {
        o.id: o for o in db.scalars(select(Organization).where(Organization.id.in_(recipients)))
    }
    hooks: dict[uuid.UUID, set[str]] = {}
    for hook_org, dest in db.execute(
        select(Subscription.org_id, Subscription.dest).where(Subscription.org_id.in_(recipients))
    ):
        hooks.setdefault(hook_org, set()).add(dest)
    opener = db.get(Organization, recall.org_id)
    rows = [
        RecallRecipient(id=new_id(), recall_id=recall.id, org_id=org_id, notified_at=now, note="")
        for org_id in recipients
    ]
    db.add_all(rows)
    # No ORM relationship orders the inserts: the recipients go first for the outbox's key.
    db.flush()
    for org_id, recipient in zip(recipients, rows, strict=True):
        payload = notification_payload(recall, opener.name if opener else "", org_id)
        for url in sorted(hooks.get(org_id, ())):
            db.add(
                RecallNotification(
                    recall_id=recall.id,
                    recipient_id=recipient.id,
                    channel=NotificationChannel.webhook,
                    target=url,
                    payload=payload,
                    created_at=now,
                )
            )
        recipient_org = orgs.get(org_id)
        if recipient_org is not None and recipient_org.email:
            db.add(
                RecallNotification(
                    recall_id=recall.id,
                    recipient_id=recipient.id,
                    channel=NotificationChannel.email,
                    target=recipient_org.email,
                    payload=payload,
                    created_at=now,
                )
            )
    db.flush()


def notification_payload(recall: Recall, opener: str, org_id: uuid.UUID) -> dict[str, Any]:
    """What a recipient is told: the recall, and where to acknowledge it."""
    return {
        "type": "recall.drill" if recall.drill else "recall.opened",
        "recallId": str(recall.id),
        "lot": recall.epc,
        "reason": recall.reason,
        "severity": recall.severity.value,
        "openedAt": recall.opened_at.isoformat(),
        "openedBy": opener,
        "recipientOrgId": str(org_id),
        "acknowledge": f"/api/v1/recalls/{recall.id}/acknowledge",
    }


def _log(db: Session, recall: Recall) -> None:
    """Appends the recall's record hash to the verifiable log."""
    from truyxuat.ledger import service as ledger

    if recall.record_hash:
        ledger.append(db, "recall", recall.record_hash, subject=str(recall.org_id))


# --- reading, acknowledging, closing ---------------------------------------------------------


def _recipient_ids(principal: Principal) -> Any:
    return select(RecallRecipient.recall_id).where(
        RecallRecipient.org_id.in_(principal.member_org_ids())
    )


def visible_recalls(principal: Principal) -> Any:
    """WHERE clause: recalls the caller opened or oversees, and those addressed to it."""
    return or_(read_filter(principal, Recall.org_id), Recall.id.in_(_recipient_ids(principal)))


def list_recalls(
    db: Session, principal: Principal, *, offset: int = 0, limit: int = 50
) -> tuple[list[Recall], int]:
    """The recalls the caller may see, newest first, and how many there are."""
    where = visible_recalls(principal)
    total = db.scalar(select(func.count()).select_from(Recall).where(where)) or 0
    rows = db.scalars(
        select(Recall).where(where).order_by(Recall.opened_at.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


@dataclass
class RecallView:
    """A recall as one caller sees it: all of it (opener, authority) or its own part."""

    recall: Recall
    opener_name: str
    full: bool
    items: list[RecallItem]
    recipients: list[tuple[RecallRecipient, str]]
    notifications: list[RecallNotification]

    def drill_report(self) -> dict[str, Any]:
        """How fast the chain answered: compute time, acknowledgements and time to the last."""
        acked = [r.acknowledged_at for r, _ in self.recipients if r.acknowledged_at]
        total = len(self.recipients)
        last = max(acked) if acked else None
        return {
            "computeMs": self.recall.compute_ms,
            "recipients": total,
            "acknowledged": len(acked),
            "allAcknowledged": total > 0 and len(acked) == total,
            "secondsToLastAcknowledgement": (
                round((last - self.recall.opened_at).total_seconds(), 3) if last else None
            ),
        }


def get_recall(db: Session, principal: Principal, recall_id: uuid.UUID) -> RecallView:
    """One recall, filtered to what the caller may see; NotFound if it may see none of it."""
    recall = db.scalar(select(Recall).where(Recall.id == recall_id, visible_recalls(principal)))
    if recall is None:
        raise NotFound()
    opener = db.get(Organization, recall.org_id)
    full = bool(
        db.scalar(select(read_filter(principal, Recall.org_id)).where(Recall.id == recall.id))
    )
    items_q = select(RecallItem).where(RecallItem.recall_id == recall.id)
    recipients_q = (
        select(RecallRecipient, Organization.name)
        .join(Organization, Organization.id == RecallRecipient.org_id)
        .where(RecallRecipient.recall_id == recall.id)
    )
    notes_q = select(RecallNotification).where(RecallNotification.recall_id == recall.id)
    if not full:
        mine = principal.member_org_ids()
        items_q = items_q.where(or_(RecallItem.org_id.in_(mine), RecallItem.depth == 0))
        recipients_q = recipients_q.where(RecallRecipient.org_id.in_(mine))
        notes_q = notes_q.where(
            RecallNotification.recipient_id.in_(
                select(RecallRecipient.id).where(
                    RecallRecipient.recall_id == recall.id, RecallRecipient.org_id.in_(mine)
                )
            )
        )
    items = list(db.scalars(items_q.order_by(RecallItem.kind, RecallItem.depth, RecallItem.ref)))
    recipients = [(r, n) for r, n in db.execute(recipients_q.order_by(Organization.name))]
    notes = list(db.scalars(notes_q.order_by(RecallNotification.created_at)))
    return RecallView(recall, opener.name if opener else "", full, items, recipients, notes)


def acknowledge(
    db: Session, principal: Principal, recall_id: uuid.UUID, note: str = ""
) -> RecallRecipient:
    """Records that the caller's organization received the recall and acts on it."""
    view = get_recall(db, principal, recall_id)
    writable = principal.writable_org_ids()
    rows = [r for r, _ in view.recipients if r.org_id in writable]
    if not rows:
        raise Forbidden(N_("Your organization is not a recipient of this recall"))
    preferred = [r for r in rows if r.org_id == principal.active_org_id] or rows
    recipient = preferred[0]
    if recipient.acknowledged_at is None:
        recipient.acknowledged_at = utcnow()
        recipient.acknowledged_by = principal.label
        recipient.note = note.strip()
        db.flush()
    return recipient


def close_recall(db: Session, principal: Principal, recall_id: uuid.UUID) -> Recall:
    """Closes a recall: its opener (a writer of that organization) or an overseeing authority."""
    view = get_recall(db, principal, recall_id)
    recall = view.recall
    province = db.scalar(select(Organization.province_code).where(Organization.id == recall.org_id))
    if not (can_write(principal, recall.org_id) or principal.oversees(province)):
        raise Forbidden()
    if recall.state is RecallState.closed:
        raise Conflict(N_("This recall is already closed"))
    recall.state = RecallState.closed
    recall.closed_at = utcnow()
    db.flush()
    return recall


# --- the notification outbox ---------------------------------------------------------------


def deliver_webhooks(db: Session, *, http_post: HttpPost = default_http_post) -> int:
    """POSTs the pending webhook records (JSON payload); returns how many were accepted.

    E-mail records stay pending for the mail relay, which reads the same outbox.
    """
    pending = db.scalars(
        select(RecallNotification)
        .where(
            RecallNotification.state == NotificationState.pending,
            RecallNotification.channel == NotificationChannel.webhook,
        )
        .order_by(RecallNotification.created_at, RecallNotification.id)
        .with_for_update(skip_locked=True)
    ).all()
    # Signed with the recipient's subscription secret, as its EPCIS notifications are, so
    # the receiver can tell a real recall from a forged one.
    secrets: dict[tuple[uuid.UUID, str], str] = {}
    recipients = {
        r.id: r.org_id
        for r in db.scalars(
            select(RecallRecipient).where(
                RecallRecipient.id.in_({record.recipient_id for record in pending})
            )
        )
    }
    for org, dest, hook_secret in db.execute(
        select(Subscription.org_id, Subscription.dest, Subscription.secret).where(
            Subscription.org_id.in_(set(recipients.values()))
        )
    ):
        secrets.setdefault((org, dest), hook_secret)
    sent = 0
    for record in pending:
        body = json.dumps(record.payload, sort_keys=True).encode()
        record.attempts += 1
        headers = {"Content-Type": "application/json"}
        org_id = recipients[record.recipient_id]  # the recipient row cascades with the record
        if (org_id, record.target) in secrets:
            headers[SIGNATURE_HEADER] = sign(secrets[(org_id, record.target)], body)
        outcome = webhooks.send(
            db,
            org_id=org_id,
            source="recall",
            source_id=record.id,
            url=record.target,
            body=body,
            headers=headers,
            post=http_post,
        )
        if outcome.ok:
            record.state = NotificationState.sent
            record.sent_at = utcnow()
            sent += 1
        elif record.attempts >= 10:
            record.state = NotificationState.failed
    db.flush()
    return sent
