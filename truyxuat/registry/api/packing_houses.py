"""Registry API: packing-house codes (mã số cơ sở đóng gói) and their approval."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.models import CodeStatus, PackingHouse
from truyxuat.registry.schemas.common import MAX_OFFSET, Page
from truyxuat.registry.schemas.organizations import StatusDecision
from truyxuat.registry.schemas.packing_houses import (
    PackingHouseIn,
    PackingHouseOut,
    PackingHousePatch,
)
from truyxuat.registry.service import approvals
from truyxuat.registry.service import packing_houses as service

router = APIRouter(tags=["registry"])


@router.post("/packing-houses", response_model=PackingHouseOut, status_code=201)
def create_packing_house(body: PackingHouseIn, db: DB, principal: Caller) -> PackingHouse:
    """Applies for a packing-house code (pending the provincial authority's approval)."""
    return service.create_packing_house(db, principal, body)


@router.get("/packing-houses", response_model=Page[PackingHouseOut])
def list_packing_houses(
    db: DB,
    principal: Caller,
    status: CodeStatus | None = None,
    crop: str | None = None,
    province_code: str | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[PackingHouseOut]:
    """Lists the packing houses the caller may see."""
    items, total = service.list_packing_houses(
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
    return Page(
        items=[PackingHouseOut.model_validate(h) for h in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/packing-houses/{house_id}", response_model=PackingHouseOut)
def get_packing_house(house_id: uuid.UUID, db: DB, principal: Caller) -> PackingHouse:
    """Returns one packing house."""
    return service.get_packing_house(db, principal, house_id)


@router.patch("/packing-houses/{house_id}", response_model=PackingHouseOut)
def update_packing_house(
    house_id: uuid.UUID, body: PackingHousePatch, db: DB, principal: Caller
) -> PackingHouse:
    """Changes a packing house; changing the facility or crops of an approved code needs
    re-approval."""
    return service.update_packing_house(db, principal, house_id, body)


@router.post("/packing-houses/{house_id}/decision", response_model=PackingHouseOut)
def decide_packing_house(
    house_id: uuid.UUID, body: StatusDecision, db: DB, principal: Caller
) -> PackingHouse:
    """An authority approves, suspends or revokes a packing-house code in its province."""
    return approvals.decide_packing_house(db, principal, house_id, body.status, body.reason)
