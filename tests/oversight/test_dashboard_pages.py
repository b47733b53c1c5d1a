"""The dashboard over HTTP on both stores: the page, the chart downloads, the JSON API and the
monthly PDF, each limited to the caller's scope."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_user
from tests.oversight.test_dashboard_service import build_world
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.oversight import monthly_report
from truyxuat.oversight.service import dashboard
from truyxuat.registry.schemas.certifications import vietnam_today

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CURRENT = vietnam_today().strftime("%Y-%m")


def test_page_shows_the_province_figures_in_both_languages(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db, settings)
    user = make_user(db, world.authority_a, Role.authority)
    vi = Browser(client, db).login(user, "vi").get("/oversight")
    assert vi.status_code == 200, vi.text
    assert "Bảng điều khiển giám sát" in vi.text and "Việc cần xử lý hôm nay" in vi.text
    assert 'id="ocop-percent">60 %' in vi.text or 'id="ocop-percent">60,0 %' in vi.text
    assert vi.text.count("<svg") >= 9 and 'role="img"' in vi.text
    assert "VG-SOON" in vi.text and "VG-B-SOON" not in vi.text
    assert world.b.name not in vi.text
    assert "/oversight/charts/ocop-coverage.csv" in vi.text
    en = Browser(client, db).login(user, "en").get("/oversight")
    assert "Oversight dashboard" in en.text and "What needs action today" in en.text
    assert "3 of 5 OCOP products have traceability data (60 %)." in en.text


def test_national_page_drills_into_one_province(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db, settings)
    browser = Browser(client, db).login(make_user(db, world.national, Role.authority), "en")
    whole = browser.get("/oversight")
    assert 'id="province-form"' in whole.text and "VG-B-SOON" in whole.text
    one = browser.get("/oversight?province=24")
    assert "VG-SOON" in one.text and "VG-B-SOON" not in one.text
    assert "/oversight/charts/stamps.csv?province=24" in one.text
    rows = list(
        csv.reader(io.StringIO(browser.get("/oversight/charts/stamps.csv?province=24").text))
    )
    assert rows[-1] == [CURRENT, "15", "10", "3"]
    local = Browser(client, db).login(make_user(db, world.authority_a, Role.authority), "en")
    assert 'id="province-form"' not in local.get("/oversight").text
    refused = local.get("/oversight?province=22")
    # The error page speaks the language the reader chose at sign-in.
    assert refused.status_code == 422 and "You do not oversee this province" in refused.text
    api = client.get(
        "/api/v1/oversight/dashboard?province=22",
        headers=api_headers(db, world.authority_a, Role.authority),
    )
    assert api.status_code == 422 and api.json()["errors"][0]["pointer"] == "#/province"


def test_chart_downloads_keep_the_scope(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db, settings)
    browser = Browser(client, db).login(make_user(db, world.authority_a, Role.inspector), "en")
    response = browser.get("/oversight/charts/stamps.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["Month", "Ordered", "Activated", "Scanned"]
    assert rows[-1] == [CURRENT, "15", "10", "3"]
    book = load_workbook(io.BytesIO(browser.get("/oversight/charts/ocop-coverage.xlsx").content))
    values = list(book.active.iter_rows(values_only=True))
    assert values[0] == ("Month", "Coverage") and values[-1] == (CURRENT, 60.0)
    provinces = browser.get("/oversight/charts/scans-by-province.csv").text
    assert "Bắc Ninh" in provinces
    products = browser.get("/oversight/charts/scans-by-product.csv").text
    assert world.products["q1"].gtin not in products
    assert f"{world.products['p1'].names['en']} ({world.products['p1'].gtin}),3" in products
    assert browser.get("/oversight/charts/nothing.csv").status_code == 404
    assert browser.get("/oversight/charts/stamps.pdf").status_code == 404


def test_api_dashboard_scopes(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    a = client.get(
        "/api/v1/oversight/dashboard", headers=api_headers(db, world.authority_a, Role.authority)
    )
    assert a.status_code == 200, a.text
    body = a.json()
    assert body["ocop"]["products"] == 5 and body["ocop"]["with_data"] == 3
    assert body["ocop"]["percent"] == 60.0 and body["ocop"]["target"]["percent"] == 100.0
    assert body["actions"] == {
        "open_alerts": 1,
        "open_violations": 2,
        "overdue_violations": 1,
        "alerts_url": "/oversight/alerts",
        "inspections_url": "/oversight/inspections",
    }
    national = client.get(
        "/api/v1/oversight/dashboard", headers=api_headers(db, world.national, Role.authority)
    ).json()
    assert national["ocop"]["products"] == 7 and national["scans_total"] == 6
    own = client.get(
        "/api/v1/oversight/dashboard", headers=api_headers(db, world.b, Role.org_staff)
    ).json()
    assert own["scope"]["kind"] == "organization" and own["ocop"]["products"] == 2
    table = client.get(
        "/api/v1/oversight/dashboard/charts/moit-coverage?format=xlsx",
        headers=api_headers(db, world.authority_b, Role.authority),
    )
    assert table.status_code == 200 and table.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    rows = list(load_workbook(io.BytesIO(table.content)).active.iter_rows(values_only=True))
    assert ("Beer", 0.0) in rows  # B's only beer product lacks the data
    assert client.get("/api/v1/oversight/dashboard").status_code == 401


def test_api_report_is_a_pdf(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db, settings)
    headers = api_headers(db, world.authority_a, Role.authority)
    response = client.get(f"/api/v1/oversight/report?month={CURRENT}", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"oversight-{CURRENT}.pdf" in response.headers["content-disposition"]


def test_api_report_rejects_a_bad_month(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db, settings)
    headers = api_headers(db, world.authority_a, Role.authority)
    for bad in ("2026-13", "11-2026", "2999-01"):
        response = client.get(f"/api/v1/oversight/report?month={bad}", headers=headers)
        assert response.status_code == 422, bad
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["pointer"] == "#/month"


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    """The text of a PDF, as pdftotext reads it."""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftotext", "-layout", str(pdf), str(tmp_path / "report.txt")], check=True)
    return (tmp_path / "report.txt").read_text()


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed")
def test_monthly_pdf_renders_in_vietnamese(
    client: TestClient, db: Session, settings: Settings, tmp_path: Path
) -> None:
    from PIL import Image

    world = build_world(db, settings)
    browser = Browser(client, db).login(make_user(db, world.authority_a, Role.authority), "vi")
    response = browser.get(f"/oversight/report.pdf?month={CURRENT}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content, tmp_path)
    assert f"Báo cáo giám sát hằng tháng — {CURRENT}" in text
    assert "3/5" in text or "3 trên 5" in text
    assert "Sản phẩm OCOP" in text and "Chứng nhận sắp hết hạn" in text
    assert "VG-SOON" in text and "VG-B-SOON" not in text and world.b.name not in text
    pdf = tmp_path / "report.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True)
    first = sorted(tmp_path.glob("page-*.png"))[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(first, SCREENSHOTS / "oversight-report-page1.png")
    with Image.open(first) as image:
        # A4 at 60 dpi: 8.27 × 11.69 in → 496 × 702 px.
        assert abs(image.width - 496) <= 2 and abs(image.height - 702) <= 2
        gray = image.convert("L")
        assert gray.getextrema()[0] < 100, "the page is blank"
        dark = gray.histogram()[:128]
        assert sum(dark) > 1000
    english = Browser(client, db).login(make_user(db, world.authority_a, Role.authority), "en")
    text_en = _pdf_text(english.get(f"/oversight/report.pdf?month={CURRENT}").content, tmp_path)
    assert f"Monthly oversight report — {CURRENT}" in text_en


def test_report_month_defaults_to_last_full_month() -> None:
    assert monthly_report.parse_month(None, vietnam_today()) == dashboard.last_full_month()
    assert monthly_report.parse_month(" 2026-01 ", vietnam_today().replace(year=2026, month=3))


def test_every_download_of_province_b_holds_nothing_of_province_a(
    client: TestClient, db: Session, settings: Settings
) -> None:
    from truyxuat.oversight.service.dashboard_charts import CHART_KEYS

    world = build_world(db, settings)
    headers = api_headers(db, world.authority_b, Role.authority)
    secrets = [world.products[k].gtin for k in ("p1", "p2", "p3", "p7", "p8")]
    secrets += [world.a1.name, "Bắc Ninh"]
    for key in CHART_KEYS:
        for fmt in ("csv", "xlsx"):
            response = client.get(
                f"/api/v1/oversight/dashboard/charts/{key}?format={fmt}", headers=headers
            )
            assert response.status_code == 200, (key, fmt)
            if fmt == "csv":
                text = response.text
            else:
                book = load_workbook(io.BytesIO(response.content))
                text = repr(list(book.active.iter_rows(values_only=True)))
            assert not [s for s in secrets if s in text], (key, fmt)


def test_enterprise_sees_its_own_dashboard(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db, settings)
    page = (
        Browser(client, db).login(make_user(db, world.a1, Role.org_staff), "en").get("/oversight")
    )
    assert page.status_code == 200
    assert f'id="dash-scope">{world.a1.name}<' in page.text
    assert "3 of 4 OCOP products have traceability data (75 %)." in page.text
    assert world.products["p8"].gtin not in page.text and 'id="province-form"' not in page.text
