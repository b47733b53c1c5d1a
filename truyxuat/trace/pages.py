"""The trace page: a form (identifier, direction, depth) and the graph drawn as server-side SVG
in layers, one column per step, so it needs no script."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller
from truyxuat.errors import N_, DomainError, ValidationFailed
from truyxuat.registry.pages.common import page
from truyxuat.trace.graph import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    Direction,
    TraceGraph,
    gtin_lot,
    gtin_serial,
    trace,
)
from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent / "templates")

router = APIRouter(include_in_schema=False)

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 230, 46, 90, 18, 16
KIND_LABELS = {
    "lot": N_("Lot"),
    "item": N_("Serialized item"),
    "sscc": N_("Pallet or case (SSCC)"),
    "product": N_("Product"),
    "facility": N_("Facility"),
    "organization": N_("Organization"),
    "growing_area": N_("Growing area"),
}
RELATION_LABELS = {
    "transformation": N_("Transformation"),
    "aggregation": N_("Packing"),
    "association": N_("Association"),
    "transaction": N_("Transaction"),
}


@dataclass
class Box:
    """A node placed on the drawing."""

    id: str
    kind: str
    label: str
    sub: str
    x: int
    y: int


def _short(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _caption(node_id: str, kind: str, label: str) -> tuple[str, str]:
    """The two lines of a box: a lot's number and GTIN, an SSCC, or a place's name and kind."""
    gtin, lot = gtin_lot(node_id)
    if kind == "lot" and gtin and lot:
        return lot, f"GTIN {gtin}"
    gtin, serial = gtin_serial(node_id)
    if kind == "item" and gtin and serial:
        return serial, f"GTIN {gtin}"
    if kind == "sscc":
        return node_id.rsplit("/", 1)[-1], "SSCC"
    return label or node_id, ""


def layout(graph: TraceGraph) -> dict[str, Any]:
    """Places nodes in columns by depth (origins on the left) and edges as lines between them."""
    deepest = max((n.depth for n in graph.nodes.values()), default=0)
    columns: dict[int, list[Any]] = {}
    for node in sorted(graph.nodes.values(), key=lambda n: (n.depth, n.kind, n.id)):
        column = deepest - node.depth if graph.direction is Direction.backward else node.depth
        columns.setdefault(column, []).append(node)
    boxes: dict[str, Box] = {}
    for column, nodes in columns.items():
        for row, node in enumerate(nodes):
            label, sub = _caption(node.id, node.kind, node.label)
            boxes[node.id] = Box(
                node.id,
                node.kind,
                _short(label),
                _short(sub, 38),
                PAD + column * (NODE_W + GAP_X),
                PAD + row * (NODE_H + GAP_Y),
            )
    lines = []
    seen: set[tuple[str, str]] = set()
    # One line per pair of nodes: the identifier links (transformation, packing) first, so
    # their label is the one drawn; places and parties are drawn unlabelled.
    ordered = sorted(graph.edges, key=lambda e: e.relation not in RELATION_LABELS)
    for edge in ordered:
        key = (edge.source, edge.target)
        if key in seen or edge.source not in boxes or edge.target not in boxes:
            continue
        seen.add(key)
        a, b = boxes[edge.source], boxes[edge.target]
        if a.x <= b.x:
            x1, x2 = a.x + NODE_W, b.x
        else:
            x1, x2 = a.x, b.x + NODE_W
        y1, y2 = a.y + NODE_H // 2, b.y + NODE_H // 2
        lines.append(
            {
                "x1": x1,
                "y1": y1,
                "x2": x2,
                "y2": y2,
                "relation": edge.relation,
                "label": RELATION_LABELS.get(edge.relation, ""),
                "lx": (x1 + x2) // 2,
                "ly": (y1 + y2) // 2 - 4,
            }
        )
    width = PAD * 2 + (max(columns, default=0) + 1) * (NODE_W + GAP_X)
    height = PAD * 2 + max((len(c) for c in columns.values()), default=1) * (NODE_H + GAP_Y)
    return {
        "boxes": list(boxes.values()),
        "lines": lines,
        "width": width,
        "height": height,
        "node_w": NODE_W,
        "node_h": NODE_H,
    }


@router.get("/trace", response_class=HTMLResponse)
def trace_page(
    request: Request,
    db: DB,
    principal: Caller,
    epc: str = "",
    direction: str = "backward",
    depth: int = DEFAULT_DEPTH,
) -> Response:
    """The trace form and, once an identifier is given, its graph, flags and events."""
    chosen = Direction(direction) if direction in Direction.__members__ else Direction.backward
    context: dict[str, Any] = {
        "epc": epc,
        "direction": chosen.value,
        "depth": depth,
        "max_depth": MAX_DEPTH,
        "kind_labels": KIND_LABELS,
        "graph": None,
        "error": None,
    }
    status = 200
    if epc.strip():
        try:
            graph = trace(db, epc, chosen, principal=principal, max_depth=depth)
        except ValidationFailed as error:
            context["error"] = error.errors[0].message if error.errors else error.message
            context["error_params"] = error.errors[0].params if error.errors else {}
            status = 422
        except DomainError as error:
            context["error"] = error.message
            context["error_params"] = error.params
            status = error.status
        else:
            context["graph"] = graph
            context["drawing"] = layout(graph)
            context["events"] = sorted(graph.events.values(), key=lambda e: e.event_time)
    return page(request, "trace/trace.html", context, status_code=status)
