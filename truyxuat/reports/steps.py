"""One step back, one step forward (EU 178/2002 art. 18, TCVN 12850, Circular 02/2024): the
immediate suppliers and inputs of a lot, and its immediate customers and outputs."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.reports.common import Names, chain_of, lot_identifier
from truyxuat.trace.graph import TraceGraph

COLUMNS = [
    "direction",
    "relation",
    "identifier",
    "partner",
    "partner_gln",
    "event_time",
    "biz_step",
    "event_id",
]


@dataclass
class StepsReport:
    """Rows one step back (`back`) and one step forward (`forward`)."""

    lot: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as the API returns it."""
        return {
            "lot": self.lot,
            "back": [r for r in self.rows if r["direction"] == "back"],
            "forward": [r for r in self.rows if r["direction"] == "forward"],
        }

    def to_csv(self) -> str:
        """The rows as CSV."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue()


def _rows(graph: TraceGraph, direction: str, names: Names) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for edge in graph.edges:
        event = graph.events[edge.event_key]
        if edge.relation in ("transformation", "aggregation", "association", "transaction"):
            other = edge.source if direction == "back" else edge.target
            if graph.nodes[other].depth != 1:
                continue
            key = (edge.relation, other, event.event_id)
            partner, gln = names.org_name(event.org_id), ""
        elif direction == "back" and edge.relation == "source":
            other, partner = edge.target, graph.nodes[edge.source].label
            gln = str(graph.nodes[edge.source].data.get("gln") or "")
            key = (edge.relation, edge.source, event.event_id)
        elif direction == "forward" and edge.relation == "destination":
            other, partner = edge.source, graph.nodes[edge.target].label
            gln = str(graph.nodes[edge.target].data.get("gln") or "")
            key = (edge.relation, edge.target, event.event_id)
        else:
            continue
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "direction": direction,
                "relation": edge.relation,
                "identifier": other,
                "partner": partner,
                "partner_gln": gln,
                "event_time": event.event_time.isoformat(),
                "biz_step": event.step,
                "event_id": event.event_id,
            }
        )
    return sorted(rows, key=lambda r: (r["event_time"], r["relation"], r["identifier"]))


def build(
    db: Session, principal: Principal | None, lot: str, *, gtin: str | None = None
) -> StepsReport:
    """Who and what is one step before and one step after a lot."""
    epc = lot_identifier(lot, gtin)
    chain = chain_of(db, principal, epc, depth=1)
    names = Names(db, chain.events, "vi")
    report = StepsReport(lot=epc)
    # Receipts name the supplier as source; shipments of the lot or of the pallets it was
    # packed on name the customer as destination.
    report.rows = _rows(chain.backward, "back", names) + _rows(chain.forward, "forward", names)
    return report
