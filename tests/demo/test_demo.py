"""`truyxuat demo load`: the five example chains load through the services, once, on both stores."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Membership, Role, User
from truyxuat.auth.principal import Principal
from truyxuat.config import Settings
from truyxuat.demo import DEMO_LOGINS, DEMO_PASSWORD, PLATFORM_CODE, load
from truyxuat.errors import Conflict
from truyxuat.gs1 import gtin_matches_prefix, normalize_gtin
from truyxuat.registry.geometry import check_geometry
from truyxuat.registry.models import (
    AdminUnit,
    Certification,
    CodeStatus,
    Facility,
    FacilityKind,
    GrowingArea,
    MoitGroup,
    Organization,
    OrgKind,
    OrgStatus,
    PackingHouse,
    Product,
)
from truyxuat.registry.schemas.certifications import vietnam_today
from truyxuat.registry.service import approvals

README = Path(__file__).resolve().parents[2] / "README.md"
EMAIL = re.compile(r"[\w.+-]+@truyxuat\.example")

# Rough bounding boxes (lon_min, lat_min, lon_max, lat_max) of the provinces after the 2025
# merger: enough to catch a polygon put in the wrong province or with lat/lon swapped.
PROVINCE_BOXES = {
    "01": (105.25, 20.55, 106.05, 21.40),  # Hà Nội
    "22": (106.40, 20.65, 108.10, 21.70),  # Quảng Ninh
    "31": (105.90, 20.45, 107.15, 21.25),  # Hải Phòng, with the former Hải Dương
    "24": (105.85, 20.95, 107.05, 21.65),  # Bắc Ninh, with the former Bắc Giang
    "33": (105.85, 20.30, 106.70, 21.05),  # Hưng Yên, with the former Thái Bình
    "79": (106.30, 10.00, 107.60, 11.55),  # Hồ Chí Minh City
    "96": (104.70, 8.50, 105.90, 9.65),  # Cà Mau, with the former Bạc Liêu
}


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: the demo creates two dozen logins per test."""
    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


@pytest.fixture
def demo(db: Session, settings: Settings) -> str:
    """The demo data, loaded into the test's rolled-back transaction."""
    return load(db, if_empty=True, settings=settings)


def _count(db: Session, model: type, *where: object) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def _in_province(province: str, lon: float, lat: float) -> bool:
    lon_min, lat_min, lon_max, lat_max = PROVINCE_BOXES[province]
    return lon_min <= lon <= lon_max and lat_min <= lat <= lat_max


def test_demo_load_writes_every_chain_and_reports_it(db: Session, demo: str) -> None:
    assert demo.startswith("demo data loaded:")
    kinds = dict(
        db.execute(select(Organization.kind, func.count()).group_by(Organization.kind)).all()
    )
    assert kinds[OrgKind.platform] == 1
    assert kinds[OrgKind.authority] == 4
    assert kinds[OrgKind.cooperative] >= 4
    assert kinds[OrgKind.household] >= 5
    assert kinds[OrgKind.enterprise] >= 6
    provinces = set(
        db.scalars(select(Organization.province_code).where(Organization.kind == OrgKind.authority))
    )
    assert provinces == {"24", "22", "96", None}
    ponds = _count(db, Facility, Facility.kind == FacilityKind.pond, Facility.province_code == "96")
    assert ponds >= 3
    assert _count(db, Product, Product.moit_group == MoitGroup.processed_milk) >= 1
    assert _count(db, Product, Product.moit_group == MoitGroup.beer) >= 2
    assert _count(db, Product, Product.ocop_stars == 4, Product.origin_province_code == "22") >= 1


def test_second_load_with_if_empty_changes_nothing(
    db: Session, demo: str, settings: Settings
) -> None:
    models = (Organization, User, Facility, GrowingArea, Product, AdminUnit)
    before = [_count(db, m) for m in models]
    again = load(db, if_empty=True, settings=settings)
    after = [_count(db, m) for m in models]
    assert "already loaded" in again
    assert after == before


def test_second_load_without_if_empty_is_refused(
    db: Session, demo: str, settings: Settings
) -> None:
    with pytest.raises(Conflict):
        load(db, if_empty=False, settings=settings)


def test_load_adds_communes_inside_their_provinces(db: Session, demo: str) -> None:
    communes = db.scalars(select(AdminUnit).where(AdminUnit.level == "commune")).all()
    by_code = {c.code: c for c in communes}
    assert by_code["07552"].name == "Xã Kiên Lao" and by_code["07552"].parent_code == "24"
    assert by_code["31972"].parent_code == "96"  # Gành Hào, formerly Bạc Liêu


def test_bac_ninh_has_lychee_growing_areas_and_one_awaits_approval(db: Session, demo: str) -> None:
    areas = db.scalars(select(GrowingArea).where(GrowingArea.province_code == "24")).all()
    assert len(areas) >= 3
    assert all(a.crop == "Vải thiều" and a.code.startswith("VN-BNOR-") for a in areas)
    assert sum(a.status is CodeStatus.approved for a in areas) >= 3
    assert [a.code for a in areas if a.status is CodeStatus.pending] == ["VN-BNOR-0104"]
    approved = [a for a in areas if a.status is CodeStatus.approved]
    assert all(a.decided_by is not None for a in approved)


def test_growing_area_polygons_match_declared_areas_and_lie_in_their_province(
    db: Session, demo: str
) -> None:
    areas = db.scalars(select(GrowingArea)).all()
    assert areas
    for area in areas:
        checked = check_geometry(area.geometry, declared_area_ha=None)
        assert abs(checked.area_ha - area.area_ha) / area.area_ha <= 0.10, area.code
        assert abs(area.computed_area_ha - checked.area_ha) < 0.01, area.code
        assert area.geometry["type"] == "Polygon"
        assert all(
            _in_province(area.province_code, lon, lat)
            for lon, lat in area.geometry["coordinates"][0]
        ), area.code


def test_facilities_lie_in_their_province(db: Session, demo: str) -> None:
    for facility in db.scalars(select(Facility)):
        assert facility.province_code is not None
        assert facility.longitude is not None and facility.latitude is not None
        assert _in_province(facility.province_code, facility.longitude, facility.latitude), (
            facility.name
        )


def test_every_product_has_a_valid_gtin_under_its_owner_prefix_in_three_languages(
    db: Session, demo: str
) -> None:
    rows = db.execute(select(Product, Organization).join(Organization)).all()
    assert len(rows) >= 10
    for product, org in rows:
        assert normalize_gtin(product.gtin) == product.gtin
        assert product.gtin[1:4] == "893"
        assert org.gs1_company_prefix and gtin_matches_prefix(product.gtin, org.gs1_company_prefix)
        assert {"vi", "en", "zh"} <= set(product.names), product.gtin


def test_glns_carry_the_vietnam_prefix(db: Session, demo: str) -> None:
    glns = [*db.scalars(select(Organization.gln)), *db.scalars(select(Facility.gln))]
    present = [g for g in glns if g]
    assert len(present) >= 25
    assert all(len(g) == 13 for g in present)
    # Only the EU importer (Rotterdam) carries a foreign GS1 prefix: 87 is the Netherlands.
    foreign = [g for g in present if not g.startswith("893")]
    importer = db.scalar(select(Organization.gln).where(Organization.code == "HOLLANDIA-IMPORT"))
    assert foreign == [importer] and importer.startswith("87")


def test_certificates_are_current_and_cover_the_chains(db: Session, demo: str) -> None:
    today = vietnam_today()
    certs = db.scalars(select(Certification)).all()
    assert all(c.valid_from <= today <= c.valid_to for c in certs)
    schemes = {c.scheme.value for c in certs}
    assert {"globalgap", "vietgap", "ocop", "asc", "bap", "haccp", "iso22000"} <= schemes


def test_authority_queues_hold_the_pending_codes_of_their_province(db: Session, demo: str) -> None:
    user = db.scalar(select(User).where(User.email == "snnmt.bacninh@truyxuat.example"))
    assert user is not None
    bac_ninh = Principal(
        label=user.email, grants=auth_service.grants_for_user(db, user.id), user_id=user.id
    )
    items, total = approvals.approval_queue(db, bac_ninh)
    assert total == 2
    assert {i.code for i in items} == {"VN-BNOR-0104", "VN-BNPH-0044"}
    assert _count(db, PackingHouse, PackingHouse.status == CodeStatus.approved) >= 1
    pending_orgs = db.scalars(
        select(Organization.code).where(Organization.status == OrgStatus.pending)
    ).all()
    assert pending_orgs == ["HO-CM-LVSAU"]


def _readme_logins() -> tuple[set[tuple[str, str]], str]:
    """The (email, role) pairs of the README's demo-login table, and the README text."""
    text = README.read_text(encoding="utf-8")
    roles = "|".join(r.value for r in Role)
    pairs = set()
    for line in text.splitlines():
        email = EMAIL.search(line)
        role = re.search(rf"\b({roles})\b", line)
        if line.startswith("|") and email and role:
            pairs.add((email.group(0), role.group(1)))
    return pairs, text


def test_readme_lists_exactly_the_demo_logins_with_their_roles() -> None:
    pairs, text = _readme_logins()
    assert pairs == {(u.email, u.role.value) for u in DEMO_LOGINS}
    assert f"`{DEMO_PASSWORD}`" in text
    assert PLATFORM_CODE in text


def test_every_readme_login_signs_in_with_the_published_password(db: Session, demo: str) -> None:
    pairs, _ = _readme_logins()
    assert pairs
    for email, role in pairs:
        user = auth_service.authenticate_password(db, email=email, password=DEMO_PASSWORD)
        roles = db.scalars(select(Membership.role).where(Membership.user_id == user.id)).all()
        assert roles == [Role(role)], email


def test_demo_authority_signs_in_over_http_and_sees_its_approval_queue(
    db: Session, demo: str, client: TestClient
) -> None:
    response = client.post(
        "/login",
        data={"email": "snnmt.bacninh@truyxuat.example", "password": DEMO_PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get("/registry/approvals")
    assert page.status_code == 200
    assert "VN-BNOR-0104" in page.text and "VN-BNPH-0044" in page.text
