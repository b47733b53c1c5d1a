"""Sharing events with trading partners over HTTP on both stores: an organization named as
source or destination (by its GLN or a facility's, in any identifier form) reads the event;
a third organization does not; authorities read their province's."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.epcis.test_capture import SCHEMA_PATH, make_event
from tests.epcis.test_discovery import _members
from tests.epcis.test_query import _capture, _query, _serials
from tests.factories import api_headers, make_authority, make_facility, make_org
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.db import utcnow
from truyxuat.epcis.epc_format import to_epc_urn
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.service import store_events
from truyxuat.epcis.sharing import event_parties, event_read_filter, party_gln
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.gs1 import make_gln


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def test_party_gln_reads_every_identifier_form() -> None:
    gln = "0614141000012"
    for value in (
        f"https://id.gs1.org/417/{gln}",
        f"https://id.gs1.org/414/{gln}",
        f"https://id.gs1.org/414/{gln}/254/12",
        f"https://brand.example.vn/414/{gln}",
        "urn:epc:id:pgln:0614141.00001",
        "urn:epc:id:sgln:0614141.00001.0",
        "urn:epc:id:sgln:0614141.00001.7",
    ):
        assert party_gln(value) == gln, value
    for value in ("urn:epc:id:sgtin:0614141.107346.1", "https://example.vn/x", "gln"):
        assert party_gln(value) is None
    event = make_event(
        1,
        sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
        destinationList=[
            {"type": "location", "destination": "https://id.gs1.org/414/9520123456788"}
        ],
    )
    assert event_parties(event) == {gln, "9520123456788"}


def test_partner_named_as_destination_or_source_sees_the_event(
    client: TestClient, db: Session
) -> None:
    shipper, receiver, stranger = make_org(db), make_org(db), make_org(db)
    assert receiver.gln and shipper.gln
    prefix = receiver.gs1_company_prefix or ""
    warehouse = make_facility(db, receiver, gln=make_gln(prefix, 9))
    headers = {org.id: api_headers(db, org) for org in (shipper, receiver, stranger)}
    to_receiver = make_event(
        1,
        eventID="urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0101",
        destinationList=[
            {"type": "owning_party", "destination": f"https://id.gs1.org/417/{receiver.gln}"}
        ],
    )
    to_warehouse = make_event(
        2,
        destinationList=[
            {
                "type": "location",
                "destination": to_epc_urn(f"https://id.gs1.org/414/{warehouse.gln}", [prefix]),
            }
        ],
    )
    from_receiver = make_event(
        3,
        bizStep="receiving",
        sourceList=[
            {"type": "possessing_party", "source": f"https://id.gs1.org/417/{receiver.gln}"}
        ],
    )
    private = make_event(4)
    _capture(client, headers[shipper.id], to_receiver, to_warehouse, from_receiver, private)

    assert _serials(_query(client, headers[shipper.id])) == {1, 2, 3, 4}
    assert _serials(_query(client, headers[receiver.id])) == {1, 2, 3}
    assert _query(client, headers[stranger.id]) == []
    # Filters apply on shared events too.
    got = _query(client, headers[receiver.id], EQ_bizStep="receiving")
    assert _serials(got) == {3}
    url = "/epcis/events/" + quote(str(to_receiver["eventID"]), safe="")
    assert client.get(url, headers=headers[receiver.id]).status_code == 200
    assert client.get(url, headers=headers[stranger.id]).status_code == 404
    # Discovery lists the shared events' values, and not to a third party.
    assert len(_members(client, headers[receiver.id], "/epcis/epcs")) == 3
    assert _members(client, headers[stranger.id], "/epcis/epcs") == []
    # Named queries run with the same visibility.
    body = {"name": "shared", "query": {"EQ_bizStep": "shipping"}}
    assert client.post("/epcis/queries", json=body, headers=headers[receiver.id]).status_code == 201
    response = client.get("/epcis/queries/shared/events", headers=headers[receiver.id])
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert _serials(events) == {1, 2}


def test_event_read_filter_is_a_reusable_clause(db: Session) -> None:
    owner, partner = make_org(db), make_org(db)
    party = to_epc_urn(f"https://id.gs1.org/417/{partner.gln}", [partner.gs1_company_prefix or ""])
    assert party.startswith("urn:epc:id:pgln:")
    shared = make_event(5, destinationList=[{"type": "owning_party", "destination": party}])
    store_events(db, owner.id, [shared, make_event(6)], record_time=utcnow(), capture_id=None)
    as_partner = Principal(label="t", grants=(Grant(partner.id, Role.org_staff, "24"),))
    rows = db.scalars(select(EpcisEvent).where(event_read_filter(db, as_partner))).all()
    assert [row.event["epcList"] for row in rows] == [shared["epcList"]]


def test_authority_sees_its_province_but_not_shares_elsewhere(
    client: TestClient, db: Session
) -> None:
    north, south = make_org(db, province_code="24"), make_org(db, province_code="96")
    _capture(client, api_headers(db, north), make_event(1))
    _capture(client, api_headers(db, south), make_event(2))
    authority = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert _serials(_query(client, authority)) == {1}
