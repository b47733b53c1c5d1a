"""Registry tables: who (organizations), where (facilities, growing areas, packing houses),
what (products) and under which certificates. Every tenant-owned row carries `org_id`."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, new_id, utcnow


def str_enum(cls: type[enum.Enum]) -> Enum:
    """A portable enum column stored as its string value (no native PostgreSQL enum type)."""
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class OrgKind(enum.StrEnum):
    """What sort of organization a tenant is."""

    enterprise = "enterprise"
    cooperative = "cooperative"
    household = "household"
    authority = "authority"
    platform = "platform"


class OrgStatus(enum.StrEnum):
    """Registration state of an organization with the authority."""

    pending = "pending"
    approved = "approved"
    suspended = "suspended"


class FacilityKind(enum.StrEnum):
    """The business role of a place (CBV-style location types)."""

    farm = "farm"
    packing_house = "packing_house"
    factory = "factory"
    warehouse = "warehouse"
    store = "store"
    port = "port"
    pond = "pond"
    office = "office"
    other = "other"


class CodeStatus(enum.StrEnum):
    """Approval state of a growing-area or packing-house code."""

    pending = "pending"
    approved = "approved"
    suspended = "suspended"
    revoked = "revoked"


class MoitGroup(enum.StrEnum):
    """The eight product groups for which MOIT makes traceability mandatory."""

    beer = "beer"
    alcohol = "alcohol"
    soft_drinks = "soft_drinks"
    processed_milk = "processed_milk"
    vegetable_oil = "vegetable_oil"
    flour_starch = "flour_starch"
    confectionery = "confectionery"
    food_packaging = "food_packaging"


class CertScheme(enum.StrEnum):
    """Certification schemes recognised by the registry."""

    vietgap = "vietgap"
    globalgap = "globalgap"
    organic = "organic"
    haccp = "haccp"
    iso22000 = "iso22000"
    ocop = "ocop"
    asc = "asc"
    bap = "bap"
    halal = "halal"
    other = "other"


class CertScope(enum.StrEnum):
    """What a certificate covers."""

    organization = "organization"
    facility = "facility"
    growing_area = "growing_area"
    packing_house = "packing_house"
    product = "product"


class AdminUnit(Base):
    """A Vietnamese administrative unit: a province (tỉnh/thành phố) or a commune (xã/phường)."""

    __tablename__ = "admin_unit"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT"), index=True
    )


class Organization(Base):
    """A tenant: enterprise, cooperative, household, authority (province/ministry) or platform.

    An authority's jurisdiction is its province; an authority with no province is national.
    """

    __tablename__ = "organization"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    tax_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(12))
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    province_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT")
    )
    address: Mapped[str] = mapped_column(String(500), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[OrgStatus] = mapped_column(str_enum(OrgStatus), default=OrgStatus.pending)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Facility(Base):
    """A place an organization operates, identified by a GLN: farm, packing house, factory..."""

    __tablename__ = "facility"
    __table_args__ = (Index("ix_facility_org_id_name", "org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    kind: Mapped[FacilityKind] = mapped_column(str_enum(FacilityKind))
    name: Mapped[str] = mapped_column(String(300))
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    province_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT")
    )
    address: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GrowingArea(Base):
    """A growing-area code (mã số vùng trồng): a plot or group of plots growing one crop."""

    __tablename__ = "growing_area"
    __table_args__ = (Index("ix_growing_area_org_id_status", "org_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    crop: Mapped[str] = mapped_column(String(120))
    variety: Mapped[str] = mapped_column(String(120), default="")
    area_ha: Mapped[float] = mapped_column(Float)
    computed_area_ha: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]]
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    province_code: Mapped[str] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT")
    )
    export_markets: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[CodeStatus] = mapped_column(str_enum(CodeStatus), default=CodeStatus.pending)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GrowingAreaOwner(Base):
    """A grower (household or person) who owns or farms part of a growing area."""

    __tablename__ = "growing_area_owner"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    growing_area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("growing_area.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), default="")
    household_org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    area_ha: Mapped[float | None] = mapped_column(Float)


class PackingHouse(Base):
    """A packing-house code (mã số cơ sở đóng gói) granted for export of fresh produce."""

    __tablename__ = "packing_house"
    __table_args__ = (Index("ix_packing_house_org_id_status", "org_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    facility_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("facility.id", ondelete="SET NULL")
    )
    crops: Mapped[str] = mapped_column(String(300), default="")
    capacity_tonnes_per_day: Mapped[float | None] = mapped_column(Float)
    province_code: Mapped[str] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT"), index=True
    )
    commune_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT")
    )
    address: Mapped[str] = mapped_column(String(500), default="")
    export_markets: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[CodeStatus] = mapped_column(str_enum(CodeStatus), default=CodeStatus.pending)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StoredFile(Base):
    """An uploaded file (product image, certificate scan), stored by content hash."""

    __tablename__ = "stored_file"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    """A trade item identified by its GTIN, with multilingual names and descriptions."""

    __tablename__ = "product"
    __table_args__ = (Index("ix_product_org_id_category", "org_id", "category"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    names: Mapped[dict[str, Any]]
    descriptions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str] = mapped_column(String(120), default="")
    moit_group: Mapped[MoitGroup | None] = mapped_column(str_enum(MoitGroup))
    ocop_stars: Mapped[int | None]
    ocop_year: Mapped[int | None]
    net_content: Mapped[str] = mapped_column(String(64), default="")
    origin_province_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_unit.code", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    # The storage temperature range in °C the cold chain must keep (early warning on excursions).
    temperature_min: Mapped[float | None] = mapped_column(Float)
    temperature_max: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProductImage(Base):
    """An image of a product, in display order."""

    __tablename__ = "product_image"
    __table_args__ = (UniqueConstraint("product_id", "file_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(default=0)
    alt: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Certification(Base):
    """A certificate (VietGAP, GlobalGAP, organic, HACCP, ISO 22000, OCOP...) and its scope."""

    __tablename__ = "certification"
    __table_args__ = (
        UniqueConstraint("scheme", "issuer", "number"),
        Index("ix_certification_scope", "scope_type", "scope_id"),
        Index("ix_certification_org_id_valid_to", "org_id", "valid_to"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    scheme: Mapped[CertScheme] = mapped_column(str_enum(CertScheme))
    scheme_name: Mapped[str] = mapped_column(String(120), default="")
    issuer: Mapped[str] = mapped_column(String(300))
    number: Mapped[str] = mapped_column(String(120))
    scope_type: Mapped[CertScope] = mapped_column(str_enum(CertScope))
    scope_id: Mapped[uuid.UUID]
    valid_from: Mapped[date]
    valid_to: Mapped[date]
    document_file_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None]
    # Set while an inspection's violation suspends the certificate (until its remedy is verified).
    suspended_at: Mapped[datetime | None]
    suspension_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
