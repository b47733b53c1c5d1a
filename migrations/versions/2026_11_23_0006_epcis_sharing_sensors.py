"""EPCIS sharing with trading partners (the GLNs an event names as source or destination),
sensor readings flattened from sensorElementList, user extension fields for EQ_/EXISTS_, and
the capture error behaviour of each capture job.

Revision ID: 2026_11_23_0006
Revises: 2026_11_23_0005
Create Date: 2026-11-23 13:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import truyxuat.db

revision: str = "2026_11_23_0006"
down_revision: str | None = "2026_11_23_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "error_behaviour", sa.String(length=16), nullable=False, server_default="rollback"
            )
        )
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.alter_column("error_behaviour", server_default=None)
    op.create_table(
        "epcis_event_party",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_row_id", sa.Uuid(), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_event_party_event",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "event_row_id", "gln", name=op.f("pk_epcis_event_party")),
    )
    with op.batch_alter_table("epcis_event_party", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_party_gln", ["gln"], unique=False)

    op.create_table(
        "epcis_sensor_reading",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_row_id", sa.Uuid(), nullable=False),
        sa.Column("element_index", sa.Integer(), nullable=False),
        sa.Column("report_index", sa.Integer(), nullable=False),
        sa.Column("time", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("mean_value", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=8), nullable=True),
        sa.Column("string_value", sa.Text(), nullable=True),
        sa.Column("boolean_value", sa.Boolean(), nullable=True),
        sa.Column("component", sa.Text(), nullable=True),
        sa.Column("device_id", sa.Text(), nullable=True),
        sa.Column("raw_data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_sensor_reading_event",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id",
            "event_row_id",
            "element_index",
            "report_index",
            name=op.f("pk_epcis_sensor_reading"),
        ),
    )
    with op.batch_alter_table("epcis_sensor_reading", schema=None) as batch_op:
        batch_op.create_index(
            "ix_epcis_sensor_reading_org_type_time", ["org_id", "type", "time"], unique=False
        )

    op.create_table(
        "epcis_event_field",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_row_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("number", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "event_row_id"],
            ["epcis_event.org_id", "epcis_event.id"],
            name="fk_epcis_event_field_event",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "event_row_id", "seq", name=op.f("pk_epcis_event_field")),
    )
    with op.batch_alter_table("epcis_event_field", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_field_org_name", ["org_id", "name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.drop_column("error_behaviour")
    with op.batch_alter_table("epcis_event_field", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_field_org_name")
    op.drop_table("epcis_event_field")
    with op.batch_alter_table("epcis_sensor_reading", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_sensor_reading_org_type_time")
    op.drop_table("epcis_sensor_reading")
    with op.batch_alter_table("epcis_event_party", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_party_gln")
    op.drop_table("epcis_event_party")
