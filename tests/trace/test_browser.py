"""The trace and recall pages in a real headless Chromium (Vietnamese and English).

The real app runs under uvicorn in a background thread against its own migrated SQLite file
holding the synthetic export chain; screenshots land in var/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_user
from tests.trace.chain import Chain, build_chain
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveApp:
    """The running app, the chain in it and who signs in."""

    url: str
    chain: Chain
    packer_email: str
    importer_email: str


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serves the real app over HTTP on a migrated SQLite file holding the export chain."""
    folder = tmp_path_factory.mktemp("trace-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        chain = build_chain(db)
        packer = make_user(db, chain.packer, Role.org_admin, email="qa@packer.example.vn")
        importer = make_user(db, chain.importer, Role.org_staff, email="ops@import.example.jp")
        db.commit()
        emails = (packer.email, importer.email)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="browser-test-secret", data_dir=folder)
    with serving(settings) as base:
        yield LiveApp(base, chain, *emails)


def _login(page: Any, app: LiveApp, email: str, lang: str) -> None:
    page.goto(f"{app.url}/lang/{lang}?next=/login")
    page.goto(f"{app.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_trace_page_draws_the_graph(live_app: LiveApp, chromium: Any, lang: str) -> None:
    page = chromium.new_page()
    _login(page, live_app, live_app.packer_email, lang)
    page.goto(f"{live_app.url}/trace")
    page.fill("input[name=epc]", live_app.chain.s1)
    page.select_option("select[name=direction]", "backward")
    page.locator("form.trace-form button[type=submit]").click()
    page.wait_for_load_state()
    svg = page.locator("#trace-svg")
    assert svg.is_visible()
    pallet = page.locator(f'#trace-svg g.node[data-id="{live_app.chain.s1}"]')
    packed = page.locator(f'#trace-svg g.node[data-id="{live_app.chain.p1}"]')
    assert pallet.count() == 1 and packed.count() == 1
    # Origins on the left: the packed lot is drawn left of the pallet it was packed on.
    assert packed.bounding_box()["x"] < pallet.bounding_box()["x"]
    assert page.locator("#trace-svg line").count() >= 2
    heading = {"vi": "Truy xuất", "en": "Trace"}[lang]
    assert page.locator("h1").first.inner_text() == heading
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"trace-{lang}.png"), full_page=True)
    page.close()


def test_recall_opened_in_the_browser_reaches_the_importer(
    live_app: LiveApp, chromium: Any
) -> None:
    page = chromium.new_page()
    _login(page, live_app, live_app.packer_email, "vi")
    page.goto(f"{live_app.url}/recalls")
    page.fill("input[name=epc]", live_app.chain.p1)
    page.fill("textarea[name=reason]", "Phát hiện Listeria")
    page.select_option("select[name=severity]", "class_i")
    page.locator("section form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#recall-reason").inner_text() == "Phát hiện Listeria"
    assert live_app.chain.importer.name in page.locator("#recall-recipients").inner_text()
    recall_url = page.url
    page.close()
    page = chromium.new_page()
    _login(page, live_app, live_app.importer_email, "en")
    page.goto(recall_url)
    page.fill("#ack-form textarea[name=note]", "Pallet quarantined")
    page.locator("#ack-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "Pallet quarantined" in page.locator("#recall-recipients").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "recall-acknowledged-en.png"), full_page=True)
    page.close()
