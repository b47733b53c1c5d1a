"""Stamp tables: print runs (đợt in tem), their stamps, and the per-client PIN-guess counter."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, new_id, utcnow
from truyxuat.registry.models import str_enum


class StampKind(enum.StrEnum):
    """A QR traceability stamp, or the same QR plus a scratch-off verification PIN."""

    qr = "qr"
    anticounterfeit = "anticounterfeit"


class RunState(enum.StrEnum):
    """Where a print run is: ordered → generated → printed → activated → voided."""

    ordered = "ordered"
    generated = "generated"
    printed = "printed"
    activated = "activated"
    voided = "voided"


class StampState(enum.StrEnum):
    """One stamp's state; partial activation and voiding of a run are tracked here."""

    generated = "generated"
    activated = "activated"
    voided = "voided"


class StampRun(Base):
    """An organization's order of `count` stamps for one product (and optionally one lot)."""

    __tablename__ = "stamp_run"
    __table_args__ = (Index("ix_stamp_run_org_id_created_at", "org_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("product.id", ondelete="RESTRICT"), index=True
    )
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[StampKind] = mapped_column(str_enum(StampKind))
    count: Mapped[int]
    state: Mapped[RunState] = mapped_column(str_enum(RunState), default=RunState.ordered)
    activated_count: Mapped[int] = mapped_column(default=0)
    voided_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Stamp(Base):
    """One printed code: GTIN + serial (unique per GTIN, enforced by the database).

    Keyed by (org_id, id) so the table can later be partitioned by organization; `seq` is the
    issue order inside the run, which serial ranges (first and last stamp of a roll) follow.
    """

    __tablename__ = "stamp"
    __table_args__ = (
        UniqueConstraint("gtin", "serial"),
        UniqueConstraint("run_id", "seq"),
    )

    # The run's organization, copied as the partition key. No foreign key of its own: the run's
    # key already ties the stamp to its organization, and a second per-row check costs a third
    # of the bulk-issue time.
    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stamp_run.id", ondelete="CASCADE"))
    seq: Mapped[int]
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    lot: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[StampState] = mapped_column(str_enum(StampState), default=StampState.generated)
    pin_salt: Mapped[str | None] = mapped_column(String(32))
    pin_hash: Mapped[str | None] = mapped_column(String(64))
    pin_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(300))


class PinAttemptWindow(Base):
    """Wrong PIN guesses by one client (IP address or API key) within one hour."""

    __tablename__ = "stamp_pin_attempt"

    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
