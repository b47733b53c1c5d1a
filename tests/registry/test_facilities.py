"""Facilities over HTTP: registration, GLN rules, admin units, listing and tenant isolation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    api_headers,
    make_authority,
    make_certification,
    make_facility,
    make_org,
)
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.gs1 import make_gln
from truyxuat.registry.models import AdminUnit, CertScope, Facility, FacilityKind


def _gln(org_prefix: str | None, ref: int) -> str:
    assert org_prefix
    return make_gln(org_prefix, ref)


def test_create_facility_defaults_to_callers_org_and_is_audited(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    headers = api_headers(db, org, Role.org_staff)
    gln = _gln(org.gs1_company_prefix, 7)
    response = client.post(
        "/api/v1/facilities",
        json={
            "kind": "packing_house",
            "name": "Nhà đóng gói vải Lục Ngạn",
            "gln": gln[:4] + " " + gln[4:],
            "province_code": "24",
            "address": "Thôn Kép, Lục Ngạn",
            "latitude": 21.38,
            "longitude": 106.55,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["org_id"] == str(org.id)
    assert body["gln"] == gln
    assert body["kind"] == "packing_house"
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "facility", AuditEntry.entity_id == body["id"]
        )
    )
    assert entry is not None and entry.action == "create" and entry.org_id == org.id


def test_create_facility_rejects_gln_with_bad_check_digit(client: TestClient, db: Session) -> None:
    org = make_org(db)
    gln = _gln(org.gs1_company_prefix, 3)
    wrong = gln[:-1] + str((int(gln[-1]) + 1) % 10)
    response = client.post(
        "/api/v1/facilities",
        json={"kind": "farm", "name": "Trang trại", "gln": wrong},
        headers=api_headers(db, org),
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "gln"
    assert f"expected {gln[-1]}" in error["message"]


def test_create_facility_rejects_gln_outside_company_prefix(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, prefix="893123456")
    response = client.post(
        "/api/v1/facilities",
        json={"kind": "farm", "name": "Trang trại", "gln": make_gln("893654321", 1)},
        headers=api_headers(db, org),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "gln"
    assert "893123456" in response.json()["errors"][0]["message"]


def test_create_facility_rejects_duplicate_gln(client: TestClient, db: Session) -> None:
    org = make_org(db)
    gln = _gln(org.gs1_company_prefix, 9)
    make_facility(db, org, gln=gln)
    response = client.post(
        "/api/v1/facilities",
        json={"kind": "warehouse", "name": "Kho lạnh", "gln": gln},
        headers=api_headers(db, org),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "gln"


def test_create_facility_checks_province_commune_and_coordinates(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    db.add(AdminUnit(code="99901", name="Xã Thử", level="commune", parent_code="96"))
    headers = api_headers(db, org)
    base = {"kind": "farm", "name": "Trang trại"}
    cases = [
        ({"province_code": "XX"}, "province_code"),
        ({"province_code": "24", "commune_code": "99901"}, "commune_code"),
        ({"latitude": 95, "longitude": 105}, "latitude"),
        ({"latitude": 21.0}, "longitude"),
    ]
    for extra, field in cases:
        response = client.post("/api/v1/facilities", json={**base, **extra}, headers=headers)
        assert response.status_code == 422, extra
        assert response.json()["errors"][0]["field"] == field, extra
    ok = client.post(
        "/api/v1/facilities",
        json={**base, "province_code": "96", "commune_code": "99901"},
        headers=headers,
    )
    assert ok.status_code == 201, ok.text


def test_update_facility_changes_fields_and_audits_the_diff(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    facility = make_facility(db, org, name="Xưởng cũ")
    headers = api_headers(db, org)
    response = client.patch(
        f"/api/v1/facilities/{facility.id}",
        json={"name": "Xưởng mới", "gln": _gln(org.gs1_company_prefix, 11)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Xưởng mới"
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(facility.id), AuditEntry.action == "update"
        )
    )
    assert entry is not None and entry.changes["name"] == ["Xưởng cũ", "Xưởng mới"]


def test_list_facilities_filters_and_hides_other_tenants(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    farm = make_facility(db, org_a, kind=FacilityKind.farm, name="Vườn vải Thanh Hà")
    make_facility(db, org_a, kind=FacilityKind.warehouse, name="Kho Bắc Giang")
    hidden = make_facility(db, org_b, kind=FacilityKind.farm, name="Vườn vải của B")
    headers = api_headers(db, org_a)
    everything = client.get("/api/v1/facilities", headers=headers).json()
    ids = {item["id"] for item in everything["items"]}
    assert str(hidden.id) not in ids
    assert everything["total"] == 2
    farms = client.get("/api/v1/facilities?kind=farm", headers=headers).json()
    assert [item["id"] for item in farms["items"]] == [str(farm.id)]
    found = client.get("/api/v1/facilities", params={"q": "vải"}, headers=headers).json()
    assert [item["id"] for item in found["items"]] == [str(farm.id)]
    other = client.get(f"/api/v1/facilities?org_id={org_b.id}", headers=headers).json()
    assert other["total"] == 0


def test_other_tenant_gets_404_on_every_facility_endpoint(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    facility = make_facility(db, org_b, name="Nhà máy B")
    headers = api_headers(db, org_a)
    url = f"/api/v1/facilities/{facility.id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"name": "Đổi tên"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    db.expire_all()
    unchanged = db.get(Facility, facility.id)
    assert unchanged is not None and unchanged.name == "Nhà máy B"


def test_staff_cannot_create_facility_in_another_org(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    response = client.post(
        "/api/v1/facilities",
        json={"org_id": str(org_b.id), "kind": "farm", "name": "Trang trại lạ"},
        headers=api_headers(db, org_a, Role.org_staff),
    )
    assert response.status_code in (403, 404)
    assert db.scalar(select(Facility).where(Facility.org_id == org_b.id)) is None


def test_authority_reads_facilities_in_its_province_only_and_cannot_change_them(
    client: TestClient, db: Session
) -> None:
    inside, outside = make_org(db, province_code="24"), make_org(db, province_code="96")
    near = make_facility(db, inside, province_code=None)
    far = make_facility(db, outside)
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert client.get(f"/api/v1/facilities/{near.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/facilities/{far.id}", headers=headers).status_code == 404
    listed = client.get("/api/v1/facilities", headers=headers).json()
    assert {item["id"] for item in listed["items"]} == {str(near.id)}
    renamed = client.patch(
        f"/api/v1/facilities/{near.id}", json={"name": "Đổi tên"}, headers=headers
    )
    assert renamed.status_code == 403


def test_delete_facility_removes_it_unless_a_certificate_covers_it(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    free = make_facility(db, org)
    covered = make_facility(db, org)
    make_certification(db, org, scope_type=CertScope.facility, scope_id=covered.id)
    headers = api_headers(db, org)
    assert client.delete(f"/api/v1/facilities/{free.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/facilities/{free.id}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/facilities/{covered.id}", headers=headers).status_code == 409
