"""Registry pages over HTTP: every page needs a login, lists filter, forms save or explain."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    LUC_NGAN_POLYGON,
    gtin_for,
    make_authority,
    make_certification,
    make_facility,
    make_growing_area,
    make_org,
    make_packing_house,
    make_product,
    make_user,
)
from tests.web.conftest import Browser
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.gs1 import make_gln
from truyxuat.registry.models import (
    AdminUnit,
    Certification,
    CodeStatus,
    Facility,
    FacilityKind,
    GrowingArea,
    Organization,
    OrgStatus,
    PackingHouse,
    Product,
)


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


# --- every list page renders for a signed-in producer, in both languages -------------------------


@pytest.mark.parametrize(
    ("path", "vi", "en"),
    [
        ("/registry/organizations", "Tổ chức", "Organizations"),
        ("/registry/facilities", "Cơ sở", "Facilities"),
        ("/registry/growing-areas", "Vùng trồng", "Growing areas"),
        ("/registry/packing-houses", "Cơ sở đóng gói", "Packing houses"),
        ("/registry/products", "Sản phẩm", "Products"),
        ("/registry/certifications", "Chứng nhận", "Certifications"),
        ("/registry/import", "Nhập dữ liệu từ CSV hoặc Excel", "Import from CSV or Excel"),
    ],
)
def test_list_pages_render_in_both_languages(
    browser: Browser, db: Session, path: str, vi: str, en: str
) -> None:
    org = make_org(db)
    make_facility(db, org)
    make_growing_area(db, org)
    make_packing_house(db, org)
    make_product(db, org, gtin=gtin_for(org, 1).zfill(14))
    make_certification(db, org)
    user = make_user(db, org, Role.org_admin)
    for lang, heading in (("vi", vi), ("en", en)):
        response = browser.login(user, lang).get(path)
        assert response.status_code == 200, response.text
        assert f"<h1>{heading}</h1>" in response.text


def test_every_form_renders_for_a_producer(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    for path in (
        "/registry/facilities/new",
        "/registry/growing-areas/new",
        "/registry/packing-houses/new",
        "/registry/products/new",
        "/registry/certifications/new",
    ):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert 'name="csrf_token"' in response.text


# --- facilities -------------------------------------------------------------------------------


def test_producer_registers_a_facility_and_edits_it(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    assert org.gs1_company_prefix
    response = browser.post(
        "/registry/facilities/new",
        {
            "org_id": str(org.id),
            "kind": "warehouse",
            "name": "Kho lạnh Lục Ngạn",
            "gln": make_gln(org.gs1_company_prefix, 7),
            "province_code": "24",
            "latitude": "21,3797",
            "longitude": "106,5491",
        },
    )
    assert response.status_code == 303, response.text
    facility = db.scalar(select(Facility).where(Facility.name == "Kho lạnh Lục Ngạn"))
    assert facility is not None and facility.latitude == pytest.approx(21.3797)
    edit = browser.post(
        f"/registry/facilities/{facility.id}/edit",
        {
            "kind": "warehouse",
            "name": "Kho lạnh số 2",
            "gln": facility.gln or "",
            "province_code": "24",
            "latitude": "21.3797",
            "longitude": "106.5491",
        },
    )
    assert edit.status_code == 303, edit.text
    db.refresh(facility)
    assert facility.name == "Kho lạnh số 2"


def test_facility_with_bad_gln_check_digit_is_refused_next_to_the_field(
    browser: Browser, db: Session
) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin), lang="en")
    assert org.gs1_company_prefix
    good = make_gln(org.gs1_company_prefix, 7)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    response = browser.post(
        "/registry/facilities/new",
        {"org_id": str(org.id), "kind": "farm", "name": "Vườn vải", "gln": bad},
    )
    assert response.status_code == 422
    assert 'id="err-gln"' in response.text and "check digit" in response.text
    assert db.scalar(select(Facility).where(Facility.name == "Vườn vải")) is None


# --- growing areas ------------------------------------------------------------------------------


def _area_form(org: Organization, code: str, geometry: dict[str, Any], area: str) -> dict[str, str]:
    return {
        "org_id": str(org.id),
        "code": code,
        "crop": "Vải thiều",
        "area_ha": area,
        "province_code": "24",
        "geometry": json.dumps(geometry),
        "owners": "Nguyễn Văn An; 0912345678; 3\nTrần Thị Bình",
    }


def test_growing_area_is_created_pending_with_owners_and_computed_area(
    browser: Browser, db: Session
) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    response = browser.post(
        "/registry/growing-areas/new", _area_form(org, "VN-BNVT-7001", LUC_NGAN_POLYGON, "5,2")
    )
    assert response.status_code == 303, response.text
    area = db.scalar(select(GrowingArea).where(GrowingArea.code == "VN-BNVT-7001"))
    assert area is not None and area.status is CodeStatus.pending
    assert area.computed_area_ha == pytest.approx(5.17, abs=0.01)
    page = browser.get(f"/registry/growing-areas/{area.id}")
    assert "Chờ duyệt" in page.text and "Nguyễn Văn An" in page.text and "5,17" in page.text
    assert '"type": "Feature"' in html.unescape(page.text)


def test_area_mismatch_is_shown_on_the_geometry_field(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin), lang="en")
    response = browser.post(
        "/registry/growing-areas/new", _area_form(org, "VN-BNVT-7002", LUC_NGAN_POLYGON, "9")
    )
    assert response.status_code == 422
    assert 'id="err-geometry"' in response.text and "differs from the polygon" in response.text
    assert db.scalar(select(GrowingArea).where(GrowingArea.code == "VN-BNVT-7002")) is None


def test_owner_error_names_its_line(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin), lang="en")
    form = _area_form(org, "VN-BNVT-7003", LUC_NGAN_POLYGON, "5.2")
    form["owners"] = "Nguyễn Văn An; 0912; 3\nTrần Thị Bình; ; -1"
    response = browser.post("/registry/growing-areas/new", form)
    assert response.status_code == 422
    assert 'id="err-owners"' in response.text and "Line 2" in response.text


def test_geometry_check_reports_the_area_while_typing(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin), lang="en")
    response = browser.post(
        "/registry/growing-areas/geometry-check",
        {"geometry": json.dumps(LUC_NGAN_POLYGON), "area_ha": "5"},
    )
    assert "Computed area: 5.17 ha" in response.text


def test_authority_suspends_an_approved_area_only_with_a_reason(
    browser: Browser, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org, status=CodeStatus.approved)
    authority = make_authority(db, province_code="24")
    browser.login(make_user(db, authority, Role.authority), lang="en")
    url = f"/registry/growing-areas/{area.id}/decision"
    refused = browser.post(url, {"status": "suspended", "reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.text
    assert (
        browser.post(url, {"status": "suspended", "reason": "Dư lượng thuốc BVTV"}).status_code
        == 303
    )
    db.refresh(area)
    assert area.status is CodeStatus.suspended


def test_producer_cannot_use_the_approval_queue(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    assert browser.get("/registry/approvals").status_code == 403


def test_authority_approves_a_packing_house_from_the_queue(browser: Browser, db: Session) -> None:
    org = make_org(db)
    house = make_packing_house(db, org, code="VN-BNPH-0042")
    authority = make_authority(db, province_code="24")
    browser.login(make_user(db, authority, Role.authority))
    queue = browser.get("/registry/approvals")
    assert "VN-BNPH-0042" in queue.text
    response = browser.post(f"/registry/approvals/packing_house/{house.id}", {"status": "approved"})
    assert response.status_code == 303
    db.refresh(house)
    assert house.status is CodeStatus.approved


def test_authority_of_another_province_cannot_decide(browser: Browser, db: Session) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    other = make_authority(db, province_code="96")
    browser.login(make_user(db, other, Role.authority))
    response = browser.post(f"/registry/approvals/growing_area/{area.id}", {"status": "approved"})
    assert response.status_code in (403, 404)
    db.refresh(area)
    assert area.status is CodeStatus.pending


# --- packing houses, products, certifications ----------------------------------------------------


def test_producer_applies_for_a_packing_house(browser: Browser, db: Session) -> None:
    org = make_org(db)
    facility = make_facility(db, org, kind=FacilityKind.packing_house)
    browser.login(make_user(db, org, Role.org_admin))
    response = browser.post(
        "/registry/packing-houses/new",
        {
            "org_id": str(org.id),
            "code": "vn-bnph-0777",
            "name": "Nhà đóng gói Phượng Sơn",
            "facility_id": str(facility.id),
            "crops": "Vải thiều, Nhãn",
            "province_code": "24",
            "capacity_tonnes_per_day": "12,5",
            "export_markets": "EU, US",
        },
    )
    assert response.status_code == 303, response.text
    house = db.scalar(select(PackingHouse).where(PackingHouse.code == "VN-BNPH-0777"))
    assert house is not None and house.status is CodeStatus.pending
    assert house.capacity_tonnes_per_day == 12.5


def test_product_with_three_languages_and_ocop(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    response = browser.post(
        "/registry/products/new",
        {
            "org_id": str(org.id),
            "gtin": gtin_for(org, 42),
            "name_vi": "Vải thiều sấy khô",
            "name_en": "Dried lychee",
            "name_zh": "荔枝干",
            "category": "Trái cây sấy",
            "ocop_stars": "4",
            "ocop_year": "2024",
            "origin_province_code": "24",
        },
    )
    assert response.status_code == 303, response.text
    product = db.scalar(select(Product).where(Product.category == "Trái cây sấy"))
    assert product is not None
    assert product.names == {"vi": "Vải thiều sấy khô", "en": "Dried lychee", "zh": "荔枝干"}
    english = browser.login(make_user(db, org, Role.org_staff), "en")
    assert "Dried lychee" in english.get("/registry/products").text


def test_product_without_vietnamese_name_is_refused_on_that_field(
    browser: Browser, db: Session
) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    response = browser.post(
        "/registry/products/new",
        {"org_id": str(org.id), "gtin": gtin_for(org, 43), "name_en": "Dried lychee"},
    )
    assert response.status_code == 422
    assert 'id="err-name_vi"' in response.text and "tên tiếng Việt" in response.text


def test_certification_is_registered_with_its_document_and_revoked(
    browser: Browser, db: Session
) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    browser.login(make_user(db, org, Role.org_admin), lang="en")
    today = date.today()
    response = browser.post(
        "/registry/certifications/new",
        {
            "org_id": str(org.id),
            "scheme": "globalgap",
            "issuer": "Control Union",
            "number": "GGN-4063061234567",
            "scope": f"growing_area:{area.id}",
            "valid_from": (today - timedelta(days=10)).isoformat(),
            "valid_to": (today + timedelta(days=20)).isoformat(),
        },
        files={"document": ("cert.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert response.status_code == 303, response.text
    cert = db.scalar(select(Certification).where(Certification.number == "GGN-4063061234567"))
    assert cert is not None and cert.document_file_id is not None
    page = browser.get(f"/registry/certifications/{cert.id}")
    assert "Expiring soon" in page.text and area.code in page.text
    revoked = browser.post(f"/registry/certifications/{cert.id}/revoke", {"reason": "Hết hạn"})
    assert revoked.status_code == 303
    db.refresh(cert)
    assert cert.revoked_at is not None


def test_expired_certificate_is_refused_in_vietnamese(browser: Browser, db: Session) -> None:
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    response = browser.post(
        "/registry/certifications/new",
        {
            "org_id": str(org.id),
            "scheme": "vietgap",
            "issuer": "QUACERT",
            "number": "VG-1",
            "scope": f"organization:{org.id}",
            "valid_from": "2020-01-01",
            "valid_to": "2021-01-01",
        },
    )
    assert response.status_code == 422
    assert "đã hết hạn" in response.text


# --- import -----------------------------------------------------------------------------------


def _facility_csv(org: Organization, rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["Loại cơ sở,Tên cơ sở,GLN,Mã tỉnh"]
    lines += [f"{kind},{name},{gln},24" for kind, name, gln in rows]
    return ("\n".join(lines) + "\n").encode()


def test_import_page_creates_every_row(browser: Browser, db: Session) -> None:
    org = make_org(db)
    assert org.gs1_company_prefix
    browser.login(make_user(db, org, Role.org_admin))
    data = _facility_csv(
        org,
        [
            ("kho", "Kho số 1", make_gln(org.gs1_company_prefix, 11)),
            ("nhà máy", "Xưởng sấy", make_gln(org.gs1_company_prefix, 12)),
        ],
    )
    response = browser.post(
        "/registry/import",
        {"kind": "facilities", "org_id": str(org.id)},
        files={"file": ("co-so.csv", data, "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert "Đã nhập 2 dòng" in response.text
    names = set(db.scalars(select(Facility.name).where(Facility.org_id == org.id)))
    assert {"Kho số 1", "Xưởng sấy"} <= names


def test_import_page_lists_row_and_column_errors_and_writes_nothing(
    browser: Browser, db: Session
) -> None:
    org = make_org(db)
    assert org.gs1_company_prefix
    browser.login(make_user(db, org, Role.org_admin), lang="en")
    data = _facility_csv(
        org,
        [
            ("kho", "Kho số 1", make_gln(org.gs1_company_prefix, 21)),
            ("kho", "Kho số 2", "8930000000000"),
        ],
    )
    response = browser.post(
        "/registry/import",
        {"kind": "facilities", "org_id": str(org.id)},
        files={"file": ("co-so.csv", data, "text/csv")},
    )
    assert response.status_code == 422
    assert "Nothing was imported" in response.text
    assert '<td data-label="Row">3</td>' in response.text
    assert db.scalar(select(Facility).where(Facility.name == "Kho số 1")) is None


# --- header fragments -------------------------------------------------------------------------


def test_member_of_two_organizations_can_switch_between_them(browser: Browser, db: Session) -> None:
    first, second = make_org(db, name="HTX Một"), make_org(db, name="HTX Hai")
    user = make_user(db, first, Role.org_admin)
    auth_service.add_membership(db, user=user, org=second, role=Role.org_staff)
    browser.login(user)
    assert 'hx-get="/registry/org-switcher' in browser.get("/registry/products").text
    switcher = browser.get("/registry/org-switcher?next=/registry/products")
    assert "HTX Một" in switcher.text and "HTX Hai" in switcher.text
    response = browser.post("/switch-org", {"org_id": str(second.id), "next": "/registry/products"})
    assert response.status_code == 303
    assert response.headers["location"] == "/registry/products"


def test_commune_choices_follow_the_province(browser: Browser, db: Session) -> None:
    db.add_all(
        [
            AdminUnit(code="07400", name="Xã Lục Ngạn", level="commune", parent_code="24"),
            AdminUnit(code="07401", name="Xã Phượng Sơn", level="commune", parent_code="24"),
        ]
    )
    org = make_org(db)
    browser.login(make_user(db, org, Role.org_admin))
    options = browser.get("/registry/communes?province_code=24&commune_code=07401").text
    assert "Xã Lục Ngạn" in options
    assert '<option value="07401" selected>Xã Phượng Sơn</option>' in options
    assert "Xã Lục Ngạn" not in browser.get("/registry/communes?province_code=96").text
