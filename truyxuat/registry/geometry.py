"""Checks the geometry of growing areas (mã số vùng trồng) against the EU Deforestation Regulation.

EUDR (Regulation (EU) 2023/1115) wants each plot of land as WGS-84 coordinates: a single point
is enough for a plot of at most 4 ha, larger plots need a polygon. This module is pure (no
database): it parses GeoJSON, WKT or a "lat, lon" pair, checks the shape, normalizes it (7
decimals, closed rings, exterior counter-clockwise per RFC 7946) and computes its geodesic area.
Every problem is raised as `ValidationFailed` with a translatable English message.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.errors
import shapely.wkt
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.polygon import orient

from truyxuat.errors import N_, invalid

PRECISION = 7
"""Decimals kept in coordinates (about 1 cm), as recommended by the EUDR information system."""

_GEOD = Geod(ellps="WGS84")
_NOT_GEOJSON = N_("Geometry must be a GeoJSON Point, Polygon or MultiPolygon")
_PAIR = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(?:[,;]\s*|\s+)([-+]?\d+(?:\.\d+)?)\s*$")

Position = list[float]
Ring = list[Position]


@dataclass(frozen=True)
class CheckedGeometry:
    """A validated, normalized geometry with its geodesic area, centroid and bounding box."""

    geojson: dict[str, Any]
    area_ha: float
    centroid: tuple[float, float]
    bbox: tuple[float, float, float, float]


def within_vietnam(lon: float, lat: float) -> bool:
    """Tells whether a point lies in a rough bounding box of Viet Nam, islands included."""
    mainland = 102.1 <= lon <= 109.5 and 8.3 <= lat <= 23.4
    islands = 109.5 <= lon <= 117.5 and 6.0 <= lat <= 17.5  # Hoàng Sa and Trường Sa
    return mainland or islands


def check_geometry(
    geojson: Any,
    *,
    declared_area_ha: float | None,
    field: str = "geometry",
    tolerance: float = 0.10,
    point_max_ha: float = 4.0,
    require_vietnam: bool = False,
) -> CheckedGeometry:
    """Validates a plot's GeoJSON under EUDR rules and returns it normalized with its area."""
    if declared_area_ha is not None and not (
        _is_number(declared_area_ha) and math.isfinite(declared_area_ha) and declared_area_ha > 0
    ):
        raise invalid(field, N_("Declared area must be greater than 0 ha"))
    geometry = _unwrap(geojson, field)
    kind = geometry["type"]
    coordinates = geometry.get("coordinates")

    if kind == "Point":
        lon, lat = _position(coordinates, field)
        if declared_area_ha is None:
            raise invalid(
                field,
                N_("A point needs a declared area of at most {max} ha; otherwise draw a polygon"),
                max=_fmt_limit(point_max_ha),
            )
        if declared_area_ha > point_max_ha:
            raise invalid(
                field,
                N_("A plot larger than {max} ha needs a polygon, not a point"),
                max=_fmt_limit(point_max_ha),
            )
        result = CheckedGeometry(
            geojson={"type": "Point", "coordinates": [lon, lat]},
            area_ha=0.0,
            centroid=(lon, lat),
            bbox=(lon, lat, lon, lat),
        )
    else:
        if kind == "Polygon":
            shape: Polygon | MultiPolygon = _polygon(coordinates, field)
        else:
            if not isinstance(coordinates, list) or not coordinates:
                raise invalid(field, _NOT_GEOJSON)
            shape = MultiPolygon([_polygon(part, field) for part in coordinates])
        if shape.convex_hull.area == 0:
            raise invalid(field, N_("Polygon has zero area"))
        if not shape.is_valid:
            raise invalid(
                field,
                N_("Polygon is not valid: {reason}"),
                reason=shapely.is_valid_reason(shape),
            )
        shape = _orient_ccw(shape)
        area_ha = abs(_GEOD.geometry_area_perimeter(shape)[0]) / 10_000
        if area_ha <= 0:
            raise invalid(field, N_("Polygon has zero area"))
        if (
            declared_area_ha is not None
            and abs(area_ha - declared_area_ha) / declared_area_ha > tolerance
        ):
            raise invalid(
                field,
                N_(
                    "Declared area {declared} ha differs from the polygon's {computed} ha "
                    "by more than {pct}%"
                ),
                declared=f"{declared_area_ha:.2f}",
                computed=f"{area_ha:.2f}",
                pct=f"{tolerance * 100:.2f}",
            )
        centroid = shape.centroid
        minx, miny, maxx, maxy = shape.bounds
        result = CheckedGeometry(
            geojson=_to_lists(mapping(shape)),
            area_ha=area_ha,
            centroid=(round(centroid.x, PRECISION), round(centroid.y, PRECISION)),
            bbox=(minx, miny, maxx, maxy),
        )

    if require_vietnam and not within_vietnam(*result.centroid):
        raise invalid(field, N_("Location is outside Viet Nam"))
    return result


def geojson_from_wkt_or_text(text: str, *, field: str = "geometry") -> Any:
    """Reads a CSV cell holding GeoJSON text, WKT or a "lat, lon" pair into a GeoJSON object."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(field, _NOT_GEOJSON)
    cell = text.strip()
    if cell.startswith(("{", '"')):
        try:
            return json.loads(cell)
        except ValueError:
            raise invalid(field, N_("Geometry is not valid GeoJSON text")) from None
    pair = _PAIR.match(cell)
    if pair:
        first, second = float(pair.group(1)), float(pair.group(2))
        # Vietnamese users (and Google Maps) write latitude first; accept "lon lat" only when
        # the first number cannot be a latitude in Viet Nam and the second can.
        if first > 100 and second < 24:
            lon, lat = first, second
        else:
            lat, lon = first, second
        return {"type": "Point", "coordinates": [lon, lat]}
    try:
        shape = shapely.wkt.loads(cell)
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        raise invalid(
            field, N_('Cannot read the geometry: use GeoJSON, WKT or "latitude, longitude"')
        ) from None
    return _to_lists(mapping(shape))


def _unwrap(value: Any, field: str) -> dict[str, Any]:
    """Turns a JSON string or Feature into a geometry dict of a supported type."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise invalid(field, _NOT_GEOJSON) from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") not in ("Point", "Polygon", "MultiPolygon"):
        raise invalid(field, _NOT_GEOJSON)
    return value


def _is_number(value: Any) -> bool:
    """Tells whether a value is a real int or float (booleans excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position(value: Any, field: str) -> Position:
    """Checks one [lon, lat(, alt)] position and returns [lon, lat] rounded."""
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise invalid(field, N_("A position must be [longitude, latitude]"))
    if not all(_is_number(n) and math.isfinite(n) for n in value):
        raise invalid(field, N_("Coordinates must be numbers"))
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise invalid(
            field,
            N_("Coordinates {lon}, {lat} are outside WGS-84 longitude/latitude range"),
            lon=value[0],
            lat=value[1],
        )
    return [round(lon, PRECISION), round(lat, PRECISION)]


def _ring(value: Any, field: str) -> Ring:
    """Checks one linear ring: at least 4 positions, first equal to last."""
    if not isinstance(value, list | tuple):
        raise invalid(field, _NOT_GEOJSON)
    if len(value) < 4:
        raise invalid(field, N_("Polygon ring needs at least 4 positions"))
    ring = [_position(p, field) for p in value]
    if ring[0] != ring[-1]:
        raise invalid(field, N_("Polygon ring is not closed"))
    return ring


def _polygon(value: Any, field: str) -> Polygon:
    """Builds a shapely polygon from GeoJSON polygon coordinates (exterior then holes)."""
    if not isinstance(value, list | tuple) or not value:
        raise invalid(field, _NOT_GEOJSON)
    rings = [_ring(r, field) for r in value]
    return Polygon(rings[0], rings[1:])


def _orient_ccw(shape: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    """Orients exteriors counter-clockwise and holes clockwise (RFC 7946)."""
    if isinstance(shape, Polygon):
        return orient(shape, sign=1.0)
    return MultiPolygon([orient(p, sign=1.0) for p in shape.geoms])


def _to_lists(value: Any) -> Any:
    """Converts shapely's nested tuples into JSON-style lists."""
    if isinstance(value, dict):
        return {k: _to_lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_lists(v) for v in value]
    return value


def _fmt_limit(value: float) -> str:
    """Formats an area limit with 2 decimals."""
    return f"{value:.2f}"


__all__ = [
    "CheckedGeometry",
    "check_geometry",
    "geojson_from_wkt_or_text",
    "within_vietnam",
]
