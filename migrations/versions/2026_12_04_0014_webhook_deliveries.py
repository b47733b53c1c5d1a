"""The webhook delivery log (every POST of subscriptions, recall and alert notifications).

Revision ID: 2026_12_04_0014
Revises: 2026_12_04_0013
Create Date: 2026-12-04 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import truyxuat.db

revision: str = "2026_12_04_0014"
down_revision: str | None = "2026_12_04_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("replay_of", sa.Uuid(), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_webhook_delivery_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["replay_of"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_delivery_replay_of_webhook_delivery"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(
        "ix_webhook_delivery_org_id_created_at", "webhook_delivery", ["org_id", "created_at"]
    )
    op.create_index("ix_webhook_delivery_source", "webhook_delivery", ["source", "source_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_source", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_org_id_created_at", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
