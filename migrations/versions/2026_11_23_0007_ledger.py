"""Tamper-evident ledger: entries, tiles of the Merkle tree, checkpoints, cosignatures and the
checkpoints this node witnessed.

Revision ID: 2026_11_23_0007
Revises: 2026_11_23_0005
Create Date: 2026-11-23 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import truyxuat.db

revision: str = "2026_11_23_0007"
down_revision: str | None = "2026_11_23_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SHA-256 of nothing: the root of the empty tree.
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_entry",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.String(length=256), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("leaf_index", name=op.f("uq_ledger_entry_leaf_index")),
    )
    op.create_index(op.f("ix_ledger_entry_payload"), "ledger_entry", ["payload"])
    op.create_table(
        "ledger_tile",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.Column("nodes", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_tile")),
    )
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    # The one row integrators lock, present from the start so they never race to create it.
    op.execute(
        sa.text(
            "INSERT INTO ledger_state (id, tree_size, root_hash, updated_at) "
            "VALUES (1, 0, :root, CURRENT_TIMESTAMP)"
        ).bindparams(sa.bindparam("root", EMPTY_ROOT, type_=sa.LargeBinary()))
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoint")),
    )
    op.create_index(op.f("ix_ledger_checkpoint_tree_size"), "ledger_checkpoint", ["tree_size"])
    op.create_table(
        "ledger_cosignature",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("checkpoint_id", BIG_ID, nullable=False),
        sa.Column("witness", sa.Text(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["ledger_checkpoint.id"],
            name=op.f("fk_ledger_cosignature_checkpoint_id_ledger_checkpoint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_cosignature")),
    )
    op.create_index(
        op.f("ix_ledger_cosignature_checkpoint_id"), "ledger_cosignature", ["checkpoint_id"]
    )
    op.create_table(
        "ledger_witnessed",
        sa.Column("origin", sa.String(length=256), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_ledger_witnessed")),
    )


def downgrade() -> None:
    op.drop_table("ledger_witnessed")
    op.drop_index(op.f("ix_ledger_cosignature_checkpoint_id"), table_name="ledger_cosignature")
    op.drop_table("ledger_cosignature")
    op.drop_index(op.f("ix_ledger_checkpoint_tree_size"), table_name="ledger_checkpoint")
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_state")
    op.drop_table("ledger_tile")
    op.drop_index(op.f("ix_ledger_entry_payload"), table_name="ledger_entry")
    op.drop_table("ledger_entry")
