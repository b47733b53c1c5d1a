"""Accounts API: who am I, API keys, the audit log."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from sqlalchemy import select

from truyxuat.auth import service
from truyxuat.auth.deps import DB, Caller
from truyxuat.auth.models import ApiKey, AuditEntry
from truyxuat.auth.principal import ensure_writable, read_filter
from truyxuat.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    AuditOut,
    GrantOut,
    MeOut,
)
from truyxuat.errors import NotFound
from truyxuat.registry.models import Organization

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=MeOut)
def me(principal: Caller) -> MeOut:
    """Returns the authenticated caller and its roles."""
    return MeOut(
        label=principal.label,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        grants=[
            GrantOut(org_id=g.org_id, role=g.role, province_code=g.province_code)
            for g in principal.grants
        ],
    )


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(body: ApiKeyIn, db: DB, principal: Caller) -> ApiKeyCreated:
    """Creates an API key for one of the caller's organizations (org admins only)."""
    org = db.get(Organization, body.org_id)
    if org is None:
        raise NotFound()
    ensure_writable(principal, org.id, (org.province_code,), admin_only=True)
    key, plain = service.create_api_key(
        db, org=org, role=body.role, name=body.name, created_by=principal.user_id
    )
    service.record(
        db, principal, "create", "api_key", key.id, org.id, {"role": key.role, "name": key.name}
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=plain)


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(db: DB, principal: Caller) -> list[ApiKey]:
    """Lists API keys of the organizations the caller administers."""
    admin_orgs = [g.org_id for g in principal.grants if g.role.value == "org_admin"]
    query = select(ApiKey).order_by(ApiKey.created_at.desc())
    if not principal.is_platform_admin:
        query = query.where(ApiKey.org_id.in_(admin_orgs))
    return list(db.scalars(query))


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_api_key(key_id: uuid.UUID, db: DB, principal: Caller) -> ApiKey:
    """Revokes an API key; it stops working at once."""
    return service.revoke_api_key(db, principal=principal, key_id=key_id)


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    db: DB,
    principal: Caller,
    entity_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditEntry]:
    """Lists audit entries the caller may read, newest first."""
    query = (
        select(AuditEntry)
        .where(read_filter(principal, AuditEntry.org_id))
        .order_by(AuditEntry.at.desc())
        .limit(limit)
    )
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    return list(db.scalars(query))
