"""The scan log's per-item index also holds the latitude: a passport counts an item's scans,
its first scan and its located scans from the index alone, however often the item is scanned.

Revision ID: 2026_12_04_0015
Revises: 2026_12_04_0014
Create Date: 2026-12-04 20:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2026_12_04_0015"
down_revision: str | None = "2026_12_04_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_resolver_scan_item", table_name="resolver_scan")
    op.create_index(
        "ix_resolver_scan_item", "resolver_scan", ["gtin", "serial", "scanned_at", "latitude"]
    )


def downgrade() -> None:
    op.drop_index("ix_resolver_scan_item", table_name="resolver_scan")
    op.create_index("ix_resolver_scan_item", "resolver_scan", ["gtin", "serial", "scanned_at"])
