"""Joins the branches built in parallel from 0005: EPCIS sharing and sensors (0006), ledger
(0007), resolver (0008), recall (0009), sign-in failures (0010) and federation (0011).

Revision ID: 2026_11_23_0012
Revises: 2026_11_23_0006, 2026_11_23_0007, 2026_11_23_0008, 2026_11_23_0009,
    2026_11_23_0010, 2026_11_23_0011
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

revision: str = "2026_11_23_0012"
down_revision: str | Sequence[str] | None = (
    "2026_11_23_0006",
    "2026_11_23_0007",
    "2026_11_23_0008",
    "2026_11_23_0009",
    "2026_11_23_0010",
    "2026_11_23_0011",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
