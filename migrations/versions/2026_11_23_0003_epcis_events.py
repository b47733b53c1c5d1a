"""EPCIS events (kept as received, keyed by org for later partitioning), their identifiers for
MATCH_* queries, and capture jobs.

Revision ID: 2026_11_23_0003
Revises: 2026_11_23_0001
Create Date: 2026-11-23 11:40:51.312982
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import truyxuat.db

revision: str = "2026_11_23_0003"
down_revision: str | None = "2026_11_23_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "epcis_capture_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running", "success", "error", name="capturestate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_epcis_capture_job_org_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_capture_job")),
    )
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_capture_job_org_id"), ["org_id"], unique=False)

    op.create_table(
        "epcis_event",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=1024), nullable=False),
        sa.Column("event_hash", sa.String(length=128), nullable=False),
        sa.Column("error_declared", sa.Boolean(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("event_time", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_time_zone_offset", sa.String(length=6), nullable=False),
        sa.Column("record_time", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=True),
        sa.Column("biz_step", sa.String(length=1024), nullable=True),
        sa.Column("disposition", sa.String(length=1024), nullable=True),
        sa.Column("read_point", sa.String(length=1024), nullable=True),
        sa.Column("biz_location", sa.String(length=1024), nullable=True),
        sa.Column(
            "event",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("capture_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["epcis_capture_job.id"],
            name=op.f("fk_epcis_event_capture_id_epcis_capture_job"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_epcis_event_org_id_organization")
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_epcis_event")),
        sa.UniqueConstraint(
            "org_id",
            "event_hash",
            "error_declared",
            name=op.f("uq_epcis_event_org_id_event_hash_error_declared"),
        ),
    )
    with op.batch_alter_table("epcis_event", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_org_event_id", ["org_id", "event_id"], unique=False)
        batch_op.create_index(
            "ix_epcis_event_org_event_time", ["org_id", "event_time"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_event_org_record_time", ["org_id", "record_time", "id"], unique=False
        )

    op.create_table(
        "epcis_event_epc",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_row_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("epc", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_event_epc_event",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "event_row_id", "role", "epc", name=op.f("pk_epcis_event_epc")
        ),
    )
    with op.batch_alter_table("epcis_event_epc", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_epc_org_epc", ["org_id", "epc"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("epcis_event_epc", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_epc_org_epc")

    op.drop_table("epcis_event_epc")
    with op.batch_alter_table("epcis_event", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_org_record_time")
        batch_op.drop_index("ix_epcis_event_org_event_time")
        batch_op.drop_index("ix_epcis_event_org_event_id")

    op.drop_table("epcis_event")
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epcis_capture_job_org_id"))

    op.drop_table("epcis_capture_job")
