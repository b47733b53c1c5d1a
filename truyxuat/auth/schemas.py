"""Pydantic shapes for the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from truyxuat.auth.models import Role


class GrantOut(BaseModel):
    """One role in one organization."""

    org_id: uuid.UUID
    role: Role
    province_code: str | None


class MeOut(BaseModel):
    """The caller as the platform sees it."""

    label: str
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    grants: list[GrantOut]


class ApiKeyIn(BaseModel):
    """A request for a new API key."""

    org_id: uuid.UUID
    role: Role
    name: str = ""


class ApiKeyOut(BaseModel):
    """An API key's public record (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    role: Role
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A freshly created key, carrying the plain key this one time."""

    key: str


class AuditOut(BaseModel):
    """One audit-log entry."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    org_id: uuid.UUID | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, object]
