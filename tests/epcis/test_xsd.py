"""XML capture checked against the official EPCIS 2.0 XSD: every GS1 XML capture example
passes, a document breaking the XSD is refused naming the event, field and line, and a
document with entities is refused without expanding them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.epcis.test_capture import NOT_CAPTURE_XML, SCHEMA_PATH, XML_DIR, XML_EXAMPLES
from tests.factories import api_headers, make_org
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.epcis.xsd import find_xsd, load_xsd, xsd_errors

XSD = find_xsd(None, SCHEMA_PATH)
EXAMPLE = XML_DIR / "Example_9.6.1-ObjectEvent-2020_06_18a.xml"


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schemas in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def _post(client: TestClient, headers: dict[str, str], body: bytes) -> object:
    """POSTs an XML document to /epcis/capture."""
    return client.post(
        "/epcis/capture", content=body, headers={**headers, "Content-Type": "application/xml"}
    )


@pytest.mark.parametrize(
    "path", [p for p in XML_EXAMPLES if p.name not in NOT_CAPTURE_XML], ids=lambda p: p.name
)
def test_every_gs1_xml_capture_example_passes_the_xsd(path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    assert xsd_errors(path.read_bytes(), load_xsd(XSD)) == []


def test_a_document_breaking_the_xsd_is_refused_naming_event_field_and_line(
    client: TestClient, db: Session
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("<action>OBSERVE</action>") >= 1
    # An element out of its XSD order (action must come after epcList) in the second event.
    first = text.index("<ObjectEvent>")
    second = text.index("<ObjectEvent>", first + 1)
    broken = text[:second] + text[second:].replace(
        "<eventTimeZoneOffset>",
        "<bizStep>https://example.vn/step/misplaced</bizStep><eventTimeZoneOffset>",
        1,
    )
    headers = api_headers(db, make_org(db))
    response = _post(client, headers, broken.encode())
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    errors = response.json()["errors"]  # type: ignore[attr-defined]
    assert errors[0]["pointer"] == "#/epcisBody/eventList/1/bizStep"
    line = broken[: broken.index("<bizStep>https://example.vn/step/misplaced")].count("\n") + 1
    assert errors[0]["message"].startswith(f"Line {line}: ")
    assert db.scalar(select(func.count()).select_from(EpcisEvent)) == 0


def test_entities_are_refused_and_never_expanded(client: TestClient, db: Session) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    doctype = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    body = text.replace("?>", "?>" + doctype, 1).replace(
        "<action>OBSERVE</action>", "<action>&xxe;</action>", 1
    )
    headers = api_headers(db, make_org(db))
    response = _post(client, headers, body.encode())
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "root:" not in response.text  # type: ignore[attr-defined]
    # The XSD check alone does not expand them either.
    errors = xsd_errors(body.encode(), load_xsd(XSD))
    assert all("root:" not in str(e.params) for e in errors)
