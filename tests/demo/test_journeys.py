"""The demo journeys: EPCIS events of the five chains, stamp runs, and the published identifiers.

`truyxuat.demo.journeys` promises other tests exact trace and recall results; these tests
check the captured events really say what it promises, on both stores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from truyxuat.auth import service as auth_service
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.demo import events as demo_events
from truyxuat.demo import journeys as j
from truyxuat.demo import load
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import SCHEMA_ENV, EpcisValidator, load_schema
from truyxuat.registry.models import Facility, GrowingArea, Organization, Product
from truyxuat.stamps import service as stamps_service
from truyxuat.stamps.models import Stamp, StampRun, StampState

SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
JOURNAL = demo_events.journal()
TOTAL = sum(len(events) for events in JOURNAL.values())


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: the demo creates two dozen logins per test."""
    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


@pytest.fixture
def demo(db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo data, captured with the GS1 schema configured (full validation)."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))
    return load(db, if_empty=True, settings=settings)


def _stored(db: Session) -> dict[str, tuple[str, dict[str, Any]]]:
    """eventID → (recording organization code, stored event)."""
    rows = db.execute(
        select(EpcisEvent.event_id, Organization.code, EpcisEvent.event).join(
            Organization, Organization.id == EpcisEvent.org_id
        )
    ).all()
    return {event_id: (code, event) for event_id, code, event in rows}


def _classes(event: dict[str, Any], field: str) -> list[str]:
    return [q["epcClass"] for q in event.get(field, [])]


def _step(event: dict[str, Any]) -> str:
    return str(event.get("bizStep", "")).rsplit("-", 1)[-1].rsplit("/", 1)[-1]


def _party(event: dict[str, Any], field: str, kind: str = "owning_party") -> str | None:
    key = "source" if field == "sourceList" else "destination"
    return next((s[key] for s in event.get(field, []) if s["type"] == kind), None)


def _org_gln(db: Session, code: str) -> str:
    found = db.scalar(select(Organization.gln).where(Organization.code == code))
    assert found is not None
    return found


def _facility_gln(db: Session, name_part: str, org_code: str) -> str:
    found = db.scalar(
        select(Facility.gln)
        .join(Organization, Organization.id == Facility.org_id)
        .where(Organization.code == org_code, Facility.name.contains(name_part))
    )
    assert found is not None, name_part
    return found


# --- pure: the journal ---------------------------------------------------------------------


def test_every_demo_document_passes_the_gs1_schema_and_the_cbv_rules() -> None:
    validator = EpcisValidator(load_schema(SCHEMA_PATH))
    for org, events in JOURNAL.items():
        assert validator.document_errors(demo_events.document(events)) == [], org


def test_the_journal_is_fixed_and_every_event_id_unique() -> None:
    again = demo_events.journal()
    assert again == JOURNAL
    ids = [e["eventID"] for events in JOURNAL.values() for e in events]
    assert len(ids) == len(set(ids)) == TOTAL
    assert TOTAL >= 80
    for events in JOURNAL.values():
        for event in events:
            assert event["eventTime"][:4] == "2026"
            assert event["eventTimeZoneOffset"] in ("+07:00", "+02:00")


def test_every_identifier_is_a_digital_link_with_valid_keys() -> None:
    links = set()
    for events in JOURNAL.values():
        for event in events:
            for field in ("quantityList", "inputQuantityList", "outputQuantityList"):
                links.update(_classes(event, field))
            links.update(event.get("epcList", []))
            if "parentID" in event:
                links.add(event["parentID"])
    assert links
    assert all(link.startswith("https://id.gs1.org/0") for link in links)
    pallets = {link for link in links if "/00/" in link}
    expected = {*j.LYCHEE_EXPORT_PALLETS, *j.SHRIMP_PALLETS, *j.MILK_PALLETS, *j.BEER_PALLETS}
    assert pallets == expected


# --- stored: every chain -------------------------------------------------------------------


def test_demo_load_captures_every_event_under_its_recording_organization(
    db: Session, demo: str
) -> None:
    assert f"{TOTAL} EPCIS events" in demo
    stored = _stored(db)
    assert len(stored) == TOTAL
    for org, events in JOURNAL.items():
        for event in events:
            assert stored[event["eventID"]][0] == org
    assert [c.__name__ for c in demo_events.CHAINS] == ["lychee", "ocop", "shrimp", "milk", "beer"]


def test_each_chain_has_its_kinds_of_events(db: Session, demo: str) -> None:
    stored = _stored(db)
    for chain in demo_events.CHAINS:
        book = demo_events.Journal()
        chain(book)
        kinds = {(e["type"], _step(e)) for events in book.by_org.values() for e in events}
        assert ("ObjectEvent", "commissioning") in kinds, chain.__name__
        for events in book.by_org.values():
            for event in events:
                assert event["eventID"] in stored
        if chain.__name__ != "ocop":
            assert ("TransformationEvent", "packing") in kinds or (
                "TransformationEvent",
                "commissioning",
            ) in kinds, chain.__name__
            assert ("AggregationEvent", "packing") in kinds, chain.__name__
            assert ("ObjectEvent", "shipping") in kinds and ("ObjectEvent", "receiving") in kinds


def test_lychee_export_pallet_goes_back_to_two_growing_areas_and_forward_to_the_importer(
    db: Session, demo: str
) -> None:
    events = [e for _, e in _stored(db).values()]
    harvests = {
        e["ilmd"]["tx:growingAreaCode"]: e
        for e in events
        if e.get("tx:activity") == "harvest" and "tx:growingAreaCode" in e
    }
    assert set(harvests) == set(j.LYCHEE_HARVEST_LOTS)
    for area, event in harvests.items():
        assert _classes(event, "quantityList") == [j.LYCHEE_HARVEST_LOTS[area]]
        owner = "HTX-VT-NAMDUONG" if area == "VN-BNOR-0103" else "HTX-VT-KIENLAO"
        assert event["bizLocation"]["id"] == j.growing_area_link(owner, area)
        assert event["bizLocation"]["id"].startswith(j.location_link(_org_gln(db, owner)))
    approved = db.scalars(select(GrowingArea.code).where(GrowingArea.code.in_(harvests))).all()
    assert len(approved) == 3
    (packing,) = [e for e in events if _classes(e, "outputQuantityList") == [j.LYCHEE_EXPORT_LOT]]
    assert set(_classes(packing, "inputQuantityList")) == set(
        j.DEMO_TRACE["lychee"]["export_harvest_lots"]
    )
    parents = {
        e["parentID"]: _classes(e, "childQuantityList")
        for e in events
        if e["type"] == "AggregationEvent" and e["action"] == "ADD"
    }
    assert all(parents[p] == [j.LYCHEE_EXPORT_LOT] for p in j.LYCHEE_EXPORT_PALLETS)
    stored = _stored(db)
    importer = j.party_link(_org_gln(db, j.LYCHEE_IMPORTER))
    moves = [
        (org, e)
        for org, e in stored.values()
        if j.LYCHEE_EXPORT_PALLET in e.get("epcList", []) and _step(e) in ("shipping", "receiving")
    ]
    assert {(org, _step(e)) for org, e in moves} == {
        ("LUCNGAN-EXPORT", "shipping"),
        (j.LYCHEE_IMPORTER, "receiving"),
    }
    for _, event in moves:
        assert _party(event, "destinationList") == importer
        assert {t["type"] for t in event["bizTransactionList"]} == {"po", "inv", "desadv", "bol"}
    receipt = next(e for org, e in moves if org == j.LYCHEE_IMPORTER)
    assert receipt["eventTimeZoneOffset"] == "+02:00"


def test_beer_lots_trace_back_to_exactly_their_ingredient_lots(db: Session, demo: str) -> None:
    events = [e for _, e in _stored(db).values()]
    brews = {
        _classes(e, "outputQuantityList")[0]: set(_classes(e, "inputQuantityList"))
        for e in events
        if e["type"] == "TransformationEvent"
        and set(_classes(e, "outputQuantityList")) <= set(j.BEER_LOTS)
    }
    assert brews == {lot: set(inputs) for lot, inputs in j.BEER_INPUTS.items()}
    # Hops and rice go into every lot; each malt lot into its own lots only.
    uses_a = [lot for lot, inputs in brews.items() if j.BEER_MALT_LOT_A in inputs]
    assert uses_a == list(j.DEMO_TRACE["beer"]["recall_malt_a"]["lots"])
    beer_products = db.scalars(
        select(Product.gtin).where(
            Product.gtin.in_([j.GTIN["BEER-LAGER-330"], j.GTIN["BEER-PREMIUM-450"]])
        )
    ).all()
    assert len(beer_products) == 2


def _downstream(stored: dict[str, tuple[str, dict[str, Any]]], lot: str) -> dict[str, set[str]]:
    """What a recall of `lot` reaches: lots made from it, their pallets, and who received any."""
    events = [e for _, e in stored.values()]
    lots = {lot}
    changed = True
    while changed:
        changed = False
        for e in events:
            if e["type"] == "TransformationEvent" and lots & set(_classes(e, "inputQuantityList")):
                new = set(_classes(e, "outputQuantityList")) - lots
                if new:
                    lots |= new
                    changed = True
    pallets = {
        e["parentID"]
        for e in events
        if e["type"] == "AggregationEvent"
        and e["action"] == "ADD"
        and lots & set(_classes(e, "childQuantityList"))
    }
    recipients = {
        org
        for org, e in stored.values()
        if _step(e) == "receiving"
        and (lots & set(_classes(e, "quantityList")) or pallets & set(e.get("epcList", [])))
    }
    return {"lots": lots - {lot}, "pallets": pallets, "recipients": recipients}


@pytest.mark.parametrize("malt", ["a", "b"])
def test_a_malt_recall_reaches_exactly_the_published_lots_pallets_recipients_and_stamps(
    db: Session, demo: str, malt: str
) -> None:
    expected = j.DEMO_TRACE["beer"][f"recall_malt_{malt}"]
    malt_lot = j.BEER_MALT_LOT_A if malt == "a" else j.BEER_MALT_LOT_B
    reached = _downstream(_stored(db), malt_lot)
    assert reached["lots"] == set(expected["lots"])
    assert reached["pallets"] == set(expected["pallets"])
    assert reached["recipients"] == set(expected["recipients"])
    lots = [link.rsplit("/", 1)[1] for link in expected["lots"]]
    active = db.scalars(
        select(Stamp.serial).where(Stamp.lot.in_(lots), Stamp.state == StampState.activated)
    ).all()
    assert set(active) == set(expected["active_serials"])


def test_beer_pallets_reach_the_published_stores(db: Session, demo: str) -> None:
    stored = _stored(db)
    for lot, pallet in zip(j.BEER_LOTS, j.BEER_PALLETS, strict=True):
        retailer, store_key = j.BEER_STORES[lot]
        receipts = [
            (org, e)
            for org, e in stored.values()
            if _step(e) == "receiving" and e.get("epcList") == [pallet]
        ]
        assert [org for org, _ in receipts] == ["HANOI-BEV-DIST", retailer] or [
            org for org, _ in receipts
        ] == [retailer, "HANOI-BEV-DIST"]
        store = next(e for org, e in receipts if org == retailer)
        gln = db.scalar(
            select(Facility.gln).where(
                Facility.name.contains(
                    {
                        "PHOXANH-CAUGIAY": "Trần Duy Hưng",
                        "PHOXANH-LONGBIEN": "Nguyễn Văn Cừ",
                        "HONGHA-CAUGIAY": "Hồng Hà Cầu Giấy",
                    }[store_key]
                )
            )
        )
        assert store["bizLocation"]["id"] == j.location_link(str(gln))
        shipments = [
            e
            for _, e in stored.values()
            if _step(e) == "shipping" and pallet in e.get("epcList", [])
        ]
        assert all(e["epcList"] == [pallet] for e in shipments)


def test_shrimp_cold_chain_has_exactly_one_reading_above_the_limit(db: Session, demo: str) -> None:
    above = []
    for event_id, (org, event) in _stored(db).items():
        for element in event.get("sensorElementList", []):
            for report in element["sensorReport"]:
                assert report["type"] == "Temperature" and report["uom"] == "CEL"
                if report["value"] > j.SHRIMP_TEMPERATURE_LIMIT_CEL:
                    above.append((event_id, org, report["value"]))
    assert above == [(j.SHRIMP_EXCURSION_EVENT_ID, "DATMUI-SEAFOOD", j.SHRIMP_EXCURSION_MAX_CEL)]
    excursion = _stored(db)[j.SHRIMP_EXCURSION_EVENT_ID][1]
    assert excursion["epcList"] == list(j.SHRIMP_PALLETS)


def test_shrimp_and_milk_transformations_join_the_published_lots(db: Session, demo: str) -> None:
    events = [e for _, e in _stored(db).values() if e["type"] == "TransformationEvent"]
    by_output = {tuple(_classes(e, "outputQuantityList")): e for e in events}
    shrimp = by_output[(j.SHRIMP_EXPORT_LOT,)]
    assert set(_classes(shrimp, "inputQuantityList")) == set(j.SHRIMP_POND_LOTS.values())
    milk = by_output[j.MILK_FINISHED_LOTS]
    assert set(_classes(milk, "inputQuantityList")) == set(j.MILK_RAW_LOTS)
    assert {q["uom"] for q in milk["inputQuantityList"] + milk["outputQuantityList"]} == {"LTR"}
    inputs = sum(q["quantity"] for q in milk["inputQuantityList"])
    outputs = sum(q["quantity"] for q in milk["outputQuantityList"])
    assert outputs <= inputs


def test_every_place_party_and_product_is_registered(db: Session, demo: str) -> None:
    glns = {*db.scalars(select(Facility.gln)), *db.scalars(select(Organization.gln))} - {None}
    org_glns = set(db.scalars(select(Organization.gln))) - {None}
    gtins = set(db.scalars(select(Product.gtin)))
    rotterdam = j.gln(j.LYCHEE_IMPORTER, 2)  # the importer's warehouse abroad, not registered
    for _, event in _stored(db).values():
        places = [event.get(f, {}).get("id") for f in ("readPoint", "bizLocation")]
        for field, key in (("sourceList", "source"), ("destinationList", "destination")):
            for item in event.get(field, []):
                if item["type"] == "owning_party":
                    assert item[key].removeprefix("https://id.gs1.org/417/") in org_glns
                else:
                    places.append(item[key])
        for link in filter(None, places):
            code = link.removeprefix("https://id.gs1.org/414/").split("/")[0]
            assert code in glns or code == rotterdam, link
        for field in (
            "quantityList",
            "inputQuantityList",
            "outputQuantityList",
            "childQuantityList",
        ):
            for epc_class in _classes(event, field):
                assert epc_class.split("/")[4] in gtins, epc_class


# --- stamps --------------------------------------------------------------------------------


def test_stamp_runs_hold_the_published_serials_and_states(
    db: Session, demo: str, settings: Settings
) -> None:
    for run in j.DEMO_STAMPS:
        stamps = db.scalars(select(Stamp).where(Stamp.gtin == run.gtin).order_by(Stamp.seq)).all()
        stamps = [s for s in stamps if s.serial in set(run.serials)]
        assert [s.serial for s in stamps] == list(run.serials), run.key
        states = defaultdict(set)
        for stamp in stamps:
            states[stamp.state].add(stamp.serial)
            assert stamp.lot == run.lot
            assert (stamp.pin_hash is not None) == (run.kind == "anticounterfeit")
        assert states[StampState.activated] == set(run.active_serials), run.key
        assert states[StampState.voided] == set(run.voided_serials), run.key
        assert states[StampState.generated] == set(run.unactivated_serials), run.key
    assert j.OCOP_VERMICELLI_STAMPS.unactivated_serials
    assert j.OCOP_SQUID_STAMPS.voided_serials
    assert not db.scalar(select(Stamp.id).where(Stamp.serial == j.NEVER_ISSUED_SERIAL))


def test_published_pins_verify_and_stamp_links_match_the_published_paths(
    db: Session, demo: str, settings: Settings
) -> None:
    run = j.OCOP_SQUID_STAMPS
    good = run.active_serials[0]
    verdict = stamps_service.verify_pin(
        db, settings, client="demo-test", gtin=run.gtin, serial=good, pin=run.pins[good]
    )
    assert verdict.result == "genuine" and verdict.lot == run.lot
    voided = run.voided_serials[0]
    verdict = stamps_service.verify_pin(
        db, settings, client="demo-test", gtin=run.gtin, serial=voided, pin=run.pins[voided]
    )
    assert verdict.result == "voided"
    stamp = db.scalar(select(Stamp).where(Stamp.serial == good))
    assert stamp is not None
    stamp_run = db.get(StampRun, stamp.run_id)
    assert stamp_run is not None
    uri = stamps_service.stamp_uri(stamp_run, good, settings)
    assert uri == settings.resolver_base.rstrip("/") + run.path(good)


# --- the `make run` path -------------------------------------------------------------------


def test_make_run_path_loads_the_demo_once_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != SCHEMA_ENV}
    env.update(
        TRUYXUAT_DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        TRUYXUAT_DATA_DIR=str(tmp_path / "data"),
    )
    env.pop("TRUYXUAT_SECRET_KEY", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "truyxuat", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    first = run("demo", "load", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert f"{TOTAL} EPCIS events" in first.stdout
    second = run("demo", "load", "--if-empty")
    assert second.returncode == 0 and "already loaded" in second.stdout
    urls = run("demo", "urls")
    squid = j.OCOP_SQUID_STAMPS
    good = squid.active_serials[0]
    assert urls.returncode == 0, urls.stderr
    assert f"(PIN {squid.pins[good]}): http://127.0.0.1:8000{squid.path(good)}" in urls.stdout
    with session_scope(make_sessionmaker(make_engine(env["TRUYXUAT_DATABASE_URL"]))) as session:
        assert len(session.scalars(select(EpcisEvent.id)).all()) == TOTAL
        assert len(session.scalars(select(Stamp.id)).all()) == sum(
            run.count for run in j.DEMO_STAMPS
        )


def test_demo_scan_addresses_resolve_to_pages(
    db: Session, demo: str, settings: Settings, client: TestClient
) -> None:
    for line in j.scan_lines(settings.resolver_base):
        path = "/01/" + line.split("/01/", 1)[1]
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code in (200, 404), (line, response.status_code)
        if "never issued" not in line:
            assert response.status_code == 200, line
