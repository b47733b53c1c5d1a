"""Alerts over HTTP on both stores: lists and objects filtered by jurisdiction (another
province's authority sees nothing: 404 and absent from lists), acknowledge and resolve by the
organization concerned or its province's authority, running the rules; the notification
outbox and its signed, retried, never-repeated webhook delivery."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org
from tests.oversight.test_alerts_rules import HANOI, HO_CHI_MINH, issue, scan
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.epcis.models import NamedQuery, Subscription
from truyxuat.epcis.subscriptions import SIGNATURE_HEADER, sign
from truyxuat.oversight.models import Alert, AlertNotification
from truyxuat.oversight.service import alerts as service
from truyxuat.recall.models import NotificationChannel, NotificationState
from truyxuat.registry.models import Organization

PROBLEM = "application/problem+json"
BASE = "/api/v1/oversight/alerts"


def copied_stamp(db: Session, settings: Settings, org: Organization) -> Alert:
    """A copied-stamp alert about one of `org`'s stamps, raised by running the rules."""
    issued = issue(db, settings, org)
    serial = sorted(issued.pins)[0]
    scan(db, issued.run.gtin, serial, HANOI)
    scan(db, issued.run.gtin, serial, HO_CHI_MINH)
    service.run_rules(db, rule="copied_stamp", settings=settings)
    alert = db.scalar(select(Alert).where(Alert.org_id == org.id))
    assert alert is not None
    return alert


def test_an_authority_sees_its_provinces_alerts_and_another_province_sees_nothing(
    db: Session, client: TestClient, settings: Settings
) -> None:
    org = make_org(db, province_code="24")
    alert = copied_stamp(db, settings, org)
    mine = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    theirs = api_headers(db, make_authority(db, province_code="01"), Role.authority)
    national = api_headers(db, make_authority(db, province_code=None), Role.authority)
    stranger = api_headers(db, make_org(db, province_code="24"))
    for headers in (mine, national, api_headers(db, org, Role.org_staff)):
        listed = client.get(BASE, headers=headers).json()
        assert [a["id"] for a in listed["items"]] == [str(alert.id)] and listed["total"] == 1
    body = client.get(f"{BASE}/{alert.id}", headers=mine).json()
    assert body["title"].startswith("Stamp ") and body["rule_label"] == "Copied stamp"
    assert body["evidence"][0]["kind"] == "scan"
    for headers in (theirs, stranger):
        assert client.get(BASE, headers=headers).json() == {"items": [], "total": 0}
        for method, path in (
            ("GET", f"{BASE}/{alert.id}"),
            ("POST", f"{BASE}/{alert.id}/acknowledge"),
            ("POST", f"{BASE}/{alert.id}/resolve"),
        ):
            answer = client.request(method, path, headers=headers, json={"note": "x"})
            assert answer.status_code == 404, (method, path)
            assert answer.headers["content-type"].startswith(PROBLEM)
    assert client.get(BASE, headers=mine, params={"state": "resolved"}).json()["total"] == 0
    filtered = client.get(
        BASE, headers=mine, params={"rule": "copied_stamp", "severity": "critical"}
    )
    assert filtered.json()["total"] == 1


def test_vietnamese_title_follows_the_callers_language(
    db: Session, client: TestClient, settings: Settings
) -> None:
    org = make_org(db)
    alert = copied_stamp(db, settings, org)
    headers = {**api_headers(db, org), "Accept-Language": "vi"}
    body = client.get(f"{BASE}/{alert.id}", headers=headers).json()
    assert body["title"].startswith("Tem ") and "cách nhau 1.138 km" in body["title"]
    assert body["rule_label"] == "Tem bị sao chép"


def test_the_organization_acknowledges_and_its_authority_resolves(
    db: Session, client: TestClient, settings: Settings
) -> None:
    org = make_org(db)
    alert = copied_stamp(db, settings, org)
    staff = api_headers(db, org, Role.org_staff)
    authority = api_headers(db, make_authority(db, province_code=org.province_code), Role.authority)
    acked = client.post(
        f"{BASE}/{alert.id}/acknowledge", headers=staff, json={"note": "Checking shops"}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged" and acked.json()["acknowledged_at"]
    missing = client.post(f"{BASE}/{alert.id}/resolve", headers=authority, json={"note": " "})
    assert missing.status_code == 422 and missing.headers["content-type"].startswith(PROBLEM)
    done = client.post(
        f"{BASE}/{alert.id}/resolve", headers=authority, json={"note": "Fake stamps seized"}
    )
    assert done.status_code == 200
    assert done.json()["state"] == "resolved"
    assert done.json()["resolution_note"] == "Checking shops\nFake stamps seized"
    again = client.post(f"{BASE}/{alert.id}/acknowledge", headers=staff, json={})
    assert again.status_code == 409


def test_running_the_rules_is_for_authorities_and_counts_what_they_see(
    db: Session, client: TestClient, settings: Settings
) -> None:
    org = make_org(db, province_code="24")
    issued = issue(db, settings, org)
    serial = sorted(issued.pins)[0]
    scan(db, issued.run.gtin, serial, HANOI)
    scan(db, issued.run.gtin, serial, HO_CHI_MINH)
    forbidden = client.post(f"{BASE}/run", headers=api_headers(db, org))
    assert forbidden.status_code == 403 and forbidden.headers["content-type"].startswith(PROBLEM)
    elsewhere = api_headers(db, make_authority(db, province_code="01"), Role.authority)
    body = client.post(f"{BASE}/run", headers=elsewhere).json()
    assert body["created"] == 0 and body["open"] == 0 and "copied_stamp" in body["rules"]
    assert db.scalar(select(Alert.id).where(Alert.org_id == org.id)) is not None
    unknown = client.post(f"{BASE}/run", headers=elsewhere, params={"rule": "nope"})
    assert unknown.status_code == 422


def test_a_new_alert_is_notified_and_its_webhook_delivered_signed_retried_once_sent(
    db: Session, settings: Settings
) -> None:
    org = make_org(db, province_code="24", email="qa@farm.example")
    make_authority(db, province_code="24").email = "sct@bacninh.example"
    make_authority(db, province_code=None).email = "cuc@moit.example"
    make_authority(db, province_code="01").email = "sct@hanoi.example"
    query = NamedQuery(org_id=org.id, name="all", query={})
    db.add(query)
    db.flush()
    now = utcnow()
    db.add(
        Subscription(
            org_id=org.id,
            query_id=query.id,
            dest="https://farm.example/hooks",
            secret="s3cret",
            cursor_record_time=now,
            cursor_row_id=query.id,
            next_attempt_at=now + timedelta(days=1),
        )
    )
    db.flush()
    alert = copied_stamp(db, settings, org)
    now = utcnow()
    records = list(
        db.scalars(select(AlertNotification).where(AlertNotification.alert_id == alert.id))
    )
    assert sorted((r.channel.value, r.target) for r in records) == [
        ("email", "cuc@moit.example"),
        ("email", "qa@farm.example"),
        ("email", "sct@bacninh.example"),
        ("webhook", "https://farm.example/hooks"),
    ]
    # Running again raises nothing new, so nobody is told twice.
    service.run_rules(db, settings=settings)
    assert len(list(db.scalars(select(AlertNotification)))) == 4
    calls: list[tuple[str, bytes, dict[str, str]]] = []
    answers = [500, 200]

    def receiver(url: str, body: bytes, headers: dict[str, str]) -> int:  # type: ignore[override]
        calls.append((url, body, dict(headers)))
        return answers.pop(0)

    first = service.deliver(db, http_post=receiver, now=now)
    assert (first.sent, first.retrying) == (0, 1)
    (hook,) = [r for r in records if r.channel is NotificationChannel.webhook]
    assert hook.attempts == 1 and hook.next_attempt_at == now + timedelta(seconds=30)
    assert service.deliver(db, http_post=receiver, now=now + timedelta(seconds=10)).sent == 0
    assert len(calls) == 1
    second = service.deliver(db, http_post=receiver, now=now + timedelta(seconds=31))
    assert second.sent == 1 and hook.state is NotificationState.sent
    url, body, headers = calls[-1]
    assert url == "https://farm.example/hooks"
    assert headers[SIGNATURE_HEADER] == sign("s3cret", body)
    payload = json.loads(body)
    assert payload["type"] == "alert.raised" and payload["alertId"] == str(alert.id)
    assert service.deliver(db, http_post=receiver, now=now + timedelta(days=1)).sent == 0
    assert len(calls) == 2
    emails = [r for r in records if r.channel is NotificationChannel.email]
    assert all(r.state is NotificationState.pending for r in emails)


def test_a_webhook_that_keeps_failing_is_given_up(db: Session, settings: Settings) -> None:
    org = make_org(db)
    alert = copied_stamp(db, settings, org)
    record = AlertNotification(
        alert_id=alert.id,
        org_id=org.id,
        channel=NotificationChannel.webhook,
        target="https://down.example/hook",
        payload={"alertId": str(alert.id)},
    )
    db.add(record)
    db.flush()
    moment = utcnow()

    def down(url: str, body: bytes, headers: dict[str, str]) -> int:  # type: ignore[override]
        raise ConnectionError("refused")

    for _ in range(service.MAX_ATTEMPTS):
        service.deliver(db, http_post=down, now=moment)
        moment = record.next_attempt_at
    assert record.state is NotificationState.failed and record.attempts == service.MAX_ATTEMPTS


def test_a_growing_area_suspended_by_an_inspection_and_still_used_raises_an_alert(
    db: Session, client: TestClient, settings: Settings
) -> None:
    from tests.factories import make_growing_area
    from tests.trace.chain import capture, event, lot, place
    from truyxuat.registry.models import CodeStatus

    farm = make_org(db, province_code="24")
    area = make_growing_area(db, farm, status=CodeStatus.approved)
    inspector = api_headers(db, make_authority(db, province_code="24"), Role.inspector)
    inspection = client.post(
        "/api/v1/oversight/inspections",
        json={"org_id": str(farm.id), "inspected_on": "2026-11-20", "result": "violations"},
        headers=inspector,
    )
    assert inspection.status_code == 201, inspection.text
    violation = client.post(
        f"/api/v1/oversight/inspections/{inspection.json()['id']}/violations",
        json={
            "rule": "Thông tư 02/2024/TT-BKHCN Điều 5",
            "severity": "major",
            "suspends_type": "growing_area",
            "suspends_id": str(area.id),
        },
        headers=inspector,
    )
    assert violation.status_code == 201, violation.text
    db.refresh(area)
    assert area.status is CodeStatus.suspended
    harvest = event(
        "ObjectEvent",
        "2026-11-25T06:00:00+07:00",
        action="ADD",
        bizStep="commissioning",
        epcList=[],
        quantityList=[{"epcClass": lot("08930000000026", "H9"), "quantity": 80, "uom": "KGM"}],
        readPoint=place(farm.gln or "", area.code),
        ilmd={"tx:growingAreaCode": area.code},
    )
    capture(db, farm, [harvest])
    run = client.post(f"{BASE}/run", headers=inspector, params={"rule": "invalid_code_used"})
    assert run.status_code == 200 and run.json()["created"] == 1
    listed = client.get(BASE, headers=inspector, params={"rule": "invalid_code_used"}).json()
    assert listed["total"] == 1 and area.code in listed["items"][0]["title"]
