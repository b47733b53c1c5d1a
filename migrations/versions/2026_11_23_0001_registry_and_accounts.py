"""Accounts, tenants, audit log and the registry; seeds the 34 provinces (2025 reform).

Revision ID: 2026_11_23_0001
Revises:
Create Date: 2026-11-23 10:36:50.990435
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import truyxuat.db

revision: str = "2026_11_23_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The 34 provinces and centrally-run cities after the 2025 merger (Resolution 202/2025/QH15),
# keeping the statistical code of the province whose name survived.
PROVINCES = [
    ("01", "Thành phố Hà Nội"),
    ("04", "Tỉnh Cao Bằng"),
    ("08", "Tỉnh Tuyên Quang"),
    ("11", "Tỉnh Điện Biên"),
    ("12", "Tỉnh Lai Châu"),
    ("14", "Tỉnh Sơn La"),
    ("15", "Tỉnh Lào Cai"),
    ("19", "Tỉnh Thái Nguyên"),
    ("20", "Tỉnh Lạng Sơn"),
    ("22", "Tỉnh Quảng Ninh"),
    ("24", "Tỉnh Bắc Ninh"),
    ("25", "Tỉnh Phú Thọ"),
    ("31", "Thành phố Hải Phòng"),
    ("33", "Tỉnh Hưng Yên"),
    ("37", "Tỉnh Ninh Bình"),
    ("38", "Tỉnh Thanh Hóa"),
    ("40", "Tỉnh Nghệ An"),
    ("42", "Tỉnh Hà Tĩnh"),
    ("44", "Tỉnh Quảng Trị"),
    ("46", "Thành phố Huế"),
    ("48", "Thành phố Đà Nẵng"),
    ("51", "Tỉnh Quảng Ngãi"),
    ("52", "Tỉnh Gia Lai"),
    ("56", "Tỉnh Khánh Hòa"),
    ("66", "Tỉnh Đắk Lắk"),
    ("68", "Tỉnh Lâm Đồng"),
    ("75", "Tỉnh Đồng Nai"),
    ("79", "Thành phố Hồ Chí Minh"),
    ("80", "Tỉnh Tây Ninh"),
    ("82", "Tỉnh Đồng Tháp"),
    ("86", "Tỉnh Vĩnh Long"),
    ("91", "Tỉnh An Giang"),
    ("92", "Thành phố Cần Thơ"),
    ("96", "Tỉnh Cà Mau"),
]


def _make_audit_log_append_only() -> None:
    """Refuses UPDATE and DELETE on the audit log at the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def _drop_audit_log_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    op.create_table(
        "admin_unit",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["admin_unit.code"],
            name=op.f("fk_admin_unit_parent_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_admin_unit")),
    )
    with op.batch_alter_table("admin_unit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_admin_unit_parent_code"), ["parent_code"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_api_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_org_id_at", ["org_id", "at"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "enterprise",
                "cooperative",
                "household",
                "authority",
                "platform",
                name="orgkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("tax_code", sa.String(length=20), nullable=True),
        sa.Column("gs1_company_prefix", sa.String(length=12), nullable=True),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "approved", "suspended", name="orgstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["admin_unit.code"],
            name=op.f("fk_organization_commune_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["admin_unit.code"],
            name=op.f("fk_organization_province_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("code", name=op.f("uq_organization_code")),
        sa.UniqueConstraint("gln", name=op.f("uq_organization_gln")),
        sa.UniqueConstraint("tax_code", name=op.f("uq_organization_tax_code")),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organization_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "platform_admin",
                "authority",
                "inspector",
                "org_admin",
                "org_staff",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_api_key_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_api_key_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_org_id"), ["org_id"], unique=False)

    op.create_table(
        "facility",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "farm",
                "packing_house",
                "factory",
                "warehouse",
                "store",
                "port",
                "pond",
                "office",
                "other",
                name="facilitykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["admin_unit.code"],
            name=op.f("fk_facility_commune_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_facility_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["admin_unit.code"],
            name=op.f("fk_facility_province_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility")),
        sa.UniqueConstraint("gln", name=op.f("uq_facility_gln")),
    )
    with op.batch_alter_table("facility", schema=None) as batch_op:
        batch_op.create_index("ix_facility_org_id_name", ["org_id", "name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_facility_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "growing_area",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("crop", sa.String(length=120), nullable=False),
        sa.Column("variety", sa.String(length=120), nullable=False),
        sa.Column("area_ha", sa.Float(), nullable=False),
        sa.Column("computed_area_ha", sa.Float(), nullable=False),
        sa.Column(
            "geometry",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("export_markets", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "suspended",
                "revoked",
                name="codestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["admin_unit.code"],
            name=op.f("fk_growing_area_commune_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_growing_area_decided_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_growing_area_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["admin_unit.code"],
            name=op.f("fk_growing_area_province_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growing_area")),
        sa.UniqueConstraint("code", name=op.f("uq_growing_area_code")),
    )
    with op.batch_alter_table("growing_area", schema=None) as batch_op:
        batch_op.create_index("ix_growing_area_org_id_status", ["org_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_growing_area_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "membership",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "platform_admin",
                "authority",
                "inspector",
                "org_admin",
                "org_staff",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_membership_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_membership_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint(
            "user_id", "org_id", "role", name=op.f("uq_membership_user_id_org_id_role")
        ),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_user_id"), ["user_id"], unique=False)

    op.create_table(
        "product",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column(
            "names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "descriptions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=120), nullable=False),
        sa.Column(
            "moit_group",
            sa.Enum(
                "beer",
                "alcohol",
                "soft_drinks",
                "processed_milk",
                "vegetable_oil",
                "flour_starch",
                "confectionery",
                "food_packaging",
                name="moitgroup",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("ocop_stars", sa.Integer(), nullable=True),
        sa.Column("ocop_year", sa.Integer(), nullable=True),
        sa.Column("net_content", sa.String(length=64), nullable=False),
        sa.Column("origin_province_code", sa.String(length=16), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_product_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["origin_province_code"],
            ["admin_unit.code"],
            name=op.f("fk_product_origin_province_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("gtin", name=op.f("uq_product_gtin")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index("ix_product_org_id_category", ["org_id", "category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_product_origin_province_code"), ["origin_province_code"], unique=False
        )

    op.create_table(
        "stored_file",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_stored_file_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
    )
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stored_file_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stored_file_sha256"), ["sha256"], unique=False)

    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("active_org_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["active_org_id"],
            ["organization.id"],
            name=op.f("fk_web_session_active_org_id_organization"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_web_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_session")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "certification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum(
                "vietgap",
                "globalgap",
                "organic",
                "haccp",
                "iso22000",
                "ocop",
                "asc",
                "bap",
                "halal",
                "other",
                name="certscheme",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("scheme_name", sa.String(length=120), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column(
            "scope_type",
            sa.Enum(
                "organization",
                "facility",
                "growing_area",
                "packing_house",
                "product",
                name="certscope",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("document_file_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_file_id"],
            ["stored_file.id"],
            name=op.f("fk_certification_document_file_id_stored_file"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_certification_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification")),
        sa.UniqueConstraint(
            "scheme", "issuer", "number", name=op.f("uq_certification_scheme_issuer_number")
        ),
    )
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certification_org_id_valid_to", ["org_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_certification_scope", ["scope_type", "scope_id"], unique=False)

    op.create_table(
        "growing_area_owner",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("growing_area_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("household_org_id", sa.Uuid(), nullable=True),
        sa.Column("area_ha", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["growing_area_id"],
            ["growing_area.id"],
            name=op.f("fk_growing_area_owner_growing_area_id_growing_area"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_org_id"],
            ["organization.id"],
            name=op.f("fk_growing_area_owner_household_org_id_organization"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_growing_area_owner_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growing_area_owner")),
    )
    with op.batch_alter_table("growing_area_owner", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_growing_area_owner_growing_area_id"), ["growing_area_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_growing_area_owner_org_id"), ["org_id"], unique=False)

    op.create_table(
        "packing_house",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("crops", sa.String(length=300), nullable=False),
        sa.Column("capacity_tonnes_per_day", sa.Float(), nullable=True),
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("export_markets", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "suspended",
                "revoked",
                name="codestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", truyxuat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", truyxuat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["admin_unit.code"],
            name=op.f("fk_packing_house_commune_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_packing_house_decided_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facility.id"],
            name=op.f("fk_packing_house_facility_id_facility"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_packing_house_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["admin_unit.code"],
            name=op.f("fk_packing_house_province_code_admin_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packing_house")),
        sa.UniqueConstraint("code", name=op.f("uq_packing_house_code")),
    )
    with op.batch_alter_table("packing_house", schema=None) as batch_op:
        batch_op.create_index("ix_packing_house_org_id_status", ["org_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_packing_house_province_code"), ["province_code"], unique=False
        )

    op.create_table(
        "product_image",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "alt",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_file.id"],
            name=op.f("fk_product_image_file_id_stored_file"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_product_image_org_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_image_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_image")),
        sa.UniqueConstraint(
            "product_id", "file_id", name=op.f("uq_product_image_product_id_file_id")
        ),
    )
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_image_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_product_image_product_id"), ["product_id"], unique=False
        )

    admin_unit = sa.table(
        "admin_unit",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("level", sa.String),
        sa.column("parent_code", sa.String),
    )
    op.bulk_insert(
        admin_unit,
        [{"code": c, "name": n, "level": "province", "parent_code": None} for c, n in PROVINCES],
    )
    _make_audit_log_append_only()


def downgrade() -> None:
    _drop_audit_log_triggers()
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_image_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_image_org_id"))

    op.drop_table("product_image")
    with op.batch_alter_table("packing_house", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packing_house_province_code"))
        batch_op.drop_index("ix_packing_house_org_id_status")

    op.drop_table("packing_house")
    with op.batch_alter_table("growing_area_owner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_growing_area_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_growing_area_owner_growing_area_id"))

    op.drop_table("growing_area_owner")
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.drop_index("ix_certification_scope")
        batch_op.drop_index("ix_certification_org_id_valid_to")

    op.drop_table("certification")
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_session_user_id"))

    op.drop_table("web_session")
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_stored_file_org_id"))

    op.drop_table("stored_file")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_origin_province_code"))
        batch_op.drop_index("ix_product_org_id_category")

    op.drop_table("product")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_membership_org_id"))

    op.drop_table("membership")
    with op.batch_alter_table("growing_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_growing_area_province_code"))
        batch_op.drop_index("ix_growing_area_org_id_status")

    op.drop_table("growing_area")
    with op.batch_alter_table("facility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facility_province_code"))
        batch_op.drop_index("ix_facility_org_id_name")

    op.drop_table("facility")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_org_id"))

    op.drop_table("api_key")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_province_code"))

    op.drop_table("organization")
    op.drop_table("user_account")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_org_id_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("admin_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_unit_parent_code"))

    op.drop_table("admin_unit")
