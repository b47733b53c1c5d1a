"""Exact trace and recall results on the demo chains (`truyxuat demo load`), both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.trace.chain import admin
from truyxuat.auth import service as auth_service
from truyxuat.config import Settings
from truyxuat.demo import journeys as j
from truyxuat.demo import load
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.recall import service as recall_service
from truyxuat.recall.models import RecallItemKind, RecallSeverity
from truyxuat.registry.models import Organization
from truyxuat.trace.graph import Direction, TraceGraph, trace

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


def _org(db: Session, code: str) -> Organization:
    org = db.scalar(select(Organization).where(Organization.code == code))
    assert org is not None, code
    return org


def _ids(graph: TraceGraph, *kinds: str) -> set[str]:
    return {n.id for n in graph.identifiers(*kinds)}


def test_lychee_export_pallet_traces_back_to_its_growing_areas(db: Session, demo: str) -> None:
    facts = j.DEMO_TRACE["lychee"]
    graph = trace(db, facts["export_pallet"], Direction.backward, principal=None)
    lots = _ids(graph, "lot")
    assert lots == {facts["export_lot"], *facts["export_harvest_lots"]}
    areas = {n.data["code"] for n in graph.identifiers("growing_area")}
    assert areas == set(facts["export_growing_areas"])
    assert not graph.truncated


def test_lychee_export_pallet_traces_forward_to_its_importer(db: Session, demo: str) -> None:
    facts = j.DEMO_TRACE["lychee"]
    importer = _org(db, facts["importer"])
    graph = trace(db, facts["export_pallet"], Direction.forward, principal=None)
    destinations = {e.target for e in graph.edges if e.relation == "destination"}
    assert f"org:{importer.id}" in destinations
    assert f"org:{importer.id}" in graph.nodes


def test_each_beer_lot_traces_back_to_each_ingredient_lot(db: Session, demo: str) -> None:
    facts = j.DEMO_TRACE["beer"]
    for beer_lot, inputs in facts["inputs"].items():
        graph = trace(db, beer_lot, Direction.backward, principal=None)
        assert _ids(graph, "lot") == {beer_lot, *inputs}, beer_lot
        steps = {(e.source, e.target) for e in graph.edges if e.relation == "transformation"}
        assert steps == {(ingredient, beer_lot) for ingredient in inputs}


@pytest.mark.parametrize("malt", ["recall_malt_a", "recall_malt_b"])
def test_recall_of_a_malt_lot_marks_exactly_its_downstream(
    db: Session, demo: str, malt: str
) -> None:
    facts = j.DEMO_TRACE["beer"]
    expected = facts[malt]
    malt_lot = facts["malt_lots"][0 if malt == "recall_malt_a" else 1]
    maltster = _org(db, "VIETUC-MALT")
    recall = recall_service.open_recall(
        db,
        admin(maltster),
        recall_service.RecallRequest(malt_lot, "Aflatoxin B1 vượt ngưỡng", RecallSeverity.class_i),
    )
    view = recall_service.get_recall(db, admin(maltster), recall.id)
    lots = {i.ref for i in view.items if i.kind is RecallItemKind.lot}
    assert lots == {malt_lot, *expected["lots"]}
    pallets = {i.ref for i in view.items if i.kind is RecallItemKind.sscc}
    assert pallets == set(expected["pallets"])
    serials = {i.ref.split("/", 1)[1] for i in view.items if i.kind is RecallItemKind.stamp}
    assert serials == set(expected["active_serials"])
    codes = {
        db.get(Organization, r.org_id).code  # type: ignore[union-attr]
        for r, _ in view.recipients
    }
    assert codes == set(expected["recipients"])
    # Every passport of a reached beer lot carries the banner; the other malt's lots do not.
    for beer_lot in facts["beer_lots"]:
        gtin, lot = beer_lot.split("/01/", 1)[1].split("/10/")
        notice = recall_service.recall_notice(db, gtin, lot)
        assert (notice is not None) == (beer_lot in expected["lots"]), beer_lot
