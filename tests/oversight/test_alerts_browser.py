"""The alert pages in a real headless Chromium (Vietnamese and English): an authority reads
its province's alerts, opens one, follows its evidence and acknowledges then resolves it.

The real app runs under uvicorn in a background thread against its own migrated SQLite file;
screenshots land in var/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_authority, make_org, make_user
from tests.oversight.test_alerts_rules import HANOI, HO_CHI_MINH, issue, scan
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade
from truyxuat.oversight.models import Alert
from truyxuat.oversight.service import alerts as service

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveApp:
    """The running app, its alerts and the authority who signs in."""

    url: str
    alert_ids: tuple[str, ...]
    email: str


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serves the real app on a migrated SQLite file holding two copied-stamp alerts."""
    folder = tmp_path_factory.mktemp("alerts-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="browser-test-secret", data_dir=folder)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        org = make_org(db, province_code="24", name="Công ty Nước giải khát Bắc Ninh")
        for _ in range(2):
            issued = issue(db, settings, org)
            serial = sorted(issued.pins)[0]
            scan(db, issued.run.gtin, serial, HANOI)
            scan(db, issued.run.gtin, serial, HO_CHI_MINH)
        service.run_rules(db, settings=settings)
        officer = make_user(
            db, make_authority(db, province_code="24"), Role.authority, email="sct@bacninh.gov.vn"
        )
        db.commit()
        ids = tuple(str(i) for i in db.scalars(select(Alert.id).order_by(Alert.dedup_key)))
        email = officer.email
    engine.dispose()
    with serving(settings) as base:
        yield LiveApp(base, ids, email)


def _login(page: Any, app: LiveApp, lang: str) -> None:
    page.goto(f"{app.url}/lang/{lang}?next=/login")
    page.goto(f"{app.url}/login")
    page.fill("input[name=email]", app.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


TEXTS = {
    "vi": ("Cảnh báo sớm", "Tem bị sao chép", "Đã xác nhận", "Đã xử lý xong"),
    "en": ("Early-warning alerts", "Copied stamp", "Acknowledged", "Resolved"),
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_authority_reads_acknowledges_and_resolves_an_alert(
    live_app: LiveApp, chromium: Any, lang: str
) -> None:
    heading, rule, acknowledged, resolved = TEXTS[lang]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    _login(page, live_app, lang)
    page.goto(f"{live_app.url}/oversight/alerts")
    assert page.locator("h1").inner_text() == heading
    rows = page.locator("#alert-list tbody tr[data-id]")
    assert rows.count() == 2 and rule in rows.first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"oversight-alerts-{lang}.png"), full_page=True)
    alert_id = live_app.alert_ids[0 if lang == "vi" else 1]
    page.locator(f'#alert-list tr[data-id="{alert_id}"] a').first.click()
    page.wait_for_load_state()
    assert "km" in page.locator("#alert-title").inner_text()
    assert page.locator('#alert-evidence tr[data-kind="scan"]').count() == 2
    page.screenshot(path=str(SCREENSHOTS / f"oversight-alert-{lang}.png"), full_page=True)
    page.fill("#f-ack-note", "Đang kiểm tra cửa hàng" if lang == "vi" else "Checking the shops")
    page.locator("#ack-form button[type=submit]").click()
    page.wait_for_load_state()
    assert acknowledged in page.locator("#alert-state").inner_text()
    page.fill(
        "#resolve-form textarea[name=note]",
        "Tem giả đã thu hồi" if lang == "vi" else "Fakes seized",
    )
    page.locator("#resolve-form button[type=submit]").click()
    page.wait_for_load_state()
    assert resolved in page.locator("#alert-state").inner_text()
    assert page.locator("#resolve-form").count() == 0
    page.screenshot(path=str(SCREENSHOTS / f"oversight-alert-resolved-{lang}.png"), full_page=True)
    page.locator("#evidence-link").click()
    page.wait_for_load_state()
    assert "/01/" in page.url
    page.close()
