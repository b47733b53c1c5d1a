"""Growing-area codes over HTTP: application, geometry checks, tenant isolation, re-approval."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    CA_MAU_POINT,
    LUC_NGAN_HA,
    LUC_NGAN_POLYGON,
    api_headers,
    make_authority,
    make_growing_area,
    make_org,
)
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.errors import ValidationFailed
from truyxuat.registry.models import CodeStatus, GrowingArea, GrowingAreaOwner, OrgKind
from truyxuat.registry.service.approvals import guarded_code

URL = "/api/v1/growing-areas"


def area_body(**overrides: Any) -> dict[str, Any]:
    """A valid application for the Lục Ngạn lychee orchard."""
    body: dict[str, Any] = {
        "code": "vn-bnor-0101",
        "name": "Vùng vải thiều Thanh Hà",
        "crop": "Vải thiều",
        "variety": "Thiều Lục Ngạn",
        "area_ha": 5.0,
        "geometry": LUC_NGAN_POLYGON,
        "province_code": "24",
        "export_markets": ["eu", "US"],
        "owners": [
            {"name": "Nguyễn Văn An", "phone": "0912345678", "area_ha": 3.0},
            {"name": "Trần Thị Bình", "area_ha": 2.0},
        ],
    }
    body.update(overrides)
    return body


def field_names(response: Any) -> list[str]:
    """The fields a problem+json validation response names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


def audit_entries(db: Session, entity_id: Any) -> list[AuditEntry]:
    """The audit log of one growing area, oldest first."""
    return list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "growing_area", AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def approve(db: Session, client: TestClient, area_id: Any, province: str = "24") -> None:
    """Has the provincial authority approve an area."""
    headers = api_headers(db, make_authority(db, province_code=province), Role.authority)
    response = client.post(
        f"{URL}/{area_id}/decision", json={"status": "approved"}, headers=headers
    )
    assert response.status_code == 200, response.text


def test_create_growing_area_starts_pending_with_computed_area_centroid_and_owners(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, kind=OrgKind.cooperative)
    response = client.post(URL, json=area_body(), headers=api_headers(db, org))
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["org_id"] == str(org.id)
    assert data["code"] == "VN-BNOR-0101"
    assert data["status"] == "pending"
    assert data["decided_at"] is None
    assert data["computed_area_ha"] == pytest.approx(LUC_NGAN_HA, abs=0.01)
    assert 106.5479 < data["centroid"]["lon"] < 106.5507
    assert 21.3787 < data["centroid"]["lat"] < 21.3810
    assert data["geometry"] == LUC_NGAN_POLYGON
    assert data["export_markets"] == ["EU", "US"]
    assert sorted(o["name"] for o in data["owners"]) == ["Nguyễn Văn An", "Trần Thị Bình"]
    stored = db.scalars(
        select(GrowingAreaOwner).where(GrowingAreaOwner.growing_area_id == uuid.UUID(data["id"]))
    ).all()
    assert {o.org_id for o in stored} == {org.id}


def test_create_growing_area_writes_an_audit_entry(client: TestClient, db: Session) -> None:
    org = make_org(db)
    data = client.post(URL, json=area_body(), headers=api_headers(db, org)).json()
    entries = audit_entries(db, data["id"])
    assert [e.action for e in entries] == ["create"]
    assert entries[0].org_id == org.id
    assert entries[0].changes["code"] == "VN-BNOR-0101"


def test_create_growing_area_accepts_a_feature_as_json_text(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    feature = {"type": "Feature", "properties": {}, "geometry": LUC_NGAN_POLYGON}
    body = area_body(geometry=json.dumps(feature))
    response = client.post(URL, json=body, headers=api_headers(db, org))
    assert response.status_code == 201, response.text
    assert response.json()["geometry"] == LUC_NGAN_POLYGON


def test_create_growing_area_accepts_a_point_for_a_plot_of_at_most_4_ha(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, province_code="96")
    body = area_body(
        geometry=CA_MAU_POINT, area_ha=2.5, province_code="96", crop="Tôm sú", owners=[]
    )
    response = client.post(URL, json=body, headers=api_headers(db, org, Role.org_staff))
    assert response.status_code == 201, response.text
    assert response.json()["centroid"] == {"lon": 105.1524, "lat": 9.1768}


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [
            [106.548, 21.379],
            [106.551, 21.381],
            [106.551, 21.379],
            [106.548, 21.381],
            [106.548, 21.379],
        ]
    ],
}
UNCLOSED = {"type": "Polygon", "coordinates": [LUC_NGAN_POLYGON["coordinates"][0][:-1]]}
IN_BANGKOK = {"type": "Point", "coordinates": [100.5018, 13.7563]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"geometry": {"type": "Polygon", "coordinates": "nope"}}, "geometry"),
        ({"geometry": "not json"}, "geometry"),
        ({"geometry": {"type": "LineString", "coordinates": [[106.5, 21.3]]}}, "geometry"),
        ({"geometry": UNCLOSED}, "geometry"),
        ({"geometry": BOWTIE, "area_ha": 1.0}, "geometry"),
        ({"geometry": {"type": "Point", "coordinates": [106.55, 21.38]}}, "geometry"),
        ({"area_ha": 9.0}, "geometry"),
        ({"geometry": IN_BANGKOK, "area_ha": 1.0}, "geometry"),
        ({"area_ha": 0}, "area_ha"),
        ({"area_ha": -3}, "area_ha"),
    ],
    ids=[
        "malformed",
        "not-json",
        "line",
        "unclosed",
        "self-intersecting",
        "point-over-4-ha",
        "area-mismatch",
        "outside-vietnam",
        "zero-area",
        "negative-area",
    ],
)
def test_create_growing_area_rejects_invalid_geometry_naming_the_field(
    client: TestClient, db: Session, overrides: dict[str, Any], field: str
) -> None:
    org = make_org(db)
    response = client.post(URL, json=area_body(**overrides), headers=api_headers(db, org))
    assert field in field_names(response)
    assert db.scalar(select(GrowingArea).where(GrowingArea.org_id == org.id)) is None


def test_create_growing_area_reports_several_field_errors_at_once(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    body = area_body(code="x", province_code="99", geometry=UNCLOSED)
    response = client.post(URL, json=body, headers=api_headers(db, org))
    assert set(field_names(response)) == {"code", "province_code", "geometry"}


def test_create_growing_area_rejects_duplicate_code_naming_it(
    client: TestClient, db: Session
) -> None:
    other = make_org(db)
    make_growing_area(db, other, code="VN-BNOR-0101")
    org = make_org(db)
    response = client.post(URL, json=area_body(code="vn-bnor-0101"), headers=api_headers(db, org))
    assert field_names(response) == ["code"]
    assert "VN-BNOR-0101" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("code", ["AB", "VN BN 01", "-VN-01", "VẢI-01", "A" * 65])
def test_create_growing_area_rejects_badly_formed_code(
    client: TestClient, db: Session, code: str
) -> None:
    org = make_org(db)
    response = client.post(URL, json=area_body(code=code), headers=api_headers(db, org))
    assert field_names(response) == ["code"]


def test_create_growing_area_requires_a_known_province(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    body = area_body()
    del body["province_code"]
    assert "province_code" in field_names(client.post(URL, json=body, headers=headers))
    unknown = client.post(URL, json=area_body(province_code="99"), headers=headers)
    assert field_names(unknown) == ["province_code"]


def test_create_growing_area_rejects_owner_shares_larger_than_the_area(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    owners = [{"name": "Nguyễn Văn An", "area_ha": 4.0}, {"name": "Lê Văn Cường", "area_ha": 4.0}]
    response = client.post(URL, json=area_body(owners=owners), headers=api_headers(db, org))
    assert field_names(response) == ["owners"]


def test_create_growing_area_rejects_owner_household_that_is_not_a_household(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    enterprise = make_org(db)
    household = make_org(db, kind=OrgKind.household)
    owners = [
        {"name": "Hộ ông An", "household_org_id": str(household.id)},
        {"name": "Công ty", "household_org_id": str(enterprise.id)},
    ]
    response = client.post(URL, json=area_body(owners=owners), headers=api_headers(db, org))
    assert response.json()["errors"][0]["loc"] == ["owners", 1, "household_org_id"]


def test_create_growing_area_rejects_bad_export_market(client: TestClient, db: Session) -> None:
    org = make_org(db)
    response = client.post(
        URL, json=area_body(export_markets="EU, U S"), headers=api_headers(db, org)
    )
    assert response.json()["errors"][0]["loc"] == ["export_markets", 1]


def test_create_growing_area_for_another_org_is_404(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    body = area_body(org_id=str(org_b.id))
    response = client.post(URL, json=body, headers=api_headers(db, org_a))
    assert response.status_code == 404
    assert db.scalar(select(GrowingArea).where(GrowingArea.org_id == org_b.id)) is None


def test_authority_and_inspector_cannot_create_growing_areas(
    client: TestClient, db: Session
) -> None:
    authority = make_authority(db)
    producer = make_org(db)
    for role in (Role.authority, Role.inspector):
        headers = api_headers(db, authority, role)
        assert client.post(URL, json=area_body(), headers=headers).status_code == 403
        own = client.post(URL, json=area_body(org_id=str(producer.id)), headers=headers)
        assert own.status_code == 403


def test_growing_areas_need_credentials(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=area_body()).status_code == 401


def test_list_growing_areas_shows_only_the_callers_own(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    mine = make_growing_area(db, org_a)
    make_growing_area(db, org_b)
    data = client.get(URL, headers=api_headers(db, org_a)).json()
    assert data["total"] == 1
    assert [a["id"] for a in data["items"]] == [str(mine.id)]


def test_list_growing_areas_filters_by_status_crop_province_and_text(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    lychee = make_growing_area(db, org, code="VN-BNOR-0001", name="Vùng Thanh Hà")
    longan = make_growing_area(
        db, org, code="VN-BNOR-0002", crop="Nhãn", status=CodeStatus.approved
    )
    shrimp = make_growing_area(
        db, org, code="VN-CMOR-0003", crop="Tôm", geometry=CA_MAU_POINT, province_code="96"
    )
    headers = api_headers(db, org)

    def ids(**params: Any) -> set[str]:
        return {a["id"] for a in client.get(URL, params=params, headers=headers).json()["items"]}

    assert ids() == {str(lychee.id), str(longan.id), str(shrimp.id)}
    assert ids(status="approved") == {str(longan.id)}
    assert ids(crop="nhã") == {str(longan.id)}
    assert ids(province_code="96") == {str(shrimp.id)}
    assert ids(q="thanh hà") == {str(lychee.id)}
    assert ids(q="bnor") == {str(lychee.id), str(longan.id)}
    assert ids(q="%") == set()
    assert ids(org_id=str(make_org(db).id)) == set()
    page = client.get(URL, params={"limit": 2, "offset": 2}, headers=headers).json()
    assert page["total"] == 3 and len(page["items"]) == 1


def test_another_orgs_growing_area_is_404_on_every_endpoint_and_stays_unchanged(
    client: TestClient, db: Session
) -> None:
    org_a, org_b = make_org(db), make_org(db)
    area = make_growing_area(db, org_b, name="Vùng của B")
    headers = api_headers(db, org_a)
    assert client.get(f"{URL}/{area.id}", headers=headers).status_code == 404
    assert client.get(f"{URL}/{area.id}/geojson", headers=headers).status_code == 404
    patch = client.patch(f"{URL}/{area.id}", json={"name": "Của A"}, headers=headers)
    assert patch.status_code == 404
    decision = client.post(
        f"{URL}/{area.id}/decision", json={"status": "approved"}, headers=headers
    )
    assert decision.status_code == 404
    assert decision.headers["content-type"].startswith("application/problem+json")
    db.expire_all()
    stored = db.get(GrowingArea, area.id)
    assert stored is not None
    assert (stored.name, stored.status) == ("Vùng của B", CodeStatus.pending)
    assert audit_entries(db, area.id) == []


def test_unknown_growing_area_is_404(client: TestClient, db: Session) -> None:
    org = make_org(db)
    response = client.get(
        f"{URL}/01890000-0000-7000-8000-000000000000", headers=api_headers(db, org)
    )
    assert response.status_code == 404


def test_authority_sees_its_province_only(client: TestClient, db: Session) -> None:
    producer_bn = make_org(db, province_code="24")
    producer_cm = make_org(db, province_code="96")
    bac_ninh = make_growing_area(db, producer_bn)
    ca_mau = make_growing_area(db, producer_cm, geometry=CA_MAU_POINT, province_code="96")
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert client.get(f"{URL}/{bac_ninh.id}", headers=headers).status_code == 200
    assert client.get(f"{URL}/{ca_mau.id}", headers=headers).status_code == 404
    listed = client.get(URL, headers=headers).json()
    assert [a["id"] for a in listed["items"]] == [str(bac_ninh.id)]


def test_authority_reads_areas_in_its_province_of_producers_from_elsewhere(
    client: TestClient, db: Session
) -> None:
    producer_cm = make_org(db, province_code="96")
    area = make_growing_area(db, producer_cm, province_code="24")
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert client.get(f"{URL}/{area.id}", headers=headers).status_code == 200
    assert [a["id"] for a in client.get(URL, headers=headers).json()["items"]] == [str(area.id)]


def test_authority_cannot_edit_a_growing_area_it_can_read(client: TestClient, db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    response = client.patch(f"{URL}/{area.id}", json={"name": "Đổi tên"}, headers=headers)
    assert response.status_code == 403


def test_org_staff_edits_its_own_growing_area(client: TestClient, db: Session) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    response = client.patch(
        f"{URL}/{area.id}",
        json={"name": "Vùng mới", "export_markets": ["jp"], "owners": [{"name": "Hộ bà Hoa"}]},
        headers=api_headers(db, org, Role.org_staff),
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["name"], data["export_markets"]) == ("Vùng mới", ["JP"])
    assert [o["name"] for o in data["owners"]] == ["Hộ bà Hoa"]
    update = audit_entries(db, area.id)[-1]
    assert update.action == "update"
    assert update.changes["name"] == ["", "Vùng mới"]


def test_editing_an_approved_areas_geometry_returns_it_to_pending(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    approve(db, client, area.id)
    ring = [[lon + 0.001, lat] for lon, lat in LUC_NGAN_POLYGON["coordinates"][0]]
    response = client.patch(
        f"{URL}/{area.id}",
        json={"geometry": {"type": "Polygon", "coordinates": [ring]}},
        headers=api_headers(db, org),
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["status"] == "pending"
    assert data["decided_at"] is None
    assert data["centroid"]["lon"] > 106.549
    entry = audit_entries(db, area.id)[-1]
    assert entry.action == "update"
    assert entry.changes["status"] == ["approved", "pending"]
    assert entry.changes["reapproval_required"] == ["geometry"]


def test_editing_an_approved_areas_name_keeps_it_approved(client: TestClient, db: Session) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    approve(db, client, area.id)
    response = client.patch(
        f"{URL}/{area.id}", json={"name": "Tên mới"}, headers=api_headers(db, org)
    )
    assert response.json()["status"] == "approved"
    assert "reapproval_required" not in audit_entries(db, area.id)[-1].changes


def test_changing_an_approved_areas_crop_returns_it_to_pending(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    approve(db, client, area.id)
    response = client.patch(f"{URL}/{area.id}", json={"crop": "Nhãn"}, headers=api_headers(db, org))
    assert response.json()["status"] == "pending"


def test_patching_area_ha_rechecks_it_against_the_stored_polygon(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    headers = api_headers(db, org)
    response = client.patch(f"{URL}/{area.id}", json={"area_ha": 20}, headers=headers)
    assert field_names(response) == ["geometry"]
    db.expire_all()
    assert db.get(GrowingArea, area.id).area_ha == LUC_NGAN_HA  # type: ignore[union-attr]
    ok = client.patch(f"{URL}/{area.id}", json={"area_ha": 5.3}, headers=headers)
    assert ok.status_code == 200 and ok.json()["area_ha"] == 5.3


def test_code_can_be_renamed_while_pending_but_not_once_approved(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    taken = make_growing_area(db, org)
    headers = api_headers(db, org)
    dup = client.patch(f"{URL}/{area.id}", json={"code": taken.code.lower()}, headers=headers)
    assert field_names(dup) == ["code"]
    renamed = client.patch(f"{URL}/{area.id}", json={"code": "vn-bnor-9000"}, headers=headers)
    assert renamed.json()["code"] == "VN-BNOR-9000"
    approve(db, client, area.id)
    refused = client.patch(f"{URL}/{area.id}", json={"code": "VN-BNOR-9001"}, headers=headers)
    assert refused.status_code == 409


def test_revoked_growing_area_cannot_be_edited(client: TestClient, db: Session) -> None:
    org = make_org(db)
    area = make_growing_area(db, org, status=CodeStatus.revoked)
    response = client.patch(f"{URL}/{area.id}", json={"name": "x"}, headers=api_headers(db, org))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


def test_growing_area_geojson_is_a_feature_with_its_properties(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org, code="VN-BNOR-0042")
    response = client.get(f"{URL}/{area.id}/geojson", headers=api_headers(db, org))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] == LUC_NGAN_POLYGON
    props = feature["properties"]
    assert (props["code"], props["crop"], props["area_ha"], props["status"]) == (
        "VN-BNOR-0042",
        "Vải thiều",
        LUC_NGAN_HA,
        "pending",
    )


def test_concurrent_duplicate_code_becomes_a_field_error_not_a_crash(db: Session) -> None:
    org = make_org(db)
    existing = make_growing_area(db, org)
    # Skips the pre-check, as a request racing another one would.
    with pytest.raises(ValidationFailed) as exc, guarded_code(db, GrowingArea.code, existing.code):
        db.add(
            GrowingArea(
                org_id=org.id,
                code=existing.code,
                crop="Vải thiều",
                area_ha=existing.area_ha,
                computed_area_ha=existing.computed_area_ha,
                geometry=existing.geometry,
                centroid_lat=existing.centroid_lat,
                centroid_lon=existing.centroid_lon,
                province_code="24",
            )
        )
    assert exc.value.errors[0].loc == ["code"]
    # The outer transaction is still usable after the savepoint rolled back.
    assert db.get(GrowingArea, existing.id) is not None


def test_create_growing_area_reports_a_non_object_geometry_on_the_geometry_field(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    for geometry in ([106.55, 21.38], 42, None):
        response = client.post(URL, json=area_body(geometry=geometry), headers=api_headers(db, org))
        assert field_names(response) == ["geometry"]
