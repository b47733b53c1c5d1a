"""Tests for the EUDR geometry checks of growing areas."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from shapely.geometry import Polygon

from truyxuat.errors import ValidationFailed
from truyxuat.registry.geometry import (
    CheckedGeometry,
    check_geometry,
    geojson_from_wkt_or_text,
    within_vietnam,
)

# A lychee orchard in Lục Ngạn (Bắc Ninh province), drawn counter-clockwise, about 5.17 ha.
ORCHARD_RING = [
    [106.5480, 21.3790],
    [106.5499, 21.3787],
    [106.5507, 21.3800],
    [106.5494, 21.3810],
    [106.5479, 21.3805],
    [106.5480, 21.3790],
]
ORCHARD_HA = 5.1728366  # computed once with pyproj.Geod(ellps="WGS84")
ORCHARD: dict[str, Any] = {"type": "Polygon", "coordinates": [ORCHARD_RING]}

# A second, smaller plot a little to the east (no overlap with the orchard).
SMALL_RING = [
    [106.5600, 21.3790],
    [106.5610, 21.3790],
    [106.5610, 21.3800],
    [106.5600, 21.3800],
    [106.5600, 21.3790],
]


def _messages(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    """Renders every field error of a ValidationFailed with its params filled in."""
    return [e.message.format(**e.params) for e in exc.value.errors]


def _single(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    """Returns the only rendered message and checks it is reported on the geometry field."""
    assert len(exc.value.errors) == 1
    assert exc.value.errors[0].loc == ["geometry"]
    return _messages(exc)[0]


def test_orchard_polygon_is_accepted_with_its_geodesic_area() -> None:
    checked = check_geometry(ORCHARD, declared_area_ha=5.0)
    assert isinstance(checked, CheckedGeometry)
    assert checked.area_ha == pytest.approx(ORCHARD_HA, rel=1e-6)
    assert checked.geojson == ORCHARD
    lon, lat = checked.centroid
    assert 106.5479 < lon < 106.5507 and 21.3787 < lat < 21.3810
    assert checked.bbox == (106.5479, 21.3787, 106.5507, 21.3810)


def test_polygon_coordinates_are_rounded_to_seven_decimals_and_altitude_dropped() -> None:
    ring = [[lon + 1.23e-9, lat, 42.0] for lon, lat in ORCHARD_RING]
    checked = check_geometry({"type": "Polygon", "coordinates": [ring]}, declared_area_ha=None)
    assert checked.geojson == ORCHARD


def test_point_plot_of_1_2_ha_is_accepted() -> None:
    checked = check_geometry(
        {"type": "Point", "coordinates": [106.55, 21.38]}, declared_area_ha=1.2
    )
    assert checked.geojson == {"type": "Point", "coordinates": [106.55, 21.38]}
    assert checked.area_ha == 0.0
    assert checked.centroid == (106.55, 21.38)
    assert checked.bbox == (106.55, 21.38, 106.55, 21.38)


def test_point_plot_declared_10_ha_is_rejected_because_it_needs_a_polygon() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Point", "coordinates": [106.55, 21.38]}, declared_area_ha=10)
    assert _single(exc) == "A plot larger than 4.00 ha needs a polygon, not a point"


def test_point_without_declared_area_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Point", "coordinates": [106.55, 21.38]}, declared_area_ha=None)
    assert "polygon" in _single(exc)


def test_bowtie_self_intersecting_polygon_is_rejected_with_self_intersection_reason() -> None:
    bowtie = [[106.55, 21.38], [106.552, 21.382], [106.552, 21.38], [106.55, 21.382]]
    bowtie.append(bowtie[0])
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Polygon", "coordinates": [bowtie]}, declared_area_ha=None)
    message = _single(exc)
    assert message.startswith("Polygon is not valid: Self-intersection[")


def test_unclosed_ring_is_rejected_not_silently_closed() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Polygon", "coordinates": [ORCHARD_RING[:-1]]}, declared_area_ha=5)
    assert _single(exc) == "Polygon ring is not closed"


def test_ring_with_three_positions_is_rejected() -> None:
    ring = [[106.55, 21.38], [106.56, 21.38], [106.55, 21.38]]
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Polygon", "coordinates": [ring]}, declared_area_ha=None)
    assert _single(exc) == "Polygon ring needs at least 4 positions"


def test_zero_area_polygon_is_rejected() -> None:
    ring = [[106.55, 21.38], [106.56, 21.38], [106.57, 21.38], [106.55, 21.38]]
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Polygon", "coordinates": [ring]}, declared_area_ha=None)
    assert _single(exc) == "Polygon has zero area"


@pytest.mark.parametrize(
    "coordinates",
    [[200.0, 21.38], [106.55, -95.0], [21.38], [106.55, 21.38, 0, 1], [math.nan, 21.38]],
    ids=["lon-over-180", "lat-under-minus-90", "one-number", "four-numbers", "nan"],
)
def test_out_of_range_or_malformed_coordinates_are_rejected(coordinates: list[float]) -> None:
    with pytest.raises(ValidationFailed):
        check_geometry({"type": "Point", "coordinates": coordinates}, declared_area_ha=1)


def test_coordinate_given_as_string_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry({"type": "Point", "coordinates": ["106.55", "21.38"]}, declared_area_ha=1)
    assert _single(exc) == "Coordinates must be numbers"


def test_area_mismatch_beyond_10_percent_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry(ORCHARD, declared_area_ha=4.5)  # 5.17 is 14.95% above 4.5
    assert _single(exc) == (
        "Declared area 4.50 ha differs from the polygon's 5.17 ha by more than 10.00%"
    )


def test_area_mismatch_within_10_percent_is_accepted() -> None:
    checked = check_geometry(ORCHARD, declared_area_ha=4.8)  # 7.8% off
    assert checked.area_ha == pytest.approx(ORCHARD_HA, rel=1e-6)


def test_custom_tolerance_is_applied() -> None:
    with pytest.raises(ValidationFailed):
        check_geometry(ORCHARD, declared_area_ha=4.8, tolerance=0.05)


@pytest.mark.parametrize("declared", [0, -1.0])
def test_declared_area_must_be_positive(declared: float) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry(ORCHARD, declared_area_ha=declared)
    assert _single(exc) == "Declared area must be greater than 0 ha"


def test_feature_wrapper_is_accepted() -> None:
    feature = {"type": "Feature", "properties": {"name": "Vườn vải"}, "geometry": ORCHARD}
    assert check_geometry(feature, declared_area_ha=5.0).geojson == ORCHARD


def test_json_string_of_geometry_or_feature_is_accepted() -> None:
    assert check_geometry(json.dumps(ORCHARD), declared_area_ha=5.0).geojson == ORCHARD
    feature = json.dumps({"type": "Feature", "properties": {}, "geometry": ORCHARD})
    assert check_geometry(feature, declared_area_ha=5.0).geojson == ORCHARD


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        "not json",
        {"type": "LineString", "coordinates": [[106.55, 21.38], [106.56, 21.39]]},
        {"type": "Feature", "geometry": None},
        {"coordinates": [106.55, 21.38]},
    ],
    ids=["none", "number", "bad-json", "linestring", "empty-feature", "no-type"],
)
def test_anything_but_point_polygon_or_multipolygon_is_rejected(value: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry(value, declared_area_ha=1.0)
    assert _single(exc) == "Geometry must be a GeoJSON Point, Polygon or MultiPolygon"


def test_clockwise_polygon_is_normalized_to_counter_clockwise() -> None:
    clockwise = list(reversed(ORCHARD_RING))
    assert not Polygon(clockwise).exterior.is_ccw
    checked = check_geometry({"type": "Polygon", "coordinates": [clockwise]}, declared_area_ha=5)
    assert Polygon(checked.geojson["coordinates"][0]).exterior.is_ccw
    assert checked.area_ha == pytest.approx(ORCHARD_HA, rel=1e-6)


def test_hole_is_oriented_clockwise_and_subtracted_from_the_area() -> None:
    hole_ccw = [[106.5490, 21.3795], [106.5495, 21.3795], [106.5495, 21.3800], [106.5490, 21.3800]]
    hole_ccw.append(hole_ccw[0])
    plot = {"type": "Polygon", "coordinates": [ORCHARD_RING, hole_ccw]}
    checked = check_geometry(plot, declared_area_ha=None)
    exterior, hole = checked.geojson["coordinates"]
    assert Polygon(exterior).exterior.is_ccw
    assert not Polygon(hole).exterior.is_ccw
    assert checked.area_ha < ORCHARD_HA


def test_multipolygon_is_accepted_with_areas_summed() -> None:
    small = check_geometry({"type": "Polygon", "coordinates": [SMALL_RING]}, declared_area_ha=None)
    multi = {"type": "MultiPolygon", "coordinates": [[ORCHARD_RING], [SMALL_RING]]}
    checked = check_geometry(multi, declared_area_ha=None)
    assert checked.geojson["type"] == "MultiPolygon"
    assert checked.area_ha == pytest.approx(ORCHARD_HA + small.area_ha, rel=1e-6)
    assert checked.bbox == (106.5479, 21.3787, 106.5610, 21.3810)


def test_overlapping_multipolygon_is_rejected() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [[ORCHARD_RING], [ORCHARD_RING]]}
    with pytest.raises(ValidationFailed) as exc:
        check_geometry(multi, declared_area_ha=None)
    assert _single(exc).startswith("Polygon is not valid:")


def test_error_is_reported_on_the_given_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_geometry(None, declared_area_ha=None, field="vung_trong")
    assert exc.value.errors[0].loc == ["vung_trong"]


def test_require_vietnam_rejects_a_point_in_paris() -> None:
    paris = {"type": "Point", "coordinates": [2.3522, 48.8566]}
    with pytest.raises(ValidationFailed) as exc:
        check_geometry(paris, declared_area_ha=1.0, require_vietnam=True)
    assert _single(exc) == "Location is outside Viet Nam"
    assert check_geometry(paris, declared_area_ha=1.0).centroid == (2.3522, 48.8566)


def test_require_vietnam_accepts_the_lychee_orchard() -> None:
    assert check_geometry(ORCHARD, declared_area_ha=5.0, require_vietnam=True).area_ha > 5


def test_within_vietnam_covers_mainland_and_islands_only() -> None:
    assert within_vietnam(106.55, 21.38)  # Lục Ngạn
    assert within_vietnam(105.85, 21.03)  # Hà Nội
    assert within_vietnam(106.7, 10.78)  # TP Hồ Chí Minh
    assert within_vietnam(112.3, 16.5)  # Hoàng Sa
    assert within_vietnam(114.3, 10.4)  # Trường Sa
    assert not within_vietnam(2.3522, 48.8566)  # Paris
    assert not within_vietnam(106.55, 30.0)  # southern China


def test_wkt_polygon_is_parsed_to_geojson() -> None:
    wkt = "POLYGON ((" + ", ".join(f"{lon} {lat}" for lon, lat in ORCHARD_RING) + "))"
    parsed = geojson_from_wkt_or_text(wkt)
    assert parsed == ORCHARD
    assert check_geometry(parsed, declared_area_ha=5.0).area_ha == pytest.approx(ORCHARD_HA)


def test_wkt_point_is_parsed_to_geojson() -> None:
    assert geojson_from_wkt_or_text("POINT (106.55 21.38)") == {
        "type": "Point",
        "coordinates": [106.55, 21.38],
    }


def test_lat_lon_pair_written_latitude_first_is_parsed_to_a_point() -> None:
    assert geojson_from_wkt_or_text("21.2800, 106.2000") == {
        "type": "Point",
        "coordinates": [106.2, 21.28],
    }


def test_lon_lat_pair_is_recognized_by_range() -> None:
    assert geojson_from_wkt_or_text("106.2000 21.2800") == {
        "type": "Point",
        "coordinates": [106.2, 21.28],
    }


def test_geojson_text_is_parsed() -> None:
    assert geojson_from_wkt_or_text(f"  {json.dumps(ORCHARD)} ") == ORCHARD


@pytest.mark.parametrize("text", ["", "   ", "vườn nhà ông Ba", "POLYGON ((1 2", "{not json"])
def test_unparseable_cell_text_is_rejected(text: str) -> None:
    with pytest.raises(ValidationFailed):
        geojson_from_wkt_or_text(text)
