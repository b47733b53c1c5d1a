"""Packing-house codes over HTTP: application, facility checks, tenant isolation, re-approval."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    api_headers,
    make_authority,
    make_facility,
    make_org,
    make_packing_house,
)
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.registry.models import CodeStatus, FacilityKind, PackingHouse

URL = "/api/v1/packing-houses"


def house_body(**overrides: Any) -> dict[str, Any]:
    """A valid application for a lychee packing house in Bắc Ninh."""
    body: dict[str, Any] = {
        "code": "vn-bnph-001",
        "name": "Cơ sở đóng gói vải thiều Phượng Sơn",
        "crops": ["Vải thiều", "Nhãn"],
        "capacity_tonnes_per_day": 40,
        "province_code": "24",
        "address": "Xã Phượng Sơn",
        "export_markets": "us, au",
    }
    body.update(overrides)
    return body


def field_names(response: Any) -> list[str]:
    """The fields a problem+json validation response names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


def audit_actions(db: Session, entity_id: Any) -> list[AuditEntry]:
    """The audit log of one packing house, oldest first."""
    return list(
        db.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == "packing_house", AuditEntry.entity_id == str(entity_id)
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def test_create_packing_house_starts_pending_at_the_orgs_own_facility(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    facility = make_facility(db, org, kind=FacilityKind.packing_house)
    response = client.post(
        URL,
        json=house_body(facility_id=str(facility.id)),
        headers=api_headers(db, org, Role.org_staff),
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert (data["code"], data["status"], data["org_id"]) == ("VN-BNPH-001", "pending", str(org.id))
    assert data["facility_id"] == str(facility.id)
    assert data["crops"] == ["Vải thiều", "Nhãn"]
    assert data["export_markets"] == ["US", "AU"]
    assert [e.action for e in audit_actions(db, data["id"])] == ["create"]


def test_create_packing_house_rejects_another_orgs_facility(
    client: TestClient, db: Session
) -> None:
    org, other = make_org(db), make_org(db)
    theirs = make_facility(db, other)
    response = client.post(
        URL, json=house_body(facility_id=str(theirs.id)), headers=api_headers(db, org)
    )
    assert field_names(response) == ["facility_id"]


def test_create_packing_house_rejects_duplicate_code_naming_it(
    client: TestClient, db: Session
) -> None:
    make_packing_house(db, make_org(db), code="VN-BNPH-001")
    org = make_org(db)
    response = client.post(URL, json=house_body(), headers=api_headers(db, org))
    assert field_names(response) == ["code"]
    assert "VN-BNPH-001" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "P"}, "code"),
        ({"province_code": "99"}, "province_code"),
        ({"capacity_tonnes_per_day": 0}, "capacity_tonnes_per_day"),
        ({"name": ""}, "name"),
        ({"export_markets": ["E U"]}, "0"),
    ],
)
def test_create_packing_house_rejects_invalid_fields(
    client: TestClient, db: Session, overrides: dict[str, Any], field: str
) -> None:
    org = make_org(db)
    response = client.post(URL, json=house_body(**overrides), headers=api_headers(db, org))
    assert field in field_names(response)
    assert db.scalar(select(PackingHouse).where(PackingHouse.org_id == org.id)) is None


def test_authority_cannot_create_packing_houses(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_authority(db), Role.authority)
    assert client.post(URL, json=house_body(), headers=headers).status_code == 403


def test_list_packing_houses_shows_only_the_callers_own_and_filters(
    client: TestClient, db: Session
) -> None:
    org_a, org_b = make_org(db), make_org(db)
    lychee = make_packing_house(db, org_a, code="VN-BNPH-010", crops="Vải thiều")
    longan = make_packing_house(
        db, org_a, code="VN-BNPH-011", crops="Nhãn", status=CodeStatus.approved
    )
    make_packing_house(db, org_b)
    headers = api_headers(db, org_a)

    def ids(**params: Any) -> list[str]:
        return [h["id"] for h in client.get(URL, params=params, headers=headers).json()["items"]]

    assert ids() == [str(lychee.id), str(longan.id)]
    assert ids(status="approved") == [str(longan.id)]
    assert ids(crop="vải") == [str(lychee.id)]
    assert ids(q="011") == [str(longan.id)]
    assert ids(org_id=str(org_b.id)) == []


def test_another_orgs_packing_house_is_404_on_every_endpoint_and_stays_unchanged(
    client: TestClient, db: Session
) -> None:
    org_a, org_b = make_org(db), make_org(db)
    house = make_packing_house(db, org_b, name="Nhà đóng gói của B")
    headers = api_headers(db, org_a)
    assert client.get(f"{URL}/{house.id}", headers=headers).status_code == 404
    patch = client.patch(f"{URL}/{house.id}", json={"name": "Của A"}, headers=headers)
    assert patch.status_code == 404
    decision = client.post(
        f"{URL}/{house.id}/decision", json={"status": "approved"}, headers=headers
    )
    assert decision.status_code == 404
    db.expire_all()
    stored = db.get(PackingHouse, house.id)
    assert stored is not None
    assert (stored.name, stored.status) == ("Nhà đóng gói của B", CodeStatus.pending)
    assert audit_actions(db, house.id) == []


def test_authority_sees_and_approves_its_province_only(client: TestClient, db: Session) -> None:
    bac_ninh = make_packing_house(db, make_org(db, province_code="24"))
    ca_mau = make_packing_house(db, make_org(db, province_code="96"), province_code="96")
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert [h["id"] for h in client.get(URL, headers=headers).json()["items"]] == [str(bac_ninh.id)]
    assert client.get(f"{URL}/{ca_mau.id}", headers=headers).status_code == 404
    refused = client.post(
        f"{URL}/{ca_mau.id}/decision", json={"status": "approved"}, headers=headers
    )
    assert refused.status_code == 404
    approved = client.post(
        f"{URL}/{bac_ninh.id}/decision", json={"status": "approved"}, headers=headers
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    edit = client.patch(f"{URL}/{bac_ninh.id}", json={"name": "x"}, headers=headers)
    assert edit.status_code == 403


def test_org_staff_cannot_approve_its_own_packing_house(client: TestClient, db: Session) -> None:
    org = make_org(db)
    house = make_packing_house(db, org)
    response = client.post(
        f"{URL}/{house.id}/decision",
        json={"status": "approved"},
        headers=api_headers(db, org, Role.org_staff),
    )
    assert response.status_code == 403


def test_changing_an_approved_houses_crops_returns_it_to_pending(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    house = make_packing_house(db, org, status=CodeStatus.approved)
    headers = api_headers(db, org)
    kept = client.patch(f"{URL}/{house.id}", json={"capacity_tonnes_per_day": 55}, headers=headers)
    assert kept.json()["status"] == "approved"
    response = client.patch(
        f"{URL}/{house.id}", json={"crops": ["Vải thiều", "Thanh long"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    entry = audit_actions(db, house.id)[-1]
    assert entry.changes["status"] == ["approved", "pending"]
    assert entry.changes["reapproval_required"] == ["crops"]


def test_packing_house_facility_can_be_cleared_or_moved_within_the_org(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    facility = make_facility(db, org)
    house = make_packing_house(db, org, facility_id=facility.id)
    headers = api_headers(db, org)
    foreign = make_facility(db, make_org(db))
    refused = client.patch(
        f"{URL}/{house.id}", json={"facility_id": str(foreign.id)}, headers=headers
    )
    assert field_names(refused) == ["facility_id"]
    cleared = client.patch(f"{URL}/{house.id}", json={"facility_id": None}, headers=headers)
    assert cleared.json()["facility_id"] is None


def test_revoked_packing_house_cannot_be_edited(client: TestClient, db: Session) -> None:
    org = make_org(db)
    house = make_packing_house(db, org, status=CodeStatus.revoked)
    response = client.patch(f"{URL}/{house.id}", json={"name": "x"}, headers=api_headers(db, org))
    assert response.status_code == 409
