"""Registry API: products, their images, and serving stored files (images, certificate scans)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from truyxuat.auth.deps import DB, Caller
from truyxuat.config import Settings
from truyxuat.registry.models import MoitGroup, Product
from truyxuat.registry.schemas.common import MAX_OFFSET, Page
from truyxuat.registry.schemas.products import (
    ProductImageOut,
    ProductIn,
    ProductOut,
    ProductPatch,
)
from truyxuat.registry.service import files as files_service
from truyxuat.registry.service import products as service

router = APIRouter(tags=["registry"])


def app_settings(request: Request) -> Settings:
    """The running app's settings (upload limit, data folder)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def read_upload(upload: UploadFile, settings: Settings) -> bytes:
    """Reads an uploaded file, at most one byte past the limit so oversize is detectable."""
    return upload.file.read(settings.max_upload_bytes + 1)


def _out(db: Session, product: Product) -> ProductOut:
    """Shapes one product with its images."""
    return ProductOut.build(product, service.product_images(db, [product.id])[product.id])


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(body: ProductIn, db: DB, principal: Caller) -> ProductOut:
    """Registers a product for the caller's organization (or the one named)."""
    return ProductOut.build(service.create_product(db, principal, body))


@router.get("/products", response_model=Page[ProductOut])
def list_products(
    db: DB,
    principal: Caller,
    category: str | None = None,
    moit_group: MoitGroup | None = None,
    ocop: bool | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    include_inactive: bool = False,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[ProductOut]:
    """Lists the products the caller may see."""
    items, total = service.list_products(
        db,
        principal,
        category=category,
        moit_group=moit_group,
        ocop=ocop,
        org_id=org_id,
        q=q,
        include_inactive=include_inactive,
        offset=offset,
        limit=limit,
    )
    images = service.product_images(db, [p.id for p in items])
    return Page(
        items=[ProductOut.build(p, images[p.id]) for p in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: uuid.UUID, db: DB, principal: Caller) -> ProductOut:
    """Returns one product with its images."""
    return _out(db, service.get_product(db, principal, product_id))


@router.patch("/products/{product_id}", response_model=ProductOut)
def update_product(
    product_id: uuid.UUID, body: ProductPatch, db: DB, principal: Caller
) -> ProductOut:
    """Changes a product (not its GTIN)."""
    return _out(db, service.update_product(db, principal, product_id, body))


@router.delete("/products/{product_id}", status_code=204)
def deactivate_product(product_id: uuid.UUID, db: DB, principal: Caller) -> Response:
    """Withdraws a product; it stays readable because traces and stamps refer to it."""
    service.deactivate_product(db, principal, product_id)
    return Response(status_code=204)


@router.post("/products/{product_id}/images", response_model=ProductImageOut, status_code=201)
def add_product_image(
    product_id: uuid.UUID,
    db: DB,
    principal: Caller,
    settings: AppSettings,
    file: UploadFile = File(description="A JPEG, PNG or WebP image"),
    alt: str | None = Form(None, description="Vietnamese alternative text"),
    alt_en: str | None = Form(None, description="English alternative text"),
) -> ProductImageOut:
    """Uploads an image of a product (JPEG, PNG or WebP, checked by content)."""
    alt_texts = {lang: text for lang, text in (("vi", alt), ("en", alt_en)) if text}
    image, stored = service.add_product_image(
        db,
        principal,
        product_id,
        data=read_upload(file, settings),
        filename=file.filename,
        content_type=file.content_type,
        alt=alt_texts,
        settings=settings,
    )
    return ProductImageOut.build(image, stored)


@router.delete("/products/{product_id}/images/{image_id}", status_code=204)
def delete_product_image(
    product_id: uuid.UUID, image_id: uuid.UUID, db: DB, principal: Caller
) -> Response:
    """Removes an image from a product."""
    service.delete_product_image(db, principal, product_id, image_id)
    return Response(status_code=204)


@router.get(
    "/files/{file_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/*": {}, "application/pdf": {}}}},
)
def get_file(file_id: uuid.UUID, db: DB, principal: Caller, settings: AppSettings) -> Response:
    """Serves a stored file to callers who may read its owner's data."""
    row, path = files_service.open_file(db, principal, file_id, settings)
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.filename or None,
        content_disposition_type="inline",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )
