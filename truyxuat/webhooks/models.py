"""The webhook delivery log: one row per POST attempt, with the exact body and headers sent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, JSONType, new_id, utcnow


class WebhookDelivery(Base):
    """One POST of a webhook: what was sent (body and headers, signature included), where, for
    which source, and what came back (`status` None when no answer arrived, `error` then says
    why). A replay is a new row pointing at the delivery it repeats."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_org_id_created_at", "org_id", "created_at"),
        Index("ix_webhook_delivery_source", "source", "source_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    # What sent it: "epcis.subscription", "recall" or "alert", and that row's id.
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[uuid.UUID]
    url: Mapped[str] = mapped_column(String(2048))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(1000))
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    replay_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def ok(self) -> bool:
        """True when the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300
