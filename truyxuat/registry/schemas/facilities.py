"""Shapes for facilities: the places an organization operates (farm, factory, warehouse...)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from truyxuat.registry.models import FacilityKind


class FacilityIn(BaseModel):
    """Fields a facility is registered with; `org_id` defaults to the caller's organization."""

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: uuid.UUID | None = None
    kind: FacilityKind
    name: str = Field(min_length=2, max_length=300)
    gln: str | None = Field(default=None, max_length=20)
    province_code: str | None = Field(default=None, max_length=16)
    commune_code: str | None = Field(default=None, max_length=16)
    address: str = Field(default="", max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class FacilityPatch(BaseModel):
    """Fields of a facility that may change (the owner organization may not)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    kind: FacilityKind | None = None
    name: str | None = Field(default=None, min_length=2, max_length=300)
    gln: str | None = Field(default=None, max_length=20)
    province_code: str | None = Field(default=None, max_length=16)
    commune_code: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class FacilityOut(BaseModel):
    """A facility as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    kind: FacilityKind
    name: str
    gln: str | None
    province_code: str | None
    commune_code: str | None
    address: str
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime
