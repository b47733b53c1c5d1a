"""Cycles, very deep and very wide graphs: the trace always ends, with a clear message."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_org
from tests.trace.chain import capture, event, lot, place
from truyxuat.trace.graph import DEFAULT_MAX_NODES, MAX_DEPTH, Direction, trace

PROBLEM = "application/problem+json"
GTIN = "08930000000019"


def _transform(inputs: list[str], outputs: list[str], minute: int, gln: str) -> dict[str, Any]:
    return event(
        "TransformationEvent",
        f"2026-06-01T{minute // 60 % 24:02d}:{minute % 60:02d}:00+07:00",
        bizStep="commissioning",
        inputQuantityList=[{"epcClass": i, "quantity": 1, "uom": "KGM"} for i in inputs],
        outputQuantityList=[{"epcClass": o, "quantity": 1, "uom": "KGM"} for o in outputs],
        readPoint=place(gln),
    )


def test_a_cycle_in_the_data_ends(db: Session) -> None:
    org = make_org(db)
    a, b, c = lot(GTIN, "A"), lot(GTIN, "B"), lot(GTIN, "C")
    capture(
        db,
        org,
        [
            _transform([a], [b], 1, org.gln or ""),
            _transform([b], [c], 2, org.gln or ""),
            _transform([c], [a], 3, org.gln or ""),
        ],
    )
    for direction in Direction:
        graph = trace(db, a, direction, principal=None, max_depth=MAX_DEPTH)
        assert {n.id for n in graph.identifiers("lot")} == {a, b, c}
        assert not graph.truncated


def test_a_very_deep_chain_stops_at_the_depth_limit(client: TestClient, db: Session) -> None:
    org = make_org(db)
    lots = [lot(GTIN, f"D{n}") for n in range(MAX_DEPTH + 5)]
    capture(
        db,
        org,
        [_transform([lots[n]], [lots[n + 1]], n, org.gln or "") for n in range(len(lots) - 1)],
    )
    graph = trace(db, lots[-1], Direction.backward, principal=None, max_depth=MAX_DEPTH)
    assert graph.truncated and graph.reached_depth == MAX_DEPTH
    assert len(graph.identifiers("lot")) == MAX_DEPTH + 1
    body = client.get(
        f"/api/v1/trace/backward?epc={quote(lots[-1])}&depth=3", headers=api_headers(db, org)
    ).json()
    assert body["truncated"] is True and "depth 3" in body["message"]


def test_a_very_wide_graph_is_refused_with_a_problem(client: TestClient, db: Session) -> None:
    org = make_org(db)
    inputs = [lot(GTIN, f"W{n}") for n in range(DEFAULT_MAX_NODES + 10)]
    capture(db, org, [_transform(inputs, [lot(GTIN, "OUT")], 1, org.gln or "")])
    response = client.get(
        f"/api/v1/trace/backward?epc={quote(lot(GTIN, 'OUT'))}", headers=api_headers(db, org)
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"].endswith("trace-too-large")
    assert str(DEFAULT_MAX_NODES) in problem["detail"]
