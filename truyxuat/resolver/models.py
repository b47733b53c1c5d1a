"""Resolver tables: the scan log, first PIN verifications and reports of suspected fakes.

Nothing here identifies a person: a scan keeps its time, the user agent and, only when the
consumer agreed, a place rounded to about ten kilometres.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, new_id, utcnow


class Scan(Base):
    """One resolution of a Digital Link by a browser (a consumer scanning a QR code)."""

    __tablename__ = "resolver_scan"
    __table_args__ = (
        # Count and list a serial's scans, and a lot's, without touching other items.
        # The latitude too: an item's scan counts (and located ones) come from the index alone.
        Index("ix_resolver_scan_item", "gtin", "serial", "scanned_at", "latitude"),
        Index("ix_resolver_scan_lot", "gtin", "lot", "scanned_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(8), default="")


class PinVerification(Base):
    """The first time a stamp's scratch-off PIN was checked right, and how often since."""

    __tablename__ = "resolver_pin_verification"
    __table_args__ = (UniqueConstraint("gtin", "serial"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    first_verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    count: Mapped[int] = mapped_column(default=1)


class FakeReport(Base):
    """A consumer's report of a suspected fake, for the producer and the province's authority."""

    __tablename__ = "resolver_fake_report"
    __table_args__ = (
        Index("ix_resolver_fake_report_org", "org_id", "created_at"),
        Index("ix_resolver_fake_report_province", "province_code", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    province_code: Mapped[str | None] = mapped_column(String(16))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(String(300), default="")
    where_bought: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    scan_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
