"""The diary in a real headless Chromium on a phone (390x844, Vietnamese): a household records
spraying then harvest on its growing area, and every resulting event passes the EPCIS validator.
The app runs under uvicorn on its own migrated SQLite file (see tests/web/test_browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.diary.test_service import SCHEMA_PATH
from tests.factories import PASSWORD, make_growing_area, make_org, make_product, make_user
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade
from truyxuat.epcis.validation import EpcisValidator, load_schema
from truyxuat.registry.models import OrgKind

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "diary"


@dataclass(frozen=True)
class LiveDiary:
    """The running app and the household that keeps its diary."""

    url: str
    email: str
    area_id: str
    gtin: str
    api_key: str


@pytest.fixture(scope="module")
def live_diary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDiary]:
    """Serves the real app over HTTP on a fresh SQLite file with a household and its orchard."""
    folder = tmp_path_factory.mktemp("diary-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        household = make_org(db, kind=OrgKind.household, name="Hộ ông Nguyễn Văn Ba")
        user = make_user(db, household, Role.org_staff, email="ba@lucngan.example.vn")
        area = make_growing_area(db, household, name="Vườn vải đồi Cấm")
        product = make_product(db, household, names={"vi": "Vải thiều Lục Ngạn", "en": "Lychee"})
        _, api_key = auth_service.create_api_key(db, org=household, role=Role.org_staff)
        db.commit()
        live = (user.email, str(area.id), product.gtin, api_key)
    engine.dispose()
    settings = Settings(
        database_url=url,
        secret_key="diary-browser-secret",
        data_dir=folder,
        epcis_schema=SCHEMA_PATH,
    )
    with serving(settings) as base:
        yield LiveDiary(base, *live)


def test_household_records_spraying_then_harvest_on_a_phone(
    live_diary: LiveDiary, chromium: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = live_diary.url
    try:
        page.goto(f"{base}/diary")
        assert "/login" in page.url
        page.fill("input[name=email]", live_diary.email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state()

        # Choose the growing area, then tap "Spraying".
        page.goto(f"{base}/diary")
        assert page.locator("h1").inner_text() == "Nhật ký điện tử"
        page.screenshot(path=str(SHOTS / "01-areas.png"), full_page=True)
        page.get_by_role("link", name="Vườn vải đồi Cấm").click()
        page.wait_for_load_state()
        page.screenshot(path=str(SHOTS / "02-activities.png"), full_page=True)
        page.locator("a.diary-tile[data-activity=spraying]").click()
        page.wait_for_load_state()
        assert "Phun thuốc" in page.locator("h1").inner_text()

        # Forgetting the dose is refused readably; then the spraying is saved.
        page.fill("#f-product_name", "Regent 800WG")
        page.fill("#f-active_ingredient", "Fipronil")
        page.locator("form.diary-form button[type=submit]").click()
        page.wait_for_load_state()
        assert "bắt buộc" in page.locator("#err-dose").inner_text()
        page.fill("#f-dose", "1,5")
        page.select_option("#f-dose_uom", "LTR")
        page.fill("#f-phi_days", "7")
        page.screenshot(path=str(SHOTS / "03-spraying.png"), full_page=True)
        page.locator("form.diary-form button[type=submit]").click()
        page.wait_for_load_state()
        assert "Đã ghi vào nhật ký" in page.locator("p.notice").inner_text()
        assert "Regent 800WG · 1,5 lít" in page.locator("ol.timeline").inner_text()

        # Then the harvest: 1,200 kg of lychee in a new lot.
        page.locator("a.diary-tile[data-activity=harvest]").click()
        page.wait_for_load_state()
        page.select_option("#f-gtin", live_diary.gtin)
        page.fill("#f-lot", "VT-2026-07")
        page.fill("#f-quantity", "1200")
        page.select_option("#f-uom", "KGM")
        page.screenshot(path=str(SHOTS / "04-harvest.png"), full_page=True)
        page.locator("form.diary-form button[type=submit]").click()
        page.wait_for_load_state()
        timeline = page.locator("ol.timeline li")
        assert timeline.count() == 2
        assert "Thu hoạch" in timeline.nth(0).inner_text()
        assert "VT-2026-07" in timeline.nth(0).inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the diary must not scroll sideways on a phone"
        page.screenshot(path=str(SHOTS / "05-timeline.png"), full_page=True)
    finally:
        context.close()

    response = httpx.get(
        f"{base}/epcis/events",
        headers={"Authorization": f"Bearer {live_diary.api_key}"},
    )
    assert response.status_code == 200, response.text
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert sorted(e["tx:activity"] for e in events) == ["harvest", "spraying"]
    validator = EpcisValidator(load_schema(SCHEMA_PATH))
    for event in events:
        assert validator.event_errors(event, 0) == [], event
    harvest = next(e for e in events if e["tx:activity"] == "harvest")
    assert harvest["quantityList"][0]["uom"] == "KGM"
    assert harvest["ilmd"]["cbvmda:lotNumber"] == "VT-2026-07"


def test_household_imports_its_diary_from_a_spreadsheet_on_a_phone(
    live_diary: LiveDiary, chromium: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        locale="vi-VN",
        is_mobile=True,
        has_touch=True,
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = live_diary.url
    try:
        page.goto(f"{base}/login")
        page.fill("input[name=email]", live_diary.email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state()
        page.goto(f"{base}/diary")
        page.locator("#diary-import").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Nhập nhật ký từ bảng tính"
        with page.expect_download() as download:
            page.locator("#template-xlsx").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        code = page.locator("section.panel code").first.inner_text()
        header = "Mã vùng trồng,Hoạt động,Thời gian,Số lượng,Đơn vị,Ghi chú\n"
        bad = header + f"{code},Tưới nước,2026-07-02 17:00,-3,MTQ,\n{code},Nhảy múa,,,,\n"
        page.set_input_files(
            "#f-file", {"name": "nhat-ky.csv", "mimeType": "text/csv", "buffer": bad.encode()}
        )
        page.locator("form.diary-form button[type=submit]").click()
        page.wait_for_load_state()
        report = page.locator("#import-report")
        assert "Chưa nhập dữ liệu nào" in report.inner_text()
        assert page.locator("#import-report tbody tr").count() == 2
        assert "Số lượng" in report.inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the import page must not scroll sideways on a phone"
        page.screenshot(path=str(SHOTS / "06-import-errors.png"), full_page=True)
        good = header + f"{code},Tưới nước,2026-07-02 17:00,3,MTQ,Tưới gốc\n"
        page.set_input_files(
            "#f-file", {"name": "nhat-ky.csv", "mimeType": "text/csv", "buffer": good.encode()}
        )
        page.locator("form.diary-form button[type=submit]").click()
        page.wait_for_load_state()
        assert "Đã ghi 1 công việc" in page.locator("#import-report").inner_text()
        page.screenshot(path=str(SHOTS / "07-import-done.png"), full_page=True)
    finally:
        context.close()
    response = httpx.get(
        f"{base}/epcis/events",
        headers={"Authorization": f"Bearer {live_diary.api_key}"},
    )
    assert response.status_code == 200, response.text
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    irrigation = [e for e in events if e["tx:activity"] == "irrigation"]
    assert len(irrigation) == 1
    validator = EpcisValidator(load_schema(SCHEMA_PATH))
    assert validator.event_errors(irrigation[0], 0) == []
