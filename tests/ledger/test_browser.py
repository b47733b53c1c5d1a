"""The ledger badge in a real headless Chromium: an honest bundle turns it to "verified",
an altered one to a clear failure. The app runs under uvicorn on its own SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser import launch_chromium, serving
from tests.factories import make_org
from tests.ledger.conftest import make_event
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade, utcnow
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.service import store_events
from truyxuat.ledger import service
from truyxuat.ledger.keys import log_signer, witness_signer

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveLedger:
    """The running app and the hash of an event it logged and cosigned."""

    url: str
    event_hash: str
    size: int


@pytest.fixture(scope="module")
def live_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLedger]:
    """Serves the app over HTTP with three logged events and a witnessed checkpoint."""
    folder = tmp_path_factory.mktemp("ledger-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="ledger-browser",
        data_dir=folder,
        ledger_integrate_interval=0,
    )
    settings.ledger_witness_logs = [log_signer(settings).verifier.vkey()]
    settings.ledger_witnesses = [witness_signer(settings).verifier.vkey()]
    engine = make_engine(url)
    with Session(engine) as db:
        org = make_org(db)
        store_events(
            db, org.id, [make_event(n) for n in range(3)], record_time=utcnow(), capture_id=None
        )
        service.integrate(db)
        checkpoint = service.sign_checkpoint(db, settings)
        note = checkpoint.body + "\n" + checkpoint.signature
        line = service.cosign(db, settings, old_size=0, proof=[], note=note)
        service.add_cosignature(db, settings, checkpoint, line)
        digest = db.scalars(select(EpcisEvent.event_hash)).first()
        db.commit()
        size = checkpoint.tree_size
    engine.dispose()
    assert digest is not None
    with serving(settings) as base:
        yield LiveLedger(base, digest, size)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (skipped without one, failed in CI)."""
    yield from launch_chromium()


def badge_after_check(page: Any) -> tuple[str, str]:
    """Waits for the script to decide; returns the badge's state and text."""
    page.wait_for_selector("[data-ledger-badge]:not([data-state='checking'])", timeout=10_000)
    badge = page.locator("[data-ledger-badge]")
    return badge.get_attribute("data-state"), badge.locator(".ledger-status").inner_text()


def test_an_honest_bundle_is_verified_in_the_browser(live_ledger: LiveLedger, browser: Any) -> None:
    """The badge says verified at the checkpoint and names the witness, in en and vi."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_ledger.url}/ledger/verify?lang=en&event_hash={live_ledger.event_hash}")
    state, text = badge_after_check(page)
    assert state == "verified", text
    assert text == (
        f"Verified at checkpoint {live_ledger.size}, cosigned by truyxuat.example/witness"
    )
    page.goto(f"{live_ledger.url}/ledger/verify?lang=vi&event_hash={live_ledger.event_hash}")
    state, text = badge_after_check(page)
    assert state == "verified"
    assert text.startswith(f"Đã xác minh tại checkpoint {live_ledger.size}")
    assert not errors
    page.close()


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        (r'"leaf_index": (\d+)', lambda m: f'"leaf_index": {(int(m.group(1)) + 1) % 3}'),
        (r'"salt": "(.)', lambda m: '"salt": "' + ("B" if m.group(1) != "B" else "C")),
        (
            r"\\u2014 truyxuat.example/ledger (.)",
            lambda m: m.group(0)[:-1] + ("A" if m.group(1) != "A" else "B"),
        ),
    ],
    ids=["leaf-index", "salt", "signature"],
)
def test_an_altered_bundle_fails_clearly(
    live_ledger: LiveLedger, browser: Any, pattern: str, replacement: Any
) -> None:
    """The page's embedded bundle is altered in transit before the script reads it."""
    page = browser.new_page()

    def alter(route: Any) -> None:
        response = route.fetch()
        html, count = re.subn(pattern, replacement, response.text(), count=1)
        assert count == 1, pattern
        route.fulfill(response=response, body=html)

    page.route(re.compile(r".*/ledger/verify\?.*"), alter)
    page.goto(f"{live_ledger.url}/ledger/verify?lang=en&event_hash={live_ledger.event_hash}")
    state, text = badge_after_check(page)
    assert state == "failed", text
    assert text.startswith("Ledger check FAILED: ")
    page.close()
