"""The oversight dashboard in a real headless Chromium, in Vietnamese and English.

The real app runs under uvicorn against its own migrated SQLite file holding the hand-counted
two-province world; the province A authority signs in. Screenshots land in var/screenshots/.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_user
from tests.oversight.test_dashboard_service import World, build_world
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveApp:
    """The running app, the world in it and who signs in."""

    url: str
    world: World
    email: str


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serves the real app over HTTP on a migrated SQLite file holding the two provinces."""
    folder = tmp_path_factory.mktemp("dashboard-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, secret_key="browser-test-secret", data_dir=folder)
    with Session(engine, expire_on_commit=False) as db:
        world = build_world(db, settings)
        user = make_user(db, world.authority_a, Role.authority, email="so@bacninh.gov.vn")
        db.commit()
        email = user.email
    engine.dispose()
    with serving(settings) as base:
        yield LiveApp(base, world, email)


def _login(page: Any, app: LiveApp, lang: str) -> None:
    page.goto(f"{app.url}/lang/{lang}?next=/login")
    page.goto(f"{app.url}/login")
    page.fill("input[name=email]", app.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


TEXTS = {
    "vi": ("Bảng điều khiển giám sát", "Việc cần xử lý hôm nay", "Tháng,Đã đặt"),
    "en": ("Oversight dashboard", "What needs action today", "Month,Ordered"),
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_dashboard_page_in_the_browser(live_app: LiveApp, chromium: Any, lang: str) -> None:
    heading, actions, _ = TEXTS[lang]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    _login(page, live_app, lang)
    page.goto(f"{live_app.url}/oversight")
    assert page.locator("h1").first.inner_text() == heading
    assert page.locator("#h-actions").inner_text() == actions
    assert page.locator("#ocop-percent").inner_text().startswith("60")
    charts = page.locator("figure.chart-card svg[role=img]")
    assert charts.count() == 9
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80
    assert page.locator("#chart-ocop-coverage [data-kind=target]").count() == 1
    assert "VG-SOON" in page.locator("#expiring-certificates").inner_text()
    assert live_app.world.b.name not in page.content()
    with page.expect_download() as info:
        page.locator('#chart-stamps a[href$=".csv"]').click()
    download = info.value
    assert download.suggested_filename == "stamps.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[-1][1:] == ["15", "10", "3"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"oversight-dashboard-{lang}.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden() and page.locator(".downloads").first.is_hidden()
    page.close()


def test_dashboard_prints_on_a4(live_app: LiveApp, chromium: Any, tmp_path: Any) -> None:
    page = chromium.new_page()
    _login(page, live_app, "vi")
    page.goto(f"{live_app.url}/oversight")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "oversight-dashboard-print.pdf").write_bytes(pdf)
    page.close()
