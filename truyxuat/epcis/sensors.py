"""Sensor readings of captured events (EPCIS 2.0 sensorElementList), one row per sensorReport,
so cold-chain excursions can be found with SQL ("temperature above 8 °C for lot Y").

The rows are written at capture next to the event (`reading_rows`) and read back with the
same visibility as events (`sensor_readings`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.epcis.epc_format import canonical_identifier
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc, EpcisSensorReading
from truyxuat.epcis.sharing import event_read_filter
from truyxuat.epcis.vocabulary import measurement_type_term

# Columns of epcis_sensor_reading in the order `reading_rows` yields them.
READING_COLUMNS = (
    "org_id",
    "event_row_id",
    "element_index",
    "report_index",
    "time",
    "type",
    "value",
    "min_value",
    "max_value",
    "mean_value",
    "uom",
    "string_value",
    "boolean_value",
    "component",
    "device_id",
    "raw_data",
)


def _number(value: Any) -> float | None:
    """A finite JSON number as a float; anything else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    """A string value, or None."""
    return value if isinstance(value, str) else None


def reading_rows(
    org_id: uuid.UUID,
    row_id: uuid.UUID,
    event: Mapping[str, Any],
    event_time: datetime,
    parse_time: Callable[[str], datetime],
) -> Iterator[tuple[Any, ...]]:
    """The epcis_sensor_reading rows of one event, values in READING_COLUMNS order."""
    elements = event.get("sensorElementList")
    if not isinstance(elements, list):
        return
    for i, element in enumerate(elements):
        if not isinstance(element, Mapping):
            continue
        metadata = element.get("sensorMetadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        element_time = metadata.get("time")
        reports = element.get("sensorReport")
        if not isinstance(reports, list):
            continue
        for j, report in enumerate(reports):
            if not isinstance(report, Mapping):
                continue
            when = report.get("time", element_time)
            kind = report.get("type")
            boolean = report.get("booleanValue")
            yield (
                org_id,
                row_id,
                i,
                j,
                parse_time(when) if isinstance(when, str) else event_time,
                measurement_type_term(kind) if isinstance(kind, str) else None,
                _number(report.get("value")),
                _number(report.get("minValue")),
                _number(report.get("maxValue")),
                _number(report.get("meanValue")),
                _text(report.get("uom")),
                _text(report.get("stringValue")),
                boolean if isinstance(boolean, bool) else None,
                _text(report.get("component")),
                _text(report.get("deviceID")) or _text(metadata.get("deviceID")),
                _text(report.get("rawData")) or _text(metadata.get("rawData")),
            )


@dataclass(frozen=True)
class Reading:
    """One sensor reading with the event it belongs to."""

    event_id: str
    event_time: datetime
    time: datetime
    type: str | None
    value: float | None
    min_value: float | None
    max_value: float | None
    mean_value: float | None
    uom: str | None
    device_id: str | None
    biz_location: str | None
    read_point: str | None


def sensor_readings(
    db: Session,
    principal: Principal,
    *,
    epc: str | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    above: float | None = None,
    below: float | None = None,
    limit: int = 10_000,
) -> list[Reading]:
    """The readings the caller may see, oldest first, optionally only those of events naming
    `epc` (an instance or a class such as a lot, EPC URN or Digital Link, in any event list),
    of one measurement type (any of its forms: "Temperature", "gs1:Temperature", ...) and
    from `since` (inclusive) to `until` (exclusive).

    `above` / `below` keep the excursions: readings whose value (or, for a summary report,
    whose maximum / minimum) is strictly above / below the bound.
    """
    statement = (
        select(
            EpcisSensorReading,
            EpcisEvent.event_id,
            EpcisEvent.event_time,
            EpcisEvent.biz_location,
            EpcisEvent.read_point,
        )
        .join(
            EpcisEvent,
            (EpcisEvent.org_id == EpcisSensorReading.org_id)
            & (EpcisEvent.id == EpcisSensorReading.event_row_id),
        )
        .where(event_read_filter(db, principal))
    )
    if epc is not None:
        naming = select(EpcisEventEpc.event_row_id).where(
            EpcisEventEpc.org_id == EpcisEvent.org_id,
            EpcisEventEpc.epc == canonical_identifier(epc),
        )
        statement = statement.where(EpcisEvent.id.in_(naming))
    if type is not None:
        statement = statement.where(EpcisSensorReading.type == measurement_type_term(type))
    if since is not None:
        statement = statement.where(EpcisSensorReading.time >= since)
    if until is not None:
        statement = statement.where(EpcisSensorReading.time < until)
    if above is not None:
        statement = statement.where(
            or_(EpcisSensorReading.value > above, EpcisSensorReading.max_value > above)
        )
    if below is not None:
        statement = statement.where(
            or_(EpcisSensorReading.value < below, EpcisSensorReading.min_value < below)
        )
    statement = statement.order_by(
        EpcisSensorReading.time,
        EpcisSensorReading.event_row_id,
        EpcisSensorReading.element_index,
        EpcisSensorReading.report_index,
    ).limit(limit)
    out: list[Reading] = []
    for reading, event_id, event_time, biz_location, read_point in db.execute(statement):
        out.append(
            Reading(
                event_id=event_id,
                event_time=event_time,
                time=reading.time,
                type=reading.type,
                value=reading.value,
                min_value=reading.min_value,
                max_value=reading.max_value,
                mean_value=reading.mean_value,
                uom=reading.uom,
                device_id=reading.device_id,
                biz_location=biz_location,
                read_point=read_point,
            )
        )
    return out
