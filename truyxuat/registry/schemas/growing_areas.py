"""Shapes for growing-area codes (mã số vùng trồng), their owners and the approval queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from truyxuat.registry.models import CodeStatus, GrowingArea, GrowingAreaOwner

# A GeoJSON Point/Polygon/MultiPolygon, a Feature holding one, or the same as JSON text.
# Left untyped here so that `registry.geometry` reports every malformed shape on "geometry".
GeometryIn = Any


def string_list(value: Any) -> Any:
    """Accepts a list, or a comma-separated string (CSV cells, stored columns), as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class OwnerIn(BaseModel):
    """A grower who owns or farms part of a growing area."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(default="", max_length=32)
    household_org_id: uuid.UUID | None = None
    area_ha: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class OwnerOut(BaseModel):
    """A grower of a growing area as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    phone: str
    household_org_id: uuid.UUID | None
    area_ha: float | None


class GrowingAreaIn(BaseModel):
    """Fields a growing-area code is applied for with; `org_id` defaults to the caller's org."""

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: uuid.UUID | None = None
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=300)
    crop: str = Field(min_length=1, max_length=120)
    variety: str = Field(default="", max_length=120)
    area_ha: float = Field(gt=0, allow_inf_nan=False)
    geometry: GeometryIn
    province_code: str = Field(min_length=1, max_length=16)
    commune_code: str | None = Field(default=None, max_length=16)
    export_markets: list[str] = Field(default_factory=list, max_length=20)
    owners: list[OwnerIn] = Field(default_factory=list, max_length=500)

    _split_markets = field_validator("export_markets", mode="before")(string_list)


class GrowingAreaPatch(BaseModel):
    """Fields the owning organization may change; `owners`, when given, replaces the list.

    Changing the geometry, area, crop or location of an approved code sends it back for
    re-approval.
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=300)
    crop: str | None = Field(default=None, min_length=1, max_length=120)
    variety: str | None = Field(default=None, max_length=120)
    area_ha: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    geometry: GeometryIn | None = None
    province_code: str | None = Field(default=None, min_length=1, max_length=16)
    commune_code: str | None = Field(default=None, max_length=16)
    export_markets: list[str] | None = Field(default=None, max_length=20)
    owners: list[OwnerIn] | None = Field(default=None, max_length=500)

    _split_markets = field_validator("export_markets", mode="before")(string_list)


class Centroid(BaseModel):
    """A WGS-84 point."""

    lon: float
    lat: float


class GrowingAreaOut(BaseModel):
    """A growing-area code as the API returns it."""

    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    name: str
    crop: str
    variety: str
    area_ha: float
    computed_area_ha: float
    geometry: dict[str, Any]
    centroid: Centroid
    province_code: str
    commune_code: str | None
    export_markets: list[str]
    status: CodeStatus
    status_reason: str
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    owners: list[OwnerOut]

    @classmethod
    def from_model(cls, area: GrowingArea, owners: list[GrowingAreaOwner]) -> GrowingAreaOut:
        """Builds the API shape from a row and its owners."""
        return cls(
            id=area.id,
            org_id=area.org_id,
            code=area.code,
            name=area.name,
            crop=area.crop,
            variety=area.variety,
            area_ha=area.area_ha,
            computed_area_ha=area.computed_area_ha,
            geometry=area.geometry,
            centroid=Centroid(lon=area.centroid_lon, lat=area.centroid_lat),
            province_code=area.province_code,
            commune_code=area.commune_code,
            export_markets=string_list(area.export_markets),
            status=area.status,
            status_reason=area.status_reason,
            decided_by=area.decided_by,
            decided_at=area.decided_at,
            created_at=area.created_at,
            updated_at=area.updated_at,
            owners=[OwnerOut.model_validate(o) for o in owners],
        )


class GeoJSONFeature(BaseModel):
    """A growing area as a GeoJSON Feature (RFC 7946), e.g. for an EUDR due-diligence file."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]


class ApprovalItemOut(BaseModel):
    """One code awaiting an authority's decision (growing area or packing house)."""

    model_config = ConfigDict(from_attributes=True)

    kind: Literal["growing_area", "packing_house"]
    id: uuid.UUID
    code: str
    name: str
    org_id: uuid.UUID
    org_name: str
    province_code: str
    crops: str
    area_ha: float | None
    submitted_at: datetime
