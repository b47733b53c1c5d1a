"""Consumers scan stamps in a real headless Chromium on a phone (390×844), on each store.

The app runs under uvicorn on its own freshly migrated database (SQLite file, or a throw-away
PostgreSQL database) holding a lychee chain committed through the real services. Screenshots
land in the test's output folder (pytest's tmp_path), one per language and warning.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.browser import free_port, serving
from tests.conftest import STORES, _drop_postgres_database, _postgres_database
from tests.resolver import chain as lychee
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HANOI = {"latitude": 21.0285, "longitude": 105.8542}
SAIGON = {"latitude": 10.7769, "longitude": 106.7009}


@dataclass(frozen=True)
class Live:
    """The running app and the chain it serves."""

    url: str
    chain: lychee.Chain


@pytest.fixture(scope="module", params=STORES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("resolver-browser")
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'browser.db'}"
    else:
        name = f"truyxuat_test_{uuid.uuid4().hex[:12]}"
        url = _postgres_database(name)
    upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=url,
        secret_key="resolver-browser-secret",
        data_dir=folder,
        resolver_base=base,
        public_base_url=base,
    )
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as db:
        chain = lychee.build(db, settings)
        lychee.recall(db, chain, lot="LOT-RECALLED")
        db.commit()
    # The events get their ledger leaves and a signed checkpoint, as the integrator would.
    from truyxuat.db import make_sessionmaker
    from truyxuat.ledger.api import run_once

    run_once(make_sessionmaker(engine), settings)
    engine.dispose()
    try:
        with serving(settings, port):
            yield Live(base, chain)
    finally:
        if name:
            _drop_postgres_database(name)


def _phone(chromium: Any, locale: str, **options: Any) -> Any:
    context = chromium.new_context(
        viewport=PHONE, locale=locale, is_mobile=True, has_touch=True, **options
    )
    context.set_default_timeout(15_000)
    return context


@pytest.mark.parametrize(
    ("locale", "name", "journey", "certificates", "expired"),
    [
        ("vi-VN", "Vải thiều Lục Ngạn", "Hành trình", "Chứng nhận", "Hết hạn"),
        ("en-US", "Luc Ngan lychee", "Journey", "Certificates", "Expired"),
        ("zh-CN", "陆岸荔枝", "流通历程", "认证证书", "已过期"),
    ],
)
def test_scanning_a_stamp_shows_journey_map_and_certificates(
    live: Live,
    chromium: Any,
    tmp_path: Path,
    locale: str,
    name: str,
    journey: str,
    certificates: str,
    expired: str,
) -> None:
    chain = live.chain
    context = _phone(chromium, locale)
    page = context.new_page()
    try:
        response = page.goto(f"{live.url}/01/{chain.gtin}/10/{lychee.LOT}/21/{chain.activated[0]}")
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text() == name
        assert page.locator("#journey h2").inner_text() == journey
        steps = page.locator("#journey li")
        assert steps.count() == 5
        assert steps.last.get_attribute("data-step") == "receiving"
        assert "Cửa hàng Xanh Cầu Giấy" in steps.last.inner_text()
        assert page.locator("#area svg .pp-map-shape").is_visible()
        assert chain.area_code in page.locator("#area").inner_text()
        assert page.locator("#certificates h2").inner_text() == certificates
        assert page.locator("#certificates [data-status=valid]").count() == 1
        assert expired in page.locator("#certificates [data-status=expired]").inner_text()
        # The newest event's ledger proof is checked in the browser (ledger-verify.js).
        badge = page.locator("#journey [data-ledger-badge]")
        page.wait_for_function(
            "document.querySelector('[data-ledger-badge]').dataset.state !== 'checking'"
        )
        assert badge.get_attribute("data-state") in ("verified", "unsigned")
        # Mobile first: nothing wider than the phone's screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        page.screenshot(path=str(tmp_path / f"passport-{locale}.png"), full_page=True)
        # The switch changes the language in place.
        other = "en" if not locale.startswith("en") else "vi"
        page.locator(f".pp-langs a[hreflang={other}]").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == other
    finally:
        context.close()


@pytest.mark.parametrize(
    ("which", "warning"),
    [("never_issued", "never_issued"), ("voided", "voided"), ("recalled", "recalled")],
)
def test_suspicious_codes_show_their_warning(
    live: Live, chromium: Any, tmp_path: Path, which: str, warning: str
) -> None:
    chain = live.chain
    paths = {
        "never_issued": f"/01/{chain.gtin}/21/FAKE00000001",
        "voided": f"/01/{chain.gtin}/21/{chain.voided}",
        "recalled": f"/01/{chain.gtin}/10/LOT-RECALLED",
    }
    context = _phone(chromium, "vi-VN")
    page = context.new_page()
    try:
        page.goto(live.url + paths[which])
        item = page.locator(f"#authenticity-summary [data-warning={warning}]")
        assert item.is_visible()
        if which == "recalled":
            assert page.locator("#recall").is_visible()
            assert "thu hồi" in page.locator("#recall").inner_text()
        page.screenshot(path=str(tmp_path / f"warning-{which}.png"), full_page=True)
    finally:
        context.close()


def test_two_distant_scans_warn_of_a_copied_stamp(
    live: Live, chromium: Any, tmp_path: Path
) -> None:
    chain = live.chain
    path = f"{live.url}/01/{chain.gtin}/21/{chain.activated[1]}"
    for place, expect_warning in ((HANOI, False), (SAIGON, True)):
        context = _phone(chromium, "vi-VN", geolocation=place, permissions=["geolocation"])
        page = context.new_page()
        try:
            page.goto(path)
            page.locator("#share-place").click()
            page.locator("#place-shared").wait_for()
            copied = page.locator("#scan-warnings [data-warning=far_apart]")
            if expect_warning:
                copied.wait_for()
                assert "km" in copied.inner_text()
                page.screenshot(path=str(tmp_path / "warning-copied.png"), full_page=True)
            else:
                assert copied.count() == 0
        finally:
            context.close()


def test_wrong_pins_are_limited(live: Live, chromium: Any, tmp_path: Path) -> None:
    chain = live.chain
    serial = chain.activated[0]
    right = chain.pins[serial]
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    context = _phone(chromium, "en-US")
    page = context.new_page()
    try:
        page.goto(f"{live.url}/01/{chain.gtin}/21/{serial}")
        page.fill("#pin", right)
        page.locator("#pin-form button").click()
        page.wait_for_load_state()
        assert page.locator("#pin-result").get_attribute("data-outcome") == "first"
        page.screenshot(path=str(tmp_path / "pin-genuine.png"), full_page=True)
        outcomes = []
        for _ in range(6):
            page.fill("#pin", wrong)
            page.locator("#pin-form button").click()
            page.wait_for_load_state()
            outcomes.append(page.locator("#pin-result").get_attribute("data-outcome"))
        assert outcomes[:5] == ["wrong"] * 5 and outcomes[5] == "limited"
        page.screenshot(path=str(tmp_path / "pin-limited.png"), full_page=True)
    finally:
        context.close()


def test_a_shop_page_can_frame_the_widget_but_not_the_passport(
    live: Live, chromium: Any, tmp_path: Path
) -> None:
    chain = live.chain
    lot = f"/01/{chain.gtin}/10/{lychee.LOT}"
    shop = (
        '<!doctype html><meta charset="utf-8"><title>Shop</title><h1>Vải thiều loại 1</h1>'
        f'<iframe id="widget" src="{live.url}/embed{lot}" width="360" height="420"></iframe>'
        f'<iframe id="passport" src="{live.url}{lot}" width="360" height="420"></iframe>'
    )
    (tmp_path / "lychee.html").write_text(shop, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    # The shop is another origin on this machine, served by a plain HTTP server.
    shop_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=shop_server.serve_forever, daemon=True).start()
    context = _phone(chromium, "vi-VN")
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{shop_server.server_address[1]}/lychee.html")
        widget = page.frame_locator("#widget")
        assert widget.locator("h1").inner_text() == "Vải thiều Lục Ngạn"
        assert widget.locator("li[data-step]").count() >= 3
        page.wait_for_timeout(500)
        # frame-ancestors 'none' keeps the passport itself out of other sites' frames.
        # (Chromium shows its own "… is blocked" page in the frame instead.)
        assert "Vải thiều" not in page.frame_locator("#passport").locator("body").inner_text()
        page.screenshot(path=str(tmp_path / "shop-widget.png"), full_page=True)
    finally:
        context.close()
        shop_server.shutdown()


def test_a_photo_of_a_stamp_opens_its_passport(live: Live, chromium: Any, tmp_path: Path) -> None:
    from tests.resolver.test_authenticity import _qr_png

    chain = live.chain
    serial = chain.activated[0]
    photo = tmp_path / "tem.jpg"
    photo.write_bytes(_qr_png(f"{live.url}/01/{chain.gtin}/10/{lychee.LOT}/21/{serial}"))
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live.url}/passport/photo")
        page.set_input_files("#photo", str(photo))
        page.locator("#photo-form button").click()
        page.wait_for_load_state()
        assert f"/21/{serial}" in page.url
        assert page.locator("h1").inner_text() == "Luc Ngan lychee"
        page.screenshot(path=str(tmp_path / "photo-resolved.png"), full_page=True)
    finally:
        context.close()


def test_the_passport_badge_fails_clearly_when_its_bundle_is_altered(
    live: Live, chromium: Any, tmp_path: Path
) -> None:
    """The honest passport verifies; the same passport with its proof altered in transit
    (another salt for the leaf) shows a clear failure instead."""
    chain = live.chain
    url = f"{live.url}/01/{chain.gtin}/10/{lychee.LOT}/21/{chain.activated[0]}?lang=en"
    honest = _phone(chromium, "en-US").new_page()
    honest.goto(url)
    honest.wait_for_function(
        "document.querySelector('[data-ledger-badge]').dataset.state !== 'checking'"
    )
    assert honest.locator("[data-ledger-badge]").get_attribute("data-state") == "verified"

    context = _phone(chromium, "en-US")
    page = context.new_page()

    def alter(route: Any) -> None:
        response = route.fetch()
        html, count = re.subn(
            r'"salt": "(.)',
            lambda m: '"salt": "' + ("B" if m.group(1) != "B" else "C"),
            response.text(),
            count=1,
        )
        assert count == 1
        route.fulfill(response=response, body=html)

    page.route(re.compile(r".*/01/.*"), alter)
    page.goto(url)
    page.wait_for_function(
        "document.querySelector('[data-ledger-badge]').dataset.state !== 'checking'"
    )
    badge = page.locator("[data-ledger-badge]")
    assert badge.get_attribute("data-state") == "failed"
    assert badge.locator(".ledger-status").inner_text().startswith("Ledger check FAILED")
    page.screenshot(path=str(tmp_path / "passport-ledger-failed.png"), full_page=True)
    context.close()
