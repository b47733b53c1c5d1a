"""Codes still used after they stopped being valid: a certificate expired, suspended or
revoked, a growing-area or packing-house code suspended or revoked, named by events recorded
afterwards.

An event names a certificate in its certificationInfo (EPCIS 2.0), a growing area by
`tx:growingAreaCode` (event or ILMD) or by its place (`growing_area_place`: the owner's GLN
extended with the code), a packing house by `tx:packingHouseCode` or by its facility's GLN.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, exists, or_, select
from sqlalchemy.orm import Session

from truyxuat.diary.activities import NAMESPACE, gln_uri, growing_area_place
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventField
from truyxuat.errors import N_
from truyxuat.oversight.models import AlertSeverity
from truyxuat.oversight.rules import Finding, RuleContext, at, event_evidence
from truyxuat.registry.models import (
    Certification,
    CodeStatus,
    Facility,
    GrowingArea,
    Organization,
    PackingHouse,
)

INVALID_CODE_USED = "invalid_code_used"
_NS = NAMESPACE.rstrip("/#")
AREA_FIELD = f"{_NS}#growingAreaCode"
HOUSE_FIELD = f"{_NS}#packingHouseCode"
# Events read per code; the count of the rest still shows on the alert.
_EVENT_LIMIT = 200
_CERTIFICATE_TITLES = {
    "revoked": N_("Certificate {number} is revoked but events recorded since still name it"),
    "suspended": N_("Certificate {number} is suspended but events recorded since still name it"),
    "expired": N_("Certificate {number} has expired but events recorded since still name it"),
}


def _lapse(cert: Certification) -> tuple[str, datetime]:
    """Why and since when a certificate no longer holds (revoked, suspended, expired)."""
    if cert.revoked_at is not None:
        return "revoked", cert.revoked_at
    if cert.suspended_at is not None:
        return "suspended", cert.suspended_at
    # Valid through its last day (in Vietnam, UTC+7).
    end = datetime.combine(cert.valid_to + timedelta(days=1), time(0), UTC) - timedelta(hours=7)
    return "expired", end


def _first_epc(db: Session, org_id: uuid.UUID, row_id: uuid.UUID) -> str | None:
    """One identifier an event names, to link its trace."""
    return db.scalar(
        select(EpcisEventEpc.epc)
        .where(EpcisEventEpc.org_id == org_id, EpcisEventEpc.event_row_id == row_id)
        .order_by(EpcisEventEpc.epc)
        .limit(1)
    )


def _strings(value: Any) -> Iterator[str]:
    """Every text leaf of a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _finding(
    ctx: RuleContext,
    *,
    key: str,
    org_id: uuid.UUID,
    province: str | None,
    title: str,
    params: dict[str, Any],
    subject: dict[str, Any],
    events: list[EpcisEvent],
) -> Finding:
    """The alert of one lapsed code and the events that still name it."""
    evidence = [subject] + [
        event_evidence(
            e.org_id,
            e.event_id,
            e.event_time,
            _first_epc(ctx.db, e.org_id, e.id),
            recorded=at(e.record_time),
        )
        for e in events
    ]
    return Finding(
        rule=INVALID_CODE_USED,
        dedup_key=key,
        severity=AlertSeverity.critical,
        org_id=org_id,
        province_code=province,
        title=title,
        params={**params, "events": len(events)},
        evidence=evidence,
        evidence_url=str(subject["url"]),
        count=len(events),
    )


def certificate_numbers(event: Mapping[str, Any]) -> set[str]:
    """The certificate numbers an event's certificationInfo (or its ILMD's) may name: each
    text as given and its last segment after "/", ":" or "#"."""
    ilmd = event.get("ilmd")
    infos = [event.get("certificationInfo")]
    if isinstance(ilmd, Mapping):
        infos.append(ilmd.get("certificationInfo"))
    found: set[str] = set()
    for text in _strings(infos):
        text = text.strip()
        found.add(text)
        for separator in ("/", ":", "#"):
            found.add(text.rsplit(separator, 1)[-1])
    found.discard("")
    return found


def _certificates(ctx: RuleContext) -> Iterator[Finding]:
    """Certificates named by events recorded after they lapsed."""
    lapsed: dict[str, list[tuple[Certification, str, datetime]]] = {}
    for cert in ctx.db.scalars(
        select(Certification).where(
            or_(
                Certification.revoked_at.is_not(None),
                Certification.suspended_at.is_not(None),
                Certification.valid_to < ctx.now.date(),
            )
        )
    ):
        reason, since = _lapse(cert)
        if since <= ctx.now:
            lapsed.setdefault(cert.number, []).append((cert, reason, since))
    if not lapsed:
        return
    earliest = min(since for entries in lapsed.values() for _, _, since in entries)
    # One pass over the events that carry certificationInfo at all (their JSON text says so),
    # recorded since the earliest lapse, instead of one search per certificate.
    candidates = ctx.db.scalars(
        select(EpcisEvent)
        .where(
            EpcisEvent.record_time > earliest,
            EpcisEvent.error_declared.is_(False),
            cast(EpcisEvent.event, Text).contains("certificationInfo"),
        )
        .order_by(EpcisEvent.record_time.desc())
        .execution_options(yield_per=500)
    )
    using: dict[uuid.UUID, list[EpcisEvent]] = {}
    for event in candidates:
        for number in certificate_numbers(event.event) & lapsed.keys():
            for cert, _reason, since in lapsed[number]:
                named = using.setdefault(cert.id, [])
                if event.record_time > since and len(named) < _EVENT_LIMIT:
                    named.append(event)
    for entries in lapsed.values():
        for cert, reason, since in entries:
            events = using.get(cert.id)
            if not events:
                continue
            yield _finding(
                ctx,
                key=f"certificate:{cert.id}:{reason}",
                org_id=cert.org_id,
                province=ctx.province_of(cert.org_id),
                title=_CERTIFICATE_TITLES[reason],
                params={"number": cert.number, "lapse": reason, "since": at(since)},
                subject={
                    "kind": "certificate",
                    "ref": f"certificate:{cert.id}",
                    "label": f"{cert.scheme.value} {cert.number}",
                    "at": at(since),
                    "url": f"/registry/certifications/{cert.id}",
                },
                events=events,
            )


def _events_naming(
    ctx: RuleContext, since: datetime, field_name: str, code: str, places: list[str]
) -> list[EpcisEvent]:
    """Events recorded after `since` naming a code (extension field or ILMD) or its places."""
    by_field = exists().where(
        EpcisEventField.org_id == EpcisEvent.org_id,
        EpcisEventField.event_row_id == EpcisEvent.id,
        EpcisEventField.name == field_name,
        EpcisEventField.value == code,
    )
    conditions: list[ColumnElement[bool]] = [by_field]
    if places:
        conditions += [EpcisEvent.biz_location.in_(places), EpcisEvent.read_point.in_(places)]
    return list(
        ctx.db.scalars(
            select(EpcisEvent)
            .where(
                EpcisEvent.record_time > since,
                EpcisEvent.error_declared.is_(False),
                or_(*conditions),
            )
            .order_by(EpcisEvent.record_time.desc())
            .limit(_EVENT_LIMIT)
        )
    )


_AREA_TITLES = {
    CodeStatus.suspended: N_(
        "Growing area {code} is suspended but events recorded since still name it"
    ),
    CodeStatus.revoked: N_(
        "Growing area {code} is revoked but events recorded since still name it"
    ),
}
_HOUSE_TITLES = {
    CodeStatus.suspended: N_(
        "Packing house {code} is suspended but events recorded since still name it"
    ),
    CodeStatus.revoked: N_(
        "Packing house {code} is revoked but events recorded since still name it"
    ),
}


def _growing_areas(ctx: RuleContext) -> Iterator[Finding]:
    """Suspended or revoked growing-area codes named by events recorded after the decision."""
    rows = ctx.db.execute(
        select(GrowingArea, Organization.gln)
        .join(Organization, Organization.id == GrowingArea.org_id)
        .where(
            GrowingArea.status.in_([CodeStatus.suspended, CodeStatus.revoked]),
            GrowingArea.decided_at.is_not(None),
        )
    )
    for area, gln in rows:
        assert area.decided_at is not None
        places = sorted(
            {growing_area_place(area.code, gln).uri, growing_area_place(area.code, None).uri}
        )
        events = _events_naming(ctx, area.decided_at, AREA_FIELD, area.code, places)
        if not events:
            continue
        yield _finding(
            ctx,
            key=f"growing_area:{area.id}:{area.status.value}:{at(area.decided_at)}",
            org_id=area.org_id,
            province=area.province_code,
            title=_AREA_TITLES[area.status],
            params={"code": area.code, "status": area.status.value},
            subject={
                "kind": "growing_area",
                "ref": f"growing_area:{area.id}",
                "label": area.code,
                "at": at(area.decided_at),
                "url": f"/registry/growing-areas/{area.id}",
            },
            events=events,
        )


def _packing_houses(ctx: RuleContext) -> Iterator[Finding]:
    """Suspended or revoked packing-house codes named by events recorded after the decision."""
    rows = ctx.db.execute(
        select(PackingHouse, Facility.gln)
        .outerjoin(Facility, Facility.id == PackingHouse.facility_id)
        .where(
            PackingHouse.status.in_([CodeStatus.suspended, CodeStatus.revoked]),
            PackingHouse.decided_at.is_not(None),
        )
    )
    for house, gln in rows:
        assert house.decided_at is not None
        places = [gln_uri(gln)] if gln else []
        events = _events_naming(ctx, house.decided_at, HOUSE_FIELD, house.code, places)
        if not events:
            continue
        yield _finding(
            ctx,
            key=f"packing_house:{house.id}:{house.status.value}:{at(house.decided_at)}",
            org_id=house.org_id,
            province=house.province_code,
            title=_HOUSE_TITLES[house.status],
            params={"code": house.code, "status": house.status.value},
            subject={
                "kind": "packing_house",
                "ref": f"packing_house:{house.id}",
                "label": house.code,
                "at": at(house.decided_at),
                "url": f"/registry/packing-houses/{house.id}",
            },
            events=events,
        )


def invalid_codes_used(ctx: RuleContext) -> Iterator[Finding]:
    """Lapsed certificates and suspended or revoked codes still named by new events."""
    yield from _certificates(ctx)
    yield from _growing_areas(ctx)
    yield from _packing_houses(ctx)
