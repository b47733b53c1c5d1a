"""EPCIS discovery listings over HTTP on both stores: each lists the distinct values of the
caller's own events, pages them, and the per-value event listings filter by that value."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.epcis.test_capture import SCHEMA_PATH, make_event
from tests.epcis.test_query import _capture, _serials
from tests.factories import api_headers, make_authority, make_org
from truyxuat.auth.models import Role
from truyxuat.epcis.epc_format import to_digital_link
from truyxuat.epcis.validation import SCHEMA_ENV

RECEIVING = "https://ref.gs1.org/cbv/BizStep-receiving"
SHIPPING = "https://ref.gs1.org/cbv/BizStep-shipping"
OTHER_PLACE = "urn:epc:id:sgln:0614141.07346.9999"


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture
def headers(db: Session) -> dict[str, str]:
    """An organization's API key headers."""
    return api_headers(db, make_org(db))


def _members(client: TestClient, headers: dict[str, str], path: str) -> list[str]:
    """Every value of a discovery listing, following its pages."""
    found: list[str] = []
    url: str | None = path
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["type"] == "Collection"
        found.extend(body["member"])
        link = response.headers.get("Link")
        url = re.match(r"<([^>]+)>", link).group(1) if link else None  # type: ignore[union-attr]
    return found


def _events(client: TestClient, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    """The events of a per-value listing (first page)."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["epcisBody"]["queryResults"]["resultsBody"][
        "eventList"
    ]
    return events


def _sample(client: TestClient, headers: dict[str, str]) -> None:
    """Three events with two business steps, dispositions, places and an aggregation."""
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2026-11-20T01:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": ["urn:epc:id:sgtin:0614141.107346.3"],
        "action": "ADD",
    }
    _capture(
        client,
        headers,
        make_event(1),
        make_event(
            2,
            bizStep="receiving",
            disposition="in_progress",
            readPoint={"id": OTHER_PLACE},
            bizLocation={"id": OTHER_PLACE},
        ),
        aggregation,
    )


def test_discovery_lists_distinct_values_of_the_callers_events(
    client: TestClient, headers: dict[str, str]
) -> None:
    _sample(client, headers)
    assert _members(client, headers, "/epcis/eventTypes") == ["AggregationEvent", "ObjectEvent"]
    assert _members(client, headers, "/epcis/bizSteps") == [RECEIVING, SHIPPING]
    assert _members(client, headers, "/epcis/dispositions") == [
        "https://ref.gs1.org/cbv/Disp-in_progress",
        "https://ref.gs1.org/cbv/Disp-in_transit",
    ]
    places = ["urn:epc:id:sgln:0614141.07346.1234", OTHER_PLACE]
    epcs = [
        "urn:epc:id:sgtin:0614141.107346.1",
        "urn:epc:id:sgtin:0614141.107346.2",
        "urn:epc:id:sgtin:0614141.107346.3",
        "urn:epc:id:sscc:0614141.1234567890",
    ]
    # Identifiers are listed in canonical GS1 Digital Link form unless asked otherwise.
    assert _members(client, headers, "/epcis/readPoints") == [to_digital_link(p) for p in places]
    assert _members(client, headers, "/epcis/bizLocations") == [to_digital_link(OTHER_PLACE)]
    assert sorted(_members(client, headers, "/epcis/epcs")) == sorted(
        to_digital_link(e) for e in epcs
    )
    as_urn = {**headers, "GS1-EPC-Format": "Always_EPC_URN"}
    assert sorted(_members(client, as_urn, "/epcis/epcs")) == epcs
    assert _members(client, as_urn, "/epcis/readPoints") == places


def test_discovery_pages_hold_every_value_once(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, *[make_event(i) for i in range(1, 12)])
    response = client.get("/epcis/epcs?perPage=3", headers=headers)
    assert len(response.json()["member"]) == 3
    assert "nextPageToken=" in response.headers["Link"]
    found = _members(client, headers, "/epcis/epcs?perPage=3")
    assert len(found) == 11
    assert len(set(found)) == 11
    assert found == sorted(found)


def test_discovery_refuses_filters_and_bad_tokens(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/epcis/bizSteps", params={"EQ_bizStep": "x"}, headers=headers)
    assert response.status_code == 422
    response = client.get("/epcis/bizSteps", params={"nextPageToken": "%%%"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "nextPageToken"


def test_per_value_event_listings_filter_by_that_value(
    client: TestClient, headers: dict[str, str]
) -> None:
    _sample(client, headers)
    got = _events(client, headers, "/epcis/bizSteps/" + quote(RECEIVING, safe="") + "/events")
    assert _serials(got) == {2}
    assert _serials(_events(client, headers, "/epcis/bizSteps/shipping/events")) == {1}
    got = _events(client, headers, "/epcis/eventTypes/AggregationEvent/events")
    assert [e["type"] for e in got] == ["AggregationEvent"]
    got = _events(client, headers, "/epcis/epcs/urn:epc:id:sgtin:0614141.107346.3/events")
    assert [e["type"] for e in got] == ["AggregationEvent"]
    got = _events(client, headers, f"/epcis/readPoints/{OTHER_PLACE}/events")
    assert _serials(got) == {2}
    got = _events(client, headers, f"/epcis/bizLocations/{OTHER_PLACE}/events")
    assert _serials(got) == {2}
    got = _events(client, headers, "/epcis/dispositions/in_transit/events")
    assert _serials(got) == {1}
    assert _events(client, headers, "/epcis/dispositions/damaged/events") == []


def test_per_value_event_listing_pages(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, *[make_event(i) for i in range(1, 6)])
    response = client.get("/epcis/bizSteps/shipping/events?perPage=2", headers=headers)
    assert len(response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    link = re.match(r"<([^>]+)>", response.headers["Link"]).group(1)  # type: ignore[union-attr]
    assert link.startswith("/epcis/bizSteps/shipping/events?")
    seen = _serials(_events(client, headers, link))
    assert len(seen) == 2


def test_discovery_shows_only_the_callers_organization(client: TestClient, db: Session) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    _capture(client, headers_a, make_event(1))
    _capture(client, headers_b, make_event(2, bizStep="receiving", readPoint={"id": OTHER_PLACE}))
    assert _members(client, headers_a, "/epcis/bizSteps") == [SHIPPING]
    assert _members(client, headers_a, "/epcis/epcs") == [
        to_digital_link("urn:epc:id:sgtin:0614141.107346.1")
    ]
    assert to_digital_link(OTHER_PLACE) not in _members(client, headers_a, "/epcis/readPoints")
    assert _events(client, headers_a, "/epcis/bizSteps/receiving/events") == []
    epc_b = "urn:epc:id:sgtin:0614141.107346.2"
    assert _events(client, headers_a, f"/epcis/epcs/{epc_b}/events") == []


def test_epc_events_accept_a_digital_link_in_the_path(
    client: TestClient, headers: dict[str, str]
) -> None:
    link = "https://id.gs1.org/01/10614141073464/21/77"
    event = make_event(5)
    event["epcList"] = [link]
    _capture(client, headers, make_event(1), event)
    assert link in _members(client, headers, "/epcis/epcs")
    got = _events(client, headers, "/epcis/epcs/" + quote(link, safe="") + "/events")
    assert len(got) == 1
    assert got[0]["epcList"] == [link]


def test_authority_discovers_the_values_of_its_province_only(
    client: TestClient, db: Session
) -> None:
    in_province = api_headers(db, make_org(db, province_code="24"))
    elsewhere = api_headers(db, make_org(db, province_code="96"))
    _capture(client, in_province, make_event(1))
    _capture(client, elsewhere, make_event(2, bizStep="receiving"))
    authority = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert _members(client, authority, "/epcis/bizSteps") == [SHIPPING]
    assert _members(client, authority, "/epcis/epcs") == [
        to_digital_link("urn:epc:id:sgtin:0614141.107346.1")
    ]
