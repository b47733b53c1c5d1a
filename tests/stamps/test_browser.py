"""Stamp pages in a real headless Chromium on a phone: order a run, download and decode its PDF,
activate it. The app runs under uvicorn on its own migrated SQLite file (see tests/web)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser import SCREENSHOTS, serving
from tests.factories import PASSWORD, make_org, make_product, make_user
from tests.stamps.test_carriers import read_pgm
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade
from truyxuat.stamps import service
from truyxuat.stamps.models import Stamp, StampRun

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "stamps"


@dataclass(frozen=True)
class LiveStamps:
    """The running app, its settings and the producer who orders stamps."""

    url: str
    database_url: str
    settings: Settings
    email: str
    product_id: str


@pytest.fixture(scope="module")
def live_stamps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStamps]:
    """Serves the real app over HTTP on a fresh SQLite file with a producer and a product."""
    folder = tmp_path_factory.mktemp("stamps-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        org = make_org(db, province_code="24", name="Hợp tác xã Vải thiều Phượng Sơn")
        user = make_user(db, org, Role.org_admin, email="tem@phuongson.example.vn")
        product = make_product(db, org, names={"vi": "Vải thiều Lục Ngạn", "en": "Lychee"})
        db.commit()
        email, product_id = user.email, str(product.id)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="stamps-browser-secret", data_dir=folder)
    with serving(settings) as base:
        yield LiveStamps(base, url, settings, email, product_id)


def _decode_pdf(pdf: Path) -> list[str]:
    """Rasterizes the PDF at 200 dpi in grey and decodes every QR code on its pages."""
    subprocess.run(
        ["pdftoppm", "-r", "200", "-gray", str(pdf), str(pdf.with_suffix(""))], check=True
    )
    pages = sorted(pdf.parent.glob(pdf.stem + "-*.pgm"))
    return [code.text for page in pages for code in zxingcpp.read_barcodes(read_pgm(page))]


def _service_uris(live: LiveStamps, run_id: str) -> set[str]:
    """The Digital Links the service assigned to the run's stamps."""
    engine = make_engine(live.database_url)
    with Session(engine) as db:
        run = db.get(StampRun, uuid.UUID(run_id))
        assert run is not None
        serials = db.scalars(select(Stamp.serial).where(Stamp.run_id == run.id)).all()
        uris = {service.stamp_uri(run, s, live.settings) for s in serials}
    engine.dispose()
    return uris


def test_producer_orders_downloads_decodes_and_activates_a_run_on_a_phone(
    live_stamps: LiveStamps, chromium: Any, tmp_path: Path
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
    try:
        page.goto(f"{live_stamps.url}/stamps")
        assert "/login" in page.url
        page.fill("input[name=email]", live_stamps.email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state()

        # The producer opens the stamps and orders 12 QR stamps.
        page.goto(f"{live_stamps.url}/stamps")
        assert page.locator("h1").inner_text() == "Đợt in tem"
        page.get_by_role("link", name="Đặt in tem").click()
        page.wait_for_load_state()
        page.select_option("#f-product_id", live_stamps.product_id)
        page.fill("#f-count", "0")
        page.locator("form.form button[type=submit]").click()
        page.wait_for_load_state()
        assert "Hãy đặt ít nhất một tem" in page.locator("#err-count").inner_text()
        page.fill("#f-count", "12")
        page.screenshot(path=str(SHOTS / "01-order.png"), full_page=True)
        page.locator("form.form button[type=submit]").click()
        page.wait_for_load_state()
        assert "12 tem đã được tạo" in page.locator("#result").inner_text()
        assert page.locator(".run-state").get_attribute("data-state") == "generated"
        assert page.locator(".stamp-preview svg").count() == 6
        run_id = page.url.split("?")[0].rsplit("/", 1)[1]
        page.screenshot(path=str(SHOTS / "02-run.png"), full_page=True)

        # The PDF sheet downloads and its QR codes decode to the service's Digital Links.
        with page.expect_download() as info:
            page.get_by_role("link", name="PDF, tờ nhãn A4").click()
        pdf = tmp_path / "sheet.pdf"
        info.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
        decoded = _decode_pdf(pdf)
        uris = _service_uris(live_stamps, run_id)
        assert decoded and set(decoded) <= uris
        assert len(set(decoded)) == 12
        shown = page.locator(".stamp-preview li").first.get_attribute("data-uri")
        assert shown in decoded

        # Activation with a lot makes every stamp live.
        page.reload()
        assert page.locator(".run-state").get_attribute("data-state") == "printed"
        page.fill("#f-lot", "VAI-2026-06")
        page.get_by_role("button", name="Kích hoạt").click()
        page.wait_for_load_state()
        assert "12 tem đã được kích hoạt" in page.locator("#result").inner_text()
        assert page.locator(".run-state").get_attribute("data-state") == "activated"
        assert page.locator("#count-activated").inner_text() == "12"
        page.screenshot(path=str(SHOTS / "03-activated.png"), full_page=True)
    finally:
        context.close()
