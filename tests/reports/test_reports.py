"""Reports on a chain captured through the real EPCIS capture service: FSMA 204 spreadsheet
(read back with openpyxl), one step back / forward, EUDR GeoJSON and the compliance check."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_product
from tests.trace.chain import build_chain
from truyxuat.auth.models import Role
from truyxuat.epcis.epc_format import to_epc_urn
from truyxuat.reports import eudr, fsma, steps

PROBLEM = "application/problem+json"


def _nationwide(db: Session) -> dict[str, str]:
    return api_headers(db, make_authority(db, province_code=None), Role.authority)


def test_fsma_spreadsheet_has_one_row_per_cte_with_every_kde(
    client: TestClient, db: Session
) -> None:
    chain = build_chain(db)
    make_product(
        db, chain.packer, gtin=chain.packed_gtin, names={"vi": "Vải thiều", "en": "Lychee"}
    )
    make_product(
        db, chain.farm, gtin=chain.fruit_gtin, names={"vi": "Vải tươi", "en": "Fresh lychee"}
    )
    response = client.get(
        f"/api/v1/reports/fsma204?lot={quote(to_epc_urn(chain.p1))}&format=xlsx",
        headers=_nationwide(db),
    )
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["FSMA 204", "Glossary"]
    sheet = book["FSMA 204"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == fsma.HEADERS
    rows = [dict(zip(fsma.HEADERS, r, strict=True)) for r in values[1:]]
    ctes = sorted((r["CTE"], r["Traceability Lot Code"]) for r in rows)
    assert ctes == sorted(
        [
            ("Harvesting", chain.h1),
            ("Harvesting", chain.h2),
            ("Shipping", chain.h1),
            ("Shipping", chain.h2),
            ("Receiving", chain.h1),
            ("Receiving", chain.h2),
            ("Initial packing", chain.p1),
            ("Shipping", chain.p1),
            ("Receiving", chain.p1),
        ]
    )
    for row in rows:
        for column in fsma.COMMON + fsma.APPLICABLE[row["CTE"]]:
            assert row[column] not in (None, ""), (row["CTE"], column)
    packing = next(r for r in rows if r["CTE"] == "Initial packing")
    assert packing["Quantity"] == 170 and packing["Unit of measure"] == "KGM"
    assert set(packing["Input traceability lot codes"].split()) == {chain.h1, chain.h2}
    assert packing["Product description"] == "Lychee"
    shipped = next(
        r for r in rows if r["CTE"] == "Shipping" and r["Traceability Lot Code"] == chain.p1
    )
    assert shipped["Ship-to location"] == chain.importer.name
    assert shipped["Reference document number"] == "PO-X1"
    harvest = next(r for r in rows if r["Traceability Lot Code"] == chain.h1)
    assert harvest["Growing area"].startswith(chain.area_small.code)
    assert harvest["Event time"].endswith("+07:00")
    glossary = {row[1] for row in book["Glossary"].iter_rows(values_only=True)}
    assert {"Harvesting", "Initial packing", "Traceability Lot Code", "KGM"} <= glossary


def test_fsma_csv_json_and_filters(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    headers = _nationwide(db)
    url = f"/api/v1/reports/fsma204?lot={quote(chain.p1)}"
    text = client.get(url + "&format=csv&from=2026-06-02", headers=headers).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["CTE"], r["Traceability Lot Code"]) for r in rows] == [
        ("Shipping", chain.p1),
        ("Receiving", chain.p1),
    ]
    body = client.get(url + f"&gtin={chain.fruit_gtin}", headers=headers).json()
    assert {r["Traceability Lot Code"] for r in body["rows"]} == {chain.h1, chain.h2}
    assert "Harvesting" in body["glossary"]["cte"]
    bad = client.get(url + "&from=2026-07-01&to=2026-06-01", headers=headers)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    unknown = client.get("/api/v1/reports/fsma204?lot=banana", headers=headers)
    assert unknown.status_code == 422


def test_one_step_back_one_step_forward(db: Session) -> None:
    chain = build_chain(db)
    report = steps.build(db, None, "P1", gtin=chain.packed_gtin).to_json()
    back = {(r["relation"], r["identifier"], r["partner"]) for r in report["back"]}
    assert ("transformation", chain.h1, chain.packer.name) in back
    assert ("transformation", chain.h2, chain.packer.name) in back
    assert ("source", chain.h1, chain.farm.name) in back
    forward = {(r["relation"], r["identifier"], r["partner"]) for r in report["forward"]}
    assert ("aggregation", chain.s1, chain.packer.name) in forward
    assert ("destination", chain.s1, chain.importer.name) in forward
    assert all(chain.buyer.name != r["partner"] for r in report["forward"])


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".", 1)[1]) if "." in text else 0


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    if geometry["type"] == "Point":
        return [geometry["coordinates"]]
    if geometry["type"] == "Polygon":
        return [p for ring in geometry["coordinates"] for p in ring]
    return [p for polygon in geometry["coordinates"] for ring in polygon for p in ring]


def test_eudr_geojson_validates_and_splits(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    response = client.get(f"/api/v1/reports/eudr?lot={quote(chain.s1)}", headers=_nationwide(db))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    assert response.headers["x-total-parts"] == "1"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    by_code = {f["properties"]["PlotCode"]: f for f in collection["features"]}
    assert set(by_code) == {chain.area_small.code, chain.area_large.code}
    assert by_code[chain.area_small.code]["geometry"]["type"] == "Point"
    polygon = by_code[chain.area_large.code]["geometry"]
    assert polygon["type"] == "Polygon"
    for ring in polygon["coordinates"]:
        assert ring[0] == ring[-1] and len(ring) >= 4
    for feature in collection["features"]:
        for lon, lat in _positions(feature["geometry"]):
            assert 102 < lon < 110 and 8 < lat < 24  # longitude first, in Viet Nam
            assert _decimals(lon) <= 6 and _decimals(lat) <= 6
        assert feature["properties"]["ProducerCountry"] == "VN"
    point = by_code[chain.area_small.code]["geometry"]["coordinates"]
    assert re.fullmatch(r"\d+\.\d{1,6}", repr(point[0]))
    assert by_code[chain.area_small.code]["properties"]["Lots"] == [chain.h1]
    # Split under a (tiny) size limit: every part is a valid collection, nothing is lost.
    report = eudr.build(db, None, chain.s1)
    parts = report.collections(max_bytes=600)
    assert len(parts) == 2
    features = [f for part in parts for f in json.loads(part)["features"]]
    assert features == report.features
    missing = client.get(
        f"/api/v1/reports/eudr?lot={quote(chain.s1)}&part=3", headers=_nationwide(db)
    )
    assert missing.status_code == 422


def test_compliance_check_lists_what_is_missing(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    make_product(db, chain.packer, gtin=chain.packed_gtin, names={"vi": "Vải thiều đóng hộp"})
    packer = api_headers(db, chain.packer)
    body = client.get(
        f"/api/v1/reports/compliance/{chain.packed_gtin}",
        headers={**packer, "Accept-Language": "vi"},
    ).json()
    assert body["compliant"] is False
    assert body["missing"] == ["image", "producer", "standards"]
    labels = {c["field"]: c for c in body["checks"]}
    assert labels["shelf_life"]["ok"] and labels["stages"]["ok"] and labels["locations"]["ok"]
    assert labels["image"]["detail"] and labels["image"]["detail"] != labels["image"]["label"]
    xlsx = client.get(f"/api/v1/reports/compliance/{chain.packed_gtin}?format=xlsx", headers=packer)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 1 + len(body["checks"])
    stranger = api_headers(db, chain.buyer)
    assert (
        client.get(f"/api/v1/reports/compliance/{chain.packed_gtin}", headers=stranger).status_code
        == 404
    )
