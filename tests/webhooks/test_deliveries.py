"""The webhook delivery log on both stores: every POST of a subscription or a recall
notification is logged with the bytes sent and the answer; an organization lists and reads its
own; its admins replay one byte for byte to a real receiver on 127.0.0.1; others see nothing."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.epcis.test_query import _capture
from tests.epcis.test_subscriptions import SECRET, Receiver, _deliver, _receiving, _subscribe
from tests.factories import api_headers, make_org
from truyxuat.auth.models import Role
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade, utcnow
from truyxuat.epcis.subscriptions import SIGNATURE_HEADER
from truyxuat.webhooks import service
from truyxuat.webhooks.models import WebhookDelivery

BASE = "/api/v1/webhooks/deliveries"


def _signed(body: bytes, signature: str) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def test_each_delivery_is_logged_with_the_bytes_sent_and_the_answer(
    client: TestClient, db: Session, receiver: Receiver
) -> None:
    org = make_org(db)
    admin = api_headers(db, org)
    sub_id = _subscribe(client, admin, receiver.url)
    _capture(client, admin, *_receiving(1, 2))
    receiver.statuses = [503]
    assert _deliver(db) == 0
    assert _deliver(db, seconds=60) == 1
    page = client.get(BASE, headers=admin).json()
    assert page["total"] == 2
    ok, failed = page["items"]  # newest first
    assert (ok["status"], ok["ok"], failed["status"], failed["ok"]) == (200, True, 503, False)
    assert failed["error"] == "HTTP 503" and ok["source"] == "epcis.subscription"
    assert ok["source_id"] == sub_id and ok["url"] == receiver.url
    detail = client.get(f"{BASE}/{ok['id']}", headers=admin).json()
    headers, body = receiver.received[-1]
    assert detail["body"].encode() == body
    assert detail["headers"][SIGNATURE_HEADER] == headers[SIGNATURE_HEADER.lower()]
    only_failed = client.get(BASE, params={"failed": True}, headers=admin).json()
    assert [d["id"] for d in only_failed["items"]] == [failed["id"]]


def test_an_admin_replays_a_delivery_byte_for_byte(
    client: TestClient, db: Session, receiver: Receiver
) -> None:
    org = make_org(db)
    admin = api_headers(db, org)
    _subscribe(client, admin, receiver.url)
    _capture(client, admin, *_receiving(1))
    assert _deliver(db) == 1
    first = client.get(BASE, headers=admin).json()["items"][0]
    replayed = client.post(f"{BASE}/{first['id']}/replay", headers=admin)
    assert replayed.status_code == 201, replayed.text
    again = replayed.json()
    assert again["replay_of"] == first["id"] and again["ok"] and again["id"] != first["id"]
    (_, b1), (h2, b2) = receiver.received
    assert b1 == b2 and _signed(b2, h2[SIGNATURE_HEADER.lower()])
    receiver.statuses = [500]
    failed = client.post(f"{BASE}/{first['id']}/replay", headers=admin).json()
    assert (failed["status"], failed["ok"]) == (500, False)
    assert client.get(BASE, headers=admin).json()["total"] == 3


def test_deliveries_are_their_organizations_own(
    client: TestClient, db: Session, receiver: Receiver
) -> None:
    org = make_org(db)
    admin = api_headers(db, org)
    _subscribe(client, admin, receiver.url)
    _capture(client, admin, *_receiving(1))
    _deliver(db)
    delivery_id = client.get(BASE, headers=admin).json()["items"][0]["id"]
    stranger = api_headers(db, make_org(db))
    assert client.get(BASE, headers=stranger).json() == {"items": [], "total": 0}
    assert client.get(f"{BASE}/{delivery_id}", headers=stranger).status_code == 404
    assert client.post(f"{BASE}/{delivery_id}/replay", headers=stranger).status_code == 404
    staff = api_headers(db, org, Role.org_staff)
    assert client.get(f"{BASE}/{delivery_id}", headers=staff).status_code == 200
    forbidden = client.post(f"{BASE}/{delivery_id}/replay", headers=staff)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("application/problem+json")
    assert len(receiver.received) == 1
    unknown = client.get(f"{BASE}/{uuid.uuid4()}", headers=admin)
    assert unknown.status_code == 404


def test_a_receiver_that_cannot_be_reached_is_logged_as_no_answer(db: Session) -> None:
    org = make_org(db)
    db.flush()

    def refused(url: str, body: bytes, headers: object) -> int:
        raise ConnectionRefusedError("connection refused")

    outcome = service.send(
        db,
        org_id=org.id,
        source="alert",
        source_id=uuid.uuid4(),
        url="http://127.0.0.1:9/hook",
        body=b'{"x": 1}',
        headers={"Content-Type": "application/json"},
        post=refused,
    )
    assert not outcome.ok and outcome.status is None
    assert outcome.delivery.error == "ConnectionRefusedError: connection refused"


def test_prune_removes_old_deliveries_and_keeps_new_replays(db: Session) -> None:
    org = make_org(db)
    db.flush()
    now = utcnow()
    old = WebhookDelivery(
        org_id=org.id,
        source="recall",
        source_id=uuid.uuid4(),
        url="https://example.com/h",
        body="{}",
        headers={},
        status=200,
        created_at=now - timedelta(days=40),
    )
    db.add(old)
    db.flush()
    new = WebhookDelivery(
        org_id=org.id,
        source="recall",
        source_id=old.source_id,
        url=old.url,
        body="{}",
        headers={},
        status=200,
        replay_of=old.id,
        created_at=now,
    )
    db.add(new)
    db.flush()
    assert service.prune(db, older_than=timedelta(days=30), now=now) == 1
    db.expire_all()
    left = db.scalars(select(WebhookDelivery).where(WebhookDelivery.org_id == org.id)).all()
    assert [d.id for d in left] == [new.id] and left[0].replay_of is None


def test_cli_lists_replays_and_prunes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    from truyxuat.webhooks.cli import webhooks_app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("TRUYXUAT_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            org = make_org(session)
            session.flush()
            first = service.send(
                session,
                org_id=org.id,
                source="recall",
                source_id=uuid.uuid4(),
                url=receiver.url,
                body=b'{"recall": 1}',
                headers={"Content-Type": "application/json"},
            )
            first.delivery.created_at = utcnow() - timedelta(days=45)
            session.commit()
            delivery_id, code = str(first.delivery.id), org.code
        runner = CliRunner()
        listed = runner.invoke(webhooks_app, ["list", "--org", code])
        assert listed.exit_code == 0, listed.output
        assert delivery_id in listed.output and "1 of 1" in listed.output
        replayed = runner.invoke(webhooks_app, ["replay", delivery_id])
        assert replayed.exit_code == 0 and "HTTP 200" in replayed.output, replayed.output
        assert [body for _, body in receiver.received] == [b'{"recall": 1}'] * 2
        pruned = runner.invoke(webhooks_app, ["prune", "--days", "30"])
        assert pruned.exit_code == 0 and "1 deliveries removed" in pruned.output
        unknown = runner.invoke(webhooks_app, ["list", "--org", "NOPE"])
        assert unknown.exit_code == 2 and "unknown organization code" in unknown.output
    finally:
        engine.dispose()
        get_settings.cache_clear()
