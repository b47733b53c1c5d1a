"""Harvest before the pre-harvest interval: a harvest recorded at a growing area before the
safe date (`tx:safeToHarvestFrom`, from the interval the diary's spraying entry gives) of the
last spraying there.

The same place is the same growing area: its code (`tx:growingAreaCode`, event or ILMD) or the
readPoint/bizLocation the diary writes (`growing_area_place`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select

from truyxuat.diary.activities import CULTIVATION_STEPS, NAMESPACE, Activity
from truyxuat.epcis.models import EpcisEvent, EpcisEventField
from truyxuat.epcis.query import normalize_term
from truyxuat.epcis.vocabulary import BIZ_STEP
from truyxuat.errors import N_
from truyxuat.oversight.models import AlertSeverity
from truyxuat.oversight.rules import Finding, RuleContext, event_evidence
from truyxuat.oversight.rules.codes import AREA_FIELD
from truyxuat.registry.models import GrowingArea

EARLY_HARVEST = "early_harvest"
SAFE_FIELD = f"{NAMESPACE.rstrip('/#')}#safeToHarvestFrom"
SPRAYING = CULTIVATION_STEPS[Activity.spraying]
COMMISSIONING = normalize_term("commissioning", BIZ_STEP)


def local_date(moment: datetime, offset: str) -> date:
    """The calendar day of an event where it happened (its eventTimeZoneOffset)."""
    try:
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = offset.lstrip("+-").split(":")
        shift = timedelta(hours=int(hours), minutes=int(minutes)) * sign
    except ValueError:
        shift = timedelta(0)
    return (moment + shift).date()


def _area_code(event: Mapping[str, Any]) -> str | None:
    """The growing-area code an event gives, in the event or its ILMD."""
    code = event.get("tx:growingAreaCode")
    ilmd = event.get("ilmd")
    if not isinstance(code, str) and isinstance(ilmd, Mapping):
        code = ilmd.get("tx:growingAreaCode")
    return code if isinstance(code, str) and code else None


def _sites(event: EpcisEvent) -> set[str]:
    """The keys under which an event's place is known: its area code and its places."""
    sites = {f"place:{p}" for p in (event.biz_location, event.read_point) if p}
    code = _area_code(event.event)
    if code:
        sites.add(f"code:{code}")
    return sites


def _safe_date(event: EpcisEvent) -> date | None:
    """The spraying's safe-to-harvest date."""
    value = event.event.get("tx:safeToHarvestFrom")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def early_harvests(ctx: RuleContext) -> Iterator[Finding]:
    """Harvests recorded before the safe date of the last spraying at the same growing area."""
    sprayings = [
        e
        for e in ctx.db.scalars(
            select(EpcisEvent).where(
                EpcisEvent.biz_step == SPRAYING,
                EpcisEvent.error_declared.is_(False),
                exists().where(
                    EpcisEventField.org_id == EpcisEvent.org_id,
                    EpcisEventField.event_row_id == EpcisEvent.id,
                    EpcisEventField.name == SAFE_FIELD,
                ),
            )
        )
        if _safe_date(e) is not None
    ]
    if not sprayings:
        return
    by_site: dict[str, list[EpcisEvent]] = {}
    for spraying in sprayings:
        for site in _sites(spraying):
            by_site.setdefault(site, []).append(spraying)
    places = sorted(s[6:] for s in by_site if s.startswith("place:"))
    codes = sorted(s[5:] for s in by_site if s.startswith("code:"))
    first = min(s.event_time for s in sprayings)
    at_site: list[ColumnElement[bool]] = [
        EpcisEvent.biz_location.in_(places),
        EpcisEvent.read_point.in_(places),
    ]
    if codes:
        at_site.append(
            exists().where(
                EpcisEventField.org_id == EpcisEvent.org_id,
                EpcisEventField.event_row_id == EpcisEvent.id,
                EpcisEventField.name == AREA_FIELD,
                EpcisEventField.value.in_(codes),
            )
        )
    harvests = ctx.db.scalars(
        select(EpcisEvent)
        .where(
            and_(
                EpcisEvent.biz_step == COMMISSIONING,
                EpcisEvent.action == "ADD",
                EpcisEvent.event_type == "ObjectEvent",
                EpcisEvent.error_declared.is_(False),
                EpcisEvent.event_time >= first,
                or_(*at_site),
            )
        )
        .order_by(EpcisEvent.event_time)
    )
    areas: dict[str, tuple[uuid.UUID, str]] = {
        code: (area_id, province)
        for code, area_id, province in ctx.db.execute(
            select(GrowingArea.code, GrowingArea.id, GrowingArea.province_code).where(
                GrowingArea.code.in_(codes)
            )
        )
    }
    for harvest in harvests:
        before = [
            s
            for site in _sites(harvest)
            for s in by_site.get(site, [])
            if s.event_time <= harvest.event_time
        ]
        if not before:
            continue
        last = max(before, key=lambda s: (s.event_time, s.record_time))
        safe = _safe_date(last)
        harvested_on = local_date(harvest.event_time, harvest.event_time_zone_offset)
        if safe is None or harvested_on >= safe:
            continue
        yield _finding(ctx, harvest, last, safe, harvested_on, areas)


def _finding(
    ctx: RuleContext,
    harvest: EpcisEvent,
    spraying: EpcisEvent,
    safe: date,
    harvested_on: date,
    areas: dict[str, tuple[uuid.UUID, str]],
) -> Finding:
    """The alert of one early harvest, with the harvest and the spraying as evidence."""
    lots = [
        q.get("epcClass")
        for q in harvest.event.get("quantityList") or []
        if isinstance(q, Mapping) and isinstance(q.get("epcClass"), str)
    ] + [e for e in harvest.event.get("epcList") or [] if isinstance(e, str)]
    lot = lots[0] if lots else None
    code = _area_code(harvest.event) or _area_code(spraying.event)
    area = areas.get(code) if code else None
    evidence = [
        event_evidence(harvest.org_id, harvest.event_id, harvest.event_time, lot, role="harvest"),
        event_evidence(
            spraying.org_id,
            spraying.event_id,
            spraying.event_time,
            None,
            role="spraying",
            product=spraying.event.get("tx:productName"),
            safe_from=safe.isoformat(),
        ),
    ]
    if area is not None:
        evidence.append(
            {
                "kind": "growing_area",
                "ref": f"growing_area:{area[0]}",
                "label": code,
                "url": f"/registry/growing-areas/{area[0]}",
            }
        )
    return Finding(
        rule=EARLY_HARVEST,
        dedup_key=f"harvest:{harvest.org_id}:{harvest.event_id}",
        severity=AlertSeverity.critical,
        org_id=harvest.org_id,
        province_code=area[1] if area else ctx.province_of(harvest.org_id),
        title=N_("Harvested on {harvested} at {place}, before the spraying's safe date {safe}"),
        params={
            "harvested": harvested_on.isoformat(),
            "safe": safe.isoformat(),
            "place": code or harvest.biz_location or harvest.read_point or "",
            "days": (safe - harvested_on).days,
        },
        evidence=evidence,
        evidence_url=evidence[0]["url"],
        gtin=_gtin(lot),
    )


def _gtin(identifier: str | None) -> str | None:
    """The GTIN of a lot identifier."""
    from truyxuat.trace.graph import gtin_lot

    return gtin_lot(identifier)[0] if identifier else None
