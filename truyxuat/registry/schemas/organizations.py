"""Shapes for organizations (tenants)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from truyxuat.registry.models import OrgKind, OrgStatus


class OrganizationIn(BaseModel):
    """Fields an organization is registered with."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: OrgKind
    name: str = Field(min_length=2, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    tax_code: str | None = Field(default=None, max_length=20)
    gs1_company_prefix: str | None = None
    gln: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    address: str = Field(default="", max_length=500)
    contact_name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=300)


class OrganizationPatch(BaseModel):
    """Fields an organization's admin may change (status is the authority's)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    tax_code: str | None = Field(default=None, max_length=20)
    gs1_company_prefix: str | None = None
    gln: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    address: str | None = Field(default=None, max_length=500)
    contact_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=300)


class OrganizationOut(BaseModel):
    """An organization as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    kind: OrgKind
    name: str
    name_en: str | None
    tax_code: str | None
    gs1_company_prefix: str | None
    gln: str | None
    province_code: str | None
    commune_code: str | None
    address: str
    contact_name: str
    phone: str
    email: str
    website: str
    status: OrgStatus
    created_at: datetime
    updated_at: datetime


class StatusDecision(BaseModel):
    """An authority's decision on something awaiting approval."""

    status: str
    reason: str = Field(default="", max_length=2000)


class RegistrationIn(BaseModel):
    """Self-registration: a new organization and its first administrator."""

    organization: OrganizationIn
    admin_email: str = Field(max_length=254)
    admin_name: str = Field(min_length=2, max_length=200)
    admin_password: str = Field(min_length=1, max_length=200)
