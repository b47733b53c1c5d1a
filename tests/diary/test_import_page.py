"""The diary import page over HTTP on both stores: the template downloads in vi/en and reads
back, a file with errors lists each row and column and records nothing, a good file records
every row."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.diary.test_service import SCHEMA_PATH
from tests.factories import make_growing_area, make_org, make_product, make_user
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.diary.imports import TEMPLATE_COLUMNS, _header
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.registry.models import OrgKind


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture
def browser(client: TestClient, db: Session) -> Browser:
    """A page client; call .login(user) first."""
    return Browser(client, db)


def _count(db: Session) -> int:
    """How many events are stored."""
    return int(db.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_templates_download_with_headers_the_import_reads(
    browser: Browser, db: Session, lang: str
) -> None:
    household = make_org(db, kind=OrgKind.household)
    browser.login(make_user(db, household, Role.org_staff), lang)
    page = browser.get("/diary/import")
    assert page.status_code == 200
    title = "Nhập nhật ký từ bảng tính" if lang == "vi" else "Import the diary from a spreadsheet"
    assert title in page.text
    xlsx = browser.get("/diary/import/template?format=xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    headers = [cell.value for cell in next(book.worksheets[0].iter_rows(max_row=1))]
    assert [_header(str(h)) for h in headers] == [field for field, _, _ in TEMPLATE_COLUMNS]
    assert ("Mã vùng trồng" in headers) == (lang == "vi")
    csv = browser.get("/diary/import/template?format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    first = csv.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert first == headers


def test_upload_with_errors_lists_rows_and_columns_and_records_nothing(
    browser: Browser, db: Session
) -> None:
    household = make_org(db, kind=OrgKind.household)
    area = make_growing_area(db, household)
    product = make_product(db, household)
    browser.login(make_user(db, household, Role.org_staff), "vi")
    header = (
        "Mã vùng trồng,Hoạt động,Thời gian,Sản phẩm đã dùng,Liều lượng,Đơn vị liều,"
        "GTIN,Lô,Số lượng,Đơn vị\n"
    )
    good = (
        header
        + f'{area.code},Phun thuốc,2026-07-01 07:00,Regent,"1,5",LTR,,,,\n'
        + f"{area.code},Thu hoạch,2026-07-20 06:00,,,,{product.gtin},L0720,900,KGM\n"
    )
    bad = good + f"{area.code},Thu hoạch,2026-07-21 06:00,,,,{product.gtin},L0721,-4,KGM\n"
    bad += "VN-NOWHERE,Thu hoạch,,,,,,,,\n"
    before = _count(db)
    response = browser.post(
        "/diary/import", {}, files={"file": ("nhat-ky.csv", bad.encode(), "text/csv")}
    )
    assert response.status_code == 422
    assert "Chưa nhập dữ liệu nào" in response.text
    cells = r'<td data-label="[^"]*">4</td>\s*<td data-label="[^"]*">Số lượng</td>'
    assert re.search(cells, response.text)
    assert "Số lượng" in response.text and "Mã vùng trồng" in response.text
    assert _count(db) == before
    response = browser.post(
        "/diary/import", {}, files={"file": ("nhat-ky.csv", good.encode(), "text/csv")}
    )
    assert response.status_code == 200, response.text
    assert "Đã ghi 2 công việc từ nhat-ky.csv" in response.text
    assert _count(db) == before + 2
    missing = browser.post("/diary/import", {})
    assert missing.status_code == 422 and "bắt buộc" in missing.text
