"""kill -9 of a real server in the middle of a bulk capture: the document is stored whole or not
at all, and a capture that was answered with success survives the kill."""

from __future__ import annotations

import json
import signal
import threading
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.ops.conftest import start_server
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.epcis.models import EpcisEvent
from truyxuat.registry.models import Organization, OrgKind

EVENTS = 4000


def _document(batch: int) -> bytes:
    events = [
        {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:0b9a7c52-1d2e-4f00-9000-{batch:04d}{n:08d}",
            "eventTime": f"2026-11-20T08:{n // 60 % 60:02d}:{n % 60:02d}.000+07:00",
            "eventTimeZoneOffset": "+07:00",
            "epcList": [f"https://id.gs1.org/01/08935001234562/21/K{batch}-{n}"],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
        }
        for n in range(EVENTS)
    ]
    return json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-23T08:00:00+07:00",
            "epcisBody": {"eventList": events},
        }
    ).encode()


def _api_key(url: str) -> str:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        org = Organization(code="KILL9", kind=OrgKind.enterprise, name="Kill", province_code="24")
        session.add(org)
        session.flush()
        _, key = auth_service.create_api_key(session, org=org, role=Role.org_staff)
    engine.dispose()
    return key


def _stored(url: str) -> int:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        count = session.scalar(select(func.count()).select_from(EpcisEvent))
    engine.dispose()
    return int(count or 0)


def _post(base: str, key: str, body: bytes, outcome: dict[str, Any]) -> None:
    try:
        response = httpx.post(
            f"{base}/epcis/capture",
            content=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/ld+json"},
            timeout=120,
        )
        outcome["status"] = response.status_code
    except httpx.HTTPError as exc:
        outcome["error"] = exc


def test_kill_during_capture_leaves_the_whole_document_or_nothing(node: dict[str, str]) -> None:
    url = node["TRUYXUAT_DATABASE_URL"]
    key = _api_key(url)
    server, base = start_server(node)
    started = time.perf_counter()
    outcome: dict[str, Any] = {}
    _post(base, key, _document(0), outcome)
    took = time.perf_counter() - started
    assert outcome.get("status") == 202, outcome
    held, cut_short = EVENTS, 0
    # Kills spread over the time one capture takes: before, during and after the commit.
    for batch, fraction in enumerate((0.3, 0.6, 0.8, 0.95, 1.1), start=1):
        outcome = {}
        sender = threading.Thread(target=_post, args=(base, key, _document(batch), outcome))
        sender.start()
        time.sleep(took * fraction)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        sender.join(60)
        stored = _stored(url)
        assert stored in (held, held + EVENTS), f"partial document: {stored - held} of {EVENTS}"
        if outcome.get("status") == 202:
            assert stored == held + EVENTS  # answered success, so it must have been committed
        cut_short += "error" in outcome
        held = stored
        server, base = start_server(node)
    try:
        assert cut_short, "no kill landed before the answer: the test proved nothing"
        # Re-sending every document after the kills completes the set, idempotently.
        for batch in range(6):
            outcome = {}
            _post(base, key, _document(batch), outcome)
            assert outcome.get("status") == 202, outcome
        assert _stored(url) == 6 * EVENTS
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)


def test_a_capture_answered_with_success_survives_kill(node: dict[str, str]) -> None:
    url = node["TRUYXUAT_DATABASE_URL"]
    key = _api_key(url)
    server, base = start_server(node)
    outcome: dict[str, Any] = {}
    _post(base, key, _document(2), outcome)
    server.send_signal(signal.SIGKILL)  # at once: no graceful shutdown, no flush
    server.wait(10)
    assert outcome.get("status") == 202, outcome
    assert _stored(url) == EVENTS
