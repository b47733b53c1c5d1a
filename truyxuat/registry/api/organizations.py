"""Registry API: organizations (tenants), self-registration and approval."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.models import Organization, OrgKind, OrgStatus
from truyxuat.registry.schemas.common import MAX_OFFSET, Page
from truyxuat.registry.schemas.organizations import (
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    RegistrationIn,
    StatusDecision,
)
from truyxuat.registry.service import organizations as service

router = APIRouter(tags=["registry"])


@router.post("/registrations", response_model=OrganizationOut, status_code=201)
def register(body: RegistrationIn, db: DB) -> Organization:
    """Registers a new organization (pending the authority's approval) with its admin user."""
    return service.register(db, body)


@router.post("/organizations", response_model=OrganizationOut, status_code=201)
def create_organization(body: OrganizationIn, db: DB, principal: Caller) -> Organization:
    """Registers an organization (platform admin, or an authority in its province)."""
    return service.create_organization(db, principal, body)


@router.get("/organizations", response_model=Page[OrganizationOut])
def list_organizations(
    db: DB,
    principal: Caller,
    kind: OrgKind | None = None,
    status: OrgStatus | None = None,
    province_code: str | None = None,
    q: str | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[OrganizationOut]:
    """Lists the organizations the caller may see."""
    items, total = service.list_organizations(
        db,
        principal,
        kind=kind,
        status=status,
        province_code=province_code,
        q=q,
        offset=offset,
        limit=limit,
    )
    return Page(
        items=[OrganizationOut.model_validate(o) for o in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/organizations/{org_id}", response_model=OrganizationOut)
def get_organization(org_id: uuid.UUID, db: DB, principal: Caller) -> Organization:
    """Returns one organization."""
    return service.get_organization(db, principal, org_id)


@router.patch("/organizations/{org_id}", response_model=OrganizationOut)
def update_organization(
    org_id: uuid.UUID, body: OrganizationPatch, db: DB, principal: Caller
) -> Organization:
    """Changes an organization's profile (its admins only)."""
    return service.update_organization(db, principal, org_id, body)


@router.post("/organizations/{org_id}/decision", response_model=OrganizationOut)
def decide_organization(
    org_id: uuid.UUID, body: StatusDecision, db: DB, principal: Caller
) -> Organization:
    """An authority approves or suspends an organization in its jurisdiction."""
    return service.decide_organization(db, principal, org_id, body.status, body.reason)
