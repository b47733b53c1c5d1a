"""Registry pages: products (GTIN, names in vi/en/zh, MOIT group, OCOP, images)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write
from truyxuat.errors import N_, DomainError, FieldError, Forbidden, ValidationFailed, invalid
from truyxuat.gs1 import gtin_display
from truyxuat.registry.models import MoitGroup, Product
from truyxuat.registry.pages.common import (
    as_text,
    changed_only,
    clean_offset,
    field_errors,
    form_values,
    org_names,
    page,
    pager,
    parse,
    provinces,
    redirect,
    reraise_unless_form_error,
    writable_orgs,
)
from truyxuat.registry.schemas.products import FILES_URL, ProductIn, ProductPatch
from truyxuat.registry.service import products as service
from truyxuat.web.forms import form_errors, read_form

router = APIRouter(include_in_schema=False)
BASE = "/registry/products"
LANGS = ("vi", "en", "zh")
TEXT_FIELDS = tuple(f"{kind}_{lang}" for kind in ("name", "description") for lang in LANGS)
PLAIN_FIELDS = (
    "category",
    "moit_group",
    "ocop_stars",
    "ocop_year",
    "net_content",
    "origin_province_code",
    "temperature_min",
    "temperature_max",
)
# Storage limits in °C, written with a decimal comma or point.
TEMPERATURE_FIELDS = ("temperature_min", "temperature_max")
FIELDS = ("org_id", "gtin", *TEXT_FIELDS, *PLAIN_FIELDS, "is_active")


def _temperatures(values: dict[str, Any]) -> dict[str, Any]:
    """The posted values with the temperatures' decimal comma read as a point."""
    out = dict(values)
    for name in TEMPERATURE_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = out[name].replace(",", ".").replace("−", "-")
    return out


def _texts(values: dict[str, Any], kind: str, stored: dict[str, Any]) -> dict[str, str]:
    """The {language: text} map: the form's vi/en/zh over any other stored languages."""
    texts = {k: v for k, v in stored.items() if k not in LANGS}
    for lang in LANGS:
        if values.get(f"{kind}_{lang}"):
            texts[lang] = values[f"{kind}_{lang}"]
    return texts


def _form_errors(exc: DomainError, locale: str) -> dict[str, str]:
    """Shows errors on names["vi"] next to the "name_vi" box, and so on."""
    if isinstance(exc, ValidationFailed):
        moved: list[FieldError] = []
        for err in exc.errors:
            loc = [p for p in err.loc if p != "body"]
            if loc and loc[0] in ("names", "descriptions"):
                kind = "name" if loc[0] == "names" else "description"
                lang = str(loc[1]) if len(loc) > 1 and str(loc[1]) in LANGS else "vi"
                loc = [f"{kind}_{lang}"]
            moved.append(FieldError(loc, err.message, err.params))
        exc = ValidationFailed(moved)
    return field_errors(exc, locale, FIELDS)


def _form_context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the product form needs."""
    return {
        "values": values,
        "errors": errors,
        "orgs": writable_orgs(db, principal),
        "groups": list(MoitGroup),
        "provinces": provinces(db),
        "langs": LANGS,
        **extra,
    }


def display_name(product: Product, locale: str) -> str:
    """The product's name in the page's language, else in Vietnamese."""
    names = product.names or {}
    return str(names.get(locale) or names.get("vi") or next(iter(names.values()), ""))


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request,
    db: DB,
    principal: Caller,
    locale: Locale,
    q: str = "",
    category: str = "",
    moit_group: str = "",
    ocop: str = "",
    inactive: str = "",
    offset: int = 0,
) -> Response:
    """Lists the products the caller may see, with filters and paging."""
    offset = clean_offset(offset)
    items, total = service.list_products(
        db,
        principal,
        category=category or None,
        moit_group=MoitGroup(moit_group) if moit_group in MoitGroup.__members__ else None,
        ocop={"yes": True, "no": False}.get(ocop),
        q=q or None,
        include_inactive=bool(inactive),
        offset=offset,
        limit=20,
    )
    return page(
        request,
        "registry/product_list.html",
        {
            "items": [(p, display_name(p, locale), gtin_display(p.gtin)) for p in items],
            "pager": pager(request, offset, total),
            "filters": {
                "q": q,
                "category": category,
                "moit_group": moit_group,
                "ocop": ocop,
                "inactive": inactive,
            },
            "groups": list(MoitGroup),
            "org_names": org_names(db, {p.org_id for p in items}),
            "can_create": bool(writable_orgs(db, principal)),
        },
    )


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller) -> Response:
    """Shows the form to register a product."""
    orgs = writable_orgs(db, principal)
    if not orgs:
        raise Forbidden()
    org = next((o for o in orgs if o.id == principal.default_org_id()), orgs[0])
    values = {"org_id": str(org.id), "origin_province_code": org.province_code}
    return page(
        request,
        "registry/product_form.html",
        _form_context(db, principal, values, {}, creating=True, prefix=org.gs1_company_prefix),
    )


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Registers a product with the same service the API uses."""
    values = _temperatures(form_values(await read_form(request, principal), *FIELDS))
    try:
        data = {k: values[k] for k in ("org_id", "gtin", *PLAIN_FIELDS)}
        data["names"] = _texts(values, "name", {})
        data["descriptions"] = _texts(values, "description", {})
        product = service.create_product(db, principal, parse(ProductIn, data))
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/product_form.html",
            _form_context(db, principal, values, _form_errors(exc, locale), creating=True),
            status_code=422,
        )
    return redirect(f"{BASE}/{product.id}", "created")


def _detail_context(db: DB, principal: Principal, product: Product, locale: str) -> dict[str, Any]:
    """What the product page shows."""
    images = service.product_images(db, [product.id]).get(product.id, [])
    return {
        "product": product,
        "name": display_name(product, locale),
        "gtin": gtin_display(product.gtin),
        "images": [(image, FILES_URL.format(file_id=image.file_id)) for image, _f in images],
        "org_name": org_names(db, {product.org_id}).get(product.org_id, ""),
        "province_name": dict(provinces(db)).get(product.origin_province_code or "", ""),
        "can_edit": can_write(principal, product.org_id),
        "errors": {},
    }


@router.get(BASE + "/{product_id}", response_class=HTMLResponse)
def detail(
    request: Request, db: DB, principal: Caller, locale: Locale, product_id: uuid.UUID
) -> Response:
    """Shows one product with its names in every language and its images."""
    product = service.get_product(db, principal, product_id)
    return page(
        request, "registry/product_detail.html", _detail_context(db, principal, product, locale)
    )


@router.get(BASE + "/{product_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, db: DB, principal: Caller, product_id: uuid.UUID) -> Response:
    """Shows the form to change a product (its GTIN is its identity and stays)."""
    product = service.get_product(db, principal, product_id)
    if not can_write(principal, product.org_id):
        raise Forbidden()
    values: dict[str, Any] = {name: as_text(getattr(product, name)) for name in PLAIN_FIELDS}
    for lang in LANGS:
        values[f"name_{lang}"] = (product.names or {}).get(lang)
        values[f"description_{lang}"] = (product.descriptions or {}).get(lang)
    values["gtin"] = gtin_display(product.gtin)
    values["is_active"] = "1" if product.is_active else None
    return page(
        request,
        "registry/product_form.html",
        _form_context(db, principal, values, {}, creating=False, product=product),
    )


@router.post(BASE + "/{product_id}/edit", response_class=HTMLResponse)
async def update(
    request: Request, db: DB, principal: Caller, locale: Locale, product_id: uuid.UUID
) -> Response:
    """Saves the changed fields of a product with the same service the API uses."""
    values = _temperatures(form_values(await read_form(request, principal), *FIELDS[2:]))
    product = service.get_product(db, principal, product_id)
    try:
        changes = changed_only({k: values[k] for k in PLAIN_FIELDS}, product)
        for text_field in ("category", "net_content"):
            if text_field in changes and changes[text_field] is None:
                changes[text_field] = ""
        names = _texts(values, "name", product.names or {})
        if names != product.names:
            changes["names"] = names
        descriptions = _texts(values, "description", product.descriptions or {})
        if descriptions != product.descriptions:
            changes["descriptions"] = descriptions
        if bool(values.get("is_active")) != product.is_active:
            changes["is_active"] = bool(values.get("is_active"))
        if not names.get("vi"):
            raise invalid("name_vi", N_("A Vietnamese (vi) name is required"))
        patch = parse(ProductPatch, changes, drop_blank=False)
        service.update_product(db, principal, product_id, patch)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        product = service.get_product(db, principal, product_id)
        values["gtin"] = gtin_display(product.gtin)
        return page(
            request,
            "registry/product_form.html",
            _form_context(
                db, principal, values, _form_errors(exc, locale), creating=False, product=product
            ),
            status_code=422,
        )
    return redirect(f"{BASE}/{product_id}", "saved")


@router.post(BASE + "/{product_id}/images", response_class=HTMLResponse)
async def add_image(
    request: Request, db: DB, principal: Caller, locale: Locale, product_id: uuid.UUID
) -> Response:
    """Uploads an image of the product (JPEG, PNG or WebP)."""
    form = await read_form(request, principal)
    upload = form.get("image")
    alt = str(form.get("alt") or "").strip()
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise invalid("image", N_("This field is required"))
        limit = request.app.state.settings.max_upload_bytes
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise invalid("image", N_("The file is larger than {max} bytes"), max=limit)
        service.add_product_image(
            db,
            principal,
            product_id,
            data=data,
            filename=upload.filename,
            content_type=upload.content_type,
            alt={locale: alt} if alt else None,
            settings=request.app.state.settings,
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        product = service.get_product(db, principal, product_id)
        context = _detail_context(db, principal, product, locale)
        context["errors"] = {"image": " · ".join(form_errors(exc, locale).values())}
        return page(request, "registry/product_detail.html", context, status_code=422)
    return redirect(f"{BASE}/{product_id}", "saved")


@router.post(BASE + "/{product_id}/images/{image_id}/delete", response_class=HTMLResponse)
async def delete_image(
    request: Request, db: DB, principal: Caller, product_id: uuid.UUID, image_id: uuid.UUID
) -> Response:
    """Removes one image of the product."""
    await read_form(request, principal)
    service.delete_product_image(db, principal, product_id, image_id)
    return redirect(f"{BASE}/{product_id}", "deleted")
