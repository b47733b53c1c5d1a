"""The forecast page in a real headless Chromium, in Vietnamese and English: chart, model and
backtest shown; screenshots land in var/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_facility, make_org, make_product, make_user
from tests.oversight.test_forecast_service import ship_weekly
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade
from truyxuat.gs1 import make_gln

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveApp:
    """The running app, the product forecast and who signs in."""

    url: str
    gtin: str
    email: str


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serves the real app on a migrated SQLite file holding 40 weeks of shipments."""
    folder = tmp_path_factory.mktemp("forecast-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        producer = make_org(db, province_code="24")
        product = make_product(db, producer, names={"vi": "Vải thiều", "en": "Lychee"})
        buyer = make_org(db, province_code="96")
        assert buyer.gs1_company_prefix
        gln = make_gln(buyer.gs1_company_prefix, 2)
        make_facility(db, buyer, province_code="96", gln=gln)
        ship_weekly(db, producer, product.gtin, gln)
        user = make_user(db, producer, Role.org_admin, email="kehoach@vai.example.vn")
        db.commit()
        gtin, email = product.gtin, user.email
    engine.dispose()
    settings = Settings(database_url=url, secret_key="browser-test-secret", data_dir=folder)
    with serving(settings) as base:
        yield LiveApp(base, gtin, email)


def _login(page: Any, app: LiveApp, lang: str) -> None:
    page.goto(f"{app.url}/lang/{lang}?next=/login")
    page.goto(f"{app.url}/login")
    page.fill("input[name=email]", app.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_forecast_page_shows_chart_model_and_backtest(
    live_app: LiveApp, chromium: Any, lang: str
) -> None:
    page = chromium.new_page()
    _login(page, live_app, lang)
    page.goto(f"{live_app.url}/oversight/forecast")
    page.fill("input[name=gtin]", live_app.gtin)
    page.locator("#forecast-form button[type=submit]").click()
    page.wait_for_load_state()

    assert page.locator("#forecast-chart svg").count() == 1
    assert page.locator("#forecast-chart svg").is_visible()
    assert "ETS(" in page.locator("#forecast-model").inner_text()
    backtest = page.locator("#forecast-backtest").inner_text()
    assert "MAPE" in backtest and "%" in backtest
    assert page.locator("#forecast-table tbody tr").count() == 12
    heading = {"vi": "Dự báo nhu cầu", "en": "Demand forecast"}[lang]
    assert page.locator("h1").first.inner_text() == heading
    name = {"vi": "Vải thiều", "en": "Lychee"}[lang]
    assert name in page.locator("#forecast-product").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"oversight-forecast-{lang}.png"), full_page=True)
    page.close()
