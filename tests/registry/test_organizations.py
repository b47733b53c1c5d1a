"""Organizations: registration, profile, approval, and tenant isolation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.gs1 import make_gln
from truyxuat.registry.models import Organization, OrgKind, OrgStatus


def _org_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "HTX-VAI-LUC-NGAN",
        "kind": "cooperative",
        "name": "Hợp tác xã Vải thiều Lục Ngạn",
        "tax_code": "2400123456",
        "gs1_company_prefix": "893612345",
        "gln": make_gln("893612345", 1),
        "province_code": "24",
        "address": "Xã Lục Ngạn, tỉnh Bắc Ninh",
    }
    body.update(overrides)
    return body


def test_authority_registers_org_in_its_province(client: TestClient, db: Session) -> None:
    authority = make_authority(db, province_code="24")
    response = client.post(
        "/api/v1/organizations",
        json=_org_body(),
        headers=api_headers(db, authority, Role.authority),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "approved"
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity_type == "organization")
        )
        == 1
    )


def test_authority_cannot_register_org_in_another_province(client: TestClient, db: Session) -> None:
    authority = make_authority(db, province_code="96")
    response = client.post(
        "/api/v1/organizations",
        json=_org_body(),
        headers=api_headers(db, authority, Role.authority),
    )
    assert response.status_code == 403


def test_self_registration_creates_pending_org_with_admin(client: TestClient, db: Session) -> None:
    response = client.post(
        "/api/v1/registrations",
        json={
            "organization": _org_body(),
            "admin_email": "chu.nhiem@htx.vn",
            "admin_name": "Nguyễn Văn An",
            "admin_password": "mat-khau-rat-dai",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"


def test_self_registration_cannot_create_an_authority(client: TestClient, db: Session) -> None:
    response = client.post(
        "/api/v1/registrations",
        json={
            "organization": _org_body(kind="authority"),
            "admin_email": "x@y.vn",
            "admin_name": "X Y",
            "admin_password": "mat-khau-rat-dai",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"


def test_bad_gln_check_digit_is_rejected_naming_the_field(client: TestClient, db: Session) -> None:
    authority = make_authority(db)
    gln = make_gln("893612345", 1)
    bad = gln[:-1] + str((int(gln[-1]) + 1) % 10)
    response = client.post(
        "/api/v1/organizations",
        json=_org_body(gln=bad),
        headers=api_headers(db, authority, Role.authority),
    )
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["errors"][0]["field"] == "gln"
    assert body["errors"][0]["pointer"] == "#/gln"


def test_gln_outside_company_prefix_is_rejected(client: TestClient, db: Session) -> None:
    authority = make_authority(db)
    response = client.post(
        "/api/v1/organizations",
        json=_org_body(gln=make_gln("893999999", 1)),
        headers=api_headers(db, authority, Role.authority),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "gln"


def test_duplicate_code_and_tax_code_are_rejected(client: TestClient, db: Session) -> None:
    authority = make_authority(db)
    headers = api_headers(db, authority, Role.authority)
    assert (
        client.post("/api/v1/organizations", json=_org_body(), headers=headers).status_code == 201
    )
    dup_code = client.post(
        "/api/v1/organizations",
        json=_org_body(tax_code="2400999999", gln=None, gs1_company_prefix=None),
        headers=headers,
    )
    assert dup_code.status_code == 422
    assert dup_code.json()["errors"][0]["field"] == "code"
    dup_tax = client.post(
        "/api/v1/organizations",
        json=_org_body(code="OTHER", gln=None, gs1_company_prefix=None),
        headers=headers,
    )
    assert dup_tax.status_code == 422
    assert dup_tax.json()["errors"][0]["field"] == "tax_code"


def test_unknown_province_is_rejected(client: TestClient, db: Session) -> None:
    admin_org = make_org(db, kind=OrgKind.platform, province_code=None)
    response = client.post(
        "/api/v1/organizations",
        json=_org_body(province_code="99"),
        headers=api_headers(db, admin_org, Role.platform_admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "province_code"


def test_validation_messages_in_vietnamese_by_default(client: TestClient, db: Session) -> None:
    authority = make_authority(db)
    headers = api_headers(db, authority, Role.authority)
    headers["Accept-Language"] = "vi"
    response = client.post("/api/v1/organizations", json=_org_body(tax_code="12"), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tax_code"


def test_org_cannot_read_or_change_another_org(client: TestClient, db: Session) -> None:
    a, b = make_org(db), make_org(db, name="Công ty B")
    headers = api_headers(db, a, Role.org_admin)
    assert client.get(f"/api/v1/organizations/{a.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/organizations/{b.id}", headers=headers).status_code == 404
    patch = client.patch(f"/api/v1/organizations/{b.id}", json={"name": "Bị sửa"}, headers=headers)
    assert patch.status_code == 404
    decision = client.post(
        f"/api/v1/organizations/{b.id}/decision", json={"status": "suspended"}, headers=headers
    )
    assert decision.status_code == 404
    db.expire_all()
    assert db.get(Organization, b.id).name == "Công ty B"  # type: ignore[union-attr]
    listed = client.get("/api/v1/organizations", headers=headers).json()
    assert [o["id"] for o in listed["items"]] == [str(a.id)]


def test_org_staff_cannot_change_the_org_profile(client: TestClient, db: Session) -> None:
    a = make_org(db)
    response = client.patch(
        f"/api/v1/organizations/{a.id}",
        json={"name": "Tên mới"},
        headers=api_headers(db, a, Role.org_staff),
    )
    assert response.status_code == 403


def test_authority_sees_only_its_jurisdiction(client: TestClient, db: Session) -> None:
    bac_ninh = make_org(db, province_code="24")
    ca_mau = make_org(db, province_code="96")
    authority = make_authority(db, province_code="24")
    headers = api_headers(db, authority, Role.authority)
    assert client.get(f"/api/v1/organizations/{bac_ninh.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/organizations/{ca_mau.id}", headers=headers).status_code == 404
    ids = {o["id"] for o in client.get("/api/v1/organizations", headers=headers).json()["items"]}
    assert str(bac_ninh.id) in ids and str(ca_mau.id) not in ids


def test_national_authority_sees_every_province(client: TestClient, db: Session) -> None:
    ca_mau = make_org(db, province_code="96")
    moit = make_authority(db, province_code=None)
    headers = api_headers(db, moit, Role.authority)
    assert client.get(f"/api/v1/organizations/{ca_mau.id}", headers=headers).status_code == 200


def test_authority_approves_pending_org_in_jurisdiction(client: TestClient, db: Session) -> None:
    pending = make_org(db, province_code="24", status=OrgStatus.pending)
    authority = make_authority(db, province_code="24")
    response = client.post(
        f"/api/v1/organizations/{pending.id}/decision",
        json={"status": "approved"},
        headers=api_headers(db, authority, Role.authority),
    )
    assert response.status_code == 200
    assert response.json()["status"] == "approved"


def test_inspector_reads_but_cannot_approve(client: TestClient, db: Session) -> None:
    pending = make_org(db, province_code="24", status=OrgStatus.pending)
    authority = make_authority(db, province_code="24")
    headers = api_headers(db, authority, Role.inspector)
    assert client.get(f"/api/v1/organizations/{pending.id}", headers=headers).status_code == 200
    response = client.post(
        f"/api/v1/organizations/{pending.id}/decision", json={"status": "approved"}, headers=headers
    )
    assert response.status_code == 403


def test_failed_update_changes_nothing(client: TestClient, db: Session) -> None:
    a = make_org(db, name="Tên cũ")
    response = client.patch(
        f"/api/v1/organizations/{a.id}",
        json={"name": "Tên mới", "gln": "8930000000000"},
        headers=api_headers(db, a, Role.org_admin),
    )
    assert response.status_code == 422
    db.expire_all()
    assert db.get(Organization, a.id).name == "Tên cũ"  # type: ignore[union-attr]


def test_explicit_null_clears_optional_text_and_is_refused_for_the_name(
    client: TestClient, db: Session
) -> None:
    a = make_org(db, name="Tên cũ", contact_name="Chị Lan")
    headers = api_headers(db, a, Role.org_admin)
    cleared = client.patch(
        f"/api/v1/organizations/{a.id}", json={"contact_name": None}, headers=headers
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["contact_name"] == ""
    refused = client.patch(f"/api/v1/organizations/{a.id}", json={"name": None}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "#/name"


def test_a_huge_offset_is_a_validation_error_not_a_crash(client: TestClient, db: Session) -> None:
    a = make_org(db)
    response = client.get(
        "/api/v1/organizations", params={"offset": 10**30}, headers=api_headers(db, a)
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
