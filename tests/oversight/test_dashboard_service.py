"""Dashboard figures computed from data on both stores, against a hand-counted world of two
provinces: province A (Bắc Ninh, 24) and province B (Quảng Ninh, 22).

Province A: producers a1 (approved) and a2 (pending, registered three months ago); OCOP products
p1–p5 of which exactly p1 (an event naming a lot), p2 (an activated stamp) and p3 (an event
naming a serialized item) have traceability data — p4 has stamps that were never activated, p5
nothing: 3 of 5 = 60.0 %. p6 is inactive; p7 (beer) carries every Circular 02/2024 minimum
field, p8 (beer, of a2) does not. Province B: producer b with OCOP products q1 (an event) and
q2 (nothing) and beer q3 (no data) — none of it may count for A's authority.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import (
    LUC_NGAN_HA,
    make_authority,
    make_certification,
    make_facility,
    make_growing_area,
    make_org,
    make_packing_house,
    make_product,
)
from tests.trace.chain import DL, admin, capture, event, lot, place
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.errors import DomainError
from truyxuat.oversight.models import (
    Alert,
    AlertSeverity,
    AlertState,
    Inspection,
    InspectionResult,
    Violation,
    ViolationSeverity,
    ViolationState,
)
from truyxuat.oversight.service import dashboard
from truyxuat.registry.models import (
    CodeStatus,
    MoitGroup,
    Organization,
    OrgKind,
    OrgStatus,
    Product,
    ProductImage,
    StoredFile,
)
from truyxuat.registry.schemas.certifications import vietnam_today
from truyxuat.resolver.models import Scan
from truyxuat.stamps import service as stamps
from truyxuat.stamps.schemas import StampRunIn

A, B = "24", "22"


@dataclass
class World:
    """The organizations and products of the hand-counted fixture."""

    a1: Organization
    a2: Organization
    b: Organization
    authority_a: Organization
    authority_b: Organization
    national: Organization
    products: dict[str, Product]


def principal_of(org: Organization) -> Principal:
    """The principal of an organization's operator (authority for an authority)."""
    role = Role.authority if org.kind is OrgKind.authority else Role.org_admin
    return Principal(label=org.name, grants=(Grant(org.id, role, org.province_code),), locale="en")


def _months_ago(months: int, day: int = 2) -> datetime:
    """An instant inside the month `months` before the current one in Viet Nam."""
    today = vietnam_today()
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    return dashboard.month_start(year, month + 1) + timedelta(days=day - 1, hours=3)


def _stamps(db: Session, settings: Settings, org: Organization, gtin: str, count: int) -> Any:
    """Issues a run of stamps of a product."""
    return stamps.issue_run(
        db, admin(org), StampRunIn(gtin=gtin, count=count, lot="L1"), settings
    ).run


def _scan(
    db: Session, gtin: str, at: datetime, lat: float | None = None, lon: float | None = None
) -> None:
    """A consumer's scan of a product at a time (and a coarse place when shared)."""
    db.add(Scan(gtin=gtin, lot="L1", scanned_at=at, latitude=lat, longitude=lon))


def build_world(db: Session, settings: Settings) -> World:
    """Creates the two provinces' data counted in the module docstring."""
    a1 = make_org(db, province_code=A, name="Công ty Vải thiều Lục Ngạn", address="Xã Lục Ngạn")
    a2 = make_org(db, province_code=A, kind=OrgKind.cooperative, status=OrgStatus.pending)
    a2.created_at = _months_ago(3)
    b = make_org(db, province_code=B, name="Công ty Chả mực Hạ Long")
    authority_a = make_authority(db, province_code=A)
    authority_b = make_authority(db, province_code=B)
    national = make_authority(db, province_code=None)
    p: dict[str, Product] = {}
    for key, org, stars in (
        ("p1", a1, 3),
        ("p2", a1, 3),
        ("p3", a1, 4),
        ("p4", a1, 4),
        ("p5", a2, 5),
        ("q1", b, 4),
        ("q2", b, 3),
    ):
        p[key] = make_product(db, org, ocop_stars=stars, ocop_year=2025)
    p["p6"] = make_product(db, a1, is_active=False)
    p["p7"] = make_product(db, a1, moit_group=MoitGroup.beer)
    p["p8"] = make_product(db, a2, moit_group=MoitGroup.beer)
    p["q3"] = make_product(db, b, moit_group=MoitGroup.beer)

    serial = f"{DL}/01/{p['p3'].gtin}/21/S0001"
    capture(
        db,
        a1,
        [
            event(
                "ObjectEvent",
                "2026-06-01T06:00:00+07:00",
                action="ADD",
                bizStep="commissioning",
                epcList=[],
                quantityList=[{"epcClass": lot(p["p1"].gtin, "L1"), "quantity": 5}],
                readPoint=place(a1.gln or ""),
            ),
            event(
                "ObjectEvent",
                "2026-06-01T07:00:00+07:00",
                action="OBSERVE",
                bizStep="shipping",
                epcList=[serial],
                readPoint=place(a1.gln or ""),
            ),
            event(
                "ObjectEvent",
                "2026-06-01T08:00:00+07:00",
                action="ADD",
                bizStep="commissioning",
                epcList=[],
                quantityList=[{"epcClass": lot(p["p7"].gtin, "B1"), "quantity": 9}],
                readPoint=place(a1.gln or ""),
                bizLocation=place(a1.gln or ""),
                ilmd={"cbvmda:lotNumber": "B1", "cbvmda:bestBeforeDate": "2027-06-01"},
            ),
        ],
    )
    capture(
        db,
        b,
        [
            event(
                "ObjectEvent",
                "2026-06-01T06:00:00+07:00",
                action="ADD",
                bizStep="commissioning",
                epcList=[],
                quantityList=[{"epcClass": lot(p["q1"].gtin, "L1"), "quantity": 5}],
                readPoint=place(b.gln or ""),
            )
        ],
    )
    # p7 also has an image and its producer a current certificate: every minimum field is there.
    blob = hashlib.sha256(b"p7").hexdigest()
    image = StoredFile(org_id=a1.id, sha256=blob, content_type="image/png", size=10)
    db.add(image)
    db.flush()
    db.add(ProductImage(org_id=a1.id, product_id=p["p7"].id, file_id=image.id))

    run = _stamps(db, settings, a1, p["p2"].gtin, 10)
    stamps.activate(db, admin(a1), run.id, lot="L1")
    _stamps(db, settings, a1, p["p4"].gtin, 5)
    _stamps(db, settings, b, p["q1"].gtin, 7)

    area = make_growing_area(db, a1, province_code=A, area_ha=LUC_NGAN_HA)
    area.status = CodeStatus.approved
    make_growing_area(db, a2, province_code=A, area_ha=LUC_NGAN_HA)
    house = make_packing_house(db, a1, province_code=A)
    house.status = CodeStatus.approved
    make_packing_house(db, b, province_code=B)
    # A facility in Hạ Long: scans located near it are placed in province B.
    make_facility(db, b, latitude=20.95, longitude=107.07)

    now = datetime.now(UTC) - timedelta(minutes=1)
    _scan(db, p["p1"].gtin, now, 20.9, 107.1)  # near Hạ Long → B
    _scan(db, p["p1"].gtin, now, 21.4, 106.5)  # near Lục Ngạn → A
    _scan(db, p["p1"].gtin, now)
    _scan(db, p["p2"].gtin, _months_ago(2))
    _scan(db, p["q1"].gtin, now)
    _scan(db, p["q1"].gtin, now)

    today = vietnam_today()
    make_certification(db, a1, number="VG-SOON", valid_to=today + timedelta(days=10))
    make_certification(db, a1, number="VG-LATER", valid_to=today + timedelta(days=100))
    make_certification(db, b, number="VG-B-SOON", valid_to=today + timedelta(days=20))

    db.add_all(
        [
            Alert(
                rule="r",
                dedup_key="a-open",
                severity=AlertSeverity.warning,
                province_code=A,
                org_id=a1.id,
                title="Cảnh báo A",
            ),
            Alert(
                rule="r",
                dedup_key="a-done",
                severity=AlertSeverity.warning,
                province_code=A,
                org_id=a1.id,
                title="Đã xử lý",
                state=AlertState.resolved,
            ),
            Alert(
                rule="r",
                dedup_key="b-open",
                severity=AlertSeverity.critical,
                province_code=B,
                org_id=b.id,
                title="Cảnh báo B",
            ),
        ]
    )
    for org, authority in ((a1, authority_a), (b, authority_b)):
        inspection = Inspection(
            org_id=org.id,
            inspector_org_id=authority.id,
            province_code=org.province_code,
            inspected_on=today,
            result=InspectionResult.violations,
        )
        db.add(inspection)
        db.flush()
        rows = (
            [
                (today - timedelta(days=1), ViolationState.open),
                (today + timedelta(days=5), ViolationState.open),
                (today - timedelta(days=9), ViolationState.remedied),
            ]
            if org is a1
            else [(None, ViolationState.open)]
        )
        for deadline, state in rows:
            db.add(
                Violation(
                    inspection_id=inspection.id,
                    org_id=org.id,
                    province_code=org.province_code,
                    rule="Điều 5",
                    severity=ViolationSeverity.minor,
                    deadline=deadline,
                    state=state,
                )
            )
    db.flush()
    return World(a1, a2, b, authority_a, authority_b, national, p)


def _figure(board: dashboard.Dashboard, kind: str) -> dashboard.RegistryFigure:
    return next(f for f in board.registry if f.kind == kind)


def test_province_authority_figures_are_hand_counted(db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    board = dashboard.build_dashboard(db, principal_of(world.authority_a), locale="en")
    assert board.scope.kind == "province" and board.scope.province_codes == [A]
    assert len(board.months) == 12 and board.months[-1] == vietnam_today().strftime("%Y-%m")

    orgs = _figure(board, "organizations")
    assert orgs.total == 2
    assert orgs.by_status == {"pending": 1, "approved": 1, "suspended": 0}
    assert orgs.monthly["approved"][-1] == 1 and orgs.monthly["pending"][-4] == 1
    assert sum(orgs.monthly["pending"]) == 1
    products = _figure(board, "products")
    assert products.total == 8 and products.by_status == {"active": 7, "inactive": 1}
    areas = _figure(board, "growing_areas")
    assert areas.total == 2 and areas.by_status["approved"] == 1 and areas.by_status["pending"] == 1
    assert areas.hectares == round(2 * LUC_NGAN_HA, 2)
    assert areas.hectares_by_status["approved"] == LUC_NGAN_HA
    houses = _figure(board, "packing_houses")
    assert houses.total == 1 and houses.by_status["approved"] == 1

    ocop = board.ocop
    assert (ocop.products, ocop.with_data, ocop.percent) == (5, 3, 60.0)
    assert [(s.stars, s.products, s.with_data) for s in ocop.by_stars] == [
        (3, 2, 2),
        (4, 2, 1),
        (5, 1, 0),
    ]
    assert ocop.monthly_percent[-1] == 60.0
    assert ocop.target.year == 2030 and ocop.target.percent == 100.0
    assert [t.year for t in ocop.targets] == [2025, 2030]
    # a1 (events, stamps) has data; a2 (OCOP p5, beer p8) has none.
    orgs_cov = board.organizations_coverage
    assert (orgs_cov.organizations, orgs_cov.with_data, orgs_cov.percent) == (2, 1, 50.0)
    assert orgs_cov.target.percent == 100.0 and orgs_cov.target.year is None

    beer = next(g for g in board.moit if g.group == "beer")
    assert (beer.products, beer.with_data, beer.percent) == (2, 1, 50.0)
    compliant = {c.gtin: c.compliant for c in beer.items}
    assert compliant == {world.products["p7"].gtin: True, world.products["p8"].gtin: False}
    assert all(g.products == 0 for g in board.moit if g.group != "beer")

    assert board.stamps.ordered[-1] == 15 and sum(board.stamps.ordered) == 15
    assert board.stamps.activated[-1] == 10 and sum(board.stamps.activated) == 10
    assert board.stamps.scanned[-1] == 3 and board.stamps.scanned[-3] == 1
    assert sum(board.stamps.scanned) == 4

    assert board.scans_total == 4
    places = {p.province_code: (p.by_producer, p.by_location) for p in board.scans_by_province}
    assert places == {A: (4, 1), B: (0, 1)}
    assert [(p.gtin, p.scans) for p in board.scans_by_product] == [
        (world.products["p1"].gtin, 3),
        (world.products["p2"].gtin, 1),
    ]

    assert [c.number for c in board.expiring_certificates] == ["VG-SOON"]
    assert board.expiring_certificates[0].days_left == 10
    assert board.expiring_certificates[0].url.startswith("/registry/certifications/")
    assert board.actions.open_alerts == 1
    assert (board.actions.open_violations, board.actions.overdue_violations) == (2, 1)


def test_national_authority_sees_both_provinces(db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    board = dashboard.build_dashboard(db, principal_of(world.national), locale="vi")
    assert board.scope.kind == "national"
    assert _figure(board, "organizations").total == 3
    assert (board.ocop.products, board.ocop.with_data, board.ocop.percent) == (7, 4, 57.1)
    coverage = board.organizations_coverage
    assert (coverage.organizations, coverage.with_data, coverage.percent) == (3, 2, 66.7)
    beer = next(g for g in board.moit if g.group == "beer")
    assert (beer.products, beer.with_data) == (3, 1)
    assert sum(board.stamps.ordered) == 22 and board.scans_total == 6
    numbers = [c.number for c in board.expiring_certificates]
    assert "VG-SOON" in numbers and "VG-B-SOON" in numbers
    assert board.actions.open_alerts == 2 and board.actions.open_violations == 3


def test_national_view_narrowed_to_one_province(db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    board = dashboard.build_dashboard(db, principal_of(world.national), province=A)
    assert board.scope.kind == "province" and board.scope.province_codes == [A]
    assert (board.ocop.products, board.ocop.with_data, board.ocop.percent) == (5, 3, 60.0)
    assert _figure(board, "organizations").total == 2 and board.scans_total == 4
    assert [c.number for c in board.expiring_certificates] == ["VG-SOON"]
    assert board.actions.open_alerts == 1 and board.actions.open_violations == 2
    assert dashboard.province_choices(db, principal_of(world.national))
    assert dashboard.province_choices(db, principal_of(world.authority_a)) == []
    with pytest.raises(DomainError):
        dashboard.build_dashboard(db, principal_of(world.authority_a), province=B)
    with pytest.raises(DomainError):
        dashboard.build_dashboard(db, principal_of(world.national), province="99")
    own = dashboard.build_dashboard(db, principal_of(world.authority_a), province=A)
    assert own.ocop.products == 5


def test_other_province_sees_nothing_of_province_a(db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    board = dashboard.build_dashboard(db, principal_of(world.authority_b), locale="en")
    assert _figure(board, "organizations").total == 1
    assert _figure(board, "products").total == 3
    assert _figure(board, "growing_areas").total == 0
    assert (board.ocop.products, board.ocop.with_data, board.ocop.percent) == (2, 1, 50.0)
    assert board.organizations_coverage.organizations == 1
    assert sum(board.stamps.ordered) == 7 and sum(board.stamps.activated) == 0
    assert board.scans_total == 2
    assert {p.province_code for p in board.scans_by_province} == {B}
    assert [c.number for c in board.expiring_certificates] == ["VG-B-SOON"]
    assert board.actions.open_alerts == 1 and board.actions.open_violations == 1
    text = board.model_dump_json()
    for product in ("p1", "p2", "p3", "p7", "p8"):
        assert world.products[product].gtin not in text
    assert world.a1.name not in text


def test_enterprise_sees_only_its_own_data(db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    board = dashboard.build_dashboard(db, principal_of(world.a1), locale="vi")
    assert board.scope.kind == "organization" and board.scope.org_ids == [world.a1.id]
    assert _figure(board, "organizations").total == 1
    assert _figure(board, "products").total == 6
    assert (board.ocop.products, board.ocop.with_data, board.ocop.percent) == (4, 3, 75.0)
    assert board.organizations_coverage.percent == 100.0
    beer = next(g for g in board.moit if g.group == "beer")
    assert (beer.products, beer.with_data) == (1, 1)
    assert sum(board.stamps.ordered) == 15 and board.scans_total == 4
    assert [c.number for c in board.expiring_certificates] == ["VG-SOON"]
    assert board.actions.open_alerts == 1 and board.actions.overdue_violations == 1
    text = board.model_dump_json()
    assert world.products["p8"].gtin not in text and world.products["q1"].gtin not in text


def test_month_helpers() -> None:
    labels, bounds = dashboard.month_window(datetime(2026, 2, 10).date())
    assert labels[0] == "2025-03" and labels[-1] == "2026-02" and len(bounds) == 13
    # Viet Nam's 1 March starts at 17:00 UTC on 28 February.
    assert bounds[-1] == datetime(2026, 2, 28, 17, tzinfo=UTC)
    assert dashboard.month_end("2026-02").isoformat() == "2026-02-28"
    assert dashboard.month_end("2024-12").isoformat() == "2024-12-31"
    assert dashboard.last_full_month(datetime(2026, 1, 5).date()) == "2025-12"
    for bad in ("2026-13", "26-01", "2026-1", "abcd-ef", ""):
        try:
            dashboard.month_end(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_nearest_province_of_a_point() -> None:
    places = [(21.38, 106.55, A), (20.95, 107.07, B)]
    assert dashboard.nearest_province(21.4, 106.5, places) == A
    assert dashboard.nearest_province(20.9, 107.1, places) == B
    assert dashboard.nearest_province(10.0, 105.0, []) is None
