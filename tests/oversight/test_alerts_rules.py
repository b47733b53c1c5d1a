"""Each early-warning rule on both stores: its situation, seeded through the real services
(EPCIS capture, the diary, stamps and PIN checks, the resolver's scan log), raises one alert
that a second run does not duplicate; the normal situation raises none."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.factories import (
    make_certification,
    make_facility,
    make_growing_area,
    make_org,
    make_packing_house,
    make_product,
)
from tests.trace.chain import DL, admin, build_chain, capture, event, lot, place
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.diary import service as diary
from truyxuat.diary.activities import VIETNAM
from truyxuat.epcis.validation import SCHEMA_ENV, EpcisValidator, load_schema
from truyxuat.oversight.models import Alert, AlertState
from truyxuat.oversight.rules.codes import INVALID_CODE_USED
from truyxuat.oversight.rules.cold_chain import TEMPERATURE_EXCURSION
from truyxuat.oversight.rules.diary import EARLY_HARVEST
from truyxuat.oversight.rules.mass import MASS_IMBALANCE, SHIPMENT_NOT_RECEIVED
from truyxuat.oversight.rules.moit import UNTRACED_MANDATORY_PRODUCT
from truyxuat.oversight.rules.stamps import COPIED_STAMP, PIN_BRUTE_FORCE
from truyxuat.oversight.service import alerts as service
from truyxuat.registry.models import CodeStatus, MoitGroup, Organization
from truyxuat.resolver import scans
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import Scan
from truyxuat.stamps import service as stamps
from truyxuat.stamps.models import StampKind
from truyxuat.stamps.schemas import StampRunIn

SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
HANOI = (21.03, 105.85)
HANOI_WEST = (21.0, 105.78)
HO_CHI_MINH = (10.78, 106.70)


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture(scope="module")
def validator() -> EpcisValidator:
    """The validator of the ratified GS1 schema."""
    return EpcisValidator(load_schema(SCHEMA_PATH))


def alerts_of(db: Session, rule: str) -> list[Alert]:
    """The alerts a rule raised."""
    return list(db.scalars(select(Alert).where(Alert.rule == rule).order_by(Alert.dedup_key)))


def run_twice(db: Session, settings: Settings, rule: str, **kw: Any) -> list[Alert]:
    """Runs one rule twice; the second run must create nothing new."""
    first = service.run_rules(db, rule=rule, settings=settings, **kw)
    second = service.run_rules(db, rule=rule, settings=settings, **kw)
    assert second.created == 0 and second.reopened == 0
    assert second.refreshed == first.created + first.refreshed
    return alerts_of(db, rule)


def staff(org: Organization) -> Principal:
    """A staff member of one organization."""
    return Principal(label="staff", grants=(Grant(org.id, Role.org_staff, org.province_code),))


def issue(
    db: Session, settings: Settings, org: Organization, *, count: int = 2, **product: Any
) -> stamps.Issued:
    """Issues anti-counterfeit stamps (with PINs) for a new product of `org`."""
    item = make_product(db, org, **product)
    body = StampRunIn(gtin=item.gtin, count=count, kind=StampKind.anticounterfeit)
    return stamps.issue_run(db, admin(org), body, settings)


def scan(db: Session, gtin: str, serial: str, where: tuple[float, float] | None) -> Scan:
    """A consumer's scan logged as the resolver logs it, with its consented place."""
    logged = scans.new(ItemKey(gtin, None, serial), None, "Mozilla/5.0 test", "vi").entity()
    db.add(logged)
    db.flush()
    if where is not None:
        scans.set_place(db, logged.id, *where)
    return logged


# --- 1. copied stamps and PIN brute force ---------------------------------------------------


def test_a_stamp_scanned_in_hanoi_and_saigon_within_the_hour_raises_one_alert(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    issued = issue(db, settings, org)
    gtin = issued.run.gtin
    copied, honest = sorted(issued.pins)
    scan(db, gtin, copied, HANOI)
    scan(db, gtin, copied, HO_CHI_MINH)
    scan(db, gtin, honest, HANOI)
    scan(db, gtin, honest, HANOI_WEST)
    found = run_twice(db, settings, COPIED_STAMP)
    assert [a.dedup_key for a in found] == [f"{gtin}/{copied}:travel"]
    alert = found[0]
    assert alert.org_id == org.id and alert.province_code == org.province_code
    assert alert.params["km"] > 1000 and alert.severity.value == "critical"
    assert {e["kind"] for e in alert.evidence} == {"scan"} and len(alert.evidence) == 2
    assert alert.evidence_url == f"/01/{gtin}/21/{copied}"


def test_far_apart_scans_days_apart_are_a_journey_not_a_copy(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    issued = issue(db, settings, org)
    gtin, serial = issued.run.gtin, sorted(issued.pins)[0]
    earlier = scan(db, gtin, serial, HANOI)
    scan(db, gtin, serial, HO_CHI_MINH)
    db.execute(
        update(Scan).where(Scan.id == earlier.id).values(scanned_at=utcnow() - timedelta(days=3))
    )
    assert service.run_rules(db, rule=COPIED_STAMP, settings=settings).found == 0


def test_a_stamp_still_scanned_months_after_its_first_scan_raises_an_info_alert(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    issued = issue(db, settings, org)
    gtin = issued.run.gtin
    old, fresh = sorted(issued.pins)
    for serial, days in ((old, settings.resolver_copy_days + 30), (fresh, 10)):
        first = scan(db, gtin, serial, None)
        db.execute(
            update(Scan)
            .where(Scan.id == first.id)
            .values(scanned_at=utcnow() - timedelta(days=days))
        )
        scan(db, gtin, serial, None)
    found = run_twice(db, settings, COPIED_STAMP)
    assert [a.dedup_key for a in found] == [f"{gtin}/{old}:long_ago"]
    assert found[0].severity.value == "info"
    assert found[0].params["days"] == settings.resolver_copy_days + 30


def test_pin_brute_force_locks_the_stamp_and_raises_one_alert(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    issued = issue(db, settings, org)
    gtin = issued.run.gtin
    (target, pin), (other, other_pin) = sorted(issued.pins.items())
    wrong = f"{(int(pin) + 1) % 10**8:08d}"
    for i in range(stamps.STAMP_MAX_WRONG):
        stamps.verify_pin(db, settings, client=f"ip:{i}", gtin=gtin, serial=target, pin=wrong)
    # A consumer who mistypes once, then gets it right, is no attack.
    other_wrong = f"{(int(other_pin) + 1) % 10**8:08d}"
    stamps.verify_pin(db, settings, client="ip:x", gtin=gtin, serial=other, pin=other_wrong)
    stamps.verify_pin(db, settings, client="ip:x", gtin=gtin, serial=other, pin=other_pin)
    found = run_twice(db, settings, PIN_BRUTE_FORCE)
    assert [a.dedup_key for a in found] == [f"{gtin}/{target}"]
    assert found[0].org_id == org.id and found[0].params["attempts"] == stamps.STAMP_MAX_WRONG


def test_one_device_at_the_wrong_pin_limit_raises_a_national_alert(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    issued = issue(db, settings, org, count=6)
    gtin = issued.run.gtin
    for serial, pin in sorted(issued.pins.items())[: stamps.CLIENT_MAX_WRONG_PER_HOUR]:
        wrong = f"{(int(pin) + 1) % 10**8:08d}"
        stamps.verify_pin(
            db, settings, client="ip:203.0.113.9", gtin=gtin, serial=serial, pin=wrong
        )
    found = run_twice(db, settings, PIN_BRUTE_FORCE)
    assert len(found) == 1 and found[0].dedup_key.startswith("device:")
    assert found[0].org_id is None and found[0].province_code is None
    assert "203.0.113.9" not in str(found[0].evidence) + found[0].dedup_key


def test_no_wrong_pin_raises_no_alert(db: Session, settings: Settings) -> None:
    org = make_org(db)
    issued = issue(db, settings, org)
    serial, pin = sorted(issued.pins.items())[0]
    stamps.verify_pin(db, settings, client="ip:1", gtin=issued.run.gtin, serial=serial, pin=pin)
    assert service.run_rules(db, rule=PIN_BRUTE_FORCE, settings=settings).found == 0


# --- 2. lapsed certificates and suspended codes ----------------------------------------------


def _cert_event(org: Organization, gtin: str, number: str, when: str) -> dict[str, Any]:
    """A packing event naming a certificate in its certificationInfo."""
    return event(
        "ObjectEvent",
        when,
        action="OBSERVE",
        bizStep="inspecting",
        epcList=[],
        quantityList=[{"epcClass": lot(gtin, "C1"), "quantity": 10, "uom": "KGM"}],
        readPoint=place(org.gln or ""),
        certificationInfo=[f"https://truyxuat.example/certificates/{number}"],
    )


def test_an_expired_certificate_named_by_a_new_event_raises_one_alert(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    gtin = make_product(db, org).gtin
    today = date.today()
    expired = make_certification(
        db, org, valid_from=today - timedelta(days=400), valid_to=today - timedelta(days=10)
    )
    valid = make_certification(db, org)
    capture(db, org, [_cert_event(org, gtin, expired.number, "2026-06-01T08:00:00+07:00")])
    capture(db, org, [_cert_event(org, gtin, valid.number, "2026-06-01T09:00:00+07:00")])
    found = run_twice(db, settings, INVALID_CODE_USED)
    assert [a.dedup_key for a in found] == [f"certificate:{expired.id}:expired"]
    assert found[0].params["lapse"] == "expired" and found[0].params["events"] == 1
    assert found[0].evidence_url == f"/registry/certifications/{expired.id}"
    assert service.title_text(found[0]).startswith(f"Certificate {expired.number} has expired")


def test_a_certificate_suspended_after_the_events_raises_none(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    gtin = make_product(db, org).gtin
    cert = make_certification(db, org)
    capture(db, org, [_cert_event(org, gtin, cert.number, "2026-06-01T08:00:00+07:00")])
    cert.suspended_at = utcnow() + timedelta(seconds=5)
    db.flush()
    assert service.run_rules(db, rule=INVALID_CODE_USED, settings=settings).found == 0


def test_a_suspended_growing_area_used_by_the_diary_raises_one_alert(
    db: Session, settings: Settings, validator: EpcisValidator
) -> None:
    farm = make_org(db, kind="household")  # type: ignore[arg-type]
    suspended = make_growing_area(db, farm, status=CodeStatus.approved)
    approved = make_growing_area(db, farm, status=CodeStatus.approved)
    before = utcnow() - timedelta(days=1)
    suspended.status, suspended.decided_at = CodeStatus.suspended, before
    db.flush()
    for area in (suspended, approved):
        diary.record_activity(
            db,
            staff(farm),
            growing_area_id=area.id,
            activity="irrigation",
            values={"quantity": "3", "uom": "MTQ"},
            validator=validator,
        )
    found = run_twice(db, settings, INVALID_CODE_USED)
    assert [a.dedup_key for a in found] == [
        f"growing_area:{suspended.id}:suspended:{before.isoformat()}"
    ]
    assert found[0].province_code == suspended.province_code
    assert found[0].evidence[0]["url"] == f"/registry/growing-areas/{suspended.id}"


def test_a_revoked_packing_house_named_in_ilmd_raises_one_alert(
    db: Session, settings: Settings
) -> None:
    packer = make_org(db)
    facility = make_facility(db, packer, gln=None)
    house = make_packing_house(
        db, packer, facility_id=facility.id, status=CodeStatus.revoked, decided_at=utcnow()
    )
    fine = make_packing_house(db, packer, status=CodeStatus.approved, decided_at=utcnow())
    gtin = make_product(db, packer).gtin
    for code, number in ((house.code, "R1"), (fine.code, "R2")):
        capture(
            db,
            packer,
            [
                event(
                    "TransformationEvent",
                    "2026-06-09T07:00:00+07:00",
                    bizStep="packing",
                    inputQuantityList=[{"epcClass": lot(gtin, "IN" + number), "quantity": 5}],
                    outputQuantityList=[{"epcClass": lot(gtin, number), "quantity": 5}],
                    readPoint=place(packer.gln or ""),
                    ilmd={"tx:packingHouseCode": code},
                )
            ],
        )
    found = run_twice(db, settings, INVALID_CODE_USED)
    assert len(found) == 1 and found[0].dedup_key.startswith(f"packing_house:{house.id}:revoked")


# --- 3. harvest before the pre-harvest interval ---------------------------------------------


def _diary(
    db: Session,
    validator: EpcisValidator,
    org: Organization,
    area: Any,
    activity: str,
    when: datetime,
    **values: str,
) -> None:
    """Records one diary activity at a moment."""
    diary.record_activity(
        db,
        staff(org),
        growing_area_id=area.id,
        activity=activity,
        values={"event_time": when.strftime("%Y-%m-%dT%H:%M"), **values},
        validator=validator,
        now=when.replace(tzinfo=VIETNAM) + timedelta(hours=1),
    )


SPRAY = {"product_name": "Regent 800WG", "dose": "1.5", "dose_uom": "LTR", "phi_days": "14"}


def test_a_harvest_before_the_sprayings_safe_date_raises_one_alert(
    db: Session, settings: Settings, validator: EpcisValidator
) -> None:
    farm = make_org(db)
    early, patient = make_growing_area(db, farm), make_growing_area(db, farm)
    gtin = make_product(db, farm).gtin
    sprayed = datetime(2026, 5, 12, 8, 0)
    for area in (early, patient):
        _diary(db, validator, farm, area, "spraying", sprayed, **SPRAY)
    harvest = {"gtin": gtin, "quantity": "120", "uom": "KGM"}
    _diary(db, validator, farm, early, "harvest", datetime(2026, 5, 20, 7), lot="E1", **harvest)
    _diary(db, validator, farm, patient, "harvest", datetime(2026, 5, 26, 7), lot="P1", **harvest)
    found = run_twice(db, settings, EARLY_HARVEST)
    assert len(found) == 1
    alert = found[0]
    assert alert.params["safe"] == "2026-05-26" and alert.params["harvested"] == "2026-05-20"
    assert alert.params["place"] == early.code and alert.gtin == gtin
    assert [e.get("role") for e in alert.evidence[:2]] == ["harvest", "spraying"]
    assert alert.evidence[0]["url"] == "/trace?epc=" + lot(gtin, "E1").replace(":", "%3A").replace(
        "/", "%2F"
    )


def test_a_harvest_on_the_safe_date_raises_none(
    db: Session, settings: Settings, validator: EpcisValidator
) -> None:
    farm = make_org(db)
    area = make_growing_area(db, farm)
    gtin = make_product(db, farm).gtin
    _diary(db, validator, farm, area, "spraying", datetime(2026, 5, 12, 8), **SPRAY)
    _diary(
        db,
        validator,
        farm,
        area,
        "harvest",
        datetime(2026, 5, 26, 6),
        gtin=gtin,
        lot="OK1",
        quantity="50",
        uom="KGM",
    )
    assert service.run_rules(db, rule=EARLY_HARVEST, settings=settings).found == 0


# --- 4. cold-chain temperature excursions ----------------------------------------------------


def _reading(
    org: Organization, gtin: str, number: str, *values: float, uom: str = "CEL"
) -> dict[str, Any]:
    """A sensor-reporting event on a lot with one temperature report per value."""
    return event(
        "ObjectEvent",
        "2026-11-20T08:00:00+07:00",
        action="OBSERVE",
        bizStep="sensor_reporting",
        epcList=[],
        quantityList=[{"epcClass": lot(gtin, number), "quantity": 100, "uom": "KGM"}],
        readPoint=place(org.gln or ""),
        sensorElementList=[
            {
                "sensorMetadata": {"time": "2026-11-20T08:00:00+07:00", "deviceID": "urn:x:1"},
                "sensorReport": [
                    {"type": "gs1:Temperature", "value": v, "uom": uom} for v in values
                ],
            }
        ],
    )


def test_a_reading_above_the_products_range_raises_one_alert(
    db: Session, settings: Settings
) -> None:
    carrier = make_org(db)
    shrimp = make_product(db, carrier, temperature_min=-25.0, temperature_max=-18.0)
    unranged = make_product(db, carrier)
    capture(
        db,
        carrier,
        [
            _reading(carrier, shrimp.gtin, "WARM", -20.0, -9.5),
            _reading(carrier, shrimp.gtin, "COLD", -21.0, -19.0),
            _reading(carrier, shrimp.gtin, "FAH", -4.0, uom="FAH"),  # -20 °C
            _reading(carrier, unranged.gtin, "ANY", 30.0),
        ],
    )
    found = run_twice(db, settings, TEMPERATURE_EXCURSION)
    assert [a.params["identifier"] for a in found] == [lot(shrimp.gtin, "WARM")]
    assert found[0].params["value"] == -9.5 and found[0].params["high"] == -18.0
    assert found[0].evidence_url == f"/registry/products/{shrimp.id}"
    assert found[0].evidence[0]["kind"] == "reading"


def test_readings_inside_the_range_raise_none(db: Session, settings: Settings) -> None:
    carrier = make_org(db)
    milk = make_product(db, carrier, temperature_min=2.0, temperature_max=6.0)
    capture(
        db,
        carrier,
        [
            _reading(carrier, milk.gtin, "M1", 3.0, 5.9),
            _reading(carrier, milk.gtin, "M2", 39.2, uom="FAH"),
        ],
    )
    assert service.run_rules(db, rule=TEMPERATURE_EXCURSION, settings=settings).found == 0


# --- 5. mass imbalance and shipments never received ------------------------------------------


def _harvest(farm: Organization, identifier: str, kg: float) -> dict[str, Any]:
    """A harvest commissioning a lot."""
    return event(
        "ObjectEvent",
        "2026-06-01T06:00:00+07:00",
        action="ADD",
        bizStep="commissioning",
        epcList=[],
        quantityList=[{"epcClass": identifier, "quantity": kg, "uom": "KGM"}],
        readPoint=place(farm.gln or ""),
    )


def _ship(
    src: Organization, dst: Organization, identifier: str, amount: float, uom: str
) -> dict[str, Any]:
    """A shipment of an amount of a lot."""
    return event(
        "ObjectEvent",
        "2026-06-01T10:00:00+07:00",
        action="OBSERVE",
        bizStep="shipping",
        epcList=[],
        quantityList=[{"epcClass": identifier, "quantity": amount, "uom": uom}],
        readPoint=place(src.gln or ""),
        destinationList=[{"type": "owning_party", "destination": f"{DL}/417/{dst.gln}"}],
    )


def test_shipping_more_than_harvested_raises_one_alert(db: Session, settings: Settings) -> None:
    farm, buyer = make_org(db), make_org(db)
    gtin = make_product(db, farm).gtin
    over, even, tonnes = lot(gtin, "OVER"), lot(gtin, "EVEN"), lot(gtin, "T1")
    capture(
        db,
        farm,
        [
            _harvest(farm, over, 100),
            _ship(farm, buyer, over, 150, "KGM"),
            _harvest(farm, even, 100),
            _ship(farm, buyer, even, 101, "KGM"),  # within the weighing tolerance
            _harvest(farm, tonnes, 2000),
            _ship(farm, buyer, tonnes, 2, "TNE"),
        ],
    )
    found = run_twice(db, settings, MASS_IMBALANCE)
    assert [a.params["identifier"] for a in found] == [over]
    assert found[0].params["shipped"] == 150 and found[0].params["inflow"] == 100
    assert found[0].org_id == farm.id and len(found[0].evidence) == 2


def test_a_shipment_never_received_raises_one_alert_after_the_grace_period(
    db: Session, settings: Settings
) -> None:
    chain = build_chain(db, receipt=False)
    within_grace = datetime(2026, 6, 4, tzinfo=utcnow().tzinfo)
    assert (
        service.run_rules(db, rule=SHIPMENT_NOT_RECEIVED, settings=settings, now=within_grace).found
        == 0
    )
    found = run_twice(
        db, settings, SHIPMENT_NOT_RECEIVED, now=datetime(2026, 7, 1, tzinfo=within_grace.tzinfo)
    )
    assert len(found) == 1
    assert found[0].org_id == chain.packer.id and found[0].params["identifier"] == chain.s1
    assert found[0].params["destination"] == f"{DL}/417/{chain.importer.gln}"


def test_a_chain_whose_shipments_are_all_received_raises_none(
    db: Session, settings: Settings
) -> None:
    build_chain(db)
    now = datetime(2026, 7, 1, tzinfo=utcnow().tzinfo)
    assert service.run_rules(db, rule=SHIPMENT_NOT_RECEIVED, settings=settings, now=now).found == 0


# --- 6. mandatory products sold without traceability data -----------------------------------


def test_a_scanned_beer_with_no_event_raises_one_alert(db: Session, settings: Settings) -> None:
    brewery = make_org(db)
    blind = make_product(db, brewery, moit_group=MoitGroup.beer)
    traced = make_product(db, brewery, moit_group=MoitGroup.beer)
    unlisted = make_product(db, brewery)
    for product in (blind, traced, unlisted):
        scan(db, product.gtin, "S1", None)
    capture(db, brewery, [_harvest(brewery, lot(traced.gtin, "B1"), 500)])
    found = run_twice(db, settings, UNTRACED_MANDATORY_PRODUCT)
    assert [a.gtin for a in found] == [blind.gtin]
    assert found[0].params["scans"] == 1 and found[0].params["group"] == "beer"


def test_a_mandatory_product_not_yet_on_sale_raises_none(db: Session, settings: Settings) -> None:
    brewery = make_org(db)
    make_product(db, brewery, moit_group=MoitGroup.processed_milk)
    assert service.run_rules(db, rule=UNTRACED_MANDATORY_PRODUCT, settings=settings).found == 0


# --- the lifecycle across runs -----------------------------------------------------------------


def test_a_resolved_alert_comes_back_only_with_new_evidence(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    issued = issue(db, settings, org)
    gtin, serial = issued.run.gtin, sorted(issued.pins)[0]
    scan(db, gtin, serial, HANOI)
    scan(db, gtin, serial, HO_CHI_MINH)
    service.run_rules(db, rule=COPIED_STAMP, settings=settings)
    (alert,) = alerts_of(db, COPIED_STAMP)
    service.resolve(db, admin(org), alert.id, "Stamps replaced at the shop")
    again = service.run_rules(db, rule=COPIED_STAMP, settings=settings)
    assert again.reopened == 0 and alert.state is AlertState.resolved
    scan(db, gtin, serial, HO_CHI_MINH)
    later = service.run_rules(db, rule=COPIED_STAMP, settings=settings)
    assert later.reopened == 1 and later.created == 0
    assert alert.state is AlertState.open and alert.resolved_at is None
    assert db.scalar(select(func.count()).select_from(Alert)) == 1


def test_run_rules_refuses_an_unknown_rule(db: Session, settings: Settings) -> None:
    from truyxuat.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        service.run_rules(db, rule="no_such_rule", settings=settings)
    assert set(service.rule_names()) == set(service.RULE_LABELS)


def test_a_reading_on_a_pallet_is_checked_against_the_products_packed_on_it(
    db: Session, settings: Settings
) -> None:
    from tests.trace.chain import _sscc

    packer = make_org(db)
    shrimp = make_product(db, packer, temperature_max=-18.0)
    pallet = f"{DL}/00/{_sscc(packer.gs1_company_prefix or '893000001', 7)}"
    reading = _reading(packer, shrimp.gtin, "X", -14.5)
    del reading["quantityList"]
    reading["epcList"] = [pallet]
    capture(
        db,
        packer,
        [
            event(
                "AggregationEvent",
                "2026-11-19T08:00:00+07:00",
                action="ADD",
                bizStep="packing",
                parentID=pallet,
                childEPCs=[],
                childQuantityList=[
                    {"epcClass": lot(shrimp.gtin, "P1"), "quantity": 550, "uom": "KGM"}
                ],
                readPoint=place(packer.gln or ""),
            ),
            reading,
        ],
    )
    found = run_twice(db, settings, TEMPERATURE_EXCURSION)
    assert [(a.params["identifier"], a.gtin) for a in found] == [(pallet, shrimp.gtin)]
    assert found[0].params["value"] == -14.5


def test_an_alert_inserted_by_a_concurrent_run_is_not_duplicated(
    db: Session, settings: Settings
) -> None:
    from truyxuat.oversight.models import AlertSeverity
    from truyxuat.oversight.rules import Finding

    finding = Finding(
        rule=COPIED_STAMP,
        dedup_key="08930000000011/S1:travel",
        severity=AlertSeverity.critical,
        org_id=None,
        province_code=None,
        title="Stamp {gtin} / {serial} was scanned {count} times: it may have been copied",
        params={"gtin": "08930000000011", "serial": "S1", "count": 3},
        evidence=[{"kind": "scan", "ref": "scan:1"}],
    )
    first = service._create(db, finding, utcnow())
    assert first is not None
    assert service._create(db, finding, utcnow()) is None
    assert db.scalar(select(func.count()).select_from(Alert)) == 1
