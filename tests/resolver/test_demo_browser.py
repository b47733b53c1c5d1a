"""The demo data scanned on a phone in headless Chromium: a demo lychee lot's passport shows
its journey, growing-area map and certificates in vi, en and zh, and a demo stamp resolves.
Screenshots land in the test's output folder. Lots are found in the loaded data, not named."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA, STORES
from tests.resolver.live import free_base, fresh_database, serving
from tests.resolver.test_browser import PHONE
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker
from truyxuat.epcis.models import EpcisEventEpc
from truyxuat.registry.models import GrowingArea

pytestmark = pytest.mark.browser

SCHEMA = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"


@dataclass(frozen=True)
class Demo:
    url: str
    lots: list[str]
    stamps: list[str]
    database_url: str
    items: list[str]


@pytest.fixture(scope="module", params=STORES)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    from truyxuat.demo import load
    from truyxuat.demo.journeys import DEMO_STAMPS
    from truyxuat.ledger.api import run_once

    folder = tmp_path_factory.mktemp("resolver-demo")
    base = free_base()
    with fresh_database(request.param, folder) as url:
        settings = Settings(
            database_url=url,
            secret_key="resolver-demo",
            data_dir=folder,
            resolver_base=base,
            public_base_url=base,
            epcis_schema=SCHEMA,
        )
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as db:
            load(db, settings=settings)
            db.commit()
        run_once(factory, settings)
        with Session(engine) as db:
            has_area = db.scalar(select(GrowingArea.code).limit(1)) is not None
            lots = sorted(
                e.split("id.gs1.org", 1)[1]
                for e in db.scalars(
                    select(EpcisEventEpc.epc).distinct().where(EpcisEventEpc.epc.like("%/10/%"))
                )
                if "id.gs1.org" in e
            )
        engine.dispose()
        assert has_area and lots
        stamps = [f"/01/{run.gtin}/10/{run.lot}/21/{run.serials[0]}" for run in DEMO_STAMPS]
        items = [run.path(serial) for run in DEMO_STAMPS for serial in run.serials]
        with serving(settings, base):
            yield Demo(base, lots, stamps, url, items)


def _phone(chromium: Any, locale: str) -> Any:
    context = chromium.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context


@pytest.mark.parametrize(
    ("locale", "journey", "certificates"),
    [
        ("vi-VN", "Hành trình", "Chứng nhận"),
        ("en-US", "Journey", "Certificates"),
        ("zh-CN", "流通历程", "认证证书"),
    ],
)
def test_a_demo_lot_shows_journey_map_and_certificates(
    demo: Demo,
    chromium: Any,
    tmp_path: Path,
    locale: str,
    journey: str,
    certificates: str,
) -> None:
    context = _phone(chromium, locale)
    page = context.new_page()
    try:
        shown = None
        for lot in demo.lots:
            page.goto(demo.url + lot)
            if page.locator("#area svg").count():
                shown = lot
                break
        assert shown, "no demo lot with a growing area"
        assert page.locator("#journey h2").inner_text() == journey
        assert page.locator("#journey li").count() >= 3
        assert page.locator("#area svg .pp-map-shape").is_visible()
        assert page.locator("#certificates h2").inner_text() == certificates
        assert page.locator("#certificates [data-status]").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / f"demo-lot-{locale}.png"), full_page=True)
    finally:
        context.close()


def test_demo_stamps_resolve(demo: Demo, chromium: Any, tmp_path: Path) -> None:
    context = _phone(chromium, "vi-VN")
    page = context.new_page()
    try:
        for index, path in enumerate(demo.stamps):
            response = page.goto(demo.url + path)
            assert response is not None and response.status == 200, path
            assert page.locator("h1").inner_text()
            assert page.locator('[data-fact="exists"]').inner_text() == "Có"
            page.screenshot(path=str(tmp_path / f"demo-stamp-{index}.png"), full_page=True)
    finally:
        context.close()


def _scans_shown(demo: Demo, path: str) -> int:
    page = httpx.get(demo.url + path, headers={"Accept": "text/html", "Accept-Language": "en"})
    assert page.status_code == 200, page.text
    shown = re.search(r'data-fact="scans">([^<]*)<', page.text)
    assert shown is not None
    count = re.match(r"(\d+) times since", shown.group(1))
    return int(count.group(1)) if count else 0


def _scanned_again(demo: Demo, path: str, before: int) -> int:
    """Scans once more; the scan is logged just after its page is sent, so the page after
    it shows it (asked again for a few seconds, each asking a scan itself)."""
    deadline = time.monotonic() + 10
    while True:
        count = _scans_shown(demo, path)
        if count > before or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def test_a_served_stamp_counts_its_scans_across_a_database_restart(demo: Demo) -> None:
    """The served app reads each item on a connection of its own (not the tests' sessions):
    its counts follow the scans, and when the database drops every connection of the app
    (PostgreSQL restarted) the next scan is answered on new ones."""
    path = demo.stamps[-1]
    first = _scans_shown(demo, path)
    second = _scanned_again(demo, path, first)
    assert second > first
    if demo.database_url.startswith("postgresql"):
        engine = make_engine(demo.database_url)
        with engine.connect() as conn:
            dropped = conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        engine.dispose()
        assert dropped
    assert _scanned_again(demo, path, second) > second


def test_many_first_scans_at_once_are_all_answered(demo: Demo) -> None:
    """Items never resolved before, scanned together: each one's linkset is not cached, so
    each resolution opens a session of the loop's engine (two connections) as well as
    reading its item. None may hold a connection while it waits for its read, or the others
    block the loop waiting for one (every scan then failed after the pool's 30 s)."""
    from concurrent.futures import ThreadPoolExecutor

    def scan(path: str) -> int:
        headers = {"Accept": "text/html", "Accept-Language": "zh"}
        return httpx.get(demo.url + path, headers=headers, timeout=20).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(48) as pool:
        assert set(pool.map(scan, demo.items[:48])) == {200}
    assert time.monotonic() - started < 20
