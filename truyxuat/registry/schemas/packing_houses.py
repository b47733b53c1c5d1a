"""Shapes for packing-house codes (mã số cơ sở đóng gói)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from truyxuat.registry.models import CodeStatus
from truyxuat.registry.schemas.growing_areas import string_list


class PackingHouseIn(BaseModel):
    """Fields a packing-house code is applied for with; `org_id` defaults to the caller's org."""

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: uuid.UUID | None = None
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    facility_id: uuid.UUID | None = None
    crops: list[str] = Field(default_factory=list, max_length=30)
    capacity_tonnes_per_day: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    province_code: str = Field(min_length=1, max_length=16)
    commune_code: str | None = Field(default=None, max_length=16)
    address: str = Field(default="", max_length=500)
    export_markets: list[str] = Field(default_factory=list, max_length=20)

    _split = field_validator("crops", "export_markets", mode="before")(string_list)


class PackingHousePatch(BaseModel):
    """Fields the owning organization may change.

    Changing the facility, crops, address or location of an approved code sends it back for
    re-approval.
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=300)
    facility_id: uuid.UUID | None = None
    crops: list[str] | None = Field(default=None, max_length=30)
    capacity_tonnes_per_day: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    province_code: str | None = Field(default=None, min_length=1, max_length=16)
    commune_code: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, max_length=500)
    export_markets: list[str] | None = Field(default=None, max_length=20)

    _split = field_validator("crops", "export_markets", mode="before")(string_list)


class PackingHouseOut(BaseModel):
    """A packing-house code as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    name: str
    facility_id: uuid.UUID | None
    crops: list[str]
    capacity_tonnes_per_day: float | None
    province_code: str
    commune_code: str | None
    address: str
    export_markets: list[str]
    status: CodeStatus
    status_reason: str
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    _split = field_validator("crops", "export_markets", mode="before")(string_list)
