"""The registry pages in a real headless Chromium, in Vietnamese and in English.

The real app runs under uvicorn in a background thread against its own migrated SQLite file
(browser requests need committed data, not the rolled-back test transaction). Screenshots of
each step land in var/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_authority, make_org, make_user
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade

pytestmark = pytest.mark.browser

# A lychee orchard in Lục Ngạn (Bắc Ninh), about 5.17 ha (see tests/registry/test_geometry.py).
ORCHARD = {
    "type": "Polygon",
    "coordinates": [
        [
            [106.5480, 21.3790],
            [106.5499, 21.3787],
            [106.5507, 21.3800],
            [106.5494, 21.3810],
            [106.5479, 21.3805],
            [106.5480, 21.3790],
        ]
    ],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[106.55, 21.38], [106.552, 21.382], [106.552, 21.38], [106.55, 21.382], [106.55, 21.38]]
    ],
}

# What each language must show.
TEXT = {
    "vi": {
        "growing_areas": "Vùng trồng",
        "new": "Thêm vùng trồng",
        "pending": "Chờ duyệt",
        "approved": "Đã phê duyệt",
        "approve": "Phê duyệt",
        "approvals": "Phê duyệt",
        "invalid_polygon": "Đa giác không hợp lệ",
        "crosses_itself": "tự cắt nhau",
        "sign_out": "Đăng xuất",
        "sign_in": "Đăng nhập",
        "area": "5,2",
    },
    "en": {
        "growing_areas": "Growing areas",
        "new": "New growing area",
        "pending": "Pending",
        "approved": "Approved",
        "approve": "Approve",
        "approvals": "Approvals",
        "invalid_polygon": "Polygon is not valid",
        "crosses_itself": "crosses itself",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "area": "5.2",
    },
}


@dataclass(frozen=True)
class LiveApp:
    """The running app and the people who use it."""

    url: str
    producer_email: str
    authority_email: str


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serves the real app over HTTP on a fresh, migrated and seeded SQLite file."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        enterprise = make_org(db, province_code="24", name="Hợp tác xã Vải thiều Phượng Sơn")
        producer = make_user(db, enterprise, Role.org_admin, email="htx@phuongson.example.vn")
        authority = make_authority(db, province_code="24")
        officer = make_user(db, authority, Role.authority, email="sonnmt@bacninh.example.vn")
        db.commit()
        emails = (producer.email, officer.email)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="browser-test-secret", data_dir=folder)
    with serving(settings) as base:
        yield LiveApp(base, *emails)


def _login(page: Any, app: LiveApp, email: str, lang: str) -> None:
    """Signs in through the login form, in the page's current language."""
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=TEXT[lang]["sign_in"]).click()
    page.wait_for_load_state()


def _fill_growing_area(page: Any, code: str, area: str, geometry: dict[str, Any]) -> None:
    """Fills the growing-area application form."""
    page.fill("#f-code", code)
    page.fill("#f-name", "Vườn vải Phượng Sơn")
    page.fill("#f-crop", "Vải thiều")
    page.fill("#f-area_ha", area)
    page.select_option("#f-province_code", "24")
    page.fill("#f-geometry", json.dumps(geometry))
    page.fill("#f-owners", "Nguyễn Văn An; 0912345678; 3\nTrần Thị Bình; ; 2")


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [("vi", {"width": 390, "height": 844}), ("en", {"width": 1280, "height": 900})],
    ids=["vi-phone", "en-desktop"],
)
def test_producer_applies_for_growing_area_and_authority_approves_it(
    live_app: LiveApp, chromium: Any, lang: str, viewport: dict[str, int]
) -> None:
    text = TEXT[lang]
    shots = SCREENSHOTS / f"{lang}"
    shots.mkdir(parents=True, exist_ok=True)
    code = f"VN-BNVT-{lang.upper()}-0105"
    context = chromium.new_context(
        viewport=viewport, locale="vi-VN", is_mobile=viewport["width"] < 600, has_touch=True
    )
    # With the suite on both cores a page can wait on a busy machine: generous, not flaky.
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        # A registry page sends an anonymous visitor to the login form.
        page.goto(f"{live_app.url}/registry/growing-areas")
        assert "/login" in page.url
        if lang == "en":
            page.click("a[hreflang=en]")
            page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == lang
        page.screenshot(path=str(shots / "01-login.png"))
        _login(page, live_app, live_app.producer_email, lang)

        # The producer opens the growing areas and the application form.
        page.get_by_role("navigation").get_by_role("link", name=text["growing_areas"]).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == text["growing_areas"]
        page.get_by_role("link", name=text["new"]).click()
        page.wait_for_load_state()
        _fill_growing_area(page, code, text["area"], ORCHARD)
        page.locator("#f-area_ha").focus()  # leaving the geometry box checks the polygon
        page.wait_for_selector("#geometry-check .ok")
        assert "5" in page.locator("#geometry-check").inner_text()
        page.screenshot(path=str(shots / "02-form.png"), full_page=True)
        page.locator("form.form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("h1 .badge").inner_text() == text["pending"]
        page.screenshot(path=str(shots / "03-detail.png"), full_page=True)

        # It is listed as pending.
        page.goto(f"{live_app.url}/registry/growing-areas?q={code}")
        row = page.locator("tbody tr", has_text=code)
        assert row.locator(".badge").inner_text() == text["pending"]
        page.screenshot(path=str(shots / "04-list-pending.png"), full_page=True)

        # A self-intersecting polygon is refused with a readable error next to the field.
        page.goto(f"{live_app.url}/registry/growing-areas/new")
        _fill_growing_area(page, f"{code}-X", "5", BOWTIE)
        page.locator("form.form button[type=submit]").click()
        page.wait_for_load_state()
        error = page.locator("#err-geometry").inner_text()
        assert text["invalid_polygon"] in error and text["crosses_itself"] in error
        assert page.locator("#f-geometry").get_attribute("aria-invalid") == "true"
        page.locator("#f-geometry").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "05-invalid-polygon.png"))

        # The producer signs out; the province's authority approves the code.
        page.get_by_role("button", name=text["sign_out"]).click()
        page.wait_for_load_state()
        page.goto(f"{live_app.url}/login")
        _login(page, live_app, live_app.authority_email, lang)
        page.get_by_role("navigation").get_by_role("link", name=text["approvals"]).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == text["approvals"]
        row = page.locator("tbody tr", has_text=code)
        page.screenshot(path=str(shots / "06-queue.png"), full_page=True)
        row.get_by_role("button", name=text["approve"]).click()
        page.wait_for_load_state()
        assert page.locator("tbody tr", has_text=code).count() == 0
        page.goto(f"{live_app.url}/registry/growing-areas?q={code}")
        row = page.locator("tbody tr", has_text=code)
        assert row.locator(".badge").inner_text() == text["approved"]
        page.screenshot(path=str(shots / "07-approved.png"), full_page=True)
    finally:
        context.close()
