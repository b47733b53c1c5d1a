"""Registry API: growing-area codes (mã số vùng trồng), their GeoJSON, and the approval queue."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.models import CodeStatus
from truyxuat.registry.schemas.common import MAX_OFFSET, Page
from truyxuat.registry.schemas.growing_areas import (
    ApprovalItemOut,
    GeoJSONFeature,
    GrowingAreaIn,
    GrowingAreaOut,
    GrowingAreaPatch,
)
from truyxuat.registry.schemas.organizations import StatusDecision
from truyxuat.registry.service import approvals
from truyxuat.registry.service import growing_areas as service

router = APIRouter(tags=["registry"])
GEOJSON = "application/geo+json"


@router.post("/growing-areas", response_model=GrowingAreaOut, status_code=201)
def create_growing_area(body: GrowingAreaIn, db: DB, principal: Caller) -> GrowingAreaOut:
    """Applies for a growing-area code (pending the provincial authority's approval)."""
    return service.to_out(db, service.create_growing_area(db, principal, body))


@router.get("/growing-areas", response_model=Page[GrowingAreaOut])
def list_growing_areas(
    db: DB,
    principal: Caller,
    status: CodeStatus | None = None,
    crop: str | None = None,
    province_code: str | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[GrowingAreaOut]:
    """Lists the growing areas the caller may see."""
    items, total = service.list_growing_areas(
        db,
        principal,
        status=status,
        crop=crop,
        province_code=province_code,
        org_id=org_id,
        q=q,
        offset=offset,
        limit=limit,
    )
    return Page(items=service.to_outs(db, items), total=total, offset=offset, limit=limit)


@router.get("/growing-areas/{area_id}", response_model=GrowingAreaOut)
def get_growing_area(area_id: uuid.UUID, db: DB, principal: Caller) -> GrowingAreaOut:
    """Returns one growing area with its owners."""
    return service.to_out(db, service.get_growing_area(db, principal, area_id))


@router.get(
    "/growing-areas/{area_id}/geojson",
    response_model=GeoJSONFeature,
    responses={200: {"content": {GEOJSON: {}}}},
)
def get_growing_area_geojson(area_id: uuid.UUID, db: DB, principal: Caller) -> JSONResponse:
    """Returns the growing area's plot as a GeoJSON Feature (application/geo+json)."""
    area = service.get_growing_area(db, principal, area_id)
    return JSONResponse(service.as_feature(area), media_type=GEOJSON)


@router.patch("/growing-areas/{area_id}", response_model=GrowingAreaOut)
def update_growing_area(
    area_id: uuid.UUID, body: GrowingAreaPatch, db: DB, principal: Caller
) -> GrowingAreaOut:
    """Changes a growing area; changing the plot or crop of an approved code needs re-approval."""
    return service.to_out(db, service.update_growing_area(db, principal, area_id, body))


@router.post("/growing-areas/{area_id}/decision", response_model=GrowingAreaOut)
def decide_growing_area(
    area_id: uuid.UUID, body: StatusDecision, db: DB, principal: Caller
) -> GrowingAreaOut:
    """An authority approves, suspends or revokes a growing-area code in its province."""
    area = approvals.decide_growing_area(db, principal, area_id, body.status, body.reason)
    return service.to_out(db, area)


@router.get("/approvals", response_model=Page[ApprovalItemOut])
def approval_queue(
    db: DB,
    principal: Caller,
    kind: str | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(100, ge=1, le=500),
) -> Page[ApprovalItemOut]:
    """Growing-area and packing-house codes awaiting the caller's decision, oldest first."""
    items, total = approvals.approval_queue(db, principal, kind, offset=offset, limit=limit)
    return Page(
        items=[ApprovalItemOut.model_validate(i) for i in items],
        total=total,
        offset=offset,
        limit=limit,
    )
