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
from truyxuat.epcis.validation import SCHEMA_ENV

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


# JSON example files that are not capture documents, with the reason.
NOT_CAPTURE_JSON = {
    "EPCISQueryDocument.jsonld": "a query result document (EPCISQueryDocument), not a capture",
}
VALID_JSON = [p for p in _files(JSON_DIR, ".json", ".jsonld") if p.name not in NOT_CAPTURE_JSON]
# The one JSON file among the XML examples (the JSON twin of the event-hash test events) writes
# CBV terms as EPCIS 1.x URNs, which the ratified EPCIS 2.0 JSON schema refuses.
PRE_2_0_JSON = XML_DIR / "WithEventHashID" / "event_with_identical_hash_id_7.json"
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


def test_json_files_left_out_are_not_capture_documents() -> None:
    left_out = [p for p in _files(JSON_DIR, ".jsonld") if p.name in NOT_CAPTURE_JSON]
    assert len(left_out) == len(NOT_CAPTURE_JSON)
    for path in left_out:
        assert json.loads(path.read_bytes())["type"] != "EPCISDocument"


def test_json_with_cbv_1_urns_is_refused_naming_each_field(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    response = _capture(client, headers, PRE_2_0_JSON.read_bytes(), "application/ld+json")
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert "#/epcisBody/eventList/0/bizStep" in pointers
    assert "#/epcisBody/eventList/0/disposition" in pointers
    # The same events in the XML binding, where CBV URNs are the norm, are captured.
    xml = (XML_DIR / "WithEventHashID" / "event_with_identical_hash_id_1.xml").read_bytes()
    assert _capture(client, headers, xml, "application/xml").status_code == 202


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


# XML example files that are not capture documents, with the reason they are not captured
# (the EPCIS 2.0 capture interface takes EPCISDocuments only; master data travels in their
# header).
NOT_CAPTURE_XML = {
    "CBV-11.4-2020-06-16a.xml": "an EPCISMasterDataDocument (master data only, no events)",
    "Example-masterData.xml": "an EPCISMasterDataDocument (master data only, no events)",
    "Example-CaptureJobRunning.xml": "a capture job report, the answer of GET /capture/{id}",
    "Example-CaptureJobSuccess.xml": "a capture job report, the answer of GET /capture/{id}",
    "Example-CaptureJobWithErrorFile.xml": "a capture job report, the answer of GET /capture/{id}",
    "Example-CaptureJobWithErrors.xml": "a capture job report, the answer of GET /capture/{id}",
}
XML_CAPTURE_EXAMPLES = [p for p in XML_EXAMPLES if p.name not in NOT_CAPTURE_XML]


def test_xml_files_left_out_are_not_capture_documents() -> None:
    from xml.etree import ElementTree

    left_out = [p for p in XML_EXAMPLES if p.name in NOT_CAPTURE_XML]
    assert len(left_out) == len(NOT_CAPTURE_XML)
    for path in left_out:
        root = ElementTree.parse(path).getroot().tag.rsplit("}", 1)[-1]
        assert root != "EPCISDocument", path.name


def _plain(event: dict[str, Any]) -> dict[str, Any]:
    """An event without recordTime (the repository sets it) nor "@context" (the document
    carries the namespaces of extensions)."""
    return {k: v for k, v in event.items() if k not in ("recordTime", "@context")}


@pytest.mark.parametrize("path", XML_CAPTURE_EXAMPLES, ids=lambda p: p.name)
def test_capture_keeps_every_field_of_each_xml_example(
    client: TestClient, db: Session, path: Path
) -> None:
    from truyxuat.epcis.xml_reader import read_xml_document

    body = path.read_bytes()
    document = read_document(body, "application/xml")
    expected_hashes = set(document_hashes(body, "application/xml"))
    org = make_org(db)
    headers = api_headers(db, org)
    response = _capture(client, headers, body, "application/xml")
    assert response.status_code == 202, response.text
    stored = set(db.scalars(select(EpcisEvent.event_hash).where(EpcisEvent.org_id == org.id)))
    assert stored == expected_hashes
    expected = document_events(document)
    for original in expected:
        url = f"/epcis/events/{quote(_event_key(original), safe='')}"
        as_json = client.get(url, headers=headers)
        as_xml = client.get(url, headers={**headers, "Accept": "application/xml"})
        assert as_json.status_code == as_xml.status_code == 200, as_json.text
        if "errorDeclaration" in original or not any(
            "errorDeclaration" in e and _event_key(e) == _event_key(original) for e in expected
        ):
            assert _plain(as_json.json()) == _plain(original)
            (back,) = document_events(read_xml_document(as_xml.content))
            assert _plain(back) == _plain(original)


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


def test_capture_larger_than_the_limit_is_413_and_stores_nothing(
    client: TestClient, db: Session, settings: Any
) -> None:
    headers = api_headers(db, make_org(db))
    body = json.dumps(_doc(*[make_event(i) for i in range(20)])).encode()
    settings.capture_max_bytes = len(body) - 1
    response = _capture(client, headers, body, "application/ld+json")
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert str(len(body) - 1) in response.json()["detail"]

    def chunks() -> Any:
        """The same body sent chunked, without a Content-Length to trust."""
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = client.post(
        "/epcis/capture",
        content=chunks(),
        headers={**headers, "Content-Type": "application/ld+json"},
    )
    assert response.status_code == 413
    single = json.dumps(make_event(1)).encode()
    settings.capture_max_bytes = len(single) - 1
    response = client.post(
        "/epcis/events",
        content=single,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert _count(db) == 0
    settings.capture_max_bytes = len(body)
    assert _capture(client, headers, body, "application/ld+json").status_code == 202


def test_capture_error_behaviour_rollback_and_proceed(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))
    events = [make_event(i) for i in range(4)]
    events[1]["disposition"] = "floating"
    events[3]["eventTime"] = "yesterday"
    body = json.dumps(_doc(*events)).encode()

    def post(behaviour: str | None, content: bytes = body) -> Any:
        extra = {"GS1-Capture-Error-Behaviour": behaviour} if behaviour else {}
        return _capture(client, {**headers, **extra}, content, "application/ld+json")

    bad = post("sometimes")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "GS1-Capture-Error-Behaviour"
    for behaviour in (None, "rollback"):
        response = post(behaviour)
        assert response.status_code == 422
        pointers = {e["pointer"] for e in response.json()["errors"]}
        assert "#/epcisBody/eventList/1/disposition" in pointers
        assert _count(db) == 0
    response = post("proceed")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["success"] is False and job["captureErrorBehaviour"] == "proceed"
    assert job["eventCount"] == 2
    pointers = {e["pointer"] for e in job["errors"]}
    assert {"#/epcisBody/eventList/1/disposition", "#/epcisBody/eventList/3/eventTime"} <= pointers
    assert _count(db) == 2
    again = client.get(
        response.headers["Location"], headers={**headers, "Accept-Language": "vi"}
    ).json()
    assert again["eventCount"] == 2 and len(again["errors"]) == len(job["errors"])
    assert again["errors"][0]["message"] != job["errors"][0]["message"]  # in Vietnamese
    # A problem with the document itself refuses it whole, even with proceed.
    broken = json.loads(body)
    del broken["schemaVersion"]
    assert post("proceed", json.dumps(broken).encode()).status_code == 422
    assert _count(db) == 2


def test_xml_capture_with_proceed_keeps_the_events_that_pass_the_xsd(
    client: TestClient, db: Session
) -> None:
    text = (XML_DIR / "Example_9.6.1-ObjectEvent-2020_06_18a.xml").read_text(encoding="utf-8")
    first = text.index("<ObjectEvent>")
    second = text.index("<ObjectEvent>", first + 1)
    broken = text[:second] + text[second:].replace(
        "<eventTimeZoneOffset>",
        "<bizStep>https://example.vn/misplaced</bizStep><eventTimeZoneOffset>",
        1,
    )
    headers = {**api_headers(db, make_org(db)), "GS1-Capture-Error-Behaviour": "proceed"}
    response = _capture(client, headers, broken.encode(), "application/xml")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["success"] is False
    assert {e["pointer"] for e in job["errors"]} == {"#/epcisBody/eventList/1/bizStep"}
    total = len(document_events(read_document(text.encode(), "application/xml")))
    assert job["eventCount"] == _count(db) == total - 1


def test_capture_without_a_configured_schema_is_a_503_problem_and_stores_nothing(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from truyxuat.epcis.validation import default_validator

    monkeypatch.delenv(SCHEMA_ENV)
    default_validator.cache_clear()
    app = client.app
    app.state.settings = app.state.settings.model_copy(update={"epcis_schema": None})  # type: ignore[attr-defined]
    org = make_org(db)
    response = client.post(
        "/epcis/capture",
        content=b'{"type": "EPCISDocument"}',
        headers={**api_headers(db, org), "Content-Type": "application/ld+json"},
    )
    default_validator.cache_clear()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "TRUYXUAT_EPCIS_SCHEMA" in response.json()["detail"]
    assert _count(db) == 0
