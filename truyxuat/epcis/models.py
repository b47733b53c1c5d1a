"""EPCIS tables: captured events (kept exactly as received), their identifiers for MATCH_*
queries, capture jobs, named queries and their webhook subscriptions.

Events are keyed by (org_id, id) so the table can later be partitioned by tenant on
PostgreSQL (a partitioned table's primary key must include the partition key).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, JSONType, new_id, utcnow
from truyxuat.registry.models import str_enum


class CaptureState(enum.StrEnum):
    """Where a capture job stands."""

    running = "running"
    success = "success"
    error = "error"


class CaptureJob(Base):
    """One POST /epcis/capture: its state, its errors and how many events it stored."""

    __tablename__ = "epcis_capture_job"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    state: Mapped[CaptureState] = mapped_column(str_enum(CaptureState))
    # rollback (all events or none) or proceed (the valid events, the others reported).
    error_behaviour: Mapped[str] = mapped_column(String(16), default="rollback")
    # Each refused field as {"loc", "message" (a msgid), "params"}, shown in the reader's
    # language.
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class EpcisEvent(Base):
    """One captured event; `event` holds the JSON-LD event exactly as received.

    `event_id` is the event's eventID, or its CBV 2.0 hash when it has none. An error
    declaration shares eventID and hash with the event it corrects, so `error_declared`
    is part of the idempotency key.
    """

    __tablename__ = "epcis_event"
    __table_args__ = (
        UniqueConstraint("org_id", "event_hash", "error_declared"),
        Index("ix_epcis_event_org_event_id", "org_id", "event_id"),
        Index("ix_epcis_event_org_record_time", "org_id", "record_time", "id"),
        Index("ix_epcis_event_org_event_time", "org_id", "event_time"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(1024))
    event_hash: Mapped[str] = mapped_column(String(128))
    error_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    event_type: Mapped[str] = mapped_column(String(32))
    event_time: Mapped[datetime]
    event_time_zone_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime]
    action: Mapped[str | None] = mapped_column(String(8), nullable=True)
    biz_step: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    read_point: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    biz_location: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSONType)
    capture_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("epcis_capture_job.id"), nullable=True
    )


class EpcRole(enum.StrEnum):
    """Which list of an event an identifier came from."""

    epc = "epc"
    parent = "parent"
    child = "child"
    input = "input"
    output = "output"
    quantity = "quantity"
    child_quantity = "child_quantity"
    input_quantity = "input_quantity"
    output_quantity = "output_quantity"


class EpcisEventEpc(Base):
    """One identifier (EPC or class) named by an event, for MATCH_* queries."""

    __tablename__ = "epcis_event_epc"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_event_epc_event",
            ondelete="CASCADE",
        ),
        Index("ix_epcis_event_epc_org_epc", "org_id", "epc"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    epc: Mapped[str] = mapped_column(String(1024), primary_key=True)


class NamedQuery(Base):
    """A SimpleEventQuery saved by an organization under a name (POST /epcis/queries).

    `query` maps each parameter name to its list of values, as the REST query string would.
    """

    __tablename__ = "epcis_named_query"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"))
    name: Mapped[str] = mapped_column(String(128))
    query: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A webhook fed with the new events of a named query, through this row as an outbox.

    The cursor (record time, row id) is the last event delivered; it moves only when the
    webhook answered 2xx. After a failure `next_attempt_at` backs off exponentially.
    """

    __tablename__ = "epcis_subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    query_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("epcis_named_query.id", ondelete="CASCADE"), index=True
    )
    dest: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(512))
    report_if_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    epc_format: Mapped[str] = mapped_column(String(32), default="No_Preference")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cursor_record_time: Mapped[datetime]
    cursor_row_id: Mapped[uuid.UUID]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_notified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1024), nullable=True)


class EpcisEventParty(Base):
    """A GLN an event names in its sourceList or destinationList (EPCIS sharing).

    The organizations (or facilities) holding that GLN may read the event although another
    organization captured it: the trading partner it was shipped to or received from.
    """

    __tablename__ = "epcis_event_party"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_event_party_event",
            ondelete="CASCADE",
        ),
        Index("ix_epcis_event_party_gln", "gln"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    gln: Mapped[str] = mapped_column(String(13), primary_key=True)


class EpcisSensorReading(Base):
    """One sensorReport of a captured event, flattened so excursions can be found by SQL.

    `time` is the report's own time, else its sensor element's metadata time, else the
    event time. `type` is the measurement type in its short GS1 form ("Temperature") or the
    user's own URI. The event row holds the rest (what, where, why).
    """

    __tablename__ = "epcis_sensor_reading"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_sensor_reading_event",
            ondelete="CASCADE",
        ),
        Index("ix_epcis_sensor_reading_org_type_time", "org_id", "type", "time"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    element_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime]
    type: Mapped[str | None] = mapped_column(Text, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    mean_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    uom: Mapped[str | None] = mapped_column(String(8), nullable=True)
    string_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    boolean_value: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    component: Mapped[str | None] = mapped_column(Text, nullable=True)
    device_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw_data: Mapped[str | None] = mapped_column(Text, nullable=True)


class EpcisEventField(Base):
    """One value of a user extension field of an event (or of its ILMD), for EQ_/EXISTS_.

    `name` is the field as `namespace#local`; `key` is how the event wrote it
    (`prefix:local`). `value` is the text of a simple value (None for an object) and `number`
    its numeric value when it is a number.
    """

    __tablename__ = "epcis_event_field"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_event_field_event",
            ondelete="CASCADE",
        ),
        Index("ix_epcis_event_field_org_name", "org_id", "name"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    number: Mapped[float | None] = mapped_column(Float, nullable=True)
