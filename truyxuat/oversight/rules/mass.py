"""Mass balance: an organization shipping more of a lot than it harvested, produced,
received or unpacked from a pallet; and shipments that no receiving event answers after a
grace period.

The receipt test is the trace graph's (`trace.graph._shipment_flags`: a later receiving event
naming what was shipped), done in SQL over every organization's events.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc
from truyxuat.epcis.query import normalize_term
from truyxuat.epcis.vocabulary import BIZ_STEP
from truyxuat.errors import N_
from truyxuat.oversight.models import AlertSeverity
from truyxuat.oversight.rules import Finding, RuleContext, event_evidence
from truyxuat.trace.graph import canonical, gtin_lot, short_step

MASS_IMBALANCE = "mass_imbalance"
SHIPMENT_NOT_RECEIVED = "shipment_not_received"
# A shipment is "never received" once this long has passed with no receipt.
RECEIPT_GRACE = timedelta(days=7)
# Older shipments are history: the rule does not dig them up.
SHIPMENT_LOOKBACK = timedelta(days=365)
# Weighing differs a little between farm and buyer: 2 % more shipped is not yet an alert.
TOLERANCE = 0.02
SHIPPING = normalize_term("shipping", BIZ_STEP)
RECEIPTS = [normalize_term(step, BIZ_STEP) for step in ("receiving", "accepting", "arriving")]
INFLOW_STEPS = [normalize_term("commissioning", BIZ_STEP), *RECEIPTS]
# Units converted to one base per dimension (UN/CEFACT Rec. 20).
_UNITS: dict[str, tuple[str, float]] = {
    "KGM": ("kg", 1.0),
    "TNE": ("kg", 1000.0),
    "GRM": ("kg", 0.001),
    "LTR": ("l", 1.0),
    "MLT": ("l", 0.001),
    "MTQ": ("l", 1000.0),
}


def _amount(quantity: Mapping[str, Any]) -> tuple[str, str, float] | None:
    """(identifier, unit, amount in the unit's base) of a quantity element."""
    identifier, value = quantity.get("epcClass"), quantity.get("quantity")
    if not isinstance(identifier, str) or not isinstance(value, int | float):
        return None
    uom = quantity.get("uom")
    unit, factor = _UNITS.get(uom, (uom, 1.0)) if isinstance(uom, str) else ("pieces", 1.0)
    return canonical(identifier), unit, float(value) * factor


def _quantities(event: Mapping[str, Any], *names: str) -> Iterator[tuple[str, str, float]]:
    """The quantity elements of some lists of an event."""
    for name in names:
        for quantity in event.get(name) or []:
            if isinstance(quantity, Mapping):
                amount = _amount(quantity)
                if amount is not None:
                    yield amount


@dataclass
class _Balance:
    """What one organization took in and shipped of one lot, in one unit."""

    inflow: float = 0.0
    shipped: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)


def mass_imbalances(ctx: RuleContext) -> Iterator[Finding]:
    """Lots an organization shipped more of than it harvested, produced or received."""
    rows = ctx.db.scalars(
        select(EpcisEvent).where(
            EpcisEvent.error_declared.is_(False),
            or_(
                EpcisEvent.biz_step.in_([SHIPPING, *INFLOW_STEPS]),
                EpcisEvent.event_type == "TransformationEvent",
                (EpcisEvent.event_type == "AggregationEvent") & (EpcisEvent.action == "DELETE"),
            ),
        )
    )
    balances: dict[tuple[uuid.UUID, str, str], _Balance] = {}
    for event in rows:
        step = short_step(event.biz_step)
        body = event.event
        if event.event_type == "TransformationEvent":
            flows = [(a, False) for a in _quantities(body, "outputQuantityList")]
        elif event.event_type == "AggregationEvent":
            # Unpacking a pallet received whole makes its lots loose at this organization.
            flows = [(a, False) for a in _quantities(body, "childQuantityList")]
        elif step == "shipping":
            flows = [(a, True) for a in _quantities(body, "quantityList")]
        elif step == "commissioning" and event.action != "ADD":
            continue
        else:
            flows = [(a, False) for a in _quantities(body, "quantityList")]
        for (identifier, unit, amount), shipped in flows:
            balance = balances.setdefault((event.org_id, identifier, unit), _Balance())
            if shipped:
                balance.shipped += amount
            else:
                balance.inflow += amount
            balance.events.append(
                event_evidence(
                    event.org_id,
                    event.event_id,
                    event.event_time,
                    identifier,
                    step=step or event.event_type,
                    amount=round(amount, 3),
                    unit=unit,
                )
            )
    for (org_id, identifier, unit), balance in sorted(
        balances.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])
    ):
        if balance.shipped <= balance.inflow * (1 + TOLERANCE):
            continue
        yield Finding(
            rule=MASS_IMBALANCE,
            dedup_key=f"{org_id}:{identifier}:{unit}",
            severity=AlertSeverity.warning,
            org_id=org_id,
            province_code=ctx.province_of(org_id),
            title=N_(
                "{identifier}: {shipped} {unit} shipped, but only {inflow} {unit} "
                "harvested, produced or received"
            ),
            params={
                "identifier": identifier,
                "shipped": round(balance.shipped, 3),
                "inflow": round(balance.inflow, 3),
                "unit": unit,
            },
            evidence=sorted(balance.events, key=lambda e: str(e["at"]), reverse=True),
            evidence_url=f"/trace?epc={identifier}",
            gtin=gtin_lot(identifier)[0],
        )


def shipments_not_received(ctx: RuleContext) -> Iterator[Finding]:
    """Shipments older than the grace period that no later receiving event answers."""
    shipped = aliased(EpcisEventEpc)
    received = aliased(EpcisEventEpc)
    receipt = aliased(EpcisEvent)
    answered = exists().where(
        shipped.org_id == EpcisEvent.org_id,
        shipped.event_row_id == EpcisEvent.id,
        received.epc == shipped.epc,
        receipt.org_id == received.org_id,
        receipt.id == received.event_row_id,
        receipt.biz_step.in_(RECEIPTS),
        receipt.error_declared.is_(False),
        receipt.event_time >= EpcisEvent.event_time,
    )
    rows = ctx.db.scalars(
        select(EpcisEvent)
        .where(
            EpcisEvent.biz_step == SHIPPING,
            EpcisEvent.error_declared.is_(False),
            EpcisEvent.event_time < ctx.now - RECEIPT_GRACE,
            EpcisEvent.event_time >= ctx.now - SHIPMENT_LOOKBACK,
            ~answered,
        )
        .order_by(EpcisEvent.event_time)
    )
    for event in rows:
        identifiers = sorted(
            ctx.db.scalars(
                select(EpcisEventEpc.epc).where(
                    EpcisEventEpc.org_id == event.org_id, EpcisEventEpc.event_row_id == event.id
                )
            )
        )
        if not identifiers:
            continue
        destinations: list[str] = [
            d["destination"]
            for d in event.event.get("destinationList") or []
            if isinstance(d, Mapping) and isinstance(d.get("destination"), str)
        ]
        days = (ctx.now - event.event_time).days
        first = canonical(identifiers[0])
        yield Finding(
            rule=SHIPMENT_NOT_RECEIVED,
            dedup_key=f"{event.org_id}:{event.event_id}",
            severity=AlertSeverity.warning,
            org_id=event.org_id,
            province_code=ctx.province_of(event.org_id),
            title=N_("Shipment of {identifier} sent {days} days ago was never received"),
            params={
                "identifier": first,
                "days": days,
                "destination": ", ".join(sorted(set(destinations))),
                "items": len(identifiers),
            },
            evidence=[
                event_evidence(
                    event.org_id,
                    event.event_id,
                    event.event_time,
                    first,
                    step="shipping",
                    destination=", ".join(sorted(set(destinations))),
                )
            ],
            evidence_url=f"/trace?epc={first}&direction=forward",
            gtin=gtin_lot(first)[0],
        )
