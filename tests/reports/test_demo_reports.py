"""Reports on the demo chains (`truyxuat demo load`): the FSMA 204 spreadsheet of the lychee
export lot and of a beer lot has every KDE filled, and the EUDR file holds the export plots."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from truyxuat.auth import service as auth_service
from truyxuat.config import Settings
from truyxuat.demo import journeys as j
from truyxuat.demo import load
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.reports import eudr, fsma

SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: the demo creates two dozen logins per test."""
    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


@pytest.fixture
def demo(db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo data, loaded into the test's rolled-back transaction."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))
    return load(db, if_empty=True, settings=settings)


@pytest.mark.parametrize(
    "lot", [j.DEMO_TRACE["lychee"]["export_lot"], j.DEMO_TRACE["beer"]["beer_lots"][0]]
)
def test_fsma_rows_of_a_demo_lot_have_every_kde(db: Session, demo: str, lot: str) -> None:
    report = fsma.build(db, None, lot)
    book = load_workbook(io.BytesIO(fsma.to_xlsx(report)))
    rows = list(book["FSMA 204"].iter_rows(values_only=True))
    records = [dict(zip(fsma.HEADERS, r, strict=True)) for r in rows[1:]]
    assert records, lot
    assert any(r["Traceability Lot Code"] == lot for r in records)
    gaps = sorted(
        {
            (r["CTE"], column)
            for r in records
            for column in fsma.COMMON + fsma.APPLICABLE[r["CTE"]]
            if r[column] in (None, "")
        }
    )
    assert gaps == [], gaps


def test_eudr_file_of_the_lychee_export_pallet(db: Session, demo: str) -> None:
    facts = j.DEMO_TRACE["lychee"]
    (part,) = eudr.build(db, None, facts["export_pallet"]).collections()
    collection = json.loads(part)
    codes = {f["properties"]["PlotCode"] for f in collection["features"]}
    assert codes == set(facts["export_growing_areas"])
    for feature in collection["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            for ring in geometry["coordinates"]:
                assert ring[0] == ring[-1]
