"""Cold-chain excursions: a temperature reading of an event (EPCIS 2.0 sensorReport, flattened
into `epcis_sensor_reading`) beyond the storage range of the product the event names
(`Product.temperature_min` / `temperature_max`, °C)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, or_, select, tuple_
from sqlalchemy.orm import aliased

from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc, EpcisSensorReading, EpcRole
from truyxuat.errors import N_
from truyxuat.oversight.models import AlertSeverity
from truyxuat.oversight.rules import Finding, RuleContext, at, event_evidence
from truyxuat.registry.models import Product
from truyxuat.trace.graph import canonical, gtin_lot, gtin_serial

TEMPERATURE_EXCURSION = "temperature_excursion"
TEMPERATURE_TYPES = ("Temperature", "gs1:Temperature", "https://gs1.org/voc/Temperature")
_CHUNK = 500


def celsius(value: float | None, uom: str | None) -> float | None:
    """A temperature in °C from CEL (or no unit), FAH or KEL; None for another unit."""
    if value is None:
        return None
    unit = (uom or "CEL").upper()
    if unit == "CEL":
        return value
    if unit == "FAH":
        return (value - 32) * 5 / 9
    if unit == "KEL":
        return value - 273.15
    return None


@dataclass(frozen=True)
class _Range:
    """A product's storage range."""

    product_id: uuid.UUID
    low: float | None
    high: float | None

    def outside(self, low: float | None, high: float | None) -> float | None:
        """The reading's worst value outside the range, or None when it stays inside."""
        if self.high is not None and high is not None and high > self.high:
            return high
        if self.low is not None and low is not None and low < self.low:
            return low
        return None


@dataclass
class _Excursion:
    """The readings of one lot beyond its range, and the worst value seen."""

    gtin: str
    worst: float
    evidence: list[dict[str, Any]] = field(default_factory=list)


def _gtin(identifier: str) -> str | None:
    """The GTIN a lot, item or class identifier names."""
    value = canonical(identifier)
    return gtin_lot(value)[0] or gtin_serial(value)[0]


def temperature_excursions(ctx: RuleContext) -> Iterator[Finding]:
    """Lots whose events carry a temperature beyond their product's storage range."""
    ranges = {
        gtin: _Range(pid, low, high)
        for gtin, pid, low, high in ctx.db.execute(
            select(
                Product.gtin, Product.id, Product.temperature_min, Product.temperature_max
            ).where(or_(Product.temperature_min.is_not(None), Product.temperature_max.is_not(None)))
        )
    }
    if not ranges:
        return
    has_temperature = exists().where(
        EpcisSensorReading.org_id == EpcisEventEpc.org_id,
        EpcisSensorReading.event_row_id == EpcisEventEpc.event_row_id,
        EpcisSensorReading.type.in_(TEMPERATURE_TYPES),
    )
    named: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[str, str]]] = {}
    pallets: dict[str, list[tuple[uuid.UUID, uuid.UUID]]] = {}
    for org_id, row_id, epc in ctx.db.execute(
        select(EpcisEventEpc.org_id, EpcisEventEpc.event_row_id, EpcisEventEpc.epc)
        .where(has_temperature)
        .distinct()
    ):
        identifier = canonical(epc)
        gtin = _gtin(identifier)
        if gtin in ranges:
            named.setdefault((org_id, row_id), []).append((identifier, gtin))
        elif gtin is None and "/00/" in identifier:
            pallets.setdefault(identifier, []).append((org_id, row_id))
    # A reading on a pallet (SSCC) concerns the products packed on it (AggregationEvent).
    for pallet, gtin in _pallet_contents(ctx, sorted(pallets)):
        if gtin in ranges:
            for key in pallets[pallet]:
                if (pallet, gtin) not in named.setdefault(key, []):
                    named[key].append((pallet, gtin))
    if not named:
        return
    found: dict[tuple[uuid.UUID, str, str], _Excursion] = {}
    keys = sorted(named)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = ctx.db.execute(
            select(EpcisSensorReading, EpcisEvent.event_id, EpcisEvent.event_time)
            .join(
                EpcisEvent,
                (EpcisEvent.org_id == EpcisSensorReading.org_id)
                & (EpcisEvent.id == EpcisSensorReading.event_row_id),
            )
            .where(
                tuple_(EpcisSensorReading.org_id, EpcisSensorReading.event_row_id).in_(chunk),
                EpcisSensorReading.type.in_(TEMPERATURE_TYPES),
                EpcisEvent.error_declared.is_(False),
            )
            .order_by(EpcisSensorReading.time.desc())
        )
        for reading, event_id, event_time in rows:
            values = [
                celsius(v, reading.uom)
                for v in (reading.value, reading.min_value, reading.max_value, reading.mean_value)
            ]
            present = [v for v in values if v is not None]
            if not present:
                continue
            low, high = min(present), max(present)
            for identifier, gtin in named[(reading.org_id, reading.event_row_id)]:
                worst = ranges[gtin].outside(low, high)
                if worst is None:
                    continue
                entry = found.setdefault(
                    (reading.org_id, identifier, gtin), _Excursion(gtin, worst)
                )
                middle = _mid(ranges[gtin])
                if abs(worst - middle) > abs(entry.worst - middle):
                    entry.worst = worst
                entry.evidence.append(
                    event_evidence(
                        reading.org_id,
                        event_id,
                        event_time,
                        identifier,
                        kind="reading",
                        ref=(
                            f"reading:{reading.org_id}:{reading.event_row_id}:"
                            f"{reading.element_index}:{reading.report_index}"
                        ),
                        reading_at=at(reading.time),
                        value=round(worst, 2),
                        device=reading.device_id,
                    )
                )
    for (org_id, identifier, gtin), entry in sorted(
        found.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])
    ):
        gtin = entry.gtin
        rng = ranges[gtin]
        yield Finding(
            rule=TEMPERATURE_EXCURSION,
            dedup_key=(
                f"{org_id}:{identifier}" if _gtin(identifier) else f"{org_id}:{identifier}:{gtin}"
            ),
            severity=AlertSeverity.critical,
            org_id=org_id,
            province_code=ctx.province_of(org_id),
            title=N_(
                "{identifier} reached {value} °C, outside its storage range ({low} to {high} °C)"
            ),
            params={
                "identifier": identifier,
                "value": round(entry.worst, 1),
                "low": "—" if rng.low is None else rng.low,
                "high": "—" if rng.high is None else rng.high,
            },
            evidence=entry.evidence,
            evidence_url=f"/registry/products/{rng.product_id}",
            gtin=gtin,
        )


def _pallet_contents(ctx: RuleContext, pallets: list[str]) -> Iterator[tuple[str, str]]:
    """(pallet, GTIN) of what aggregation events packed on these pallets."""
    parent = aliased(EpcisEventEpc)
    child = aliased(EpcisEventEpc)
    for start in range(0, len(pallets), _CHUNK):
        chunk = pallets[start : start + _CHUNK]
        for pallet, epc in ctx.db.execute(
            select(parent.epc, child.epc)
            .join(
                child,
                (child.org_id == parent.org_id) & (child.event_row_id == parent.event_row_id),
            )
            .where(
                parent.role == EpcRole.parent.value,
                parent.epc.in_(chunk),
                child.role.in_([EpcRole.child.value, EpcRole.child_quantity.value]),
            )
            .distinct()
        ):
            gtin = _gtin(epc)
            if gtin:
                yield pallet, gtin


def _mid(rng: _Range) -> float:
    """The middle of a range (or its one bound), to tell which excursion is the worst."""
    bounds = [b for b in (rng.low, rng.high) if b is not None]
    return sum(bounds) / len(bounds)
