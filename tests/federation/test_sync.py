"""A province node syncs to a national node in one process (each with its own database, the
national app reached through its ASGI client): events and master data arrive once, a batch
sent twice stores nothing, a tampered batch is refused, and the national resolver answers for
the province's codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import STORES
from tests.federation import nodes
from tests.federation.nodes import Node
from truyxuat.db import session_scope, utcnow
from truyxuat.federation import sender
from truyxuat.federation.models import SyncCursor, SyncLeaf, SyncNode, SyncRecord
from truyxuat.ledger import service as ledger
from truyxuat.registry.models import (
    Certification,
    CodeStatus,
    Facility,
    GrowingArea,
    Organization,
    Product,
)
from truyxuat.stamps.models import StampRun

UPSTREAM = "http://national.example"


@pytest.fixture(params=STORES)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Node, Node, TestClient]]:
    """A province node (pushing to the national one) and a national node with its client."""
    p_url, p_name = nodes.database(request.param, tmp_path, "province")
    n_url, n_name = nodes.database(request.param, tmp_path, "national")
    national = Node.open(nodes.national_settings(n_url, tmp_path))
    key = nodes.upstream_key(national)
    province = Node.open(
        nodes.province_settings(
            p_url, tmp_path, node_upstream_urls=[UPSTREAM], node_upstream_api_key=key
        )
    )
    client = TestClient(national.app(), base_url=UPSTREAM)
    try:
        yield province, national, client
    finally:
        client.close()
        province.engine.dispose()
        national.engine.dispose()
        nodes.drop(p_name)
        nodes.drop(n_name)


def _sync(province: Node, client: TestClient) -> sender.Report:
    (report,) = sender.run(province.factory, province.settings, http=client)
    assert not report.errors, report.errors
    return report


def _batch(province: Node, first: int, limit: int = 10_000) -> dict[str, Any]:
    from truyxuat.ledger.api import run_once

    run_once(province.factory, province.settings)
    with session_scope(province.factory) as db:
        checkpoint = ledger.latest_checkpoint(db)
        assert checkpoint is not None
        return sender.build_batch(db, province.settings, checkpoint, first, limit)


def _post(client: TestClient, province: Node, batch: dict[str, Any], key: str) -> httpx.Response:
    return client.post(
        "/federation/v1/events",
        content=json.dumps(batch).encode(),
        headers={
            "Authorization": f"Bearer {province.settings.node_upstream_api_key}",
            "Idempotency-Key": key,
            "Content-Type": "application/json",
            "Accept-Language": "en",
        },
    )


def test_events_and_master_data_arrive_once(pair: tuple[Node, Node, TestClient]) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 120)
    nodes.capture(province, data.org_id, "B", 7)

    report = _sync(province, client)

    assert report.stored == 127
    assert nodes.fingerprint(national.factory) == nodes.fingerprint(province.factory)
    with session_scope(national.factory) as db:
        org = db.get(Organization, data.org_id)
        assert org is not None and org.province_code == "24"
        assert org.phone == "" and org.contact_name == ""  # private fields stay home
        assert db.scalar(select(func.count()).select_from(Product)) == 1
        assert db.scalar(select(func.count()).select_from(Facility)) == 1
        assert db.scalar(select(func.count()).select_from(StampRun)) == 1
        node = db.get(SyncNode, nodes.PROVINCE_ORIGIN)
        assert node is not None and node.name == "Bắc Ninh" and node.events == 127
        # Every leaf of the province's log is held, each event's leaf naming its organization.
        assert node.next_index == node.tree_size == report.tree_size
        assert db.scalar(select(func.count()).select_from(SyncLeaf)) == report.tree_size
        assert db.scalar(select(func.count()).select_from(SyncRecord)) == 6
        area = db.scalar(select(GrowingArea))
        cert = db.scalar(select(Certification))
        assert area is not None and area.status == CodeStatus.approved and area.geometry
        assert area.decided_at is not None and area.decided_by is None  # who decided stays home
        assert cert is not None and cert.scope_id == area.id and cert.valid_to

    again = _sync(province, client)
    assert again.batches == 0 and again.records == 0
    nodes.capture(province, data.org_id, "C", 3)
    more = _sync(province, client)
    assert more.stored == 3 and more.records == 0
    assert nodes.fingerprint(national.factory) == nodes.fingerprint(province.factory)


def test_a_batch_sent_twice_or_from_a_lost_cursor_stores_nothing_twice(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 50)
    _sync(province, client)
    before = nodes.fingerprint(national.factory)

    batch = _batch(province, 0)
    first = _post(client, province, batch, "replay-1")
    second = _post(client, province, batch, "replay-2")
    assert first.status_code == second.status_code == 200
    assert first.json()["duplicate"] and second.json()["stored"] == 0

    # The sender forgot what was acknowledged (restored from an old backup): it resends from
    # 0 and the national node answers "already held" without storing anything again.
    with session_scope(province.factory) as db:
        cursor = db.get(SyncCursor, UPSTREAM)
        assert cursor is not None
        cursor.position = 0
    report = _sync(province, client)
    assert report.duplicates >= 1 and report.stored == 0
    assert nodes.fingerprint(national.factory) == before == nodes.fingerprint(province.factory)


def test_a_batch_that_skips_ahead_is_told_where_to_resume(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, _national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 20)
    batch = _batch(province, 5)
    response = _post(client, province, batch, "ahead")
    assert response.status_code == 409
    assert response.headers["Sync-Next-Index"] == "0"
    assert response.headers["content-type"].startswith("application/problem+json")
    # The sender's cursor is ahead of the national node: the 409 sends it back to 0.
    with session_scope(province.factory) as db:
        db.add(SyncCursor(upstream=UPSTREAM, position=5, last_error=""))
    report = _sync(province, client)
    assert report.position == report.tree_size


def test_a_tampered_batch_is_refused(pair: tuple[Node, Node, TestClient]) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 10)
    _sync(province, client)
    nodes.capture(province, data.org_id, "B", 10)
    before = nodes.fingerprint(national.factory)
    with session_scope(province.factory) as db:
        position = db.get(SyncCursor, UPSTREAM).position  # type: ignore[union-attr]
    batch = _batch(province, position)
    events = [leaf for leaf in batch["leaves"] if leaf[4] is not None]

    # An event changed after it was logged: it no longer hashes to its leaf.
    events[3][4]["bizStep"] = "receiving"
    refused = _post(client, province, batch, "tampered-event")
    assert refused.status_code == 422
    assert "does not match its event" in refused.text
    events[3][4]["bizStep"] = "shipping"

    # The hash changed too (an event swapped for another): the leaves no longer make the
    # signed checkpoint's tree.
    other = json.loads(nodes.document("X", 1))["epcisBody"]["eventList"][0]
    from truyxuat.epcis.hashing import event_hash

    events[3][4], events[3][1] = other, event_hash(other)
    refused = _post(client, province, batch, "tampered-leaf")
    assert refused.status_code == 422
    assert "signed checkpoint" in refused.text

    # A checkpoint not signed by the province's key.
    batch["checkpoint"] = batch["checkpoint"].replace("\u2014 ", "\u2014 x", 1)
    assert _post(client, province, batch, "forged").status_code in (403, 422)
    assert nodes.fingerprint(national.factory) == before

    report = _sync(province, client)
    assert report.stored == 10
    assert nodes.fingerprint(national.factory) == nodes.fingerprint(province.factory)


def test_only_a_key_of_the_province_may_send_its_data(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 5)
    other_key = nodes.upstream_key(national, province_code="79")
    settings = province.settings.model_copy(update={"node_upstream_api_key": other_key})
    (report,) = sender.run(province.factory, settings, http=client)
    assert report.errors and "province 24" in report.errors[0]
    assert nodes.fingerprint(national.factory)[0] == 0
    anonymous = client.post("/federation/v1/events", json={})
    assert anonymous.status_code == 401


def test_the_national_resolver_answers_for_the_province(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, _national, client = pair
    data = nodes.populate(province)
    _sync(province, client)
    passport = client.get(f"/01/{data.gtin.zfill(14)}", headers={"Accept": "text/html"})
    assert passport.status_code == 200
    stamp = client.get(
        f"/01/{data.gtin.zfill(14)}/21/{data.serial}?lang=en", follow_redirects=False
    )
    assert stamp.status_code == 307
    assert stamp.headers["location"] == (
        f"http://province.example/01/{data.gtin.zfill(14)}/21/{data.serial}?lang=en"
    )


def test_status_shows_both_sides(pair: tuple[Node, Node, TestClient]) -> None:
    province, _national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 4)
    _sync(province, client)
    with session_scope(province.factory) as db:
        (row,) = sender.status(db, province.settings)
    assert row["pending"] == 0 and row["position"] == row["tree_size"] > 0
    headers = {"Authorization": f"Bearer {province.settings.node_upstream_api_key}"}
    status = client.get("/federation/v1/status", headers=headers).json()
    assert status["downstreams"][0]["origin"] == nodes.PROVINCE_ORIGIN
    assert status["downstreams"][0]["events"] == 4
    page = client.get("/sync?lang=vi", headers=headers)
    assert page.status_code == 200 and "Bắc Ninh" in page.text


def test_data_contradicting_what_the_national_node_holds_is_refused(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    _sync(province, client)
    nodes.capture(province, data.org_id, "A", 5)
    # The national node already holds, under the same eventID, an event with other content.
    changed = json.loads(nodes.document("A", 5))
    changed["epcisBody"]["eventList"][2]["bizStep"] = "receiving"
    with session_scope(national.factory) as db:
        from truyxuat.epcis import service as epcis_service
        from truyxuat.epcis.hashing import document_events

        epcis_service.store_events(
            db,
            data.org_id,
            document_events(changed)[2:3],
            record_time=utcnow(),
            capture_id=None,
        )
    (report,) = sender.run(province.factory, province.settings, http=client)
    assert report.errors
    assert "Event urn:uuid:" in report.errors[0] and "contradicts" in report.errors[0]
    assert nodes.fingerprint(national.factory)[0] == 1


def test_a_record_contradicting_a_local_one_is_refused(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    with session_scope(province.factory) as db:
        org = db.get(Organization, data.org_id)
        assert org is not None
        code = org.code
    with session_scope(national.factory) as db:
        from tests.factories import make_org

        make_org(db, code=code, province_code="24")
    (report,) = sender.run(province.factory, province.settings, http=client)
    assert report.errors and "contradicts" in report.errors[0]
    with session_scope(national.factory) as db:
        assert db.get(Organization, data.org_id) is None


def test_a_nationwide_authority_reads_every_provinces_synced_events(
    pair: tuple[Node, Node, TestClient],
) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 6)
    _sync(province, client)
    with session_scope(national.factory) as db:
        from tests.factories import api_headers, make_org
        from truyxuat.auth.models import Role
        from truyxuat.registry.models import OrgKind

        ministry = api_headers(
            db, make_org(db, kind=OrgKind.authority, province_code=None), Role.authority
        )
        elsewhere = api_headers(
            db, make_org(db, kind=OrgKind.authority, province_code="79"), Role.authority
        )
    seen = client.get("/epcis/events", headers={**ministry, "Accept": "application/json"})
    assert seen.status_code == 200
    assert len(seen.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 6
    other = client.get("/epcis/events", headers={**elsewhere, "Accept": "application/json"})
    assert other.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_a_malformed_batch_is_a_problem_not_a_crash(pair: tuple[Node, Node, TestClient]) -> None:
    province, national, client = pair
    data = nodes.populate(province)
    nodes.capture(province, data.org_id, "A", 3)
    batch = _batch(province, 0)
    bad = [
        {**batch, "leaves": [["epcis.event", "x", "not-a-uuid", "AAAA", {"type": 5}]]},
        {**batch, "leaves": [["epcis.event", "x", str(data.org_id), "AAAA", {"eventTime": 1}]]},
        {**batch, "leaves": [["epcis.event"]]},
        {**batch, "first": "zero"},
        {**batch, "checkpoint": "not a note"},
    ]
    for n, body in enumerate(bad):
        response = _post(client, province, body, f"bad-{n}")
        assert response.status_code == 422, (n, response.text)
    headers = {
        "Authorization": f"Bearer {province.settings.node_upstream_api_key}",
        "Idempotency-Key": "not-json",
    }
    assert client.post("/federation/v1/events", content=b"{", headers=headers).status_code == 422
    assert nodes.fingerprint(national.factory)[0] == 0
