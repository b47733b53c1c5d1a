"""Query output formats: EPCISQueryDocument in the XML binding (read back to the same events)
and identifiers rewritten for GS1-EPC-Format (EPC URN <-> GS1 Digital Link)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.epcis.test_capture import (
    JSON_DIR,
    NOT_CAPTURE_JSON,
    SCHEMA_PATH,
    XML_DIR,
    _doc,
    make_event,
)
from tests.epcis.test_query import _capture
from tests.factories import api_headers, make_org
from truyxuat.epcis.epc_format import (
    ALWAYS_DIGITAL_LINK,
    ALWAYS_URN,
    canonical_identifier,
    check_digit,
    convert_event,
    converter,
    to_digital_link,
    to_epc_urn,
)
from truyxuat.epcis.hashing import document_events
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.epcis.xml_reader import read_xml_document
from truyxuat.epcis.xml_writer import query_document_xml

XML = {"Accept": "application/xml"}
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def _plain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events without their "@context" (the document carries it)."""
    return [{k: v for k, v in event.items() if k != "@context"} for event in events]


def _readable_xml_examples() -> list[Path]:
    """The GS1 XML examples holding events."""
    found = []
    for path in sorted(XML_DIR.rglob("*.xml")):
        try:
            document_events(read_xml_document(path.read_bytes()))
        except Exception:  # capture jobs and master data documents hold no events
            continue
        found.append(path)
    return found


@pytest.mark.parametrize("path", _readable_xml_examples(), ids=lambda p: p.name)
def test_xml_output_reads_back_to_the_same_events(path: Path) -> None:
    events = document_events(read_xml_document(path.read_bytes()))
    written = query_document_xml(events, query_name="q", creation_date=NOW)
    back = read_xml_document(written)
    assert back["type"] == "EPCISQueryDocument"
    assert back["epcisBody"]["queryResults"]["queryName"] == "q"
    assert _plain(document_events(back)) == _plain(events)


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(JSON_DIR.rglob("*.jsonld")) if p.name not in NOT_CAPTURE_JSON],
    ids=lambda p: p.name,
)
def test_xml_output_of_json_events_keeps_the_standard_fields(path: Path) -> None:
    document = json.loads(path.read_bytes())
    assert document["type"] == "EPCISDocument"
    events = document_events(document)
    back = document_events(
        read_xml_document(query_document_xml(events, query_name="q", creation_date=NOW))
    )
    assert len(back) == len(events)
    for before, after in zip(events, back, strict=True):
        for key in ("type", "eventTime", "epcList", "bizStep", "parentID", "readPoint"):
            assert after.get(key) == before.get(key), key


def test_xml_output_follows_the_xsd_order_and_escapes_text() -> None:
    event = make_event(1, bizLocation={"id": "urn:epc:id:sgln:0614141.07346.0"})
    event["eventID"] = "https://example.vn/e?a=1&b=<2>"
    text = query_document_xml([event], query_name="a&b", creation_date=NOW).decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><epcisq:EPCISQueryDocument')
    assert "<queryName>a&amp;b</queryName>" in text
    assert "a=1&amp;b=&lt;2&gt;" in text
    order = ["<eventTime>", "<eventID>", "<epcList>", "<action>", "<bizStep>", "<readPoint>"]
    positions = [text.index(tag) for tag in order]
    assert positions == sorted(positions)
    assert text.index("<readPoint>") < text.index("<bizLocation>")


def test_events_are_answered_in_xml_when_asked(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    _capture(client, headers, make_event(1), make_event(2))
    response = client.get("/epcis/events", headers={**headers, **XML})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    events = document_events(read_xml_document(response.content))
    assert sorted(e["epcList"][0] for e in events) == [
        "urn:epc:id:sgtin:0614141.107346.1",
        "urn:epc:id:sgtin:0614141.107346.2",
    ]
    assert all("recordTime" in e for e in events)
    json_response = client.get("/epcis/events", headers=headers)
    assert json_response.headers["content-type"].startswith("application/ld+json")


def test_named_query_and_single_event_in_xml(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    wanted = "urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0042"
    _capture(client, headers, make_event(1, eventID=wanted))
    body = {"name": "all", "query": {}}
    assert client.post("/epcis/queries", json=body, headers=headers).status_code == 201
    response = client.get("/epcis/queries/all/events", headers={**headers, **XML})
    document = read_xml_document(response.content)
    assert document["epcisBody"]["queryResults"]["queryName"] == "all"
    response = client.get(f"/epcis/events/{wanted}", headers={**headers, **XML})
    assert response.headers["content-type"].startswith("application/xml")
    assert read_xml_document(response.content)["eventID"] == wanted


# --- GS1-EPC-Format --------------------------------------------------------------------

PAIRS = [
    (
        "urn:epc:id:sgtin:0614141.107346.2017",
        "https://id.gs1.org/01/10614141073464/21/2017",
    ),
    ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
    ("urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467/254/1234"),
    ("urn:epc:id:sgln:0614141.07346.0", "https://id.gs1.org/414/0614141073467"),
    ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"),
    ("urn:epc:id:sgtin:0614141.107346.a%2Fb", "https://id.gs1.org/01/10614141073464/21/a%2Fb"),
    ("urn:epc:id:sgtin:0614141.107346.A.1", "https://id.gs1.org/01/10614141073464/21/A.1"),
    ("urn:epc:id:sgln:0614141.07346.x.y", "https://id.gs1.org/414/0614141073467/254/x.y"),
    # The other EPC schemes of TDS 2.0 with a Digital Link equivalent (TDS examples).
    ("urn:epc:id:pgln:0614141.00001", "https://id.gs1.org/417/0614141000012"),
    ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
    ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
    ("urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902"),
    ("urn:epc:id:gsrnp:0614141.1234567890", "https://id.gs1.org/8017/061414112345678902"),
    ("urn:epc:id:gdti:0614141.12345.400", "https://id.gs1.org/253/0614141123452400"),
    ("urn:epc:id:sgcn:4012345.67890.04711", "https://id.gs1.org/255/401234567890104711"),
    ("urn:epc:id:ginc:0614141.xyz3311cba", "https://id.gs1.org/401/0614141xyz3311cba"),
    ("urn:epc:id:gsin:0614141.123456789", "https://id.gs1.org/402/06141411234567890"),
    (
        "urn:epc:id:cpi:0614141.123ABC.123456789",
        "https://id.gs1.org/8010/0614141123ABC/8011/123456789",
    ),
    (
        "urn:epc:id:itip:4012345.012345.01.02.987",
        "https://id.gs1.org/8006/040123451234560102/21/987",
    ),
    ("urn:epc:id:upui:1234567.089456.51qIgY", "https://id.gs1.org/01/01234567894560/235/51qIgY"),
]


def test_canonical_identifier_is_the_digital_link_on_id_gs1_org() -> None:
    assert canonical_identifier(PAIRS[0][0]) == PAIRS[0][1]
    assert canonical_identifier(PAIRS[0][1]) == PAIRS[0][1]
    brand = "https://qr.example.vn/p/01/9520123456788/10/LOT1?linkType=all"
    assert canonical_identifier(brand) == "https://id.gs1.org/01/09520123456788/10/LOT1"
    for other in ("urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0001", "https://example.vn/x"):
        assert canonical_identifier(other) == other


@pytest.mark.parametrize(("urn", "link"), PAIRS)
def test_epc_urn_and_digital_link_convert_both_ways(urn: str, link: str) -> None:
    assert to_digital_link(urn) == link
    assert to_epc_urn(link, ["0614141", "4012345", "1234567"]) == urn


def test_digital_link_to_urn_uses_the_known_company_prefix() -> None:
    link = "https://example.vn/01/08930000123457/21/X1"
    assert to_epc_urn(link) == "urn:epc:id:sgtin:8930000.012345.X1"
    assert to_epc_urn(link, ["893000012"]) == "urn:epc:id:sgtin:893000012.0345.X1"


def test_check_digit_and_unconvertible_values() -> None:
    assert check_digit("0614141073467"[:-1]) == "7"
    for value in (
        "urn:epc:id:gid:95100000.12345.400",
        "urn:epc:idpat:sgtin:0614141.107346.*",
        "https://example.com/other",
        "urn:epc:id:sgtin:0614141.107346",
        "https://id.gs1.org/01/123/21/x",
    ):
        assert to_digital_link(value) == value
        assert to_epc_urn(value) == value


def test_convert_event_rewrites_every_identifier_field() -> None:
    event = make_event(
        1,
        quantityList=[{"epcClass": PAIRS[4][0], "quantity": 2}],
        bizLocation={"id": PAIRS[2][0]},
        parentID=PAIRS[1][0],
    )
    out = convert_event(event, converter(ALWAYS_DIGITAL_LINK))
    assert out["epcList"] == ["https://id.gs1.org/01/10614141073464/21/1"]
    assert out["quantityList"][0]["epcClass"] == PAIRS[4][1]
    assert out["bizLocation"]["id"] == PAIRS[2][1]
    assert out["readPoint"]["id"] == PAIRS[2][1]
    assert out["parentID"] == PAIRS[1][1]
    assert convert_event(out, converter(ALWAYS_URN))["epcList"] == event["epcList"]
    assert event["epcList"] == ["urn:epc:id:sgtin:0614141.107346.1"]


def test_query_honours_the_gs1_epc_format_header(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    link_event = make_event(2)
    link_event["epcList"] = [PAIRS[0][1]]
    _capture(client, headers, make_event(1), link_event)

    def epcs(fmt: str | None, path: str = "/epcis/events") -> list[str]:
        extra = {"GS1-EPC-Format": fmt} if fmt else {}
        response = client.get(path, headers={**headers, **extra})
        assert response.status_code == 200, response.text
        if fmt:
            assert response.headers["GS1-EPC-Format"] == fmt
        events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        return sorted(epc for e in events for epc in e["epcList"])

    one = "urn:epc:id:sgtin:0614141.107346.1"
    assert epcs(None) == [PAIRS[0][1], one]
    assert epcs("No_Preference") == [PAIRS[0][1], one]
    assert epcs("Always_EPC_URN") == [one, PAIRS[0][0]]
    assert epcs("Always_GS1_Digital_Link") == [
        "https://id.gs1.org/01/10614141073464/21/1",
        PAIRS[0][1],
    ]
    response = client.get("/epcis/events", headers={**headers, "GS1-EPC-Format": "Sometimes"})
    assert response.status_code == 422
    xml = client.get(
        "/epcis/events", headers={**headers, **XML, "GS1-EPC-Format": "Always_EPC_URN"}
    )
    events = document_events(read_xml_document(xml.content))
    assert sorted(e["epcList"][0] for e in events) == [one, PAIRS[0][0]]


def test_single_event_honours_the_gs1_epc_format_header(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    wanted = "urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0042"
    client.post("/epcis/capture", json=_doc(make_event(1, eventID=wanted)), headers=headers)
    response = client.get(
        f"/epcis/events/{wanted}", headers={**headers, "GS1-EPC-Format": "Always_GS1_Digital_Link"}
    )
    assert response.json()["epcList"] == ["https://id.gs1.org/01/10614141073464/21/1"]
