"""Oversight: inspections, violations (and what they suspend), early-warning alerts and their
outbox; products' storage temperature range; certificates' suspension.

Revision ID: 2026_12_04_0013
Revises: 2026_11_23_0012
Create Date: 2026-12-04 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import truyxuat.db

revision: str = "2026_12_04_0013"
down_revision: str | None = "2026_11_23_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "info", "warning", "critical", name="alertseverity", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "open", "acknowledged", "resolved", name="alertstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("evidence_url", sa.String(length=1024), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_alert_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("rule", "dedup_key", name=op.f("uq_alert_rule_dedup_key")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_gtin"), ["gtin"], unique=False)
        batch_op.create_index("ix_alert_org_id_state", ["org_id", "state"], unique=False)
        batch_op.create_index("ix_alert_province_state", ["province_code", "state"], unique=False)

    op.create_table(
        "alert_notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("webhook", "email", name="notificationchannel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "pending", "sent", "failed", name="notificationstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_alert_notification_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_alert_notification_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notification")),
    )
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_notification_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            "ix_alert_notification_state_created_at", ["state", "created_at"], unique=False
        )

    op.create_table(
        "inspection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("inspector_org_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("growing_area_id", sa.Uuid(), nullable=True),
        sa.Column("packing_house_id", sa.Uuid(), nullable=True),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "compliant",
                "violations",
                "follow_up",
                name="inspectionresult",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "photo_file_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_inspection_facility_id_facility"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["growing_area_id"],
            ["growing_area.id"],
            name=op.f("fk_inspection_growing_area_id_growing_area"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inspector_org_id"],
            ["organization.id"],
            name=op.f("fk_inspection_inspector_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_inspection_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["packing_house_id"],
            ["packing_house.id"],
            name=op.f("fk_inspection_packing_house_id_packing_house"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inspection_org_id_inspected_on", ["org_id", "inspected_on"], unique=False
        )
        batch_op.create_index(
            "ix_inspection_province_inspected_on", ["province_code", "inspected_on"], unique=False
        )

    op.create_table(
        "violation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("inspection_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "minor", "major", "critical", name="violationseverity", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "open", "remedied", "verified", name="violationstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "suspends_type",
            sa.Enum(
                "growing_area",
                "packing_house",
                "certification",
                name="suspensiontarget",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("suspends_id", sa.Uuid(), nullable=True),
        sa.Column("previous_status", sa.String(length=32), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column("remedied_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remedied_by", sa.String(length=200), nullable=True),
        sa.Column("verified_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("verification_note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_violation_inspection_id_inspection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_violation_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violation")),
    )
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_violation_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index("ix_violation_org_id_state", ["org_id", "state"], unique=False)
        batch_op.create_index(
            "ix_violation_province_state", ["province_code", "state"], unique=False
        )
        batch_op.create_index(
            "ix_violation_suspends", ["suspends_type", "suspends_id"], unique=False
        )

    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspended_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("suspension_reason", sa.Text(), nullable=False, server_default="")
        )

    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("temperature_min", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("temperature_max", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("temperature_max")
        batch_op.drop_column("temperature_min")

    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_at")

    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.drop_index("ix_violation_suspends")
        batch_op.drop_index("ix_violation_province_state")
        batch_op.drop_index("ix_violation_org_id_state")
        batch_op.drop_index(batch_op.f("ix_violation_inspection_id"))

    op.drop_table("violation")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_province_inspected_on")
        batch_op.drop_index("ix_inspection_org_id_inspected_on")

    op.drop_table("inspection")
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_notification_state_created_at")
        batch_op.drop_index(batch_op.f("ix_alert_notification_alert_id"))

    op.drop_table("alert_notification")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_province_state")
        batch_op.drop_index("ix_alert_org_id_state")
        batch_op.drop_index(batch_op.f("ix_alert_gtin"))

    op.drop_table("alert")
