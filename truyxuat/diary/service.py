"""Diary rules: who may record on which growing area, and recording an activity as an EPCIS
event through the EPCIS capture service (validated, hashed and stored like any other event).

Who may record on a growing area:
- staff of the organization that owns it;
- a household listed as an owner of a plot in it (GrowingAreaOwner.household_org_id), for the
  events of its own plot, stored under the household;
- a cooperative for its member households: a household is a member of a cooperative when one of
  the cooperative's growing areas lists it as an owner; the cooperative may then record on the
  household's own growing areas, and the events are stored under the household.
Anyone else is told the growing area does not exist (404). Services flush, never commit.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal, can_write
from truyxuat.config import Settings
from truyxuat.diary.activities import Activity, Photo, Place, build_event, growing_area_place
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import EpcisValidator
from truyxuat.errors import NotFound
from truyxuat.registry.models import GrowingArea, GrowingAreaOwner, Organization
from truyxuat.registry.service import files as file_service

TIMELINE_SIZE = 20


@dataclass(frozen=True)
class Upload:
    """A photo sent with an activity."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class DiaryArea:
    """A growing area the caller may record on, and the organization its events belong to."""

    area: GrowingArea
    org_id: uuid.UUID


def _member_households(db: Session, cooperative_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Households listed as plot owners in the growing areas of these organizations."""
    if not cooperative_ids:
        return set()
    rows = db.scalars(
        select(GrowingAreaOwner.household_org_id)
        .join(GrowingArea, GrowingArea.id == GrowingAreaOwner.growing_area_id)
        .where(
            GrowingArea.org_id.in_(cooperative_ids),
            GrowingAreaOwner.household_org_id.is_not(None),
        )
    )
    return {row for row in rows if row is not None}


def _acting_org(db: Session, principal: Principal, area: GrowingArea) -> uuid.UUID | None:
    """The organization whose diary this caller writes on this area; None when it may not."""
    if can_write(principal, area.org_id):
        return area.org_id
    writable = principal.writable_org_ids()
    if not writable:
        return None
    household = db.scalar(
        select(GrowingAreaOwner.household_org_id).where(
            GrowingAreaOwner.growing_area_id == area.id,
            GrowingAreaOwner.household_org_id.in_(writable),
        )
    )
    if household is not None:
        return household
    if area.org_id in _member_households(db, writable):
        return area.org_id
    return None


def diary_areas(db: Session, principal: Principal) -> list[DiaryArea]:
    """The growing areas the caller may record on, by code."""
    writable = principal.writable_org_ids()
    if principal.is_platform_admin:
        query = select(GrowingArea)
    else:
        if not writable:
            return []
        households = _member_households(db, writable)
        own_plots = select(GrowingAreaOwner.growing_area_id).where(
            GrowingAreaOwner.household_org_id.in_(writable)
        )
        query = select(GrowingArea).where(
            GrowingArea.org_id.in_(writable | households) | GrowingArea.id.in_(own_plots)
        )
    areas = db.scalars(query.order_by(GrowingArea.code).limit(500))
    found = []
    for area in areas:
        org_id = _acting_org(db, principal, area)
        if org_id is not None:
            found.append(DiaryArea(area, org_id))
    return found


def get_diary_area(db: Session, principal: Principal, area_id: uuid.UUID) -> DiaryArea:
    """A growing area the caller may record on; NotFound otherwise (never revealing it)."""
    area = db.get(GrowingArea, area_id)
    org_id = _acting_org(db, principal, area) if area is not None else None
    if area is None or org_id is None:
        raise NotFound()
    return DiaryArea(area, org_id)


def area_place(db: Session, area: GrowingArea) -> Place:
    """Where the area's events happen: the owner's GLN extended with the area code."""
    gln = db.scalar(select(Organization.gln).where(Organization.id == area.org_id))
    return growing_area_place(area.code, gln)


def acting_principal(db: Session, principal: Principal, org_id: uuid.UUID) -> Principal:
    """The caller acting for `org_id`; a delegated staff grant when the diary rules allow it.

    Only call it with an org_id that `_acting_org` granted.
    """
    grants = principal.grants
    if not can_write(principal, org_id):
        province = db.scalar(select(Organization.province_code).where(Organization.id == org_id))
        grants = (*grants, Grant(org_id, Role.org_staff, province))
    return dataclasses.replace(principal, grants=grants, active_org_id=org_id)


def record_activity(
    db: Session,
    principal: Principal,
    *,
    growing_area_id: uuid.UUID,
    activity: Activity | str,
    values: Mapping[str, Any],
    validator: EpcisValidator,
    settings: Settings | None = None,
    photo: Upload | None = None,
    now: datetime | None = None,
) -> EpcisEvent:
    """Builds the activity's EPCIS event and captures it for the area's diary; returns the row."""
    target = get_diary_area(db, principal, growing_area_id)
    acting = acting_principal(db, principal, target.org_id)
    place = area_place(db, target.area)
    event_id = f"urn:uuid:{uuid.uuid4()}"
    # Built once without the photo so bad input is refused before anything is stored.
    event = build_event(activity, values, place=place, now=now, event_id=event_id)
    if photo is not None and photo.data:
        if settings is None:
            raise ValueError("settings are needed to store a photo")
        stored = file_service.store_file(
            db,
            acting,
            target.org_id,
            photo.data,
            photo.filename,
            photo.content_type,
            file_service.IMAGE_TYPES,
            settings,
        )
        picture = Photo(str(stored.id), stored.sha256, stored.content_type)
        event = build_event(
            activity, values, place=place, now=now, event_id=event_id, photo=picture
        )
    return epcis_service.capture_event(db, acting, event=event, validator=validator)


def timeline(db: Session, target: DiaryArea, limit: int = TIMELINE_SIZE) -> list[dict[str, Any]]:
    """The latest events recorded at a growing area, newest first, as stored."""
    place = area_place(db, target.area)
    rows = db.scalars(
        select(EpcisEvent)
        .where(
            EpcisEvent.org_id == target.org_id,
            EpcisEvent.biz_location == place.uri,
            EpcisEvent.error_declared.is_(False),
        )
        .order_by(EpcisEvent.event_time.desc(), EpcisEvent.record_time.desc())
        .limit(limit)
    )
    return [dict(row.event) for row in rows]
