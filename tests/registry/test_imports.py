"""Registry imports: CSV/XLSX files of every kind, all or nothing, with per-row reports."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import api_headers, gtin_for, make_authority, make_facility, make_org
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.gs1 import make_gln
from truyxuat.registry.geometry import check_geometry, geojson_from_wkt_or_text
from truyxuat.registry.import_specs import parse_owners
from truyxuat.registry.imports import ImportKind, cell_text, decode_text, translate
from truyxuat.registry.models import (
    Certification,
    Facility,
    GrowingArea,
    GrowingAreaOwner,
    Organization,
    OrgKind,
    PackingHouse,
    Product,
)

SQUARE = "POLYGON((106.55 21.38, 106.552 21.38, 106.552 21.382, 106.55 21.382, 106.55 21.38))"
BOW_TIE = "POLYGON((106.56 21.38, 106.562 21.382, 106.562 21.38, 106.56 21.382, 106.56 21.38))"
ORG_HEADER = ("code", "kind", "name", "tax_code", "gs1_company_prefix", "gln", "province_code")
ENCODING_MESSAGE_START = "The file is not saved as UTF-8"


def _csv(rows: list[list[Any]], *, delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _xlsx(rows: list[list[Any]], *, title: str = "Sheet") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cp1258(text: str) -> bytes:
    """Encodes Vietnamese as Windows-1258 does (base letters plus combining tone marks)."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        base, *marks = unicodedata.normalize("NFD", char)
        half = unicodedata.normalize("NFC", base + marks[0]) + "".join(marks[1:]) if marks else char
        for candidate in (char, half, base + "".join(marks)):
            try:
                out += candidate.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return bytes(out)


def _org_rows(n: int = 3, *, start: int = 1) -> list[list[Any]]:
    rows: list[list[Any]] = [list(ORG_HEADER)]
    for i in range(start, start + n):
        prefix = f"8936{i:05d}"
        rows.append(
            [
                f"HTX-IMPORT-{i}",
                "Hợp tác xã",
                f"Hợp tác xã Vải thiều số {i}",
                f"24001234{i:02d}",
                prefix,
                make_gln(prefix, 1),
                "24",
            ]
        )
    return rows


def _post(
    client: TestClient,
    kind: str,
    data: bytes,
    headers: dict[str, str],
    *,
    filename: str = "file.csv",
    **params: Any,
) -> Any:
    return client.post(
        f"/api/v1/imports/{kind}",
        files={"file": (filename, data, "application/octet-stream")},
        params=params,
        headers=headers,
    )


def _count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _authority(db: Session) -> dict[str, str]:
    return api_headers(db, make_authority(db, province_code="24"), Role.authority)


# --- organizations, and the file format rules shown on them -----------------------------------


def test_csv_of_organizations_imports_every_row(client: TestClient, db: Session) -> None:
    headers = _authority(db)
    before = _count(db, Organization)
    response = _post(client, "organizations", _csv(_org_rows(3)).encode(), headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 3 and body["total_rows"] == 3 and body["errors"] == []
    assert _count(db, Organization) == before + 3
    imported = db.scalar(select(Organization).where(Organization.code == "HTX-IMPORT-2"))
    assert imported is not None and imported.kind == "cooperative"


def test_bad_gln_on_row_3_rejects_the_whole_file_and_leaves_the_database_as_before(
    client: TestClient, db: Session
) -> None:
    headers = _authority(db)
    rows = _org_rows(3)
    rows[2][5] = rows[2][5][:-1] + str((int(rows[2][5][-1]) + 1) % 10)  # row 3 of the file
    orgs, audits = _count(db, Organization), _count(db, AuditEntry)
    response = _post(client, "organizations", _csv(rows).encode(), headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/import-rejected" and body["created"] == 0
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "gln")]
    assert "check digit" in body["errors"][0]["message"]
    assert body["errors"][0]["pointer"] == "#cell=3,6"
    assert (_count(db, Organization), _count(db, AuditEntry)) == (orgs, audits)


def test_every_bad_row_is_reported_not_only_the_first(client: TestClient, db: Session) -> None:
    rows = _org_rows(4)
    rows[1][1] = "xí nghiệp"  # unknown kind
    rows[1][0] = "x"  # and too short a code on the same row
    rows[3][3] = "123"  # not a tax code
    response = _post(client, "organizations", _csv(rows).encode(), _authority(db))
    assert response.status_code == 422
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {
        (2, "kind"),
        (2, "code"),
        (4, "tax_code"),
    }


def test_report_is_in_vietnamese_when_asked(client: TestClient, db: Session) -> None:
    rows = _org_rows(1)
    rows[0].append("ghi chú")
    headers = {**_authority(db), "Accept-Language": "vi"}
    response = _post(client, "organizations", _csv(rows).encode(), headers)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    expected = translate(
        "vi",
        "Unknown column “{column}”: download the template to see the accepted columns",
        column="ghi chú",
    )
    assert error["message"] == expected
    assert not expected.startswith("Unknown column")
    assert response.json()["title"] == translate("vi", "Import rejected") != "Import rejected"


def test_file_in_windows_1258_is_rejected_with_the_encoding_message(
    client: TestClient, db: Session
) -> None:
    data = _cp1258(_csv(_org_rows(2)))
    response = _post(client, "organizations", data, _authority(db))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["message"].startswith(ENCODING_MESSAGE_START)
    assert "CSV UTF-8" in error["message"] and error["row"] is None


def test_latin_1_file_is_rejected_in_vietnamese_too(client: TestClient, db: Session) -> None:
    data = "code,kind,name\nCAFE-01,enterprise,Café Đông\n".replace("Đ", "D").encode("latin-1")
    headers = {**_authority(db), "Accept-Language": "vi"}
    response = _post(client, "organizations", data, headers)
    assert response.status_code == 422
    message = response.json()["errors"][0]["message"]
    assert "UTF-8" in message and not message.startswith(ENCODING_MESSAGE_START)


def test_utf8_with_bom_is_accepted(client: TestClient, db: Session) -> None:
    data = b"\xef\xbb\xbf" + _csv(_org_rows(2)).encode()
    response = _post(client, "organizations", data, _authority(db))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2


def test_semicolon_delimited_file_is_accepted(client: TestClient, db: Session) -> None:
    data = _csv(_org_rows(2), delimiter=";").encode()
    response = _post(client, "organizations", data, _authority(db))
    assert response.status_code == 200, response.text


def test_excel_unicode_text_in_utf16_with_tabs_is_accepted(client: TestClient, db: Session) -> None:
    data = _csv(_org_rows(2), delimiter="\t").encode("utf-16")
    response = _post(client, "organizations", data, _authority(db), filename="orgs.txt")
    assert response.status_code == 200, response.text


def test_xlsx_with_title_row_stt_column_and_numeric_cells_is_accepted(
    client: TestClient, db: Session
) -> None:
    rows = _org_rows(2)
    rows[0] = ["Mã tổ chức", "Loại hình", "Tên tổ chức", "Mã số thuế", "Mã doanh nghiệp GS1"]
    rows[0] += ["GLN", "Mã tỉnh"]
    for row in rows[1:]:
        row[5], row[6] = int(row[5]), 24  # Excel keeps these as numbers
    rows = [[number or "STT", *row] for number, row in enumerate(rows)]
    data = _xlsx([["DANH SÁCH HỢP TÁC XÃ"], [], *rows])
    response = _post(client, "organizations", data, _authority(db), filename="htx.xlsx")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2


def test_xlsx_row_numbers_are_those_excel_shows(client: TestClient, db: Session) -> None:
    rows = _org_rows(2)
    rows[2][0] = "x"  # too short a code
    data = _xlsx([[], *rows])  # header on row 2, data on rows 3 and 4
    response = _post(client, "organizations", data, _authority(db), filename="htx.xlsx")
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(4, "code")]


@pytest.mark.parametrize(
    ("filename", "data", "needle"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", ".xlsx"),
        ("noise.csv", bytes(range(256)) * 4, "CSV"),
        ("scan.pdf", b"%PDF-1.7 ...", ".pdf"),
        ("empty.csv", b"   \r\n", "empty"),
    ],
)
def test_unreadable_files_are_rejected_with_a_clear_message(
    client: TestClient, db: Session, filename: str, data: bytes, needle: str
) -> None:
    response = _post(client, "organizations", data, _authority(db), filename=filename)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert needle in error["message"]


def test_header_only_file_is_rejected(client: TestClient, db: Session) -> None:
    response = _post(client, "organizations", _csv([list(ORG_HEADER)]).encode(), _authority(db))
    assert response.status_code == 422
    assert "no data rows" in response.json()["errors"][0]["message"]


def test_unknown_and_missing_columns_are_reported(client: TestClient, db: Session) -> None:
    rows = [["code", "nmae", "gln"], ["A-01", "Công ty A", ""]]
    response = _post(client, "organizations", _csv(rows).encode(), _authority(db))
    assert response.status_code == 422
    errors = {e["column"]: e for e in response.json()["errors"]}
    assert set(errors) == {"nmae", "kind", "name"}
    assert errors["nmae"]["row"] == 1 and "“name”" in errors["nmae"]["message"]
    assert "Loại hình" in errors["kind"]["message"]


def test_duplicate_codes_within_the_file_are_reported(client: TestClient, db: Session) -> None:
    rows = _org_rows(3)
    rows[3][0] = rows[1][0].lower()
    response = _post(client, "organizations", _csv(rows).encode(), _authority(db))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (4, "code")
    assert "row 2" in error["message"]


def test_dry_run_checks_every_row_and_writes_nothing(client: TestClient, db: Session) -> None:
    headers = _authority(db)
    before = (_count(db, Organization), _count(db, AuditEntry))
    response = _post(client, "organizations", _csv(_org_rows(3)).encode(), headers, dry_run=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] and body["valid_rows"] == 3 and body["created"] == 0
    assert (_count(db, Organization), _count(db, AuditEntry)) == before


def test_org_admin_cannot_import_organizations(client: TestClient, db: Session) -> None:
    org = make_org(db)
    response = _post(client, "organizations", _csv(_org_rows(1)).encode(), api_headers(db, org))
    assert response.status_code == 403


def test_import_requires_authentication(client: TestClient, db: Session) -> None:
    response = _post(client, "organizations", _csv(_org_rows(1)).encode(), {})
    assert response.status_code == 401


# --- facilities --------------------------------------------------------------------------------


def test_facilities_import_with_vietnamese_headers_and_kinds(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    assert org.gs1_company_prefix
    rows = [
        ["Loại cơ sở", "Tên cơ sở", "GLN", "Mã tỉnh", "Vĩ độ", "Kinh độ"],
        ["Trang trại", "Vườn vải Phì Điền", make_gln(org.gs1_company_prefix, 2), "24", "21,38", ""],
        ["Nhà máy", "Xưởng sơ chế", make_gln(org.gs1_company_prefix, 3), "24", "", ""],
    ]
    rows[1][5] = "106,55"
    response = _post(client, "facilities", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 200, response.text
    farm = db.scalar(select(Facility).where(Facility.name == "Vườn vải Phì Điền"))
    assert farm is not None and farm.kind == "farm" and farm.latitude == pytest.approx(21.38)


def test_org_key_cannot_import_facilities_for_another_org(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    rows = [["kind", "name"], ["farm", "Trang trại lạ"]]
    before = _count(db, Facility)
    response = _post(
        client, "facilities", _csv(rows).encode(), api_headers(db, org_a), org_id=str(org_b.id)
    )
    assert response.status_code in (403, 404)
    assert _count(db, Facility) == before


# --- growing areas -----------------------------------------------------------------------------


def _area_ha(wkt: str) -> float:
    return round(check_geometry(geojson_from_wkt_or_text(wkt), declared_area_ha=None).area_ha, 2)


def test_growing_areas_import_with_polygons_points_and_owners(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, kind=OrgKind.cooperative)
    rows = [
        ["Mã vùng trồng", "Cây trồng", "Diện tích (ha)", "Tọa độ", "Mã tỉnh", "Chủ hộ"],
        ["VN-BG-LN-001", "Vải thiều", _area_ha(SQUARE), SQUARE, "24", "Nguyễn Văn An (0912345678)"],
        ["VN-BG-LN-002", "Vải thiều", "1,2", "21.39, 106.56", "24", "Lê Thị Bình; Trần Cường"],
    ]
    response = _post(client, "growing_areas", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 200, response.text
    area = db.scalar(select(GrowingArea).where(GrowingArea.code == "VN-BG-LN-002"))
    assert area is not None and area.geometry["type"] == "Point"
    owners = db.scalars(
        select(GrowingAreaOwner.name).where(GrowingAreaOwner.growing_area_id == area.id)
    ).all()
    assert sorted(owners) == ["Lê Thị Bình", "Trần Cường"]


def test_growing_areas_file_with_a_self_intersecting_polygon_is_rejected_whole(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, kind=OrgKind.cooperative)
    rows = [
        ["code", "crop", "area_ha", "geometry", "province_code"],
        ["VN-BG-LN-101", "Vải thiều", _area_ha(SQUARE), SQUARE, "24"],
        ["VN-BG-LN-102", "Vải thiều", "4.5", BOW_TIE, "24"],
    ]
    before = (_count(db, GrowingArea), _count(db, AuditEntry))
    response = _post(client, "growing_areas", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (3, "geometry")
    assert (_count(db, GrowingArea), _count(db, AuditEntry)) == before


def test_growing_area_cell_errors_name_their_column(client: TestClient, db: Session) -> None:
    org = make_org(db, kind=OrgKind.cooperative)
    rows = [
        ["code", "crop", "area_ha", "geometry", "province_code", "owners"],
        ["VN-BG-LN-201", "Vải", "nhiều", "21.39, 106.56", "24", "An (gọi sau)"],
    ]
    response = _post(client, "growing_areas", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 422
    assert {e["column"] for e in response.json()["errors"]} == {"area_ha", "owners"}


# --- packing houses, products, certifications --------------------------------------------------


def test_packing_houses_import_resolves_the_facility_gln(client: TestClient, db: Session) -> None:
    org = make_org(db)
    assert org.gs1_company_prefix
    gln = make_gln(org.gs1_company_prefix, 7)
    facility = make_facility(db, org, gln=gln)
    rows = [
        ["code", "name", "facility_gln", "crops", "province_code", "export_markets"],
        ["VN-PH-24-001", "Nhà đóng gói Lục Ngạn", gln, "Vải thiều; Nhãn", "24", "EU, US"],
        ["VN-PH-24-002", "Nhà đóng gói khác", make_gln(org.gs1_company_prefix, 8), "", "24", ""],
    ]
    response = _post(client, "packing_houses", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (3, "facility_gln")
    del rows[2]
    response = _post(client, "packing_houses", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 200, response.text
    house = db.scalar(select(PackingHouse).where(PackingHouse.code == "VN-PH-24-001"))
    assert house is not None and house.facility_id == facility.id


def test_products_import_multilingual_names(client: TestClient, db: Session) -> None:
    org = make_org(db)
    rows = [
        ["GTIN", "name_vi", "name_en", "Tên (zh)", "description_vi", "Số sao OCOP", "năm ocop"],
        [gtin_for(org, 11), "Vải thiều sấy", "Dried lychee", "荔枝干", "Sấy khô", "4", "2024"],
        [gtin_for(org, 12), "Mật ong vải", "Lychee honey", "", "", "", ""],
    ]
    response = _post(client, "products", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 200, response.text
    product = db.scalar(select(Product).where(Product.gtin == gtin_for(org, 11).zfill(14)))
    assert product is not None
    assert product.names == {"vi": "Vải thiều sấy", "en": "Dried lychee", "zh": "荔枝干"}
    assert product.ocop_stars == 4


def test_products_file_with_a_bad_gtin_is_rejected_whole(client: TestClient, db: Session) -> None:
    org = make_org(db)
    bad = gtin_for(org, 22)
    bad = bad[:-1] + str((int(bad[-1]) + 1) % 10)
    rows = [
        ["gtin", "name_vi"],
        [gtin_for(org, 21), "Nước mắm"],
        [bad, "Nước mắm đặc biệt"],
        [gtin_for(org, 23), ""],
    ]
    before = _count(db, Product)
    response = _post(client, "products", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 422
    errors = sorted((e["row"], e["column"]) for e in response.json()["errors"])
    assert errors == [(3, "gtin"), (4, "name_vi")]
    assert _count(db, Product) == before


def test_certifications_import_resolves_scope_codes(client: TestClient, db: Session) -> None:
    org = make_org(db)
    product_gtin = gtin_for(org, 31)
    headers = api_headers(db, org)
    product_rows = [["gtin", "name_vi"], [product_gtin, "Bánh đa"]]
    assert _post(client, "products", _csv(product_rows).encode(), headers).status_code == 200
    today = date.today()
    rows = [
        ["Loại chứng nhận", "Tổ chức chứng nhận", "Số chứng nhận", "Phạm vi", "Mã đối tượng"],
        ["VietGAP", "Trung tâm Kiểm định", "VG-001", "Sản phẩm", product_gtin],
        ["Hữu cơ", "Trung tâm Kiểm định", "HC-001", "tổ chức", org.code],
        ["GlobalGAP", "Trung tâm Kiểm định", "GG-001", "product", "8930000000000"],
    ]
    rows[0] += ["Ngày cấp", "Ngày hết hạn"]
    valid_from = (today - timedelta(days=10)).strftime("%d/%m/%Y")
    valid_to = (today + timedelta(days=700)).isoformat()
    for row in rows[1:]:
        row += [valid_from, valid_to]
    response = _post(client, "certifications", _csv(rows).encode(), headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (4, "Mã đối tượng")
    del rows[3]
    response = _post(client, "certifications", _csv(rows).encode(), headers)
    assert response.status_code == 200, response.text
    schemes = db.scalars(select(Certification.scheme).where(Certification.org_id == org.id)).all()
    assert sorted(schemes) == ["organic", "vietgap"]


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ImportKind))
def test_csv_template_in_vietnamese_round_trips_as_header_only(
    client: TestClient, db: Session, kind: ImportKind
) -> None:
    template = client.get(f"/api/v1/imports/{kind.value}/template", params={"lang": "vi"})
    assert template.status_code == 200
    assert template.content.startswith(b"\xef\xbb\xbf")
    is_orgs = kind is ImportKind.organizations
    headers = _authority(db) if is_orgs else api_headers(db, make_org(db))
    response = _post(client, kind.value, template.content, headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert "no data rows" in error["message"]


def test_xlsx_template_has_english_headers(client: TestClient) -> None:
    response = client.get(
        "/api/v1/imports/growing_areas/template", params={"format": "xlsx", "lang": "en"}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.title == "growing_areas"
    assert [c.value for c in sheet[1]][:4] == ["code", "name", "crop", "variety"]


# --- pure parsing helpers ----------------------------------------------------------------------


def test_owners_cell_reads_names_phones_and_shares() -> None:
    assert parse_owners("Nguyễn Văn An (0912 345 678, 1,5 ha); Lê Bình\nTrần C (2 ha)") == [
        {"name": "Nguyễn Văn An", "area_ha": 1.5, "phone": "0912 345 678"},
        {"name": "Lê Bình"},
        {"name": "Trần C", "area_ha": 2.0},
    ]


def test_decoding_normalizes_decomposed_vietnamese() -> None:
    assert decode_text(unicodedata.normalize("NFD", "Lục Ngạn").encode()) == "Lục Ngạn"


def test_spreadsheet_cells_become_text_without_float_noise() -> None:
    assert [cell_text(v) for v in (24, 8936000000017.0, 1.5, date(2025, 1, 31), None)] == [
        "24",
        "8936000000017",
        "1.5",
        "2025-01-31",
        "",
    ]
