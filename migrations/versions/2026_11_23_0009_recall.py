"""Recalls (items reached, recipients, notification outbox) and the trace index on identifiers.

Revision ID: 2026_11_23_0009
Revises: 2026_11_23_0005
Create Date: 2026-11-23 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import truyxuat.db

revision: str = "2026_11_23_0009"
down_revision: str | None = "2026_11_23_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "recall",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("epc", sa.String(length=1024), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "severity", _enum("recallseverity", "class_i", "class_ii", "class_iii"), nullable=False
        ),
        sa.Column("state", _enum("recallstate", "open", "closed"), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("compute_ms", sa.Float(), nullable=True),
        sa.Column("summary", _json(), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_recall_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall")),
    )
    op.create_index("ix_recall_org_id_opened_at", "recall", ["org_id", "opened_at"])
    op.create_table(
        "recall_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recall_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            _enum("recallitemkind", "lot", "item", "sscc", "shipment", "stamp"),
            nullable=False,
        ),
        sa.Column("ref", sa.String(length=1024), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_recall_item_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recall.id"],
            name=op.f("fk_recall_item_recall_id_recall"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_item")),
        sa.UniqueConstraint(
            "recall_id", "kind", "ref", name=op.f("uq_recall_item_recall_id_kind_ref")
        ),
    )
    op.create_index("ix_recall_item_gtin_lot", "recall_item", ["gtin", "lot"])
    op.create_index(op.f("ix_recall_item_org_id"), "recall_item", ["org_id"])
    op.create_table(
        "recall_recipient",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recall_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("notified_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_recall_recipient_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recall.id"],
            name=op.f("fk_recall_recipient_recall_id_recall"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_recipient")),
        sa.UniqueConstraint(
            "recall_id", "org_id", name=op.f("uq_recall_recipient_recall_id_org_id")
        ),
    )
    op.create_index(op.f("ix_recall_recipient_org_id"), "recall_recipient", ["org_id"])
    op.create_table(
        "recall_notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recall_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("channel", _enum("notificationchannel", "webhook", "email"), nullable=False),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("state", _enum("notificationstate", "pending", "sent", "failed"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recall.id"],
            name=op.f("fk_recall_notification_recall_id_recall"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recall_recipient.id"],
            name=op.f("fk_recall_notification_recipient_id_recall_recipient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall_notification")),
    )
    op.create_index(op.f("ix_recall_notification_recall_id"), "recall_notification", ["recall_id"])
    op.create_index(
        "ix_recall_notification_state_created_at", "recall_notification", ["state", "created_at"]
    )
    op.create_index(
        "ix_epcis_event_epc_trace", "epcis_event_epc", ["epc", "role", "org_id", "event_row_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_epcis_event_epc_trace", table_name="epcis_event_epc")
    op.drop_table("recall_notification")
    op.drop_table("recall_recipient")
    op.drop_table("recall_item")
    op.drop_table("recall")
