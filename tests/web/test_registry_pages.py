"""Registry pages over HTTP: every page needs a login, lists filter, forms save or explain."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_authority, make_org, make_user
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.registry.models import Organization, OrgStatus


def test_registry_page_without_login_redirects_to_login(client: TestClient) -> None:
    response = client.get("/registry/organizations", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/registry/organizations"


def test_organization_list_shows_own_org_in_vietnamese(browser: Browser, db: Session) -> None:
    org = make_org(db, name="Hợp tác xã Vải thiều Lục Ngạn")
    browser.login(make_user(db, org, Role.org_admin))
    response = browser.get("/registry/organizations")
    assert response.status_code == 200
    assert "Tổ chức" in response.text
    assert "Hợp tác xã Vải thiều Lục Ngạn" in response.text


def test_authority_registers_an_organization(browser: Browser, db: Session) -> None:
    authority = make_authority(db, province_code="24")
    browser.login(make_user(db, authority, Role.authority))
    form = browser.get("/registry/organizations/new")
    assert form.status_code == 200
    response = browser.post(
        "/registry/organizations/new",
        {
            "code": "HTX-VAI-01",
            "kind": "cooperative",
            "name": "HTX Vải Phì Điền",
            "province_code": "24",
            "tax_code": "2400123456",
        },
    )
    assert response.status_code == 303, response.text
    org = db.scalar(select(Organization).where(Organization.code == "HTX-VAI-01"))
    assert org is not None and org.status is OrgStatus.approved


def test_bad_tax_code_is_shown_next_to_its_field_and_nothing_is_saved(
    browser: Browser, db: Session
) -> None:
    authority = make_authority(db, province_code="24")
    browser.login(make_user(db, authority, Role.authority), lang="en")
    response = browser.post(
        "/registry/organizations/new",
        {
            "code": "HTX-BAD",
            "kind": "cooperative",
            "name": "HTX Lỗi",
            "province_code": "24",
            "tax_code": "12",
        },
    )
    assert response.status_code == 422
    assert 'id="err-tax_code"' in response.text
    assert "10 digits" in response.text
    assert db.scalar(select(Organization).where(Organization.code == "HTX-BAD")) is None


def test_missing_name_is_reported_in_vietnamese(browser: Browser, db: Session) -> None:
    authority = make_authority(db, province_code="24")
    browser.login(make_user(db, authority, Role.authority), lang="vi")
    response = browser.post(
        "/registry/organizations/new",
        {"code": "HTX-NONAME", "kind": "cooperative", "name": "", "province_code": "24"},
    )
    assert response.status_code == 422
    assert 'id="err-name"' in response.text
    assert "Trường này là bắt buộc" in response.text


def test_org_admin_edits_own_profile(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    assert browser.get(f"/registry/organizations/{org.id}/edit").status_code == 200
    response = browser.post(
        f"/registry/organizations/{org.id}/edit",
        {"name": "Công ty Nông sản Bắc Giang", "province_code": "24", "phone": "0204 3882 123"},
    )
    assert response.status_code == 303, response.text
    db.refresh(org)
    assert org.name == "Công ty Nông sản Bắc Giang" and org.phone == "0204 3882 123"


def test_other_tenant_cannot_open_an_organization(browser: Browser, db: Session) -> None:
    mine, theirs = make_org(db, province_code="22"), make_org(db, province_code="96")
    browser.login(make_user(db, mine, Role.org_admin))
    assert browser.get(f"/registry/organizations/{theirs.id}").status_code == 404
    response = browser.post(f"/registry/organizations/{theirs.id}/edit", {"name": "Hacked"})
    assert response.status_code == 404


def test_form_without_csrf_token_is_refused(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    browser.csrf = "wrong"
    response = browser.post(f"/registry/organizations/{org.id}/edit", {"name": "Tên mới"})
    assert response.status_code == 403


def test_authority_approves_a_pending_organization(browser: Browser, db: Session) -> None:
    authority = make_authority(db, province_code="24")
    pending = make_org(db, province_code="24", status=OrgStatus.pending)
    browser.login(make_user(db, authority, Role.authority))
    response = browser.post(
        f"/registry/organizations/{pending.id}/decision", {"status": "approved", "reason": ""}
    )
    assert response.status_code == 303
    db.refresh(pending)
    assert pending.status is OrgStatus.approved


def test_organization_list_filters_and_pages(browser: Browser, db: Session) -> None:
    authority = make_authority(db, province_code="33")
    for n in range(23):
        make_org(db, province_code="33", name=f"Hưng Yên {n:02d}")
    browser.login(make_user(db, authority, Role.authority), lang="en")
    first = browser.get("/registry/organizations?province_code=33&kind=enterprise")
    assert "1–20 of 23" in first.text
    assert 'rel="next"' in first.text
    second = browser.get("/registry/organizations?province_code=33&kind=enterprise&offset=20")
    assert "21–23 of 23" in second.text
