"""Sensor readings stored at capture (one row per sensorReport) and found again by lot,
measurement type and time, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.epcis.test_capture import JSON_DIR, SCHEMA_PATH, make_event
from tests.epcis.test_query import _capture
from tests.factories import api_headers, make_org
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.epcis.models import EpcisSensorReading
from truyxuat.epcis.sensors import sensor_readings
from truyxuat.epcis.validation import SCHEMA_ENV

LOT = "urn:epc:class:lgtin:0614141.107346.VAI2026"


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def _cold_chain(n: int, *temperatures: float, lot: str = LOT) -> dict[str, object]:
    """A sensor_reporting event on a lot with one temperature report per value."""
    event = make_event(
        n,
        bizStep="sensor_reporting",
        sensorElementList=[
            {
                "sensorMetadata": {"time": f"2026-11-20T0{n}:00:00+07:00", "deviceID": "urn:x:1"},
                "sensorReport": [
                    {"type": "gs1:Temperature", "value": value, "uom": "CEL"}
                    for value in temperatures
                ]
                + [{"type": "RelativeHumidity", "value": 80, "uom": "P1"}],
            }
        ],
    )
    del event["epcList"]
    event["quantityList"] = [{"epcClass": lot, "quantity": 100, "uom": "KGM"}]
    return event


def test_readings_are_found_by_lot_type_and_time(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    other_lot = "urn:epc:class:lgtin:0614141.107346.OTHER"
    _capture(
        client,
        headers,
        _cold_chain(1, 4.0, 9.5),
        _cold_chain(2, 12.25),
        _cold_chain(3, 20.0, lot=other_lot),
    )
    principal = Principal(label="t", grants=(Grant(org.id, Role.org_staff, "24"),))
    temperatures = sensor_readings(db, principal, epc=LOT, type="Temperature")
    assert [r.value for r in temperatures] == [4.0, 9.5, 12.25]
    assert {r.uom for r in temperatures} == {"CEL"}
    assert temperatures[0].device_id == "urn:x:1"
    assert temperatures[0].time == datetime(2026, 11, 19, 18, 0, tzinfo=UTC)
    # The lot may be named by its Digital Link too; excursions are a filter on the values.
    link = "https://id.gs1.org/01/10614141073464/10/VAI2026"
    above = [r for r in sensor_readings(db, principal, epc=link, type="gs1:Temperature")]
    assert [r.value for r in above if r.value is not None and r.value > 8] == [9.5, 12.25]
    excursions = sensor_readings(db, principal, epc=LOT, type="Temperature", above=8)
    assert [r.value for r in excursions] == [9.5, 12.25]
    assert [r.value for r in sensor_readings(db, principal, type="Temperature", below=5)] == [4.0]
    since = datetime(2026, 11, 19, 19, 0, tzinfo=UTC)
    assert [r.value for r in sensor_readings(db, principal, type="Temperature", since=since)] == [
        12.25,
        20.0,
    ]
    assert len(sensor_readings(db, principal, type="RelativeHumidity")) == 3
    assert len(sensor_readings(db, principal)) == 7
    stranger = Principal(label="s", grants=(Grant(make_org(db).id, Role.org_staff, "24"),))
    assert sensor_readings(db, stranger) == []


def test_every_gs1_sensor_example_is_flattened(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    for path in sorted((JSON_DIR / "WithSensorData").glob("*.jsonld")):
        response = client.post(
            "/epcis/capture",
            content=path.read_bytes(),
            headers={**headers, "Content-Type": "application/ld+json"},
        )
        assert response.status_code == 202, (path.name, response.text)
    count = db.scalar(
        select(func.count())
        .select_from(EpcisSensorReading)
        .where(EpcisSensorReading.org_id == org.id)
    )
    assert count and count > 50
    types = set(
        db.scalars(
            select(EpcisSensorReading.type).where(EpcisSensorReading.org_id == org.id).distinct()
        )
    )
    assert "Temperature" in types
    assert not any(t and t.startswith("gs1:") for t in types)
