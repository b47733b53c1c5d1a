"""Plain factory functions for tests: each makes one thing in the real database."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role, User
from truyxuat.gs1 import make_gln, make_gtin13
from truyxuat.registry.models import (
    Certification,
    CertScheme,
    CertScope,
    Facility,
    FacilityKind,
    Organization,
    OrgKind,
    OrgStatus,
    Product,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_org(
    db: Session,
    *,
    kind: OrgKind = OrgKind.enterprise,
    province_code: str | None = "24",
    prefix: str | None = None,
    **fields: Any,
) -> Organization:
    """Creates an approved organization with a unique code, GS1 prefix and GLN."""
    n = next(_seq)
    prefix = prefix or f"893{n:06d}"[:9]
    org = Organization(
        code=fields.pop("code", f"ORG{n:05d}"),
        kind=kind,
        name=fields.pop("name", f"Công ty thử nghiệm {n}"),
        province_code=province_code,
        gs1_company_prefix=prefix if kind is not OrgKind.authority else None,
        gln=make_gln(prefix, 1) if kind is not OrgKind.authority else None,
        status=fields.pop("status", OrgStatus.approved),
        **fields,
    )
    db.add(org)
    db.flush()
    return org


def make_authority(db: Session, *, province_code: str | None = "24") -> Organization:
    """Creates a provincial authority (None: a national one)."""
    return make_org(db, kind=OrgKind.authority, province_code=province_code)


def make_user(db: Session, org: Organization, role: Role, *, email: str | None = None) -> User:
    """Creates a user holding `role` in `org`."""
    n = next(_seq)
    user = auth_service.create_user(
        db, email=email or f"user{n}@example.vn", full_name=f"Người dùng {n}", password=PASSWORD
    )
    auth_service.add_membership(db, user=user, org=org, role=role)
    return user


def api_headers(db: Session, org: Organization, role: Role = Role.org_admin) -> dict[str, str]:
    """Creates an API key and returns the headers that present it."""
    _, plain = auth_service.create_api_key(db, org=org, role=role)
    db.flush()
    return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}


def gtin_for(org: Organization, item: int) -> str:
    """A valid GTIN-13 under the organization's prefix."""
    assert org.gs1_company_prefix
    return make_gtin13(org.gs1_company_prefix, item)


def make_facility(
    db: Session, org: Organization, *, kind: FacilityKind = FacilityKind.factory, **fields: Any
) -> Facility:
    """Creates a facility of `org` in the organization's province."""
    n = next(_seq)
    facility = Facility(
        org_id=org.id,
        kind=kind,
        name=fields.pop("name", f"Cơ sở {n}"),
        province_code=fields.pop("province_code", org.province_code),
        **fields,
    )
    db.add(facility)
    db.flush()
    return facility


def make_product(db: Session, org: Organization, **fields: Any) -> Product:
    """Creates a product of `org` with a valid GTIN under its prefix and a Vietnamese name."""
    n = next(_seq)
    product = Product(
        org_id=org.id,
        gtin=fields.pop("gtin", None) or gtin_for(org, n % 1000).zfill(14),
        names=fields.pop("names", {"vi": f"Sản phẩm {n}", "en": f"Product {n}"}),
        **fields,
    )
    db.add(product)
    db.flush()
    return product


def make_certification(
    db: Session,
    org: Organization,
    *,
    scope_type: CertScope = CertScope.organization,
    scope_id: uuid.UUID | None = None,
    scheme: CertScheme = CertScheme.vietgap,
    **fields: Any,
) -> Certification:
    """Creates a certificate of `org`, valid from a month ago for a year unless told otherwise."""
    n = next(_seq)
    today = date.today()
    cert = Certification(
        org_id=org.id,
        scheme=scheme,
        issuer=fields.pop("issuer", "Trung tâm Chứng nhận phù hợp"),
        number=fields.pop("number", f"VG-{n:06d}"),
        scope_type=scope_type,
        scope_id=scope_id or org.id,
        valid_from=fields.pop("valid_from", today - timedelta(days=30)),
        valid_to=fields.pop("valid_to", today + timedelta(days=335)),
        **fields,
    )
    db.add(cert)
    db.flush()
    return cert


# A lychee orchard in Lục Ngạn (Bắc Ninh province, code 24), about 5.17 ha (geodesic).
LUC_NGAN_POLYGON: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [106.5480, 21.3790],
            [106.5499, 21.3787],
            [106.5507, 21.3800],
            [106.5494, 21.3810],
            [106.5479, 21.3805],
            [106.5480, 21.3790],
        ]
    ],
}
LUC_NGAN_HA = 5.17
# A shrimp farm plot in Cà Mau (province 96), small enough to be given as a point.
CA_MAU_POINT: dict[str, Any] = {"type": "Point", "coordinates": [105.1524, 9.1768]}


def make_growing_area(
    db: Session,
    org: Organization,
    *,
    geometry: dict[str, Any] | None = None,
    area_ha: float | None = None,
    **fields: Any,
) -> Any:
    """Creates a pending growing area (default: the Lục Ngạn orchard in Bắc Ninh)."""
    from truyxuat.registry.geometry import check_geometry
    from truyxuat.registry.models import GrowingArea

    geometry = geometry or LUC_NGAN_POLYGON
    area_ha = area_ha or (LUC_NGAN_HA if geometry is LUC_NGAN_POLYGON else 2.0)
    checked = check_geometry(geometry, declared_area_ha=area_ha)
    area = GrowingArea(
        org_id=org.id,
        code=fields.pop("code", f"VN-GA-{next(_seq):05d}"),
        crop=fields.pop("crop", "Vải thiều"),
        area_ha=area_ha,
        computed_area_ha=checked.area_ha,
        geometry=checked.geojson,
        centroid_lon=checked.centroid[0],
        centroid_lat=checked.centroid[1],
        province_code=fields.pop("province_code", "24"),
        **fields,
    )
    db.add(area)
    db.flush()
    return area


def make_packing_house(db: Session, org: Organization, **fields: Any) -> Any:
    """Creates a pending packing-house code (default: in Bắc Ninh, packing lychee)."""
    from truyxuat.registry.models import PackingHouse

    house = PackingHouse(
        org_id=org.id,
        code=fields.pop("code", f"VN-PH-{next(_seq):05d}"),
        name=fields.pop("name", "Cơ sở đóng gói vải thiều"),
        crops=fields.pop("crops", "Vải thiều"),
        province_code=fields.pop("province_code", "24"),
        **fields,
    )
    db.add(house)
    db.flush()
    return house
