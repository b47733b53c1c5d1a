"""Registry API: facilities (farms, packing houses, factories, warehouses, stores, ports...)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.models import Facility, FacilityKind
from truyxuat.registry.schemas.common import MAX_OFFSET, Page
from truyxuat.registry.schemas.facilities import FacilityIn, FacilityOut, FacilityPatch
from truyxuat.registry.service import facilities as service

router = APIRouter(tags=["registry"])


@router.post("/facilities", response_model=FacilityOut, status_code=201)
def create_facility(body: FacilityIn, db: DB, principal: Caller) -> Facility:
    """Registers a facility for the caller's organization (or the one named)."""
    return service.create_facility(db, principal, body)


@router.get("/facilities", response_model=Page[FacilityOut])
def list_facilities(
    db: DB,
    principal: Caller,
    kind: FacilityKind | None = None,
    province_code: str | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[FacilityOut]:
    """Lists the facilities the caller may see."""
    items, total = service.list_facilities(
        db,
        principal,
        kind=kind,
        province_code=province_code,
        org_id=org_id,
        q=q,
        offset=offset,
        limit=limit,
    )
    return Page(
        items=[FacilityOut.model_validate(f) for f in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/facilities/{facility_id}", response_model=FacilityOut)
def get_facility(facility_id: uuid.UUID, db: DB, principal: Caller) -> Facility:
    """Returns one facility."""
    return service.get_facility(db, principal, facility_id)


@router.patch("/facilities/{facility_id}", response_model=FacilityOut)
def update_facility(
    facility_id: uuid.UUID, body: FacilityPatch, db: DB, principal: Caller
) -> Facility:
    """Changes a facility."""
    return service.update_facility(db, principal, facility_id, body)


@router.delete("/facilities/{facility_id}", status_code=204)
def delete_facility(facility_id: uuid.UUID, db: DB, principal: Caller) -> Response:
    """Deletes a facility nothing refers to any more."""
    service.delete_facility(db, principal, facility_id)
    return Response(status_code=204)
