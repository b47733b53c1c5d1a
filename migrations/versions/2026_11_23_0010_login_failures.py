"""Failed sign-in counters per account and per client, for lockout and rate limiting.

Revision ID: 2026_11_23_0010
Revises: 2026_11_23_0005
Create Date: 2026-11-23 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import truyxuat.db

revision: str = "2026_11_23_0010"
down_revision: str | None = "2026_11_23_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("window_start", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "window_start", name=op.f("pk_login_failure")),
    )


def downgrade() -> None:
    op.drop_table("login_failure")
