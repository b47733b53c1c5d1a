"""Inspections and violations over HTTP on both stores: the inspector's inspection with a photo
and a suspending violation, the passport showing the suspension, the organization's remedy,
the verification lifting it; and who may see and do what."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org, make_packing_house
from tests.resolver import chain as lychee
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.ledger import service as ledger
from truyxuat.ledger.models import LedgerEntry
from truyxuat.ledger.verify import verify_ledger
from truyxuat.registry.models import (
    Certification,
    CertScope,
    CodeStatus,
    Facility,
    GrowingArea,
)
from truyxuat.registry.schemas.certifications import vietnam_today

HTML = {"Accept": "text/html", "Accept-Language": "vi-VN,vi;q=0.9"}
HTML_EN = {"Accept": "text/html", "Accept-Language": "en"}
# A 1×1 PNG, a real image the file store accepts.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/2pG5NwAAAABJRU5ErkJggg=="
)
RULE = "Thông tư 02/2024/TT-BKHCN Điều 5"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings without the passport cache, so each request reads the code's status afresh."""
    return Settings(
        database_url="sqlite://",
        secret_key="test-secret",
        data_dir=tmp_path,
        resolver_cache_seconds=0,
    )


@pytest.fixture
def chain(db: Session, settings: Settings) -> lychee.Chain:
    return lychee.build(db, settings)


def area_of(db: Session, chain: lychee.Chain) -> GrowingArea:
    area = db.scalar(select(GrowingArea).where(GrowingArea.code == chain.area_code))
    assert area is not None
    return area


def area_cert(db: Session, area: GrowingArea) -> Certification:
    cert = db.scalar(
        select(Certification).where(
            Certification.scope_type == CertScope.growing_area, Certification.scope_id == area.id
        )
    )
    assert cert is not None
    return cert


def inspect(client: TestClient, headers: dict[str, str], org_id: uuid.UUID, **body: Any) -> Any:
    response = client.post(
        "/api/v1/oversight/inspections",
        json={
            "org_id": str(org_id),
            "inspected_on": vietnam_today().isoformat(),
            "findings": "Sổ nhật ký phun thuốc ghi thiếu ngày cách ly.",
            "result": "violations",
            **body,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def violate(
    client: TestClient, headers: dict[str, str], inspection_id: str, **body: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/oversight/inspections/{inspection_id}/violations",
        json={
            "rule": RULE,
            "description": "Không ghi thời gian cách ly sau phun thuốc",
            "severity": "major",
            "deadline": (vietnam_today() + timedelta(days=14)).isoformat(),
            **body,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def passport(client: TestClient, chain: lychee.Chain, headers: dict[str, str] = HTML) -> str:
    response = client.get(f"/01/{chain.gtin}/10/{lychee.LOT}", headers=headers)
    assert response.status_code == 200
    return response.text


def test_a_suspended_growing_area_code_is_lifted_once_the_remedy_is_verified(
    client: TestClient, db: Session, chain: lychee.Chain, settings: Settings
) -> None:
    inspector = api_headers(db, chain.authority, Role.inspector)
    staff = api_headers(db, chain.producer, Role.org_staff)
    area = area_of(db, chain)
    assert "Mã số đang bị tạm đình chỉ" not in passport(client, chain)

    inspection = inspect(client, inspector, chain.producer.id, growing_area_id=str(area.id))
    assert inspection["inspector_org_id"] == str(chain.authority.id)
    photo = client.post(
        f"/api/v1/oversight/inspections/{inspection['id']}/photos",
        files={"file": ("vuon.png", PNG, "image/png")},
        headers=inspector,
    )
    assert photo.status_code == 201, photo.text
    url = photo.json()["photo_urls"][0]
    # The inspected organization sees the photo taken at its place.
    served = client.get(url, headers=staff)
    assert served.status_code == 200 and served.content == PNG

    violation = violate(
        client,
        inspector,
        inspection["id"],
        suspends_type="growing_area",
        suspends_id=str(area.id),
    )
    assert violation["state"] == "open" and violation["previous_status"] == "approved"
    db.expire_all()
    assert area_of(db, chain).status is CodeStatus.suspended
    page = passport(client, chain)
    assert 'data-status="suspended"' in page and "Mã số đang bị tạm đình chỉ" in page
    assert "Code suspended" in passport(client, chain, HTML_EN)

    # The organization reads it, cannot verify its own remedy, and records it.
    assert (
        client.get(f"/api/v1/oversight/inspections/{inspection['id']}", headers=staff).json()[
            "violations"
        ][0]["id"]
        == violation["id"]
    )
    remedy = client.post(
        f"/api/v1/oversight/violations/{violation['id']}/remedy",
        json={"remedy": "Đã bổ sung nhật ký và tập huấn lại tổ phun thuốc."},
        headers=staff,
    )
    assert remedy.status_code == 200 and remedy.json()["state"] == "remedied"
    refused = client.post(
        f"/api/v1/oversight/violations/{violation['id']}/verify",
        json={"accept": True},
        headers=staff,
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    verified = client.post(
        f"/api/v1/oversight/violations/{violation['id']}/verify",
        json={"accept": True, "note": "Đã kiểm tra lại tại vườn"},
        headers=inspector,
    )
    assert verified.status_code == 200 and verified.json()["state"] == "verified"
    db.expire_all()
    assert area_of(db, chain).status is CodeStatus.approved
    assert "Mã số đang bị tạm đình chỉ" not in passport(client, chain)

    # Both changes are in the ledger, which still verifies.
    kinds = set(db.scalars(select(LedgerEntry.kind)))
    assert {"oversight.growing_area.suspended", "oversight.growing_area.lifted"} <= kinds
    ledger.integrate(db)
    ledger.sign_checkpoint(db, settings)
    assert verify_ledger(db, settings).ok


def test_a_suspended_certificate_shows_suspended_then_valid_again(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    inspector = api_headers(db, chain.authority, Role.authority)
    admin = api_headers(db, chain.producer, Role.org_admin)
    cert = area_cert(db, area_of(db, chain))
    inspection = inspect(client, inspector, chain.producer.id)
    violation = violate(
        client,
        inspector,
        inspection["id"],
        suspends_type="certification",
        suspends_id=str(cert.id),
    )
    page = passport(client, chain)
    assert 'data-status="suspended"' in page and "Tạm đình chỉ" in page
    shown = client.get(f"/api/v1/certifications/{cert.id}", headers=admin).json()
    assert shown["state"] == "suspended"
    # Suspending it twice is a conflict.
    second = client.post(
        f"/api/v1/oversight/inspections/{inspection['id']}/violations",
        json={
            "rule": RULE,
            "severity": "minor",
            "suspends_type": "certification",
            "suspends_id": str(cert.id),
        },
        headers=inspector,
    )
    assert second.status_code == 409

    # A rejected remedy goes back to open with the note; the certificate stays suspended.
    client.post(
        f"/api/v1/oversight/violations/{violation['id']}/remedy",
        json={"remedy": "Đã nộp hồ sơ"},
        headers=admin,
    )
    rejected = client.post(
        f"/api/v1/oversight/violations/{violation['id']}/verify",
        json={"accept": False, "note": "Thiếu biên bản tập huấn"},
        headers=inspector,
    )
    assert rejected.json()["state"] == "open"
    assert rejected.json()["verification_note"] == "Thiếu biên bản tập huấn"
    assert "pp-cert-suspended" in passport(client, chain)
    client.post(
        f"/api/v1/oversight/violations/{violation['id']}/remedy",
        json={"remedy": "Đã bổ sung biên bản tập huấn"},
        headers=admin,
    )
    client.post(
        f"/api/v1/oversight/violations/{violation['id']}/verify",
        json={"accept": True},
        headers=inspector,
    )
    page = passport(client, chain)
    assert "pp-cert-suspended" not in page and "pp-cert-valid" in page
    assert client.get(f"/api/v1/certifications/{cert.id}", headers=admin).json()["state"] in (
        "valid",
        "expiring",
    )


def test_other_provinces_and_organizations_see_nothing(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    inspector = api_headers(db, chain.authority, Role.inspector)
    inspection = inspect(client, inspector, chain.producer.id)
    violation = violate(client, inspector, inspection["id"])
    far = api_headers(db, make_authority(db, province_code="96"), Role.inspector)
    stranger = api_headers(db, make_org(db, province_code="24"), Role.org_admin)
    national = api_headers(db, make_authority(db, province_code=None), Role.authority)
    for headers in (far, stranger):
        assert (
            client.get(f"/api/v1/oversight/inspections/{inspection['id']}", headers=headers)
        ).status_code == 404
        assert (
            client.get(f"/api/v1/oversight/violations/{violation['id']}", headers=headers)
        ).status_code == 404
        listed = client.get("/api/v1/oversight/inspections", headers=headers).json()
        assert listed["total"] == 0 and listed["items"] == []
        assert client.get("/api/v1/oversight/violations", headers=headers).json()["total"] == 0
        assert (
            client.post(
                f"/api/v1/oversight/violations/{violation['id']}/verify",
                json={"accept": True},
                headers=headers,
            )
        ).status_code == 404
        assert (
            client.post(
                f"/api/v1/oversight/inspections/{inspection['id']}/violations",
                json={"rule": RULE, "severity": "minor"},
                headers=headers,
            )
        ).status_code == 404
    # Nor may another province's inspector inspect the producer.
    refused = client.post(
        "/api/v1/oversight/inspections",
        json={
            "org_id": str(chain.producer.id),
            "inspected_on": vietnam_today().isoformat(),
            "result": "compliant",
        },
        headers=far,
    )
    assert refused.status_code == 404
    assert client.get("/api/v1/oversight/inspections", headers=national).json()["total"] == 1
    mine = client.get("/api/v1/oversight/inspections", headers=inspector).json()
    assert [i["id"] for i in mine["items"]] == [inspection["id"]]


def test_rules_of_inspections_and_violations(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    inspector = api_headers(db, chain.authority, Role.inspector)
    staff = api_headers(db, chain.producer, Role.org_staff)
    other = make_org(db, province_code="24")
    others_house = make_packing_house(db, other, status=CodeStatus.approved)
    pending = make_packing_house(db, chain.producer)

    future = client.post(
        "/api/v1/oversight/inspections",
        json={
            "org_id": str(chain.producer.id),
            "inspected_on": (vietnam_today() + timedelta(days=2)).isoformat(),
            "result": "compliant",
        },
        headers=inspector,
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "inspected_on"
    foreign_place = client.post(
        "/api/v1/oversight/inspections",
        json={
            "org_id": str(chain.producer.id),
            "packing_house_id": str(others_house.id),
            "inspected_on": vietnam_today().isoformat(),
            "result": "compliant",
        },
        headers=inspector,
    )
    assert foreign_place.status_code == 422
    by_staff = client.post(
        "/api/v1/oversight/inspections",
        json={
            "org_id": str(chain.producer.id),
            "inspected_on": vietnam_today().isoformat(),
            "result": "compliant",
        },
        headers=staff,
    )
    assert by_staff.status_code == 403

    month_ago = (vietnam_today() - timedelta(days=30)).isoformat()
    inspection = inspect(client, inspector, chain.producer.id, inspected_on=month_ago)
    url = f"/api/v1/oversight/inspections/{inspection['id']}/violations"
    early = {"rule": RULE, "severity": "minor", "deadline": "2000-01-01"}
    assert client.post(url, json=early, headers=inspector).status_code == 422
    not_owned = {
        "rule": RULE,
        "severity": "minor",
        "suspends_type": "packing_house",
        "suspends_id": str(others_house.id),
    }
    assert client.post(url, json=not_owned, headers=inspector).status_code == 422
    not_granted = {**not_owned, "suspends_id": str(pending.id)}
    assert client.post(url, json=not_granted, headers=inspector).status_code == 409
    by_staff = client.post(url, json={"rule": RULE, "severity": "minor"}, headers=staff)
    assert by_staff.status_code == 403

    # A deadline passed and not verified: overdue, in the list and its filter.
    overdue = violate(
        client,
        inspector,
        inspection["id"],
        deadline=(vietnam_today() - timedelta(days=1)).isoformat(),
    )
    assert overdue["overdue"] is True
    violate(client, inspector, inspection["id"])
    listed = client.get("/api/v1/oversight/violations?overdue=true", headers=staff).json()
    assert [v["id"] for v in listed["items"]] == [overdue["id"]]
    assert client.get("/api/v1/oversight/violations?state=open", headers=staff).json()["total"] == 2
    # Verifying an open violation (no remedy yet) is a conflict; a remedy by an inspector is not
    # theirs to record.
    verify = f"/api/v1/oversight/violations/{overdue['id']}/verify"
    assert client.post(verify, json={"accept": True}, headers=inspector).status_code == 409
    remedy = f"/api/v1/oversight/violations/{overdue['id']}/remedy"
    assert client.post(remedy, json={"remedy": "x"}, headers=inspector).status_code == 403
    bad_photo = client.post(
        f"/api/v1/oversight/inspections/{inspection['id']}/photos",
        files={"file": ("notes.txt", b"not an image", "text/plain")},
        headers=inspector,
    )
    assert bad_photo.status_code == 415


def test_a_suspended_packing_house_code_shows_on_the_passport(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    store = db.scalar(select(Facility).where(Facility.org_id == chain.retailer.id))
    assert store is not None
    house = make_packing_house(
        db,
        chain.retailer,
        code="VN-HNPH-0001",
        facility_id=store.id,
        province_code="01",
        status=CodeStatus.approved,
    )
    assert "VN-HNPH-0001" in passport(client, chain)
    inspector = api_headers(db, make_authority(db, province_code="01"), Role.inspector)
    inspection = inspect(client, inspector, chain.retailer.id, packing_house_id=str(house.id))
    violate(
        client,
        inspector,
        inspection["id"],
        suspends_type="packing_house",
        suspends_id=str(house.id),
    )
    page = passport(client, chain, HTML_EN)
    section = page[page.index('id="packing-houses"') :]
    assert 'data-status="suspended"' in section and "Code suspended" in section
    # The producer's province (24) does not oversee the retailer's packing house in Hà Nội.
    bac_ninh = api_headers(db, chain.authority, Role.inspector)
    assert (
        client.get(f"/api/v1/oversight/inspections/{inspection['id']}", headers=bac_ninh)
    ).status_code == 404
