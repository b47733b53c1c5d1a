"""Recall tables: the recall, what it reaches (lots, items, shipments, stamps), who must act
(recipients with their acknowledgement) and the notifications waiting to be sent (outbox).

`recall_item` carries gtin/lot so a passport finds the banner of its lot with one indexed
lookup, whoever opened the recall.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, JSONType, new_id, utcnow
from truyxuat.registry.models import str_enum


class RecallSeverity(enum.StrEnum):
    """How dangerous the product is, in the FDA's three classes (used by Vietnamese recalls too)."""

    class_i = "class_i"
    class_ii = "class_ii"
    class_iii = "class_iii"


class RecallState(enum.StrEnum):
    """An open recall is live; a closed one is kept as a record; a drill never goes public."""

    open = "open"
    closed = "closed"


class RecallItemKind(enum.StrEnum):
    """What sort of thing a recall reaches."""

    lot = "lot"
    item = "item"
    sscc = "sscc"
    shipment = "shipment"
    stamp = "stamp"


class NotificationChannel(enum.StrEnum):
    """How a recipient is told."""

    webhook = "webhook"
    email = "email"


class NotificationState(enum.StrEnum):
    """Where an outbox record stands."""

    pending = "pending"
    sent = "sent"
    failed = "failed"


class Recall(Base):
    """A recall of one lot (its Digital Link `epc`), opened by an organization or authority.

    A drill (mock recall) computes everything and records how long it took, but shows no
    banner and notifies nobody.
    """

    __tablename__ = "recall"
    __table_args__ = (Index("ix_recall_org_id_opened_at", "org_id", "opened_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    epc: Mapped[str] = mapped_column(String(1024))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    severity: Mapped[RecallSeverity] = mapped_column(str_enum(RecallSeverity))
    state: Mapped[RecallState] = mapped_column(str_enum(RecallState), default=RecallState.open)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_by: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    compute_ms: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    record_hash: Mapped[str | None] = mapped_column(String(64))


class RecallItem(Base):
    """One lot, item, SSCC, shipment event or stamp a recall reaches; `depth` counts the steps
    from the recalled lot; `org_id` is the organization holding it, when known."""

    __tablename__ = "recall_item"
    __table_args__ = (
        UniqueConstraint("recall_id", "kind", "ref"),
        Index("ix_recall_item_gtin_lot", "gtin", "lot"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall.id", ondelete="CASCADE"))
    kind: Mapped[RecallItemKind] = mapped_column(str_enum(RecallItemKind))
    ref: Mapped[str] = mapped_column(String(1024))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)


class RecallRecipient(Base):
    """An organization that holds or received something recalled, and its acknowledgement."""

    __tablename__ = "recall_recipient"
    __table_args__ = (UniqueConstraint("recall_id", "org_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recall.id", ondelete="CASCADE"))
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    notified_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class RecallNotification(Base):
    """An outbox record: one message to one recipient on one channel, sent by a worker."""

    __tablename__ = "recall_notification"
    __table_args__ = (Index("ix_recall_notification_state_created_at", "state", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recall_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recall.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recall_recipient.id", ondelete="CASCADE")
    )
    channel: Mapped[NotificationChannel] = mapped_column(str_enum(NotificationChannel))
    target: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[NotificationState] = mapped_column(
        str_enum(NotificationState), default=NotificationState.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
