"""Every diary activity builds one EPCIS 2.0 event that the validator accepts and that hashes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import SHARED_DATA
from truyxuat.diary.activities import (
    CULTIVATION_STEPS,
    Activity,
    Photo,
    build_event,
    growing_area_place,
    harvest_date,
    summary,
)
from truyxuat.epcis.hashing import event_hash
from truyxuat.epcis.validation import EpcisValidator, load_schema
from truyxuat.errors import ValidationFailed
from truyxuat.gs1 import make_gln, make_gtin13

SCHEMA = SHARED_DATA / "epcis"
SCHEMA_PATH = SCHEMA / "EPCIS-JSON-Schema-2.0.1.json"
GLN = make_gln("893000001", 1)
PARTNER = make_gln("893000002", 1)
GTIN = make_gtin13("893000001", 2)
NOW = datetime(2026, 7, 22, 2, 0, tzinfo=UTC)
PLACE = growing_area_place("VN-BN-LN-0001", GLN)
LOT = {"gtin": GTIN, "lot": "L20260722", "quantity": "1200", "uom": "KGM"}
VALUES: dict[Activity, dict[str, str]] = {
    Activity.sowing: {"crop": "Vải thiều", "quantity": "200", "uom": "H87"},
    Activity.fertilizing: {"product_name": "NPK 16-16-8", "dose": "50", "dose_uom": "KGM"},
    Activity.spraying: {
        "product_name": "Regent 800WG",
        "active_ingredient": "Fipronil",
        "dose": "1,5",
        "dose_uom": "LTR",
        "phi_days": "7",
    },
    Activity.irrigation: {"quantity": "30", "uom": "MTQ"},
    Activity.harvest: LOT,
    Activity.packing: {**LOT, "output_lot": "P20260722"},
    Activity.shipping: {**LOT, "partner_gln": PARTNER},
    Activity.receiving: {**LOT, "partner_gln": PARTNER},
}


@pytest.fixture(scope="module")
def validator() -> EpcisValidator:
    """The validator of the ratified GS1 schema."""
    return EpcisValidator(load_schema(SCHEMA_PATH))


@pytest.mark.parametrize("activity", list(Activity))
def test_every_activity_builds_a_valid_event_that_hashes(
    activity: Activity, validator: EpcisValidator
) -> None:
    values = {
        **VALUES[activity],
        "latitude": "21.38",
        "longitude": "106.55",
        "note": "Trời nắng",
    }
    photo = Photo("6b9a54c4-1c5a-4a4b-9d0f-2a7f4b2b9d10", "ab" * 32, "image/jpeg")
    event = build_event(activity, values, place=PLACE, now=NOW, photo=photo)
    assert validator.event_errors(event, 0) == []
    assert event_hash(event).startswith("ni:///sha-256;")
    assert event["eventTime"] == "2026-07-22T09:00:00+07:00"
    assert event["eventTimeZoneOffset"] == "+07:00"
    assert event["readPoint"] == {"id": f"https://id.gs1.org/414/{GLN}/254/VN-BN-LN-0001"}
    assert event["@context"][1] == {"tx": "https://truyxuat.example/ns/"}
    assert event["tx:activity"] == activity.value
    assert event["tx:latitude"] == 21.38 and event["tx:photo"].startswith("urn:uuid:")


def test_spraying_is_an_observation_with_product_dose_and_interval() -> None:
    event = build_event(Activity.spraying, VALUES[Activity.spraying], place=PLACE, now=NOW)
    assert event["type"] == "ObjectEvent" and event["action"] == "OBSERVE"
    assert event["bizStep"] == CULTIVATION_STEPS[Activity.spraying]
    assert event["tx:productName"] == "Regent 800WG"
    assert event["tx:activeIngredient"] == "Fipronil"
    assert (event["tx:dose"], event["tx:doseUom"]) == (1.5, "LTR")
    assert event["tx:preHarvestIntervalDays"] == 7
    assert event["tx:safeToHarvestFrom"] == "2026-07-29"


def test_harvest_commissions_a_lot_with_quantity_and_ilmd() -> None:
    event = build_event(Activity.harvest, LOT, place=PLACE, now=NOW)
    assert (event["type"], event["action"]) == ("ObjectEvent", "ADD")
    assert (event["bizStep"], event["disposition"]) == ("commissioning", "active")
    assert event["quantityList"] == [
        {
            "epcClass": f"https://id.gs1.org/01/0{GTIN}/10/L20260722",
            "quantity": 1200,
            "uom": "KGM",
        }
    ]
    assert event["ilmd"]["cbvmda:lotNumber"] == "L20260722"
    assert event["ilmd"]["tx:growingAreaCode"] == "VN-BN-LN-0001"
    assert harvest_date(event) == NOW.date()
    assert summary(event)["lot"] == "L20260722"


def test_packing_shipping_and_receiving_use_the_cbv_steps() -> None:
    packing = build_event(Activity.packing, VALUES[Activity.packing], place=PLACE, now=NOW)
    assert packing["type"] == "TransformationEvent" and packing["bizStep"] == "packing"
    assert packing["outputQuantityList"][0]["epcClass"].endswith("/10/P20260722")
    shipping = build_event(Activity.shipping, VALUES[Activity.shipping], place=PLACE, now=NOW)
    assert (shipping["bizStep"], shipping["disposition"]) == ("shipping", "in_transit")
    assert shipping["destinationList"] == [
        {"type": "location", "destination": f"https://id.gs1.org/414/{PARTNER}"}
    ]
    receiving = build_event(Activity.receiving, VALUES[Activity.receiving], place=PLACE, now=NOW)
    assert (receiving["bizStep"], receiving["disposition"]) == ("receiving", "in_progress")


@pytest.mark.parametrize(
    ("activity", "values", "field"),
    [
        (Activity.spraying, {"product_name": "Regent", "dose_uom": "LTR"}, "dose"),
        (Activity.harvest, {**LOT, "quantity": "-5"}, "quantity"),
        (Activity.harvest, {**LOT, "gtin": "8930000010026"}, "gtin"),
        (Activity.shipping, {**LOT}, "partner_gln"),
        (Activity.irrigation, {"quantity": "3", "uom": "XYZ"}, "uom"),
        (Activity.sowing, {"latitude": "21.3"}, "longitude"),
        (Activity.sowing, {"event_time": "2030-01-01T00:00"}, "event_time"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    activity: Activity, values: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_event(activity, values, place=PLACE, now=NOW)
    assert field in {str(error.loc[0]) for error in caught.value.errors}


def test_a_growing_area_without_gln_gets_our_own_place_uri() -> None:
    place = growing_area_place("VN GA/1", None)
    assert place.uri == "https://truyxuat.example/growing-area/VN%20GA%2F1"
