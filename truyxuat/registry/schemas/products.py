"""Shapes for products (trade items identified by a GTIN) and their images."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from truyxuat.gs1 import gtin_display
from truyxuat.registry.models import MoitGroup, Product, ProductImage, StoredFile

FILES_URL = "/api/v1/files/{file_id}"


class ProductIn(BaseModel):
    """Fields a product is registered with; `org_id` defaults to the caller's organization.

    `names` and `descriptions` map a language tag (vi, en, zh...) to text; `vi` is required.
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: uuid.UUID | None = None
    gtin: str = Field(min_length=1, max_length=32)
    names: dict[str, str]
    descriptions: dict[str, str] = Field(default_factory=dict)
    category: str = Field(default="", max_length=120)
    moit_group: MoitGroup | None = None
    ocop_stars: int | None = Field(default=None, ge=3, le=5)
    ocop_year: int | None = None
    net_content: str = Field(default="", max_length=64)
    origin_province_code: str | None = Field(default=None, max_length=16)
    temperature_min: float | None = Field(
        default=None, ge=-100, le=100, description="Lowest storage temperature, °C"
    )
    temperature_max: float | None = Field(
        default=None, ge=-100, le=100, description="Highest storage temperature, °C"
    )


class ProductPatch(BaseModel):
    """Fields of a product that may change; the GTIN is its identity and may not.

    Setting `ocop_stars` and `ocop_year` to null removes the OCOP rating; setting
    `temperature_min` / `temperature_max` to null removes that storage limit.
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    names: dict[str, str] | None = None
    descriptions: dict[str, str] | None = None
    category: str | None = Field(default=None, max_length=120)
    moit_group: MoitGroup | None = None
    ocop_stars: int | None = Field(default=None, ge=3, le=5)
    ocop_year: int | None = None
    net_content: str | None = Field(default=None, max_length=64)
    origin_province_code: str | None = Field(default=None, max_length=16)
    temperature_min: float | None = Field(default=None, ge=-100, le=100)
    temperature_max: float | None = Field(default=None, ge=-100, le=100)
    is_active: bool | None = None


class ProductImageOut(BaseModel):
    """One image of a product; `url` serves the bytes to callers who may read the product."""

    id: uuid.UUID
    file_id: uuid.UUID
    position: int
    alt: dict[str, Any]
    content_type: str
    size: int
    url: str

    @classmethod
    def build(cls, image: ProductImage, stored: StoredFile) -> ProductImageOut:
        """Shapes an image row and its stored file."""
        return cls(
            id=image.id,
            file_id=image.file_id,
            position=image.position,
            alt=image.alt,
            content_type=stored.content_type,
            size=stored.size,
            url=FILES_URL.format(file_id=image.file_id),
        )


class ProductOut(BaseModel):
    """A product as the API returns it: the GTIN-14 and its shortest display form."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    gtin: str
    names: dict[str, str]
    descriptions: dict[str, str]
    category: str
    moit_group: MoitGroup | None
    ocop_stars: int | None
    ocop_year: int | None
    net_content: str
    origin_province_code: str | None
    temperature_min: float | None
    temperature_max: float | None
    is_active: bool
    images: list[ProductImageOut] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gtin_display(self) -> str:
        """The GTIN in its shortest conventional form (GTIN-8, -12, -13 or -14)."""
        return gtin_display(self.gtin)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def image_urls(self) -> list[str]:
        """The images' URLs in display order."""
        return [image.url for image in self.images]

    @classmethod
    def build(
        cls, product: Product, images: list[tuple[ProductImage, StoredFile]] | None = None
    ) -> ProductOut:
        """Shapes a product row with its images."""
        out = cls.model_validate(product)
        out.images = [ProductImageOut.build(image, stored) for image, stored in images or []]
        return out
