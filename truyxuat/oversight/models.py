"""Oversight tables: inspections and the violations they find (with remedy and verification,
and the code or certificate a violation suspends), early-warning alerts and their outbox.

Every row carries the organization concerned (`org_id`) and its province, so an authority's
jurisdiction filters them with the same rule as the registry.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, JSONType, new_id, utcnow
from truyxuat.recall.models import NotificationChannel, NotificationState
from truyxuat.registry.models import str_enum


class InspectionResult(enum.StrEnum):
    """What an inspection concluded."""

    compliant = "compliant"
    violations = "violations"
    follow_up = "follow_up"


class Inspection(Base):
    """An inspection of an organization's facility, growing area or packing house.

    `inspector_org_id` is the authority that inspected; `photo_file_ids` are stored files
    (kept under the inspector's organization) taken on site.
    """

    __tablename__ = "inspection"
    __table_args__ = (
        Index("ix_inspection_province_inspected_on", "province_code", "inspected_on"),
        Index("ix_inspection_org_id_inspected_on", "org_id", "inspected_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    inspector_org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT")
    )
    province_code: Mapped[str | None] = mapped_column(String(16))
    facility_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("facility.id", ondelete="SET NULL")
    )
    growing_area_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("growing_area.id", ondelete="SET NULL")
    )
    packing_house_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("packing_house.id", ondelete="SET NULL")
    )
    inspected_on: Mapped[date]
    findings: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[InspectionResult] = mapped_column(str_enum(InspectionResult))
    photo_file_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ViolationSeverity(enum.StrEnum):
    """How serious a violation is."""

    minor = "minor"
    major = "major"
    critical = "critical"


class ViolationState(enum.StrEnum):
    """open → remedied (the organization says what it did) → verified (the inspector agrees)."""

    open = "open"
    remedied = "remedied"
    verified = "verified"


class SuspensionTarget(enum.StrEnum):
    """What a violation may suspend until its remedy is verified."""

    growing_area = "growing_area"
    packing_house = "packing_house"
    certification = "certification"


class Violation(Base):
    """A breach of a rule found at an inspection, with its deadline, remedy and verification.

    When `suspends_type` is set, the code or certificate `suspends_id` is suspended while the
    violation is open or remedied, and restored (to `previous_status`) once verified.
    """

    __tablename__ = "violation"
    __table_args__ = (
        Index("ix_violation_province_state", "province_code", "state"),
        Index("ix_violation_org_id_state", "org_id", "state"),
        Index("ix_violation_suspends", "suspends_type", "suspends_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    province_code: Mapped[str | None] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[ViolationSeverity] = mapped_column(str_enum(ViolationSeverity))
    deadline: Mapped[date | None]
    state: Mapped[ViolationState] = mapped_column(
        str_enum(ViolationState), default=ViolationState.open
    )
    suspends_type: Mapped[SuspensionTarget | None] = mapped_column(str_enum(SuspensionTarget))
    suspends_id: Mapped[uuid.UUID | None]
    previous_status: Mapped[str | None] = mapped_column(String(32))
    remedy: Mapped[str] = mapped_column(Text, default="")
    remedied_at: Mapped[datetime | None]
    remedied_by: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verification_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertSeverity(enum.StrEnum):
    """How urgently an alert needs attention."""

    info = "info"
    warning = "warning"
    critical = "critical"


class AlertState(enum.StrEnum):
    """open → acknowledged (someone is on it) → resolved."""

    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class Alert(Base):
    """One early warning raised by a rule about one situation.

    `(rule, dedup_key)` names the situation (a stamp, a lot, a certificate used in an event...),
    so running the rules again finds the same alert instead of adding another. `title` is an
    English msgid shown in the reader's language with `params`; `evidence` lists what shows
    the situation (events, scans, certificates) with links.
    """

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("rule", "dedup_key"),
        Index("ix_alert_province_state", "province_code", "state"),
        Index("ix_alert_org_id_state", "org_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    rule: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(512))
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity))
    state: Mapped[AlertState] = mapped_column(str_enum(AlertState), default=AlertState.open)
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT")
    )
    province_code: Mapped[str | None] = mapped_column(String(16))
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    title: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    evidence_url: Mapped[str] = mapped_column(String(1024), default="")
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_note: Mapped[str] = mapped_column(Text, default="")


class AlertNotification(Base):
    """An outbox record: one alert told to one organization on one channel, sent by a worker."""

    __tablename__ = "alert_notification"
    __table_args__ = (Index("ix_alert_notification_state_created_at", "state", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alert.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    channel: Mapped[NotificationChannel] = mapped_column(str_enum(NotificationChannel))
    target: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[NotificationState] = mapped_column(
        str_enum(NotificationState), default=NotificationState.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
