"""Sending a webhook and logging it; listing, reading and replaying deliveries.

Every sender (EPCIS subscriptions, recall and alert notifications) posts through `send`, so
each attempt lands in the log with the exact bytes sent. A replay re-sends those bytes with
the same headers: the signature still verifies, and a receiver that deduplicates by body or
by its own key sees the same message again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, delete, false, select, true, update
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal, can_write, ensure_writable
from truyxuat.db import new_id, utcnow
from truyxuat.errors import NotFound
from truyxuat.webhooks.models import WebhookDelivery

ERROR_TEXT = 1000
SOURCES = ("epcis.subscription", "recall", "alert")

# Posts a body to a URL with headers and returns the HTTP status (raises on network errors).
HttpPost = Callable[[str, bytes, Mapping[str, str]], int]


def http_post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POSTs with httpx (10 s timeout, no redirects) and returns the status code."""
    response = httpx.post(url, content=body, headers=dict(headers), timeout=10.0)
    return response.status_code


@dataclass(frozen=True)
class Outcome:
    """What one POST gave: the receiver's status (None without an answer) and any error."""

    status: int | None
    error: str | None
    delivery: WebhookDelivery

    @property
    def ok(self) -> bool:
        """True when the receiver answered 2xx."""
        return self.error is None


def send(
    db: Session,
    *,
    org_id: uuid.UUID,
    source: str,
    source_id: uuid.UUID,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    post: HttpPost = http_post,
    replay_of: uuid.UUID | None = None,
) -> Outcome:
    """POSTs one webhook and logs the attempt (in the caller's transaction)."""
    started = time.perf_counter()
    status: int | None
    try:
        status = post(url, body, headers)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # any transport failure is logged and retried by the sender
        status, error = None, f"{type(exc).__name__}: {exc}"
    delivery = WebhookDelivery(
        id=new_id(),
        org_id=org_id,
        source=source,
        source_id=source_id,
        url=url,
        body=body.decode("utf-8", errors="replace"),
        headers=dict(headers),
        status=status,
        error=error[:ERROR_TEXT] if error else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        replay_of=replay_of,
        created_at=utcnow(),
    )
    db.add(delivery)
    db.flush()
    return Outcome(status, delivery.error, delivery)


def list_deliveries(
    db: Session,
    principal: Principal,
    *,
    source: str | None = None,
    failed: bool | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[WebhookDelivery], int]:
    """The deliveries of the caller's organizations, newest first."""
    from truyxuat.registry.service.common import paginate

    query = select(WebhookDelivery).where(_own(principal))
    if source:
        query = query.where(WebhookDelivery.source == source)
    if failed is True:
        query = query.where(
            (WebhookDelivery.status.is_(None))
            | (WebhookDelivery.status < 200)
            | (WebhookDelivery.status >= 300)
        )
    elif failed is False:
        query = query.where(WebhookDelivery.status >= 200, WebhookDelivery.status < 300)
    if since:
        query = query.where(WebhookDelivery.created_at >= since)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    return paginate(db, query, offset=offset, limit=limit)


def _own(principal: Principal) -> ColumnElement[bool]:
    """Deliveries are an organization's own business: authorities' jurisdiction does not reach
    them (they carry the organization's events and its receivers' addresses)."""
    if principal.is_platform_admin:
        return true()
    members = principal.member_org_ids()
    return WebhookDelivery.org_id.in_(members) if members else false()


def get_delivery(db: Session, principal: Principal, delivery_id: uuid.UUID) -> WebhookDelivery:
    """One delivery of the caller's organizations (404 otherwise)."""
    delivery = db.get(WebhookDelivery, delivery_id)
    if delivery is None or not (
        principal.is_platform_admin or delivery.org_id in principal.member_org_ids()
    ):
        raise NotFound()
    return delivery


def replay(
    db: Session, principal: Principal, delivery_id: uuid.UUID, *, post: HttpPost = http_post
) -> Outcome:
    """Sends a delivery again, byte for byte (its organization's admins or the platform)."""
    original = get_delivery(db, principal, delivery_id)
    ensure_writable(principal, original.org_id, admin_only=True)
    return send(
        db,
        org_id=original.org_id,
        source=original.source,
        source_id=original.source_id,
        url=original.url,
        body=original.body.encode("utf-8"),
        headers=original.headers,
        post=post,
        replay_of=original.id,
    )


def may_replay(principal: Principal, delivery: WebhookDelivery) -> bool:
    """Whether the caller may replay this delivery."""
    return can_write(principal, delivery.org_id, admin_only=True)


def prune(db: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Deletes deliveries older than a period (the log keeps bodies: it must not grow forever)."""
    cutoff = (now or utcnow()) - older_than
    # A newer replay of a pruned delivery keeps its own copy of the body; unlink it first.
    old = select(WebhookDelivery.id).where(WebhookDelivery.created_at < cutoff)
    db.execute(
        update(WebhookDelivery).where(WebhookDelivery.replay_of.in_(old)).values(replay_of=None)
    )
    result = db.execute(delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff))
    db.flush()
    return int(getattr(result, "rowcount", 0) or 0)
