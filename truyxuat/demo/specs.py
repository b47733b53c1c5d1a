"""The shapes the demo data is written in: plain frozen records, one per thing to create.

Data modules (`lychee`, `ocop`, `shrimp`, `milk`, `authorities`) only describe; the loader
turns each record into rows through the registry services. Records refer to each other by
their natural keys (organization code, facility key, growing-area code, product key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from truyxuat.auth.models import Role
from truyxuat.registry.models import (
    CertScheme,
    CertScope,
    FacilityKind,
    MoitGroup,
    OrgKind,
    OrgStatus,
)

Ring = tuple[tuple[float, float], ...]
"""A closed polygon ring of (longitude, latitude) pairs, WGS-84, as GeoJSON orders them."""


@dataclass(frozen=True)
class Commune:
    """A commune or ward (xã/phường) after the 2025 reform, with its 5-digit statistics code."""

    code: str
    name: str
    province_code: str


@dataclass(frozen=True)
class OrgSpec:
    """An organization; its GLN is built from the GS1 prefix and `gln_ref` (check digit added)."""

    code: str
    kind: OrgKind
    name: str
    province_code: str | None
    name_en: str | None = None
    commune_code: str | None = None
    tax_code: str | None = None
    gs1_prefix: str | None = None
    gln_ref: int | None = None
    address: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    status: OrgStatus = OrgStatus.approved


@dataclass(frozen=True)
class UserSpec:
    """A demo login: one role in one organization; `can` says in a line what it may do."""

    email: str
    full_name: str
    org_code: str
    role: Role
    can: str


@dataclass(frozen=True)
class FacilitySpec:
    """A place an organization operates; `gln_ref` is the location reference under its prefix."""

    key: str
    org_code: str
    kind: FacilityKind
    name: str
    province_code: str
    commune_code: str | None
    latitude: float
    longitude: float
    address: str = ""
    gln_ref: int | None = None


@dataclass(frozen=True)
class OwnerSpec:
    """A grower farming part of a growing area, optionally a registered household."""

    name: str
    area_ha: float
    household_code: str | None = None
    phone: str = ""


@dataclass(frozen=True)
class GrowingAreaSpec:
    """A growing-area code (mã số vùng trồng) with its plot polygon and declared area."""

    code: str
    org_code: str
    name: str
    crop: str
    variety: str
    area_ha: float
    ring: Ring
    province_code: str
    commune_code: str | None
    export_markets: tuple[str, ...] = ()
    owners: tuple[OwnerSpec, ...] = ()
    approved: bool = True


@dataclass(frozen=True)
class PackingHouseSpec:
    """A packing-house code (mã số cơ sở đóng gói) at one of the owner's facilities."""

    code: str
    org_code: str
    name: str
    facility_key: str | None
    crops: tuple[str, ...]
    capacity_tonnes_per_day: float | None
    province_code: str
    commune_code: str | None
    address: str = ""
    export_markets: tuple[str, ...] = ()
    approved: bool = True


@dataclass(frozen=True)
class ProductSpec:
    """A trade item; its GTIN-13 is built from the owner's GS1 prefix and `item_ref`."""

    key: str
    org_code: str
    item_ref: int
    names: dict[str, str]
    descriptions: dict[str, str] = field(default_factory=dict)
    category: str = ""
    moit_group: MoitGroup | None = None
    ocop_stars: int | None = None
    ocop_year: int | None = None
    net_content: str = ""
    origin_province_code: str | None = None
    # Storage range (°C) the cold-chain alert checks sensor readings against.
    temperature_min: float | None = None
    temperature_max: float | None = None


@dataclass(frozen=True)
class CertSpec:
    """A certificate; `scope_key` names the covered thing by its natural key.

    Dates are relative to the day the demo is loaded so certificates never expire in the demo.
    """

    org_code: str
    scheme: CertScheme
    issuer: str
    number: str
    scope_type: CertScope
    scope_key: str
    issued_days_ago: int
    valid_days: int
    scheme_name: str = ""


@dataclass(frozen=True)
class Chain:
    """One example supply chain (or the authorities): everything it needs, in load order."""

    name: str
    orgs: tuple[OrgSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    facilities: tuple[FacilitySpec, ...] = ()
    growing_areas: tuple[GrowingAreaSpec, ...] = ()
    packing_houses: tuple[PackingHouseSpec, ...] = ()
    products: tuple[ProductSpec, ...] = ()
    certifications: tuple[CertSpec, ...] = ()
