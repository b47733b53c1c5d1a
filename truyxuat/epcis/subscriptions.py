"""Webhook subscriptions to named queries, delivered through a database outbox.

Each subscription row keeps a cursor: the (record time, row id) of the last event its webhook
accepted. `deliver_due` sends the events after the cursor that match the named query, as an
EPCISQueryDocument signed with HMAC-SHA256 of the body under the subscription's secret
(`X-Truyxuat-Signature: sha256=<hex>`, also sent as `GS1-Signature`). The cursor moves only
when the webhook answers 2xx, in the caller's transaction, so a restart resumes where the last
committed delivery ended; a failure schedules a retry with exponential backoff.

Deliveries run with the visibility of a member of the subscribing organization: its own events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.db import new_id
from truyxuat.epcis import epc_format, service, xml_writer
from truyxuat.epcis.models import NamedQuery, Subscription
from truyxuat.epcis.named_queries import get_query
from truyxuat.epcis.query import PageToken, company_prefixes
from truyxuat.errors import N_, NotFound, invalid
from truyxuat.webhooks import service as webhooks
from truyxuat.webhooks.service import HttpPost, http_post

SIGNATURE_HEADER = "X-Truyxuat-Signature"
BATCH = 500
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=6)
ERROR_TEXT = 1000

__all__ = ["SIGNATURE_HEADER", "HttpPost", "http_post", "sign"]


def sign(secret: str, body: bytes) -> str:
    """The signature header value of a body: sha256=<hex HMAC-SHA256 under the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failure in a row: 30 s doubling, at most 6 h."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def create_subscription(
    db: Session,
    principal: Principal,
    *,
    query_name: str,
    dest: str,
    secret: str,
    report_if_empty: bool,
    epc_format_name: str | None,
    initial_record_time: datetime | None,
    now: datetime,
) -> Subscription:
    """Subscribes a webhook to a named query's events recorded from now (or from a time)."""
    query = get_query(db, principal, query_name)
    if epc_format_name is not None and epc_format_name not in epc_format.FORMATS:
        expected = ", ".join(sorted(epc_format.FORMATS))
        raise invalid(["GS1-EPC-Format"], N_("Must be one of: {expected}"), expected=expected)
    row = Subscription(
        id=new_id(),
        org_id=query.org_id,
        query_id=query.id,
        dest=dest,
        secret=secret,
        report_if_empty=report_if_empty,
        epc_format=epc_format_name or epc_format.NO_PREFERENCE,
        created_at=now,
        cursor_record_time=initial_record_time or now,
        cursor_row_id=uuid.UUID(int=0),
        next_attempt_at=now,
        attempts=0,
    )
    db.add(row)
    db.flush()
    return row


def list_subscriptions(db: Session, principal: Principal, query_name: str) -> list[Subscription]:
    """The subscriptions of one of the organization's named queries, oldest first."""
    query = get_query(db, principal, query_name)
    statement = select(Subscription).where(Subscription.query_id == query.id)
    return list(db.scalars(statement.order_by(Subscription.created_at, Subscription.id)))


def get_subscription(
    db: Session, principal: Principal, query_name: str, subscription_id: uuid.UUID
) -> Subscription:
    """One subscription of one of the organization's named queries; NotFound otherwise."""
    query = get_query(db, principal, query_name)
    row = db.get(Subscription, subscription_id)
    if row is None or row.query_id != query.id:
        raise NotFound()
    return row


def delete_subscription(
    db: Session, principal: Principal, query_name: str, subscription_id: uuid.UUID
) -> None:
    """Unsubscribes: no more deliveries."""
    db.delete(get_subscription(db, principal, query_name, subscription_id))
    db.flush()


def _delivery_principal(org_id: uuid.UUID) -> Principal:
    """Who a delivery reads as: a member of the subscribing organization."""
    return Principal(label="subscription", grants=(Grant(org_id, Role.org_staff, None),))


def _deliver_one(
    db: Session,
    row: Subscription,
    query: NamedQuery,
    *,
    now: datetime,
    post: HttpPost,
    prefixes: list[str],
) -> int:
    """Sends one subscription's pending events in batches; returns how many POSTs succeeded."""
    principal = _delivery_principal(row.org_id)
    convert = epc_format.converter(row.epc_format, prefixes)
    sent = 0
    while True:
        cursor = PageToken(row.cursor_record_time, row.cursor_row_id).encode()
        params = {
            **query.query,
            "LT_recordTime": [*query.query.get("LT_recordTime", []), now.isoformat()],
            "nextPageToken": [cursor],
            "perPage": [str(BATCH)],
        }
        events, more = service.query_events(db, principal, params)
        if not events and not (row.report_if_empty and sent == 0):
            return sent
        body = json.dumps(
            xml_writer.query_document(
                [epc_format.convert_event(service.event_document(e), convert) for e in events],
                query_name=query.name,
                creation_date=now,
                subscription_id=str(row.id),
            ),
            ensure_ascii=False,
        ).encode()
        signature = sign(row.secret, body)
        headers = {
            "Content-Type": "application/ld+json",
            SIGNATURE_HEADER: signature,
            "GS1-Signature": signature,
            "GS1-EPCIS-Version": "2.0.0",
        }
        error = webhooks.send(
            db,
            org_id=row.org_id,
            source="epcis.subscription",
            source_id=row.id,
            url=row.dest,
            body=body,
            headers=headers,
            post=post,
        ).error
        if error is not None:
            row.attempts += 1
            row.last_error = error[:ERROR_TEXT]
            row.next_attempt_at = now + backoff(row.attempts)
            db.flush()
            return sent
        sent += 1
        row.attempts = 0
        row.last_error = None
        row.last_notified_at = now
        row.next_attempt_at = now
        if events:
            row.cursor_record_time, row.cursor_row_id = events[-1].record_time, events[-1].id
        db.flush()
        if more is None:
            return sent


def deliver_due(session: Session, *, now: datetime, http_post: HttpPost = http_post) -> int:
    """Delivers the new events of every subscription due at `now`; returns the POSTs accepted.

    Flushes, never commits: the caller commits once, which makes the moved cursors durable.
    On PostgreSQL rows locked by another deliverer are skipped, so workers never double-send.
    """
    due = session.scalars(
        select(Subscription)
        .where(Subscription.next_attempt_at <= now)
        .order_by(Subscription.next_attempt_at, Subscription.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0
    prefixes = company_prefixes(session)
    sent = 0
    for row in due:
        query = session.get(NamedQuery, row.query_id)
        if query is None:  # pragma: no cover - deleted with its subscriptions
            continue
        sent += _deliver_one(session, row, query, now=now, post=http_post, prefixes=prefixes)
    return sent
