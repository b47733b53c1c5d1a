"""EPCIS capture over HTTP on both stores: every valid example is stored and read back
unchanged, every invalid one is refused with problem+json and leaves nothing behind."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org
from truyxuat.auth.models import Role
from truyxuat.epcis.hashing import document_events, document_hashes, read_document
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import SCHEMA_ENV, EpcisValidator, load_schema

SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
JSON_DIR = SHARED_DATA / "epcis" / "JSON"
XML_DIR = SHARED_DATA / "epcis" / "XML"
INVALID_DIR = SHARED_DATA / "epcis-openepcis" / "JSON" / "Capture" / "Invalid"
LD_JSON = {"Content-Type": "application/ld+json", "Accept": "application/ld+json"}


def _files(folder: Path, *suffixes: str) -> list[Path]:
    """Files under a folder with the given suffixes, recursively, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.suffix in suffixes)


def _valid_json_examples() -> list[Path]:
    """The GS1 JSON examples the validator accepts, the query result document left out."""
    validator = EpcisValidator(load_schema(SCHEMA_PATH))
    found = []
    for path in _files(JSON_DIR, ".json", ".jsonld"):
        document = json.loads(path.read_bytes())
        if document.get("type") == "EPCISDocument" and not validator.document_errors(document):
            found.append(path)
    return found


VALID_JSON = _valid_json_examples()
XML_EXAMPLES = _files(XML_DIR, ".xml")
INVALID_JSON = _files(INVALID_DIR, ".json", ".jsonld")


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def _count(db: Session) -> int:
    """How many events are stored, all tenants together."""
    return int(db.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def _without_record_time(event: dict[str, Any]) -> dict[str, Any]:
    """An event without recordTime, which the repository sets."""
    return {k: v for k, v in event.items() if k != "recordTime"}


def _event_key(event: dict[str, Any]) -> str:
    """How an event is fetched back: its eventID, else its hash."""
    from truyxuat.epcis.hashing import event_hash

    return str(event.get("eventID") or event_hash(event))


def _capture(client: TestClient, headers: dict[str, str], body: bytes, ctype: str) -> Any:
    """POSTs a document to /epcis/capture."""
    return client.post(
        "/epcis/capture",
        content=body,
        headers={**headers, "Content-Type": ctype, "Accept": "application/json"},
    )


def test_examples_are_found() -> None:
    assert len(VALID_JSON) >= 40
    assert len(INVALID_JSON) >= 10
    assert len(XML_EXAMPLES) >= 30


@pytest.mark.parametrize("path", VALID_JSON, ids=lambda p: p.name)
def test_capture_keeps_every_field_of_each_json_example(
    client: TestClient, db: Session, path: Path
) -> None:
    org = make_org(db)
    headers = api_headers(db, org, Role.org_staff)
    body = path.read_bytes()
    response = _capture(client, headers, body, "application/ld+json")
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    job = client.get(location, headers=headers).json()
    assert job["success"] is True and job["running"] is False
    expected = document_events(read_document(body, "application/ld+json"))
    assert job["eventCount"] == len(
        {_event_key(e) + str("errorDeclaration" in e) for e in expected}
    )
    for original in expected:
        got = client.get(f"/epcis/events/{quote(_event_key(original), safe='')}", headers=headers)
        assert got.status_code == 200, got.text
        fetched = got.json()
        assert "recordTime" in fetched
        if "errorDeclaration" in original or not any(
            "errorDeclaration" in e and _event_key(e) == _event_key(original) for e in expected
        ):
            assert _without_record_time(fetched) == _without_record_time(original)


@pytest.mark.parametrize("path", XML_EXAMPLES, ids=lambda p: p.name)
def test_capture_stores_xml_examples_with_their_hashes(
    client: TestClient, db: Session, path: Path
) -> None:
    body = path.read_bytes()
    try:
        document = read_document(body, "application/xml")
        expected = set(document_hashes(body, "application/xml"))
    except Exception:
        pytest.skip("not an EPCISDocument (capture job, master data or unreadable)")
    org = make_org(db)
    headers = api_headers(db, org)
    response = _capture(client, headers, body, "application/xml")
    if response.status_code != 202:
        # The custom checks refuse a few examples (measurement types outside GS1's list).
        assert response.headers["content-type"] == "application/problem+json"
        assert all(e["field"] for e in response.json()["errors"])
        return
    assert document.get("type") == "EPCISDocument"
    stored = set(db.scalars(select(EpcisEvent.event_hash).where(EpcisEvent.org_id == org.id)))
    assert stored == expected


def test_most_xml_examples_are_captured(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    captured = 0
    for path in XML_EXAMPLES:
        if _capture(client, headers, path.read_bytes(), "application/xml").status_code == 202:
            captured += 1
    assert captured >= 25


@pytest.mark.parametrize("path", INVALID_JSON, ids=lambda p: p.name)
def test_capture_rejects_each_invalid_document_and_stores_nothing(
    client: TestClient, db: Session, path: Path
) -> None:
    headers = api_headers(db, make_org(db))
    before = _count(db)
    response = _capture(client, headers, path.read_bytes(), "application/json")
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert errors and all(e["field"] and e["pointer"].startswith("#/") for e in errors)
    assert _count(db) == before


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    """An EPCISDocument holding the given events."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-23T08:00:00+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def make_event(n: int, **fields: Any) -> dict[str, Any]:
    """A valid ObjectEvent observing one SGTIN, distinct for each n."""
    return {
        "type": "ObjectEvent",
        "eventTime": f"2026-11-20T{n // 60 % 24:02d}:{n % 60:02d}:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{n}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        **fields,
    }


def test_capture_points_at_the_event_and_field_and_stores_none_of_the_document(
    client: TestClient, db: Session
) -> None:
    headers = api_headers(db, make_org(db))
    events = [make_event(i) for i in range(5)]
    events[3]["bizStep"] = "teleporting"
    before = _count(db)
    response = client.post("/epcis/capture", json=_doc(*events), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert "#/epcisBody/eventList/3/bizStep" in pointers
    assert _count(db) == before


def test_capture_twice_is_idempotent(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    with_id = make_event(1, eventID="urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0001")
    without_id = make_event(2)
    body = _doc(with_id, without_id)
    first = client.post("/epcis/capture", json=body, headers=headers)
    assert first.status_code == 202
    assert first.json()["eventCount"] == 2
    again = client.post("/epcis/capture", json=body, headers=headers)
    assert again.status_code == 202
    assert again.json()["eventCount"] == 0
    same_id = dict(with_id, eventTime="2026-11-21T00:00:00+07:00")
    third = client.post("/epcis/capture", json=_doc(same_id), headers=headers)
    assert third.json()["eventCount"] == 0
    assert _count(db) == 2


def test_the_same_event_twice_in_one_document_is_stored_once(
    client: TestClient, db: Session
) -> None:
    headers = api_headers(db, make_org(db))
    response = client.post(
        "/epcis/capture", json=_doc(make_event(1), make_event(1)), headers=headers
    )
    assert response.json()["eventCount"] == 1


def test_single_event_capture_answers_201_with_its_location(
    client: TestClient, db: Session
) -> None:
    headers = api_headers(db, make_org(db))
    event = make_event(7, eventID="https://example.vn/events/7")
    response = client.post("/epcis/events", json=event, headers=headers)
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert location == "/epcis/events/" + quote("https://example.vn/events/7", safe="")
    fetched = client.get(location, headers=headers).json()
    assert _without_record_time(fetched) == event
    again = client.post("/epcis/events", json=event, headers=headers)
    assert again.status_code == 201
    assert _count(db) == 1


def test_single_event_capture_names_the_bad_field(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    response = client.post(
        "/epcis/events", json=make_event(1, disposition="floating"), headers=headers
    )
    assert response.status_code == 422
    assert "#/disposition" in [e["pointer"] for e in response.json()["errors"]]
    assert _count(db) == 0


def test_event_without_id_is_fetched_by_its_hash(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    response = client.post("/epcis/events", json=make_event(3), headers=headers)
    assert response.headers["Location"].startswith("/epcis/events/ni%3A%2F%2F%2Fsha-256")
    assert client.get(response.headers["Location"], headers=headers).status_code == 200


def test_readers_cannot_capture(client: TestClient, db: Session) -> None:
    authority_headers = api_headers(db, make_authority(db), Role.authority)
    response = client.post("/epcis/capture", json=_doc(make_event(1)), headers=authority_headers)
    assert response.status_code == 403
    assert _count(db) == 0


def test_capture_without_credentials_is_401(client: TestClient) -> None:
    response = client.post("/epcis/capture", json=_doc(make_event(1)))
    assert response.status_code == 401


def test_other_org_cannot_see_event_or_capture_job(client: TestClient, db: Session) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    event = make_event(4, eventID="urn:uuid:6f6b1d4e-3b0e-4c37-8a7a-1f9d3c1e0004")
    response = client.post("/epcis/capture", json=_doc(event), headers=headers_b)
    location = response.headers["Location"]
    assert client.get(location, headers=headers_b).status_code == 200
    assert client.get(location, headers=headers_a).status_code == 404
    event_url = "/epcis/events/" + quote(event["eventID"], safe="")
    assert client.get(event_url, headers=headers_b).status_code == 200
    assert client.get(event_url, headers=headers_a).status_code == 404


def test_same_event_in_two_orgs_is_stored_for_each(client: TestClient, db: Session) -> None:
    body = _doc(make_event(5))
    for headers in (api_headers(db, make_org(db)), api_headers(db, make_org(db))):
        assert client.post("/epcis/capture", json=body, headers=headers).json()["eventCount"] == 1


def test_capture_rejects_a_non_document(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    response = client.post("/epcis/capture", json=copy.deepcopy(make_event(1)), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "type"


def test_concurrent_duplicate_capture_is_a_conflict_and_stores_nothing(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from truyxuat.epcis import service

    headers = api_headers(db, make_org(db))
    assert (
        client.post("/epcis/capture", json=_doc(make_event(1)), headers=headers).status_code == 202
    )
    # As if another request stored event 1 after this one looked for it.
    monkeypatch.setattr(service, "_held", lambda *args: (set(), set()))
    response = client.post(
        "/epcis/capture", json=_doc(make_event(2), make_event(1)), headers=headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert _count(db) == 1
