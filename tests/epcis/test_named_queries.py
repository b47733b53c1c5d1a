"""EPCIS named queries over HTTP on both stores: saved per organization under a unique name,
checked like GET /epcis/events, listed, run with paging, deleted, and hidden from others."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.epcis.test_capture import SCHEMA_PATH, make_event
from tests.epcis.test_query import _capture, _serials
from tests.factories import api_headers, make_org
from truyxuat.epcis.validation import SCHEMA_ENV

RECEIVING = {"EQ_bizStep": ["receiving"], "eventType": ["ObjectEvent"]}


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture
def headers(db: Session) -> dict[str, str]:
    """An organization's API key headers."""
    return api_headers(db, make_org(db))


def _save(client: TestClient, headers: dict[str, str], name: str, query: object) -> int:
    """POSTs a named query; returns the status code."""
    response = client.post("/epcis/queries", json={"name": name, "query": query}, headers=headers)
    return response.status_code


def test_named_query_is_saved_read_back_and_run(
    client: TestClient, headers: dict[str, str]
) -> None:
    _capture(
        client,
        headers,
        make_event(1),
        make_event(2, bizStep="receiving"),
        make_event(3, bizStep="receiving"),
    )
    response = client.post(
        "/epcis/queries", json={"name": "arrivals", "query": RECEIVING}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/epcis/queries/arrivals"
    got = client.get("/epcis/queries/arrivals", headers=headers).json()
    assert got == {"name": "arrivals", "query": RECEIVING}
    response = client.get("/epcis/queries/arrivals/events", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["epcisBody"]["queryResults"]["queryName"] == "arrivals"
    assert _serials(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == {2, 3}


def test_named_query_accepts_a_single_value_per_parameter(
    client: TestClient, headers: dict[str, str]
) -> None:
    _capture(client, headers, make_event(1), make_event(2, disposition="damaged"))
    assert _save(client, headers, "damaged", {"EQ_disposition": "damaged"}) == 201
    response = client.get("/epcis/queries/damaged/events", headers=headers)
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert _serials(events) == {2}


def test_named_query_events_are_paged(client: TestClient, headers: dict[str, str]) -> None:
    _capture(client, headers, *[make_event(i, bizStep="receiving") for i in range(1, 8)])
    _capture(client, headers, make_event(8))
    assert _save(client, headers, "arrivals", RECEIVING) == 201
    seen: list[int] = []
    url: str | None = "/epcis/queries/arrivals/events?perPage=3"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        seen.extend(_serials(events))
        link = response.headers.get("Link")
        url = re.match(r"<([^>]+)>", link).group(1) if link else None  # type: ignore[union-attr]
    assert sorted(seen) == list(range(1, 8))


def test_named_query_name_is_unique_per_organization(client: TestClient, db: Session) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    assert _save(client, headers_a, "arrivals", RECEIVING) == 201
    assert _save(client, headers_a, "arrivals", {}) == 409
    assert _save(client, headers_b, "arrivals", {}) == 201


def test_named_query_parameters_are_checked(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(
        "/epcis/queries", json={"name": "bad", "query": {"EQ_color": ["red"]}}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "EQ_color"
    assert _save(client, headers, "bad", {"GE_eventTime": "yesterday"}) == 422
    assert _save(client, headers, "bad", {"perPage": "5"}) == 422
    assert _save(client, headers, "bad name/x", {}) == 422
    assert _save(client, headers, "", {}) == 422
    assert _save(client, headers, "bad", {"eventType": [1]}) == 422
    assert client.get("/epcis/queries/bad", headers=headers).status_code == 404


def test_named_queries_are_listed_by_name_and_paged(
    client: TestClient, headers: dict[str, str]
) -> None:
    for name in ("c", "a", "b"):
        assert _save(client, headers, name, {}) == 201
    response = client.get("/epcis/queries?perPage=2", headers=headers)
    assert [q["name"] for q in response.json()] == ["a", "b"]
    link = re.match(r"<([^>]+)>", response.headers["Link"]).group(1)  # type: ignore[union-attr]
    assert [q["name"] for q in client.get(link, headers=headers).json()] == ["c"]


def test_deleted_named_query_is_gone(client: TestClient, headers: dict[str, str]) -> None:
    assert _save(client, headers, "arrivals", RECEIVING) == 201
    assert client.delete("/epcis/queries/arrivals", headers=headers).status_code == 204
    assert client.get("/epcis/queries/arrivals", headers=headers).status_code == 404
    assert client.get("/epcis/queries/arrivals/events", headers=headers).status_code == 404
    assert client.delete("/epcis/queries/arrivals", headers=headers).status_code == 404
    assert _save(client, headers, "arrivals", {}) == 201


def test_named_queries_of_another_organization_are_invisible(
    client: TestClient, db: Session
) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    _capture(client, headers_a, make_event(1, bizStep="receiving"))
    assert _save(client, headers_a, "arrivals", RECEIVING) == 201
    assert client.get("/epcis/queries", headers=headers_b).json() == []
    assert client.get("/epcis/queries/arrivals", headers=headers_b).status_code == 404
    assert client.get("/epcis/queries/arrivals/events", headers=headers_b).status_code == 404
    assert client.delete("/epcis/queries/arrivals", headers=headers_b).status_code == 404
    assert client.get("/epcis/queries/arrivals", headers=headers_a).status_code == 200


def test_named_query_runs_with_the_callers_visibility(client: TestClient, db: Session) -> None:
    headers_a = api_headers(db, make_org(db))
    headers_b = api_headers(db, make_org(db))
    _capture(client, headers_b, make_event(2, bizStep="receiving"))
    assert _save(client, headers_a, "arrivals", RECEIVING) == 201
    response = client.get("/epcis/queries/arrivals/events", headers=headers_a)
    assert response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
