"""The trace engine on a chain captured through the real EPCIS capture service."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.trace.chain import admin, build_chain
from truyxuat.auth.principal import Principal
from truyxuat.epcis.epc_format import to_epc_urn
from truyxuat.trace.graph import Direction, TraceGraph, TraceTooLarge, trace


def _ids(graph: TraceGraph, *kinds: str) -> set[str]:
    return {n.id for n in graph.identifiers(*kinds)}


def test_pallet_traces_back_to_its_growing_areas(db: Session) -> None:
    chain = build_chain(db)
    graph = trace(db, chain.s1, Direction.backward, principal=None)
    assert _ids(graph, "lot", "sscc") == {chain.s1, chain.p1, chain.h1, chain.h2}
    areas = {n.data["code"] for n in graph.identifiers("growing_area")}
    assert areas == {chain.area_small.code, chain.area_large.code}
    assert graph.nodes[chain.p1].depth == 1
    assert graph.nodes[chain.h1].depth == 2
    assert not graph.truncated
    relations = {(e.source, e.target, e.relation) for e in graph.edges}
    assert (chain.p1, chain.s1, "aggregation") in relations
    assert (chain.h1, chain.p1, "transformation") in relations
    assert graph.flags == []


def test_harvest_lot_traces_forward_to_the_importer(db: Session) -> None:
    chain = build_chain(db)
    graph = trace(db, to_epc_urn(chain.h1), Direction.forward, principal=None)
    assert graph.start == chain.h1
    assert _ids(graph, "lot", "sscc") == {chain.h1, chain.p1, chain.s1}
    orgs = {n.label for n in graph.identifiers("organization")}
    assert chain.importer.name in orgs
    assert chain.buyer.name not in orgs
    destinations = {graph.nodes[e.target].label for e in graph.edges if e.relation == "destination"}
    assert chain.importer.name in destinations


def test_depth_limit_truncates_with_a_message(db: Session) -> None:
    chain = build_chain(db)
    graph = trace(db, chain.s1, Direction.backward, principal=None, max_depth=1)
    assert _ids(graph, "lot", "sscc") == {chain.s1, chain.p1}
    assert graph.truncated
    assert "depth 1" in graph.to_json()["message"]


def test_size_limit_raises(db: Session) -> None:
    chain = build_chain(db)
    with pytest.raises(TraceTooLarge):
        trace(db, chain.s1, Direction.backward, principal=None, max_nodes=2)


def test_flags_imbalance_and_missing_receipt(db: Session) -> None:
    chain = build_chain(db, imbalance=True, receipt=False)
    graph = trace(db, chain.h1, Direction.forward, principal=None)
    kinds = {f.kind for f in graph.flags}
    assert kinds == {"transformation_imbalance", "shipment_without_receipt"}


def test_tenancy_hides_other_organizations_events(db: Session) -> None:
    chain = build_chain(db)
    importer: Principal = admin(chain.importer)
    graph = trace(db, chain.s1, Direction.backward, principal=importer)
    # The importer sees only its own receipt of the pallet: nothing upstream.
    assert _ids(graph, "lot", "sscc") == {chain.s1}
