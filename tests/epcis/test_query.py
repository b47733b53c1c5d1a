"""EPCIS queries over HTTP on both stores: each parameter filters, pages hold every event
exactly once, and an organization sees only its own events."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.epcis.test_capture import SCHEMA_PATH, _doc, make_event
from tests.factories import api_headers, make_authority, make_org
from truyxuat.auth.models import Role
from truyxuat.epcis.validation import SCHEMA_ENV


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def _capture(client: TestClient, headers: dict[str, str], *events: dict[str, Any]) -> None:
    """Captures the events in one document."""
    response = client.post("/epcis/capture", json=_doc(*events), headers=headers)
    assert response.status_code == 202, response.text


def _query(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    """The events a query returns (first page)."""
    response = client.get("/epcis/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "EPCISQueryDocument"
    events: list[dict[str, Any]] = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def _serials(events: list[dict[str, Any]]) -> set[int]:
    """Which make_event numbers came back (from the SGTIN serial)."""
    found = set()
    for event in events:
        for key in ("epcList", "childEPCs", "inputEPCList"):
            for epc in event.get(key, []):
                found.add(int(epc.rsplit(".", 1)[1]))
    return found


@pytest.fixture
def headers(db: Session) -> dict[str, str]:
    """An organization's API key headers."""
    return api_headers(db, make_org(db))


def test_event_type_filter(client: TestClient, headers: dict[str, str]) -> None:
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2026-11-20T01:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2"],
        "action": "ADD",
    }
    _capture(client, headers, make_event(1), aggregation)
    assert _serials(_query(client, headers, eventType="AggregationEvent")) == {2}
    assert _serials(_query(client, headers, eventType="ObjectEvent")) == {1}
    assert len(_query(client, headers, eventType="ObjectEvent|AggregationEvent")) == 2


def test_event_time_bounds(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, make_event(60), make_event(120), make_event(180))
    # make_event(n) happens at n minutes past midnight, +07:00.
    got = _query(client, headers, GE_eventTime="2026-11-20T02:00:00+07:00")
    assert _serials(got) == {120, 180}
    got = _query(client, headers, LT_eventTime="2026-11-19T19:00:00Z")
    assert _serials(got) == {60}


def test_record_time_bounds(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, make_event(1))
    first = _query(client, headers)[0]["recordTime"]
    _capture(client, headers, make_event(2))
    assert _serials(_query(client, headers, GE_recordTime=first)) == {1, 2}
    later = _query(client, headers, EQ_eventID="x")  # empty: eventID filter applies
    assert later == []
    assert _serials(_query(client, headers, LT_recordTime=first)) == set()
    assert _serials(_query(client, headers, GE_recordTime="2999-01-01T00:00:00Z")) == set()
    assert _serials(_query(client, headers, LT_recordTime="2999-01-01T00:00:00Z")) == {1, 2}


@pytest.mark.parametrize(
    "value",
    [
        "receiving",
        "https://ref.gs1.org/cbv/BizStep-receiving",
        "cbv:BizStep-receiving",
        "urn:epcglobal:cbv:bizstep:receiving",
    ],
)
def test_biz_step_filter_accepts_words_and_uris(
    client: TestClient, headers: dict[str, str], value: str
) -> None:
    _capture(
        client,
        headers,
        make_event(1),
        make_event(2, bizStep="https://ref.gs1.org/cbv/BizStep-receiving"),
        make_event(3, bizStep="receiving"),
    )
    assert _serials(_query(client, headers, EQ_bizStep=value)) == {2, 3}


def test_disposition_filter(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, make_event(1), make_event(2, disposition="damaged"))
    assert _serials(_query(client, headers, EQ_disposition="damaged")) == {2}
    got = _query(client, headers, EQ_disposition="https://ref.gs1.org/cbv/Disp-in_transit")
    assert _serials(got) == {1}


def test_read_point_and_biz_location_filters(client: TestClient, headers: dict[str, str]) -> None:
    other = "urn:epc:id:sgln:0614141.07346.9999"
    _capture(
        client,
        headers,
        make_event(1),
        make_event(2, readPoint={"id": other}, bizLocation={"id": other}),
    )
    assert _serials(_query(client, headers, EQ_readPoint=other)) == {2}
    assert _serials(_query(client, headers, EQ_bizLocation=other)) == {2}
    assert _query(client, headers, EQ_bizLocation="urn:epc:id:sgln:0614141.07346.1") == []


def test_match_epc_and_any_epc(client: TestClient, headers: dict[str, str]) -> None:
    transformation = {
        "type": "TransformationEvent",
        "eventTime": "2026-11-20T03:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "inputEPCList": ["urn:epc:id:sgtin:0614141.107346.1"],
        "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.50"],
    }
    _capture(client, headers, make_event(1), make_event(2), transformation)
    one = "urn:epc:id:sgtin:0614141.107346.1"
    assert _serials(_query(client, headers, MATCH_epc=one)) == {1}
    assert len(_query(client, headers, MATCH_anyEPC=one)) == 2
    got = _query(client, headers, MATCH_anyEPC="urn:epc:id:sgtin:0614141.107346.50")
    assert [e["type"] for e in got] == ["TransformationEvent"]
    assert _query(client, headers, MATCH_epc="urn:epc:id:sgtin:0614141.107346.50") == []
    got = _query(client, headers, MATCH_outputEPC="urn:epc:id:sgtin:0614141.107346.50")
    assert len(got) == 1


def test_match_epc_class(client: TestClient, headers: dict[str, str]) -> None:
    lot = "urn:epc:class:lgtin:4012345.012345.998877"
    quantity = make_event(9, quantityList=[{"epcClass": lot, "quantity": 200, "uom": "KGM"}])
    _capture(client, headers, make_event(1), quantity)
    assert _serials(_query(client, headers, MATCH_epcClass=lot)) == {9}
    assert _serials(_query(client, headers, MATCH_anyEPCClass=lot)) == {9}


def test_eq_event_id(client: TestClient, headers: dict[str, str]) -> None:
    wanted = "urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0042"
    _capture(client, headers, make_event(1), make_event(2, eventID=wanted))
    assert _serials(_query(client, headers, EQ_eventID=wanted)) == {2}


def test_pagination_returns_every_event_exactly_once(
    client: TestClient, headers: dict[str, str]
) -> None:
    _capture(client, headers, *[make_event(i) for i in range(1, 24)])
    _capture(client, headers, *[make_event(i) for i in range(24, 31)])
    seen: list[int] = []
    url: str | None = "/epcis/events?perPage=4&eventType=ObjectEvent"
    pages = 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(events) <= 4
        seen.extend(sorted(_serials(events)))
        pages += 1
        link = response.headers.get("Link")
        url = re.match(r"<([^>]+)>", link).group(1) if link else None  # type: ignore[union-attr]
    assert sorted(seen) == list(range(1, 31))
    assert len(seen) == 30
    assert pages == 8


def test_page_token_is_opaque_and_checked(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/epcis/events", params={"nextPageToken": "%%%"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "nextPageToken"
    token = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00+00:00", "x"]).encode())
    response = client.get(
        "/epcis/events", params={"nextPageToken": token.decode()}, headers=headers
    )
    assert response.status_code == 422


def test_unknown_parameter_and_bad_time_are_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/epcis/events", params={"EQ_color": "red"}, headers=headers)
    assert response.status_code == 422
    response = client.get("/epcis/events", params={"GE_eventTime": "yesterday"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "GE_eventTime"
    assert client.get("/epcis/events?perPage=0", headers=headers).status_code == 422


def test_query_shows_only_the_callers_organization(client: TestClient, db: Session) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    _capture(client, headers_a, make_event(1))
    _capture(client, headers_b, make_event(2))
    assert _serials(_query(client, headers_a)) == {1}
    assert _serials(_query(client, headers_b)) == {2}
    b_only = "urn:epc:id:sgtin:0614141.107346.2"
    assert _query(client, headers_a, MATCH_epc=b_only) == []


def test_authority_sees_events_of_its_province_only(client: TestClient, db: Session) -> None:
    in_province = api_headers(db, make_org(db, province_code="24"))
    elsewhere = api_headers(db, make_org(db, province_code="96"))
    _capture(client, in_province, make_event(1))
    _capture(client, elsewhere, make_event(2))
    authority = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert _serials(_query(client, authority)) == {1}


def test_get_event_url_encodes_its_id(client: TestClient, headers: dict[str, str]) -> None:
    event_id = "https://example.vn/e/1?x=1"
    _capture(client, headers, make_event(1, eventID=event_id))
    response = client.get("/epcis/events/" + quote(event_id, safe=""), headers=headers)
    assert response.status_code == 200
    assert response.json()["eventID"] == event_id
    assert client.get("/epcis/events/urn%3Auuid%3Anope", headers=headers).status_code == 404


def _transformation(n: int) -> dict[str, Any]:
    """A transformation from one lot and SGTIN into another lot and SGTIN."""
    return {
        "type": "TransformationEvent",
        "eventTime": f"2026-11-20T0{n}:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "inputEPCList": [f"urn:epc:id:sgtin:0614141.107346.{n}"],
        "inputQuantityList": [
            {"epcClass": f"urn:epc:class:lgtin:0614141.107346.IN{n}", "quantity": 5, "uom": "KGM"}
        ],
        "outputEPCList": [f"urn:epc:id:sgtin:0614141.107346.{n + 100}"],
        "outputQuantityList": [
            {"epcClass": f"urn:epc:class:lgtin:0614141.107346.OUT{n}", "quantity": 4, "uom": "KGM"}
        ],
    }


def test_match_parent_input_and_output_lists(client: TestClient, headers: dict[str, str]) -> None:
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2026-11-20T05:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": ["urn:epc:id:sgtin:0614141.107346.7"],
        "action": "ADD",
    }
    _capture(client, headers, _transformation(1), _transformation(2), aggregation, make_event(7))
    sscc = "urn:epc:id:sscc:0614141.1234567890"
    assert [e["type"] for e in _query(client, headers, MATCH_parentID=sscc)] == ["AggregationEvent"]
    assert _query(client, headers, MATCH_parentID="urn:epc:id:sscc:0614141.1234567891") == []
    # childEPCs count for MATCH_epc (EPCIS 2.0 §8.2.7.1), the parent does not.
    assert len(_query(client, headers, MATCH_epc="urn:epc:id:sgtin:0614141.107346.7")) == 2
    assert _query(client, headers, MATCH_epc=sscc) == []
    got = _query(client, headers, MATCH_inputEPC="urn:epc:id:sgtin:0614141.107346.2")
    assert [e["inputEPCList"] for e in got] == [["urn:epc:id:sgtin:0614141.107346.2"]]
    assert _query(client, headers, MATCH_inputEPC="urn:epc:id:sgtin:0614141.107346.102") == []
    got = _query(client, headers, MATCH_outputEPC="urn:epc:id:sgtin:0614141.107346.102")
    assert [e["inputEPCList"] for e in got] == [["urn:epc:id:sgtin:0614141.107346.2"]]
    lot_in, lot_out = (
        "urn:epc:class:lgtin:0614141.107346.IN1",
        "urn:epc:class:lgtin:0614141.107346.OUT1",
    )
    assert len(_query(client, headers, MATCH_inputEPCClass=lot_in)) == 1
    assert _query(client, headers, MATCH_inputEPCClass=lot_out) == []
    assert len(_query(client, headers, MATCH_outputEPCClass=lot_out)) == 1
    assert _query(client, headers, MATCH_outputEPCClass=lot_in) == []
    assert _query(client, headers, MATCH_epcClass=lot_in) == []
    assert len(_query(client, headers, MATCH_anyEPCClass=f"{lot_in}|{lot_out}")) == 1


def test_eq_action(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, make_event(1), make_event(2, action="ADD"))
    assert _serials(_query(client, headers, EQ_action="ADD")) == {2}
    assert _serials(_query(client, headers, EQ_action="OBSERVE")) == {1}
    assert _query(client, headers, EQ_action="DELETE") == []


def test_identifiers_match_in_either_form(client: TestClient, headers: dict[str, str]) -> None:
    from truyxuat.epcis.epc_format import to_digital_link

    place = "urn:epc:id:sgln:0614141.07346.9999"
    lot = "urn:epc:class:lgtin:4012345.012345.998877"
    as_urn = make_event(1, bizLocation={"id": place})
    as_link = make_event(
        2, quantityList=[{"epcClass": to_digital_link(lot), "quantity": 1, "uom": "KGM"}]
    )
    as_link["epcList"] = [to_digital_link("urn:epc:id:sgtin:0614141.107346.2")]
    _capture(client, headers, as_urn, as_link)
    one = "urn:epc:id:sgtin:0614141.107346.1"
    assert len(_query(client, headers, MATCH_epc=to_digital_link(one))) == 1
    assert len(_query(client, headers, MATCH_epc="urn:epc:id:sgtin:0614141.107346.2")) == 1
    assert len(_query(client, headers, MATCH_anyEPCClass=lot)) == 1
    assert len(_query(client, headers, EQ_bizLocation=to_digital_link(place))) == 1
    assert len(_query(client, headers, EQ_bizLocation=place)) == 1
    assert (
        len(_query(client, headers, EQ_readPoint="https://id.gs1.org/414/0614141073467/254/1234"))
        == 2
    )
    # Events come back as they were captured.
    got = _query(client, headers, EQ_bizLocation=to_digital_link(place))
    assert got[0]["bizLocation"] == {"id": place}


EXTENSION_CONTEXT = {"ex": "https://example.vn/ns/farm/"}


def test_extension_field_parameters(client: TestClient, headers: dict[str, str]) -> None:
    body = _doc(
        make_event(1, **{"ex:variety": "Thiều Thanh Hà", "ex:brix": 18}),
        make_event(2, **{"ex:variety": "Lai Chua"}),
        make_event(
            3,
            action="ADD",
            ilmd={"ex:harvestMethod": "hand", "ex:bestBefore": "2026-12-01"},
        ),
        make_event(4),
    )
    body["@context"] = [*body["@context"], EXTENSION_CONTEXT]
    response = client.post("/epcis/capture", json=body, headers=headers)
    assert response.status_code == 202, response.text
    namespace = "https://example.vn/ns/farm"
    assert _serials(_query(client, headers, **{f"EQ_{namespace}#variety": "Lai Chua"})) == {2}
    assert _serials(_query(client, headers, **{"EQ_ex:variety": "Thiều Thanh Hà"})) == {1}
    assert _serials(_query(client, headers, **{f"EXISTS_{namespace}#variety": ""})) == {1, 2}
    assert _serials(_query(client, headers, **{f"EQ_{namespace}#brix": "18.0"})) == {1}
    assert _query(client, headers, **{f"EQ_{namespace}#brix": "17"}) == []
    assert _serials(_query(client, headers, **{f"EXISTS_ILMD_{namespace}#harvestMethod": ""})) == {
        3
    }
    assert _serials(_query(client, headers, **{"EQ_ILMD_ex:harvestMethod": "hand"})) == {3}
    assert _query(client, headers, **{"EQ_ILMD_ex:harvestMethod": "machine"}) == []
    # An extension parameter on the event does not look into the ILMD, nor the reverse.
    assert _query(client, headers, **{f"EXISTS_{namespace}#harvestMethod": ""}) == []
    assert _query(client, headers, **{f"EXISTS_ILMD_{namespace}#variety": ""}) == []
