"""Federation: the sender's acknowledged positions and sent records, the receiver's view of each
downstream node (verified compact range, leaves, batches, record origins).

Revision ID: 2026_11_23_0011
Revises: 2026_11_23_0005
Create Date: 2026-11-23 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import truyxuat.db

revision: str = "2026_11_23_0011"
down_revision: str | None = "2026_11_23_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, truyxuat.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_cursor",
        sa.Column("upstream", sa.String(length=300), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        _time("acknowledged_at", True),
        _time("attempted_at", True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("upstream", name=op.f("pk_sync_cursor")),
    )
    op.create_table(
        "sync_sent",
        sa.Column("upstream", sa.String(length=300), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("upstream", "entity", "entity_id", name=op.f("pk_sync_sent")),
    )
    op.create_table(
        "sync_node",
        sa.Column("origin", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_sync_node")),
    )
    op.create_table(
        "sync_leaf",
        sa.Column("origin", sa.String(length=256), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.String(length=256), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("origin", "leaf_index", name=op.f("pk_sync_leaf")),
    )
    op.create_index(op.f("ix_sync_leaf_payload"), "sync_leaf", ["payload"], unique=False)
    op.create_table(
        "sync_batch",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("origin", sa.String(length=256), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("first_index", sa.BigInteger(), nullable=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("sent_by", sa.String(length=200), nullable=False),
        _time("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_batch")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sync_batch_idempotency_key")),
    )
    op.create_index(op.f("ix_sync_batch_origin"), "sync_batch", ["origin"], unique=False)
    op.create_table(
        "sync_record",
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=256), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        _time("received_at"),
        sa.PrimaryKeyConstraint("entity", "entity_id", name=op.f("pk_sync_record")),
    )
    op.create_index(op.f("ix_sync_record_origin"), "sync_record", ["origin"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_record_origin"), table_name="sync_record")
    op.drop_table("sync_record")
    op.drop_index(op.f("ix_sync_batch_origin"), table_name="sync_batch")
    op.drop_table("sync_batch")
    op.drop_index(op.f("ix_sync_leaf_payload"), table_name="sync_leaf")
    op.drop_table("sync_leaf")
    op.drop_table("sync_node")
    op.drop_table("sync_sent")
    op.drop_table("sync_cursor")
