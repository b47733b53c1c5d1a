"""Webhook delivery log API: list, read and replay the deliveries of one's organizations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.schemas.common import MAX_OFFSET
from truyxuat.webhooks import service
from truyxuat.webhooks.models import WebhookDelivery

router = APIRouter(tags=["webhooks"])
Source = Literal["epcis.subscription", "recall", "alert"]


class DeliveryOut(BaseModel):
    """One POST of a webhook and what the receiver answered (`status` null: no answer)."""

    id: uuid.UUID
    org_id: uuid.UUID
    source: str
    source_id: uuid.UUID
    url: str
    status: int | None
    ok: bool
    error: str | None
    duration_ms: float
    replay_of: uuid.UUID | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    """A delivery with the exact body and headers sent (the signature among them)."""

    body: str
    headers: dict[str, Any]


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryOut]
    total: int


def _out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery, from_attributes=True)


def _detail(delivery: WebhookDelivery) -> DeliveryDetail:
    return DeliveryDetail.model_validate(delivery, from_attributes=True)


@router.get("/webhooks/deliveries", response_model=DeliveryPage)
def list_deliveries(
    db: DB,
    principal: Caller,
    source: Source | None = None,
    failed: bool | None = None,
    since: datetime | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """Webhook deliveries of the caller's organizations (filter by source or failures)."""
    rows, total = service.list_deliveries(
        db, principal, source=source, failed=failed, since=since, offset=offset, limit=limit
    )
    return DeliveryPage(items=[_out(r) for r in rows], total=total)


@router.get("/webhooks/deliveries/{delivery_id}", response_model=DeliveryDetail)
def get_delivery(delivery_id: uuid.UUID, db: DB, principal: Caller) -> DeliveryDetail:
    """One delivery with the body and headers sent."""
    return _detail(service.get_delivery(db, principal, delivery_id))


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay", status_code=201, response_model=DeliveryDetail
)
def replay_delivery(delivery_id: uuid.UUID, db: DB, principal: Caller) -> DeliveryDetail:
    """Sends a delivery again, byte for byte; answers with the new delivery (its outcome)."""
    return _detail(service.replay(db, principal, delivery_id).delivery)
