"""Stamps: print runs, stamps (GTIN + serial unique at the database), the PIN-guess counter.

Revision ID: 2026_11_23_0002
Revises: 2026_11_23_0001
Create Date: 2026-11-23 11:41:21.367468
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import truyxuat.db

revision: str = "2026_11_23_0002"
down_revision: str | None = "2026_11_23_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stamp_pin_attempt",
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("window_start", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", "window_start", name=op.f("pk_stamp_pin_attempt")),
    )
    op.create_table(
        "stamp_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("qr", "anticounterfeit", name="stampkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "ordered",
                "generated",
                "printed",
                "activated",
                "voided",
                name="runstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("activated_count", sa.Integer(), nullable=False),
        sa.Column("voided_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_stamp_run_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_stamp_run_product_id_product"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamp_run")),
    )
    with op.batch_alter_table("stamp_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stamp_run_org_id_created_at", ["org_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stamp_run_product_id"), ["product_id"], unique=False)

    # Keyed (org_id, id) so the table can be partitioned by organization later; the unique
    # (gtin, serial) stays valid then because a GTIN belongs to one organization. org_id is the
    # run's, copied: no foreign key of its own (run_id has one), which keeps bulk COPY fast.
    op.create_table(
        "stamp",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "generated", "activated", "voided", name="stampstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("pin_salt", sa.String(length=32), nullable=True),
        sa.Column("pin_hash", sa.String(length=64), nullable=True),
        sa.Column("pin_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["stamp_run.id"], name=op.f("fk_stamp_run_id_stamp_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_stamp")),
        sa.UniqueConstraint("gtin", "serial", name=op.f("uq_stamp_gtin_serial")),
        sa.UniqueConstraint("run_id", "seq", name=op.f("uq_stamp_run_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("stamp")
    with op.batch_alter_table("stamp_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stamp_run_product_id"))
        batch_op.drop_index("ix_stamp_run_org_id_created_at")

    op.drop_table("stamp_run")
    op.drop_table("stamp_pin_attempt")
