"""EUDR plot report: the growing areas behind a lot as GeoJSON FeatureCollections.

Regulation (EU) 2023/1115 art. 9(1)(d) and the EU information system's GeoJSON rules: plots of
4 ha or less may be given as a point, larger ones as polygons; coordinates are WGS 84
longitude then latitude with 6 decimals; polygon rings are closed; one file stays under
25 MB, so a long list of plots is split into several collections.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.registry.models import GrowingArea, Organization
from truyxuat.reports.common import chain_of, lot_identifier

POINT_MAX_HA = 4.0
MAX_BYTES = 25 * 1024 * 1024
DECIMALS = 6


def _round(position: Sequence[float]) -> list[float]:
    """A [lon, lat] position with 6 decimals (altitude dropped)."""
    return [round(float(position[0]), DECIMALS), round(float(position[1]), DECIMALS)]


def _ring(ring: Sequence[Sequence[float]]) -> list[list[float]]:
    """A linear ring rounded and closed (first position repeated at the end)."""
    points = [_round(p) for p in ring]
    deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if deduped and deduped[0] != deduped[-1]:
        deduped.append(deduped[0])
    return deduped


def plot_geometry(area: GrowingArea) -> dict[str, Any]:
    """A point for a plot of 4 ha or less, else its polygon(s)."""
    geometry = area.geometry or {}
    kind = geometry.get("type")
    if area.area_ha <= POINT_MAX_HA or kind not in ("Polygon", "MultiPolygon"):
        return {"type": "Point", "coordinates": _round([area.centroid_lon, area.centroid_lat])}
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [_ring(r) for r in geometry["coordinates"]]}
    return {
        "type": "MultiPolygon",
        "coordinates": [[_ring(r) for r in polygon] for polygon in geometry["coordinates"]],
    }


@dataclass
class EudrReport:
    """The features behind a lot, and the collections they are split into."""

    lot: str
    features: list[dict[str, Any]]

    def collections(self, max_bytes: int = MAX_BYTES) -> list[bytes]:
        """The FeatureCollections as UTF-8 JSON, each under `max_bytes` (at least one)."""
        head = b'{"type":"FeatureCollection","features":['
        tail = b"]}"
        parts: list[bytes] = []
        current: list[bytes] = []
        size = len(head) + len(tail)
        for feature in self.features:
            data = json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode()
            extra = len(data) + (1 if current else 0)
            if current and size + extra > max_bytes:
                parts.append(head + b",".join(current) + tail)
                current, size = [], len(head) + len(tail)
                extra = len(data)
            current.append(data)
            size += extra
        parts.append(head + b",".join(current) + tail)
        return parts


def build(
    db: Session, principal: Principal | None, lot: str, *, gtin: str | None = None
) -> EudrReport:
    """The growing areas the backward trace of a lot reaches, as EUDR plot features."""
    epc = lot_identifier(lot, gtin)
    graph = chain_of(db, principal, epc).backward
    codes = sorted(n.data["code"] for n in graph.identifiers("growing_area"))
    areas = list(db.scalars(select(GrowingArea).where(GrowingArea.code.in_(codes))))
    owners = {
        o.id: o
        for o in db.scalars(
            select(Organization).where(Organization.id.in_({a.org_id for a in areas}))
        )
    }
    harvested: dict[str, set[str]] = {}
    for edge in graph.edges:
        if edge.target.startswith("growing-area:") and graph.nodes[edge.source].kind == "lot":
            harvested.setdefault(edge.target.removeprefix("growing-area:"), set()).add(edge.source)
    features = []
    for area in sorted(areas, key=lambda a: a.code):
        owner = owners.get(area.org_id)
        features.append(
            {
                "type": "Feature",
                "geometry": plot_geometry(area),
                "properties": {
                    "ProducerName": owner.name if owner else "",
                    "ProducerCountry": "VN",
                    "ProductionPlace": area.name or area.code,
                    "Area": round(area.area_ha, 4),
                    "PlotCode": area.code,
                    "Commodity": area.crop,
                    "Lots": sorted(harvested.get(area.code, ())),
                },
            }
        )
    return EudrReport(lot=epc, features=features)
