"""Joins the stamps (0002) and EPCIS events (0003) branches, built in parallel from 0001.

Revision ID: 2026_11_23_0004
Revises: 2026_11_23_0002, 2026_11_23_0003
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

revision: str = "2026_11_23_0004"
down_revision: str | Sequence[str] | None = ("2026_11_23_0002", "2026_11_23_0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
