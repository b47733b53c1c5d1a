"""EPCIS named queries and their webhook subscriptions (a database outbox with a cursor).

Revision ID: 2026_11_23_0005
Revises: 2026_11_23_0004
Create Date: 2026-11-23 12:05:04.707358
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import truyxuat.db

revision: str = "2026_11_23_0005"
down_revision: str | None = "2026_11_23_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "epcis_named_query",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "query",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_epcis_named_query_org_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_named_query")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_epcis_named_query_org_id_name")),
    )
    op.create_table(
        "epcis_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("query_id", sa.Uuid(), nullable=False),
        sa.Column("dest", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=512), nullable=False),
        sa.Column("report_if_empty", sa.Boolean(), nullable=False),
        sa.Column("epc_format", sa.String(length=32), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cursor_record_time", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cursor_row_id", sa.Uuid(), nullable=False),
        sa.Column("next_attempt_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_notified_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organization.id"], name=op.f("fk_epcis_subscription_org_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["epcis_named_query.id"],
            name=op.f("fk_epcis_subscription_query_id_epcis_named_query"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_subscription")),
    )
    with op.batch_alter_table("epcis_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_epcis_subscription_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_epcis_subscription_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_epcis_subscription_query_id"), ["query_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("epcis_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epcis_subscription_query_id"))
        batch_op.drop_index(batch_op.f("ix_epcis_subscription_org_id"))
        batch_op.drop_index(batch_op.f("ix_epcis_subscription_next_attempt_at"))

    op.drop_table("epcis_subscription")
    op.drop_table("epcis_named_query")
