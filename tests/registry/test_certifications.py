"""Certifications over HTTP: scope rules, validity, state, revocation, documents, isolation."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    api_headers,
    make_authority,
    make_certification,
    make_facility,
    make_org,
    make_product,
)
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.db import utcnow
from truyxuat.registry.models import Certification, CertScheme, CertScope
from truyxuat.registry.schemas.certifications import vietnam_today
from truyxuat.registry.service.certifications import certifications_for

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def _body(scope_type: str, scope_id: object, **extra: object) -> dict[str, object]:
    today = vietnam_today()
    return {
        "scheme": "vietgap",
        "issuer": "Trung tâm Chứng nhận phù hợp QUACERT",
        "number": "VietGAP-TT-21-05-24-0001",
        "scope_type": scope_type,
        "scope_id": str(scope_id) if scope_id else None,
        "valid_from": (today - timedelta(days=100)).isoformat(),
        "valid_to": (today + timedelta(days=600)).isoformat(),
        **extra,
    }


def test_create_certification_for_a_product_is_valid_and_audited(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    product = make_product(db, org)
    response = client.post(
        "/api/v1/certifications",
        json=_body("product", product.id),
        headers=api_headers(db, org, Role.org_staff),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["org_id"] == str(org.id)
    assert body["scope_id"] == str(product.id)
    assert body["state"] == "valid"
    assert body["document_url"] is None
    entry = db.scalar(select(AuditEntry).where(AuditEntry.entity_id == body["id"]))
    assert entry is not None and entry.action == "create" and entry.entity_type == "certification"


def test_organization_scope_defaults_to_the_organization_itself(
    client: TestClient, db: Session
) -> None:
    org, other = make_org(db), make_org(db)
    headers = api_headers(db, org)
    response = client.post(
        "/api/v1/certifications",
        json=_body("organization", None, scheme="iso22000"),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["scope_id"] == str(org.id)
    wrong = client.post(
        "/api/v1/certifications", json=_body("organization", other.id), headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "scope_id"


def test_create_certification_rejects_scope_object_of_another_org(
    client: TestClient, db: Session
) -> None:
    org, other = make_org(db), make_org(db)
    foreign_product = make_product(db, other)
    foreign_facility = make_facility(db, other)
    headers = api_headers(db, org)
    for scope_type, scope_id in [
        ("product", foreign_product.id),
        ("facility", foreign_facility.id),
        ("growing_area", foreign_product.id),
        ("packing_house", None),
    ]:
        response = client.post(
            "/api/v1/certifications", json=_body(scope_type, scope_id), headers=headers
        )
        assert response.status_code in (404, 422), scope_type
        assert response.json()["errors"][0]["field"] == "scope_id"
    assert db.scalar(select(Certification).where(Certification.org_id == org.id)) is None


def test_create_certification_rejects_expired_and_inverted_validity(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    today = vietnam_today()
    expired = client.post(
        "/api/v1/certifications",
        json=_body(
            "organization",
            None,
            valid_from=(today - timedelta(days=800)).isoformat(),
            valid_to=(today - timedelta(days=1)).isoformat(),
        ),
        headers=headers,
    )
    assert expired.status_code == 422
    error = expired.json()["errors"][0]
    assert error["field"] == "valid_to"
    assert "expired" in error["message"]
    inverted = client.post(
        "/api/v1/certifications",
        json=_body(
            "organization",
            None,
            valid_from=(today + timedelta(days=10)).isoformat(),
            valid_to=(today + timedelta(days=5)).isoformat(),
        ),
        headers=headers,
    )
    assert inverted.status_code == 422
    assert inverted.json()["errors"][0]["field"] == "valid_to"


def test_create_certification_rejects_duplicate_number_and_unnamed_other_scheme(
    client: TestClient, db: Session
) -> None:
    org, other = make_org(db), make_org(db)
    existing = make_certification(db, other, issuer="QUACERT", number="GG-1")
    headers = api_headers(db, org)
    duplicate = client.post(
        "/api/v1/certifications",
        json=_body("organization", None, issuer=existing.issuer, number=existing.number),
        headers=headers,
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "number"
    unnamed = client.post(
        "/api/v1/certifications", json=_body("organization", None, scheme="other"), headers=headers
    )
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "scheme_name"
    named = client.post(
        "/api/v1/certifications",
        json=_body("organization", None, scheme="other", scheme_name="Rainforest Alliance"),
        headers=headers,
    )
    assert named.status_code == 201, named.text


def test_state_is_computed_and_filterable(client: TestClient, db: Session) -> None:
    org = make_org(db)
    today = vietnam_today()
    valid = make_certification(db, org)
    expiring = make_certification(db, org, valid_to=today + timedelta(days=10))
    expired = make_certification(
        db, org, valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=1)
    )
    revoked = make_certification(db, org, revoked_at=utcnow())
    future = make_certification(
        db, org, valid_from=today + timedelta(days=5), valid_to=today + timedelta(days=365)
    )
    headers = api_headers(db, org)
    expected = {
        valid.id: "valid",
        expiring.id: "expiring",
        expired.id: "expired",
        revoked.id: "revoked",
        future.id: "not_yet_valid",
    }
    for cert_id, state in expected.items():
        body = client.get(f"/api/v1/certifications/{cert_id}", headers=headers).json()
        assert body["state"] == state
        listed = client.get(f"/api/v1/certifications?state={state}", headers=headers).json()
        assert [item["id"] for item in listed["items"]] == [str(cert_id)]


def test_list_certifications_filters_and_hides_other_tenants(
    client: TestClient, db: Session
) -> None:
    org, other = make_org(db), make_org(db)
    product = make_product(db, org)
    on_product = make_certification(
        db, org, scope_type=CertScope.product, scope_id=product.id, scheme=CertScheme.organic
    )
    on_org = make_certification(db, org)
    make_certification(db, other)
    headers = api_headers(db, org)

    def ids(params: dict[str, str]) -> set[str]:
        body = client.get("/api/v1/certifications", params=params, headers=headers).json()
        return {item["id"] for item in body["items"]}

    assert ids({}) == {str(on_product.id), str(on_org.id)}
    assert ids({"scope_type": "product"}) == {str(on_product.id)}
    assert ids({"scope_id": str(product.id)}) == {str(on_product.id)}
    assert ids({"scheme": "organic"}) == {str(on_product.id)}
    assert ids({"org_id": str(other.id)}) == set()


def test_update_certification_corrects_dates_but_not_a_revoked_one(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    cert = make_certification(db, org)
    headers = api_headers(db, org)
    new_end = (vietnam_today() + timedelta(days=900)).isoformat()
    response = client.patch(
        f"/api/v1/certifications/{cert.id}", json={"valid_to": new_end}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["valid_to"] == new_end
    past = client.patch(
        f"/api/v1/certifications/{cert.id}",
        json={"valid_to": (vietnam_today() - timedelta(days=2)).isoformat()},
        headers=headers,
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "valid_to"
    revoked = make_certification(db, org, revoked_at=utcnow())
    frozen = client.patch(
        f"/api/v1/certifications/{revoked.id}", json={"issuer": "Khác"}, headers=headers
    )
    assert frozen.status_code == 409


def test_revoke_by_org_admin_or_provincial_authority_only(client: TestClient, db: Session) -> None:
    org = make_org(db, province_code="24")
    by_admin, by_authority = make_certification(db, org), make_certification(db, org)
    staff = api_headers(db, org, Role.org_staff)
    assert (
        client.post(f"/api/v1/certifications/{by_admin.id}/revoke", headers=staff).status_code
        == 403
    )
    far = api_headers(db, make_authority(db, province_code="96"), Role.authority)
    assert (
        client.post(f"/api/v1/certifications/{by_admin.id}/revoke", headers=far).status_code == 404
    )
    admin = api_headers(db, org, Role.org_admin)
    response = client.post(
        f"/api/v1/certifications/{by_admin.id}/revoke",
        json={"reason": "Cơ sở ngừng sản xuất"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked"
    again = client.post(f"/api/v1/certifications/{by_admin.id}/revoke", headers=admin)
    assert again.status_code == 409
    near = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    response = client.post(f"/api/v1/certifications/{by_authority.id}/revoke", headers=near)
    assert response.status_code == 200, response.text
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(by_admin.id), AuditEntry.action == "revoke"
        )
    )
    assert entry is not None and entry.changes["reason"] == "Cơ sở ngừng sản xuất"


def test_document_upload_accepts_pdf_and_rejects_disguised_text(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    cert = make_certification(db, org)
    headers = api_headers(db, org)
    url = f"/api/v1/certifications/{cert.id}/document"
    fake = client.post(
        url, files={"file": ("cert.pdf", b"just some text", "application/pdf")}, headers=headers
    )
    assert fake.status_code == 415
    response = client.post(
        url, files={"file": ("chung-nhan.pdf", PDF, "application/pdf")}, headers=headers
    )
    assert response.status_code == 200, response.text
    document_url = response.json()["document_url"]
    served = client.get(document_url, headers=headers)
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(cert.id), AuditEntry.action == "attach_document"
        )
    )
    assert entry is not None


def test_other_tenant_gets_404_on_every_certification_endpoint(
    client: TestClient, db: Session
) -> None:
    org_a, org_b = make_org(db), make_org(db)
    cert = make_certification(db, org_b, number="B-0001")
    owner = api_headers(db, org_b)
    document = client.post(
        f"/api/v1/certifications/{cert.id}/document",
        files={"file": ("b.pdf", PDF, "application/pdf")},
        headers=owner,
    ).json()["document_url"]
    headers = api_headers(db, org_a)
    url = f"/api/v1/certifications/{cert.id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"number": "A-1"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert client.post(f"{url}/revoke", headers=headers).status_code == 404
    upload = client.post(
        f"{url}/document", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=headers
    )
    assert upload.status_code == 404
    assert client.get(document, headers=headers).status_code == 404
    assert client.get("/api/v1/certifications", headers=headers).json()["total"] == 0
    db.expire_all()
    unchanged = db.get(Certification, cert.id)
    assert unchanged is not None and unchanged.number == "B-0001"
    assert unchanged.revoked_at is None and unchanged.document_file_id is not None


def test_staff_cannot_create_certification_in_another_org(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    response = client.post(
        "/api/v1/certifications",
        json=_body("organization", org_b.id, org_id=str(org_b.id)),
        headers=api_headers(db, org_a, Role.org_staff),
    )
    assert response.status_code in (403, 404)
    assert db.scalar(select(Certification).where(Certification.org_id == org_b.id)) is None


def test_authority_sees_certificates_in_its_province_only(client: TestClient, db: Session) -> None:
    near = make_certification(db, make_org(db, province_code="24"))
    far = make_certification(db, make_org(db, province_code="96"))
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert client.get(f"/api/v1/certifications/{near.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/certifications/{far.id}", headers=headers).status_code == 404
    listed = client.get("/api/v1/certifications", headers=headers).json()
    assert [item["id"] for item in listed["items"]] == [str(near.id)]


def test_delete_certification_removes_it(client: TestClient, db: Session) -> None:
    org = make_org(db)
    cert = make_certification(db, org)
    headers = api_headers(db, org)
    assert client.delete(f"/api/v1/certifications/{cert.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/certifications/{cert.id}", headers=headers).status_code == 404


def test_certifications_for_returns_only_those_valid_on_the_day(db: Session) -> None:
    org = make_org(db)
    product = make_product(db, org)
    today = vietnam_today()

    def cert(**fields: object) -> Certification:
        return make_certification(
            db, org, scope_type=CertScope.product, scope_id=product.id, **fields
        )

    current = cert()
    cert(revoked_at=utcnow())
    cert(valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=1))
    future = cert(valid_from=today + timedelta(days=10), valid_to=today + timedelta(days=400))
    make_certification(db, org)  # the organization's own, not the product's
    assert [c.id for c in certifications_for(db, CertScope.product, product.id)] == [current.id]
    later = certifications_for(db, CertScope.product, product.id, on=today + timedelta(days=20))
    assert {c.id for c in later} == {current.id, future.id}
    assert certifications_for(db, CertScope.product, product.id, on=date(2000, 1, 1)) == []
