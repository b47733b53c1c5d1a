"""Inspection pages in a real headless Chromium, in Vietnamese and English: the inspector
records an inspection with a photo through the form, adds a suspending violation, sees it
listed; the cooperative records the remedy and the inspector accepts it. The app runs under
uvicorn on its own migrated SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_authority, make_growing_area, make_org, make_user
from tests.oversight.test_inspections_api import PNG
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade
from truyxuat.registry.models import CodeStatus, GrowingArea
from truyxuat.registry.schemas.certifications import vietnam_today

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "oversight"


@dataclass(frozen=True)
class Live:
    """The running app, its database and the people and places of the test."""

    url: str
    database_url: str
    inspector: str
    staff: str
    producer_id: str
    areas: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Serves the real app on a fresh SQLite file with a cooperative, its codes, an inspector."""
    folder = tmp_path_factory.mktemp("inspections-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        producer = make_org(db, province_code="24", name="Hợp tác xã Vải thiều Kiên Lao")
        areas = {
            lang: make_growing_area(db, producer, code=f"VN-BNOR-77{n}", status=CodeStatus.approved)
            for n, lang in enumerate(("vi", "en"))
        }
        authority = make_authority(db, province_code="24")
        inspector = make_user(db, authority, Role.inspector, email="thanhtra@bacninh.example.vn")
        staff = make_user(db, producer, Role.org_staff, email="nhatky@kienlao.example.vn")
        db.commit()
        people = Live(
            "",
            url,
            inspector.email,
            staff.email,
            str(producer.id),
            {lang: str(a.id) for lang, a in areas.items()},
        )
    engine.dispose()
    settings = Settings(database_url=url, secret_key="inspections-browser", data_dir=folder)
    with serving(settings) as base:
        yield replace(people, url=base)


TEXT = {
    "vi": {
        "login": "Đăng nhập",
        "h1": "Kiểm tra",
        "record": "Lưu biên bản kiểm tra",
        "future": "Ngày kiểm tra không thể ở tương lai",
        "add": "Thêm vi phạm",
        "open": "Đang mở",
        "remedy": "Ghi nhận khắc phục",
        "accept": "Chấp nhận việc khắc phục",
        "verified": "Đã xác nhận",
    },
    "en": {
        "login": "Sign in",
        "h1": "Inspections",
        "record": "Record the inspection",
        "future": "The inspection date cannot be in the future",
        "add": "Add the violation",
        "open": "Open",
        "remedy": "Record the remedy",
        "accept": "Accept the remedy",
        "verified": "Verified",
    },
}


def _login(page: Any, live: Live, email: str, login: str) -> None:
    page.goto(f"{live.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=login).click()
    page.wait_for_load_state()


def _area_status(live: Live, lang: str) -> CodeStatus:
    engine = make_engine(live.database_url)
    with Session(engine) as db:
        status = db.scalar(
            select(GrowingArea.status).where(GrowingArea.id == uuid.UUID(live.areas[lang]))
        )
    engine.dispose()
    assert status is not None
    return status


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_inspector_records_an_inspection_and_a_violation_through_the_pages(
    live: Live, chromium: Any, tmp_path: Path, lang: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    text = TEXT[lang]
    photo = tmp_path / "vuon.png"
    photo.write_bytes(PNG)
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN" if lang == "vi" else "en-US"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _login(page, live, live.inspector, text["login"])
        page.goto(f"{live.url}/oversight/inspections?lang={lang}")
        assert page.locator("h1").first.inner_text() == text["h1"]
        page.select_option("#f-org_id", live.producer_id)
        page.select_option("#f-place", f"growing_area:{live.areas[lang]}")
        page.fill("#f-inspected_on", (vietnam_today() + timedelta(days=400)).isoformat())
        page.fill("#f-findings", "Nhật ký phun thuốc thiếu thời gian cách ly.")
        page.get_by_role("button", name=text["record"]).click()
        page.wait_for_load_state()
        assert text["future"] in page.locator("#err-inspected_on").inner_text()
        page.screenshot(path=str(SHOTS / f"inspection-{lang}-01-error.png"), full_page=True)

        page.fill("#f-inspected_on", (vietnam_today() - timedelta(days=10)).isoformat())
        page.select_option("#f-result", "violations")
        page.set_input_files("#f-photo", str(photo))
        page.get_by_role("button", name=text["record"]).click()
        page.wait_for_load_state()
        assert "/oversight/inspections/" in page.url
        assert page.locator("#inspection-photos img").count() == 1
        assert page.locator("#inspection-photos img").evaluate("img => img.naturalWidth") == 1

        page.fill("#f-rule", "Thông tư 02/2024/TT-BKHCN Điều 5")
        page.fill("#f-description", "Không ghi thời gian cách ly")
        page.select_option("#f-severity", "major")
        page.fill("#f-deadline", (vietnam_today() + timedelta(days=20)).isoformat())
        page.select_option("#f-suspends", f"growing_area:{live.areas[lang]}")
        page.get_by_role("button", name=text["add"]).click()
        page.wait_for_load_state()
        violation = page.locator("article.violation").first
        assert violation.get_attribute("data-state") == "open"
        assert text["open"] in violation.inner_text()
        assert _area_status(live, lang) is CodeStatus.suspended
        page.screenshot(path=str(SHOTS / f"inspection-{lang}-02-violation.png"), full_page=True)
        detail = page.url.split("?")[0]

        page.goto(f"{live.url}/oversight/inspections?lang={lang}")
        assert page.locator("#inspection-list tbody tr").count() >= 1
        assert page.locator("#violation-list tbody tr[data-state=open]").count() >= 1
        page.screenshot(path=str(SHOTS / f"inspection-{lang}-03-list.png"), full_page=True)

        # The cooperative's record keeper records the remedy; the inspector accepts it.
        _login(page, live, live.staff, text["login"])
        page.goto(f"{detail}?lang={lang}")
        page.locator("article.violation[data-state=open] textarea[name=remedy]").first.fill(
            "Đã bổ sung nhật ký"
        )
        page.get_by_role("button", name=text["remedy"]).first.click()
        page.wait_for_load_state()
        assert page.locator("article.violation").first.get_attribute("data-state") == "remedied"
        _login(page, live, live.inspector, text["login"])
        page.goto(f"{detail}?lang={lang}")
        page.get_by_role("button", name=text["accept"]).first.click()
        page.wait_for_load_state()
        violation = page.locator("article.violation").first
        assert violation.get_attribute("data-state") == "verified"
        assert text["verified"] in violation.inner_text()
        assert _area_status(live, lang) is CodeStatus.approved
        page.screenshot(path=str(SHOTS / f"inspection-{lang}-04-verified.png"), full_page=True)
    finally:
        context.close()
