"""Trace API: GET /api/v1/trace/{backward|forward}?epc=...&depth=..."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from truyxuat.auth.deps import DB, Caller
from truyxuat.trace.graph import DEFAULT_DEPTH, DEFAULT_TOLERANCE, MAX_DEPTH, Direction, trace

router = APIRouter(tags=["trace"])


@router.get("/trace/{direction}")
def trace_graph(
    direction: Direction,
    db: DB,
    principal: Caller,
    epc: Annotated[str, Query(min_length=1, max_length=1024)],
    depth: Annotated[int, Query(ge=0, le=MAX_DEPTH)] = DEFAULT_DEPTH,
    tolerance: Annotated[float, Query(ge=0, le=10)] = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The graph of lots, items, SSCCs, places, organizations and growing areas behind
    (backward) or after (forward) an identifier, through the events the caller may see.

    `epc` is a GS1 Digital Link or an EPC URN. The walk stops at `depth` steps (the answer
    says `truncated`), and answers 422 `trace-too-large` past the node limit.
    """
    graph = trace(db, epc, direction, principal=principal, max_depth=depth, tolerance=tolerance)
    return graph.to_json()
