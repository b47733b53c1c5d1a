"""Resolver: scan log, first PIN verifications, reports of suspected fakes.

Revision ID: 2026_11_23_0008
Revises: 2026_11_23_0005
Create Date: 2026-11-23 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import truyxuat.db

revision: str = "2026_11_23_0008"
down_revision: str | None = "2026_11_23_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resolver_scan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("serial", sa.String(length=20), nullable=True),
        sa.Column("scanned_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver_scan")),
    )
    op.create_index("ix_resolver_scan_item", "resolver_scan", ["gtin", "serial", "scanned_at"])
    op.create_index("ix_resolver_scan_lot", "resolver_scan", ["gtin", "lot", "scanned_at"])
    op.create_table(
        "resolver_pin_verification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("first_verified_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_verified_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver_pin_verification")),
        sa.UniqueConstraint(
            "gtin", "serial", name=op.f("uq_resolver_pin_verification_gtin_serial")
        ),
    )
    op.create_table(
        "resolver_fake_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("serial", sa.String(length=20), nullable=True),
        sa.Column("reasons", sa.String(length=300), nullable=False),
        sa.Column("where_bought", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("scan_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_resolver_fake_report_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver_fake_report")),
    )
    op.create_index("ix_resolver_fake_report_org", "resolver_fake_report", ["org_id", "created_at"])
    op.create_index(
        "ix_resolver_fake_report_province", "resolver_fake_report", ["province_code", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_resolver_fake_report_province", table_name="resolver_fake_report")
    op.drop_index("ix_resolver_fake_report_org", table_name="resolver_fake_report")
    op.drop_table("resolver_fake_report")
    op.drop_table("resolver_pin_verification")
    op.drop_index("ix_resolver_scan_lot", table_name="resolver_scan")
    op.drop_index("ix_resolver_scan_item", table_name="resolver_scan")
    op.drop_table("resolver_scan")
