"""Recalls on a chain captured through the real EPCIS capture service: exactly the downstream
lots, pallets, shipments, recipients and activated stamps, notifications, acknowledgements,
drills, tenancy and the passport banner."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_product
from tests.trace.chain import Chain, admin, build_chain
from truyxuat.auth.models import Role
from truyxuat.db import utcnow
from truyxuat.epcis.epc_format import to_epc_urn
from truyxuat.epcis.models import NamedQuery, Subscription
from truyxuat.epcis.subscriptions import sign
from truyxuat.ledger.models import LedgerEntry
from truyxuat.recall import service
from truyxuat.recall.models import (
    NotificationChannel,
    NotificationState,
    RecallItemKind,
    RecallNotification,
    RecallSeverity,
)
from truyxuat.stamps.models import RunState, Stamp, StampKind, StampRun, StampState

PROBLEM = "application/problem+json"


def _stamps(db: Session, chain: Chain) -> None:
    """Stamps on the packed lots: P1 two activated and one not, P2 one activated."""
    product = make_product(db, chain.packer, gtin=chain.packed_gtin)
    run = StampRun(
        org_id=chain.packer.id,
        product_id=product.id,
        gtin=chain.packed_gtin,
        lot=None,
        kind=StampKind.qr,
        count=4,
        state=RunState.activated,
    )
    db.add(run)
    db.flush()
    for seq, (lot, state) in enumerate(
        [
            ("P1", StampState.activated),
            ("P1", StampState.activated),
            ("P1", StampState.generated),
            ("P2", StampState.activated),
        ],
        start=1,
    ):
        db.add(
            Stamp(
                org_id=chain.packer.id,
                run_id=run.id,
                seq=seq,
                gtin=chain.packed_gtin,
                serial=f"S{seq:04d}",
                lot=lot,
                state=state,
            )
        )
    db.flush()


def _refs(items: list, kind: RecallItemKind) -> set[str]:
    return {i.ref for i in items if i.kind is kind}


def test_recall_of_a_harvest_lot_marks_exactly_its_downstream(db: Session) -> None:
    chain = build_chain(db)
    _stamps(db, chain)
    recall = service.open_recall(
        db,
        admin(chain.farm),
        service.RecallRequest(to_epc_urn(chain.h1), "Dư lượng thuốc BVTV", RecallSeverity.class_i),
    )
    view = service.get_recall(db, admin(chain.farm), recall.id)
    assert view.full
    assert _refs(view.items, RecallItemKind.lot) == {chain.h1, chain.p1}
    assert _refs(view.items, RecallItemKind.sscc) == {chain.s1}
    assert _refs(view.items, RecallItemKind.stamp) == {
        f"{chain.packed_gtin}/S0001",
        f"{chain.packed_gtin}/S0002",
    }
    assert len(_refs(view.items, RecallItemKind.shipment)) == 2
    assert {name for _, name in view.recipients} == {chain.packer.name, chain.importer.name}
    assert recall.summary["lot"] == 2 and recall.summary["recipients"] == 2
    assert recall.compute_ms is not None and recall.compute_ms >= 0
    emails = [n for n in view.notifications if n.channel is NotificationChannel.email]
    assert [n.target for n in emails] == ["qa@packer.example"]
    assert emails[0].payload["lot"] == chain.h1
    logged = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "recall"))
    assert logged is not None and logged.payload == recall.record_hash
    # The banner shows on the packed lot's passports, not on the decoy lot's.
    notice = service.recall_notice(db, chain.packed_gtin, "P1")
    assert notice is not None and notice.recall_id == recall.id
    assert notice.opened_by == chain.farm.name and notice.severity == "class_i"
    assert service.recall_notice(db, chain.packed_gtin, "P2") is None
    assert service.recall_notice(db, chain.fruit_gtin, "H2") is None


def test_drill_measures_and_shows_no_banner(db: Session) -> None:
    chain = build_chain(db)
    recall = service.open_recall(
        db,
        admin(chain.packer),
        service.RecallRequest(chain.p1, "Diễn tập thu hồi", RecallSeverity.class_iii, drill=True),
    )
    assert recall.drill and service.recall_notice(db, chain.packed_gtin, "P1") is None
    assert db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "recall")) is None
    service.acknowledge(db, admin(chain.importer), recall.id, "Đã cách ly pallet")
    report = service.get_recall(db, admin(chain.packer), recall.id).drill_report()
    assert report["recipients"] == 1 and report["allAcknowledged"]
    assert report["secondsToLastAcknowledgement"] is not None


def test_webhook_outbox_is_delivered(db: Session) -> None:
    chain = build_chain(db)
    query = NamedQuery(org_id=chain.importer.id, name="all", query={})
    db.add(query)
    db.flush()
    now = utcnow()
    db.add(
        Subscription(
            org_id=chain.importer.id,
            query_id=query.id,
            dest="https://importer.example/hooks",
            secret="s3cret",
            cursor_record_time=now,
            cursor_row_id=query.id,
            next_attempt_at=now + timedelta(days=1),
        )
    )
    db.flush()
    recall = service.open_recall(
        db, admin(chain.packer), service.RecallRequest(chain.p1, "Listeria", RecallSeverity.class_i)
    )
    received: list[tuple[str, bytes]] = []

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        received.append((url, body))
        assert headers["X-Truyxuat-Signature"] == sign("s3cret", body)
        return 202

    assert service.deliver_webhooks(db, http_post=post) == 1
    assert received[0][0] == "https://importer.example/hooks"
    assert str(recall.id).encode() in received[0][1]
    record = db.scalar(
        select(RecallNotification).where(RecallNotification.channel == NotificationChannel.webhook)
    )
    assert record is not None and record.state is NotificationState.sent


def test_api_open_read_acknowledge_close_with_tenancy(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    packer = api_headers(db, chain.packer)
    importer = api_headers(db, chain.importer)
    buyer = api_headers(db, chain.buyer)
    response = client.post(
        "/api/v1/recalls",
        json={"epc": chain.p1, "reason": "Listeria", "severity": "class_i"},
        headers=packer,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    recall_id = body["id"]
    assert {i["ref"] for i in body["items"] if i["kind"] in ("lot", "sscc")} == {
        chain.p1,
        chain.s1,
    }
    # The importer sees the recall addressed to it, with its own part only.
    seen = client.get(f"/api/v1/recalls/{recall_id}", headers=importer).json()
    assert seen["full"] is False and [r["name"] for r in seen["recipients"]] == [
        chain.importer.name
    ]
    assert client.get("/api/v1/recalls", headers=importer).json()["total"] == 1
    # The other buyer sees nothing of it.
    assert client.get(f"/api/v1/recalls/{recall_id}", headers=buyer).status_code == 404
    assert client.get("/api/v1/recalls", headers=buyer).json()["total"] == 0
    denied = client.post(f"/api/v1/recalls/{recall_id}/acknowledge", json={}, headers=packer)
    assert denied.status_code == 403
    acked = client.post(
        f"/api/v1/recalls/{recall_id}/acknowledge", json={"note": "Quarantined"}, headers=importer
    ).json()
    assert acked["recipients"][0]["acknowledgedAt"] is not None
    authority = api_headers(db, make_authority(db, province_code="24"), role=_authority_role())
    assert client.get(f"/api/v1/recalls/{recall_id}", headers=authority).json()["full"] is True
    assert client.post(f"/api/v1/recalls/{recall_id}/close", headers=importer).status_code == 403
    closed = client.post(f"/api/v1/recalls/{recall_id}/close", headers=packer)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    again = client.post(f"/api/v1/recalls/{recall_id}/close", headers=packer)
    assert again.status_code == 409 and again.headers["content-type"].startswith(PROBLEM)


def test_api_refuses_bad_input(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    packer = api_headers(db, chain.packer)
    bad = client.post("/api/v1/recalls", json={"epc": "nonsense", "reason": "x"}, headers=packer)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    unknown = client.post(
        "/api/v1/recalls",
        json={"epc": chain.p1.replace("/10/P1", "/10/NOPE"), "reason": "x"},
        headers=packer,
    )
    assert unknown.status_code == 404
    # The buyer holds nothing of the farm's harvest lot H1: it cannot recall it.
    stranger = client.post(
        "/api/v1/recalls",
        json={"epc": chain.h1, "reason": "x"},
        headers=api_headers(db, chain.buyer),
    )
    assert stranger.status_code == 404


def _authority_role() -> Role:
    return Role.authority
