"""EPCIS webhook subscriptions on both stores, delivered to a real HTTP receiver on 127.0.0.1:
signed bodies, nothing sent twice, retries after failures, resumption from the stored cursor."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.epcis.test_capture import SCHEMA_PATH, _doc, make_event
from tests.epcis.test_query import _capture, _serials
from tests.factories import api_headers, make_org
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade, utcnow
from truyxuat.epcis.cli import epcis_app
from truyxuat.epcis.hashing import document_events
from truyxuat.epcis.models import NamedQuery, Subscription
from truyxuat.epcis.service import store_events
from truyxuat.epcis.subscriptions import SIGNATURE_HEADER, backoff, deliver_due, http_post
from truyxuat.epcis.validation import SCHEMA_ENV

SECRET = "13df38d8275b13f05704629e5f1cf3d45d6132d5"


@dataclass
class Receiver:
    """A webhook on 127.0.0.1: records every POST and answers the queued statuses (then 200)."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def documents(self) -> list[dict[str, Any]]:
        """The JSON bodies received, in order."""
        return [json.loads(body) for _headers, body in self.received]

    def serials(self) -> list[int]:
        """The make_event numbers of every event received, in order, repeats kept."""
        found: list[int] = []
        for document in self.documents():
            events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            found.extend(sorted(_serials(events)))
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server in a thread, stopped after the test."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keeps the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture
def headers(db: Session) -> dict[str, str]:
    """An organization's API key headers."""
    return api_headers(db, make_org(db))


def _subscribe(
    client: TestClient, headers: dict[str, str], dest: str, query: dict[str, Any] | None = None
) -> str:
    """Saves the named query "arrivals" (bizStep receiving) and subscribes `dest`; its id."""
    body = {"name": "arrivals", "query": query or {"EQ_bizStep": ["receiving"]}}
    assert client.post("/epcis/queries", json=body, headers=headers).status_code == 201
    response = client.post(
        "/epcis/queries/arrivals/subscriptions",
        json={"dest": dest, "signatureToken": SECRET, "stream": True},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["subscriptionID"])


def _deliver(db: Session, seconds: float = 0) -> int:
    """Runs the outbox once at now (+ seconds), with the real HTTP client."""
    return deliver_due(db, now=utcnow() + timedelta(seconds=seconds), http_post=http_post)


def _receiving(*numbers: int) -> list[dict[str, Any]]:
    """Receiving events with these numbers."""
    return [make_event(n, bizStep="receiving") for n in numbers]


def test_subscription_is_created_listed_read_and_deleted(
    client: TestClient, headers: dict[str, str]
) -> None:
    sub_id = _subscribe(client, headers, "https://client.example.com/hook")
    base = "/epcis/queries/arrivals/subscriptions"
    listed = client.get(base, headers=headers).json()
    assert [s["subscriptionID"] for s in listed] == [sub_id]
    one = client.get(f"{base}/{sub_id}", headers=headers).json()
    assert one["dest"] == "https://client.example.com/hook"
    assert one["queryName"] == "arrivals"
    assert SECRET not in json.dumps(one)
    assert client.delete(f"{base}/{sub_id}", headers=headers).status_code == 204
    assert client.get(f"{base}/{sub_id}", headers=headers).status_code == 404
    assert client.get(base, headers=headers).json() == []


def test_subscription_needs_a_web_address_a_secret_and_a_query(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = {"name": "arrivals", "query": {}}
    assert client.post("/epcis/queries", json=body, headers=headers).status_code == 201
    base = "/epcis/queries/arrivals/subscriptions"
    bad = [
        {"dest": "ftp://example.com/x", "signatureToken": SECRET},
        {"dest": "example.com/x", "signatureToken": SECRET},
        {"dest": "https://example.com/x"},
    ]
    for payload in bad:
        assert client.post(base, json=payload, headers=headers).status_code == 422, payload
    ok = {"dest": "https://example.com/x", "signatureToken": SECRET}
    response = client.post("/epcis/queries/nope/subscriptions", json=ok, headers=headers)
    assert response.status_code == 404
    response = client.post(base, json=ok, headers={**headers, "GS1-EPC-Format": "Whatever"})
    assert response.status_code == 422


def test_subscriptions_of_another_organization_are_invisible(
    client: TestClient, db: Session
) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    sub_id = _subscribe(client, headers_a, "https://client.example.com/hook")
    base = "/epcis/queries/arrivals/subscriptions"
    assert client.get(base, headers=headers_b).status_code == 404
    assert client.get(f"{base}/{sub_id}", headers=headers_b).status_code == 404
    assert client.delete(f"{base}/{sub_id}", headers=headers_b).status_code == 404
    ok = {"dest": "https://example.com/x", "signatureToken": SECRET}
    assert client.post(base, json=ok, headers=headers_b).status_code == 404
    body = {"name": "arrivals", "query": {}}
    assert client.post("/epcis/queries", json=body, headers=headers_b).status_code == 201
    assert client.get(f"{base}/{sub_id}", headers=headers_b).status_code == 404
    assert client.get(f"{base}/{sub_id}", headers=headers_a).status_code == 200


def test_delivery_is_signed_and_holds_only_matching_new_events(
    client: TestClient, headers: dict[str, str], db: Session, receiver: Receiver
) -> None:
    _capture(client, headers, *_receiving(1))  # before the subscription: not sent
    sub_id = _subscribe(client, headers, receiver.url)
    _capture(client, headers, *_receiving(2, 3), make_event(4))
    assert _deliver(db) == 1
    ((sent_headers, body),) = receiver.received
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sent_headers[SIGNATURE_HEADER.lower()], expected)
    assert sent_headers["content-type"] == "application/ld+json"
    document = json.loads(body)
    assert document["type"] == "EPCISQueryDocument"
    results = document["epcisBody"]["queryResults"]
    assert results["queryName"] == "arrivals"
    assert results["subscriptionID"] == sub_id
    assert receiver.serials() == [2, 3]
    tampered = body.replace(b"receiving", b"shipping")
    wrong = "sha256=" + hmac.new(SECRET.encode(), tampered, hashlib.sha256).hexdigest()
    assert wrong != sent_headers[SIGNATURE_HEADER.lower()]


def test_two_runs_send_nothing_twice(
    client: TestClient, headers: dict[str, str], db: Session, receiver: Receiver
) -> None:
    _subscribe(client, headers, receiver.url)
    _capture(client, headers, *_receiving(1, 2))
    assert _deliver(db) == 1
    assert _deliver(db) == 0
    _capture(client, headers, *_receiving(3))
    assert _deliver(db) == 1
    assert _deliver(db) == 0
    assert sorted(receiver.serials()) == [1, 2, 3]
    assert len(receiver.received) == 2


def test_failed_delivery_is_retried_with_backoff_and_then_sent_once(
    client: TestClient, headers: dict[str, str], db: Session, receiver: Receiver
) -> None:
    sub_id = _subscribe(client, headers, receiver.url)
    _capture(client, headers, *_receiving(1, 2))
    receiver.statuses = [500]
    assert _deliver(db) == 0
    row = db.get(Subscription, uuid.UUID(sub_id))
    assert row is not None
    assert (row.attempts, row.last_error) == (1, "HTTP 500")
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert _deliver(db) == 0  # not due yet: nothing posted
    assert len(receiver.received) == 1
    receiver.statuses = [503]
    assert _deliver(db, seconds=31) == 0
    assert row.attempts == 2
    assert row.next_attempt_at > utcnow() + timedelta(seconds=60)
    assert _deliver(db, seconds=120) == 1
    assert (row.attempts, row.last_error) == (0, None)
    assert row.last_notified_at is not None
    assert _deliver(db, seconds=121) == 0
    documents = receiver.serials()
    assert documents == [1, 2, 1, 2, 1, 2]  # the same batch each try, accepted once
    assert len(receiver.received) == 3


def test_unreachable_webhook_is_retried(
    client: TestClient, headers: dict[str, str], db: Session
) -> None:
    sub_id = _subscribe(client, headers, "http://127.0.0.1:9/nothing-listens-here")
    _capture(client, headers, *_receiving(1))
    assert _deliver(db) == 0
    row = db.get(Subscription, uuid.UUID(sub_id))
    assert row is not None
    assert row.attempts == 1
    assert row.last_error


def test_delivery_resumes_from_the_stored_cursor_in_a_fresh_session(
    client: TestClient,
    headers: dict[str, str],
    db: Session,
    connection: Connection,
    receiver: Receiver,
) -> None:
    _subscribe(client, headers, receiver.url)
    _capture(client, headers, *_receiving(1, 2))
    assert _deliver(db) == 1
    db.flush()
    db.expunge_all()  # nothing remembered: the fresh session reads the cursor from the store
    _capture(client, headers, *_receiving(3))
    fresh = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        assert _deliver(fresh) == 1
        assert _deliver(fresh) == 0
    finally:
        fresh.close()
    assert receiver.serials() == [1, 2, 3]


def test_large_backlog_goes_in_batches_in_record_order(
    client: TestClient,
    headers: dict[str, str],
    db: Session,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("truyxuat.epcis.subscriptions.BATCH", 2)
    _subscribe(client, headers, receiver.url)
    _capture(client, headers, *_receiving(1, 2, 3))
    _capture(client, headers, *_receiving(4, 5))
    assert _deliver(db) == 3
    assert sorted(receiver.serials()) == [1, 2, 3, 4, 5]
    assert len(set(receiver.serials())) == 5


def test_report_if_empty_sends_an_empty_document(
    client: TestClient, headers: dict[str, str], db: Session, receiver: Receiver
) -> None:
    body = {"name": "arrivals", "query": {}}
    assert client.post("/epcis/queries", json=body, headers=headers).status_code == 201
    response = client.post(
        "/epcis/queries/arrivals/subscriptions",
        json={"dest": receiver.url, "secret": SECRET, "reportIfEmpty": True},
        headers=headers,
    )
    assert response.status_code == 201
    assert _deliver(db) == 1
    events = receiver.documents()[0]["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events == []


def test_initial_record_time_and_epc_format_apply(
    client: TestClient, headers: dict[str, str], db: Session, receiver: Receiver
) -> None:
    _capture(client, headers, *_receiving(1))
    body = {"name": "arrivals", "query": {"EQ_bizStep": ["receiving"]}}
    assert client.post("/epcis/queries", json=body, headers=headers).status_code == 201
    response = client.post(
        "/epcis/queries/arrivals/subscriptions",
        json={
            "dest": receiver.url,
            "signatureToken": SECRET,
            "initialRecordTime": "2020-01-01T00:00:00Z",
        },
        headers={**headers, "GS1-EPC-Format": "Always_GS1_Digital_Link"},
    )
    assert response.status_code == 201
    assert _deliver(db) == 1
    events = receiver.documents()[0]["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events[0]["epcList"] == ["https://id.gs1.org/01/10614141073464/21/1"]


def test_backoff_doubles_up_to_a_ceiling() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(40) == timedelta(hours=6)


def test_deliver_command_commits_the_cursor_between_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("TRUYXUAT_DATABASE_URL", url)
    monkeypatch.setenv("TRUYXUAT_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            org = make_org(session)
            query = NamedQuery(org_id=org.id, name="all", query={})
            session.add(query)
            session.flush()
            earlier = utcnow() - timedelta(minutes=1)
            session.add(
                Subscription(
                    org_id=org.id,
                    query_id=query.id,
                    dest=receiver.url,
                    secret=SECRET,
                    cursor_record_time=earlier,
                    cursor_row_id=uuid.UUID(int=0),
                    next_attempt_at=earlier,
                )
            )
            events = document_events(_doc(*_receiving(1, 2)))
            store_events(session, org.id, events, record_time=earlier, capture_id=None)
            session.commit()
        runner = CliRunner()
        first = runner.invoke(epcis_app, ["deliver", "--once", "--settle", "0"])
        assert first.exit_code == 0, first.output
        assert "delivered 1" in first.output
        second = runner.invoke(epcis_app, ["deliver", "--once", "--settle", "0"])
        assert second.exit_code == 0, second.output
        assert receiver.serials() == [1, 2]
    finally:
        engine.dispose()
        get_settings.cache_clear()
