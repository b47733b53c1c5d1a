"""Products: trade items identified by a GTIN, with multilingual names, OCOP rating and images."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import Principal, ensure_readable, ensure_writable, read_filter
from truyxuat.config import Settings
from truyxuat.errors import N_, Conflict, FieldError, NotFound, ValidationFailed, invalid
from truyxuat.gs1 import gtin_matches_prefix, normalize_gtin
from truyxuat.i18n import CONTENT_LANGUAGES
from truyxuat.registry.models import (
    AdminUnit,
    MoitGroup,
    Organization,
    Product,
    ProductImage,
    StoredFile,
)
from truyxuat.registry.schemas.products import ProductIn, ProductPatch
from truyxuat.registry.service import common, files
from truyxuat.registry.service.common import ensure_unique, paginate, patch_values

# A BCP 47-ish tag: a 2-8 letter language, optionally with subtags (zh-hant, pt-br).
LANGUAGE_TAG = re.compile(r"^[a-z]{2,8}(-[a-z0-9]{1,8})*$")
REQUIRED_LANGUAGE = "vi"
NAME_MAX = 300
DESCRIPTION_MAX = 5000
OCOP_FIRST_YEAR = 2018  # the OCOP programme's first ratings
MAX_IMAGES = 20
FIELDS = [
    "gtin",
    "names",
    "descriptions",
    "category",
    "moit_group",
    "ocop_stars",
    "ocop_year",
    "net_content",
    "origin_province_code",
    "temperature_min",
    "temperature_max",
    "is_active",
]


def snapshot(product: Product) -> dict[str, Any]:
    """The product's fields, for the audit log."""
    return {f: getattr(product, f) for f in ["org_id", *FIELDS]}


def normalize_texts(
    texts: dict[str, str], *, field: str, max_length: int, required: bool
) -> dict[str, str]:
    """Validates a {language: text} map: tags lowercased and well formed, texts non-empty."""
    result: dict[str, str] = {}
    for raw_tag, raw_text in texts.items():
        tag = raw_tag.strip().lower().replace("_", "-")
        if not LANGUAGE_TAG.match(tag):
            raise invalid(
                [field, raw_tag],
                N_("{tag} is not a language code such as vi, en or zh"),
                tag=raw_tag,
            )
        if tag in result:
            raise invalid([field, raw_tag], N_("Language {tag} is given twice"), tag=tag)
        text = raw_text.strip()
        if not text:
            if required:
                raise invalid([field, tag], N_("The text in language {tag} is empty"), tag=tag)
            continue
        if len(text) > max_length:
            raise invalid(
                [field, tag],
                N_("The text in language {tag} is longer than {max} characters"),
                tag=tag,
                max=max_length,
            )
        result[tag] = text
    if required and REQUIRED_LANGUAGE not in result:
        raise invalid(field, N_("A Vietnamese (vi) name is required"))
    return result


def _check_gtin(session: Session, org: Organization, raw: str) -> str:
    """Validates a GTIN for an organization and returns its GTIN-14 form."""
    gtin = normalize_gtin(raw, field="gtin")
    prefix = org.gs1_company_prefix
    if prefix and not gtin_matches_prefix(gtin, prefix):
        raise invalid(
            "gtin",
            N_("GTIN {gtin} is not under the company prefix {prefix}"),
            gtin=raw.strip(),
            prefix=prefix,
        )
    ensure_unique(session, Product.gtin, gtin, field="gtin")
    return gtin


def _check_ocop(stars: int | None, year: int | None) -> None:
    """Checks the OCOP rating: both stars and year, or neither; a plausible year."""
    if (stars is None) != (year is None):
        missing = "ocop_year" if year is None else "ocop_stars"
        raise ValidationFailed(
            [FieldError([missing], N_("Give both the OCOP star rating and the year it was rated"))]
        )
    if stars is not None and not 3 <= stars <= 5:
        raise invalid("ocop_stars", N_("An OCOP rating has 3 to 5 stars"))
    last = date.today().year + 1
    if year is not None and not OCOP_FIRST_YEAR <= year <= last:
        raise invalid(
            "ocop_year",
            N_("The OCOP year must be between {first} and {last}"),
            first=OCOP_FIRST_YEAR,
            last=last,
        )


def _check_temperatures(low: float | None, high: float | None) -> None:
    """Checks a storage range (°C): the lowest limit may not be above the highest."""
    if low is not None and high is not None and low > high:
        raise invalid(
            "temperature_max",
            N_("The highest storage temperature must not be below the lowest"),
        )


def _check_province(session: Session, code: str | None) -> None:
    """Checks the origin province exists."""
    if code is None:
        return
    unit = session.get(AdminUnit, code)
    if unit is None or unit.level != "province":
        raise invalid("origin_province_code", N_("Unknown province code {code}"), code=code)


def _provinces(session: Session, product: Product) -> tuple[str | None, ...]:
    """The provinces whose authorities may read this product (its owner's and its origin)."""
    return common.owner_provinces(session, product.org_id, product.origin_province_code)


def create_product(session: Session, principal: Principal, data: ProductIn) -> Product:
    """Registers a product for an organization the caller may write to."""
    org = common.writable_org(session, principal, data.org_id)
    values = data.model_dump(exclude={"org_id"})
    values["names"] = normalize_texts(data.names, field="names", max_length=NAME_MAX, required=True)
    values["descriptions"] = normalize_texts(
        data.descriptions, field="descriptions", max_length=DESCRIPTION_MAX, required=False
    )
    values["gtin"] = _check_gtin(session, org, data.gtin)
    _check_ocop(data.ocop_stars, data.ocop_year)
    _check_temperatures(data.temperature_min, data.temperature_max)
    _check_province(session, data.origin_province_code)
    product = Product(org_id=org.id, **values)
    session.add(product)
    session.flush()
    auth_service.record(
        session, principal, "create", "product", product.id, org.id, snapshot(product)
    )
    return product


def get_product(session: Session, principal: Principal, product_id: uuid.UUID) -> Product:
    """Returns a product the caller may see."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound()
    ensure_readable(principal, product.org_id, _provinces(session, product))
    return product


def _writable_product(session: Session, principal: Principal, product_id: uuid.UUID) -> Product:
    """Returns a product the caller may change."""
    product = get_product(session, principal, product_id)
    ensure_writable(principal, product.org_id, _provinces(session, product))
    return product


def list_products(
    session: Session,
    principal: Principal,
    *,
    category: str | None = None,
    moit_group: MoitGroup | None = None,
    ocop: bool | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    include_inactive: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Product], int]:
    """Lists products the caller may see, filtered; `q` searches names and the GTIN."""
    query = select(Product).where(
        read_filter(principal, Product.org_id, (Product.origin_province_code,))
    )
    if not include_inactive:
        query = query.where(Product.is_active.is_(True))
    if category:
        query = query.where(Product.category == category)
    if moit_group:
        query = query.where(Product.moit_group == moit_group)
    if ocop is not None:
        query = query.where(
            Product.ocop_stars.is_not(None) if ocop else Product.ocop_stars.is_(None)
        )
    if org_id:
        query = query.where(Product.org_id == org_id)
    if q and q.strip():
        query = query.where(_matches(q.strip()))
    return paginate(
        session, query.order_by(Product.created_at, Product.id), offset=offset, limit=limit
    )


def _matches(text: str) -> ColumnElement[bool]:
    """A condition matching `text` in a product's names (content languages) or its GTIN.

    Names are JSON; extracting each known language keeps the search portable across SQLite
    and PostgreSQL (SQLite stores JSON with escaped non-ASCII, so a text cast cannot work).
    """
    like = f"%{text.lower()}%"
    clauses: list[ColumnElement[bool]] = [
        func.lower(Product.names[lang].as_string()).like(like) for lang in CONTENT_LANGUAGES
    ]
    digits = "".join(text.split())
    clauses.append(Product.gtin.contains(digits) if digits.isdigit() else false())
    return or_(*clauses)


def update_product(
    session: Session, principal: Principal, product_id: uuid.UUID, patch: ProductPatch
) -> Product:
    """Changes a product of an organization the caller may write to."""
    product = _writable_product(session, principal, product_id)
    changes = patch_values(patch, Product)
    for required in ("names", "descriptions", "category", "net_content", "is_active"):
        if required in changes and changes[required] is None:
            raise invalid(required, N_("This field cannot be empty"))
    if "names" in changes:
        changes["names"] = normalize_texts(
            changes["names"], field="names", max_length=NAME_MAX, required=True
        )
    if "descriptions" in changes:
        changes["descriptions"] = normalize_texts(
            changes["descriptions"],
            field="descriptions",
            max_length=DESCRIPTION_MAX,
            required=False,
        )
    if "ocop_stars" in changes or "ocop_year" in changes:
        _check_ocop(
            changes.get("ocop_stars", product.ocop_stars),
            changes.get("ocop_year", product.ocop_year),
        )
    if "temperature_min" in changes or "temperature_max" in changes:
        _check_temperatures(
            changes.get("temperature_min", product.temperature_min),
            changes.get("temperature_max", product.temperature_max),
        )
    if "origin_province_code" in changes:
        _check_province(session, changes["origin_province_code"])
    before = snapshot(product)
    for name, value in changes.items():
        setattr(product, name, value)
    session.flush()
    auth_service.record(
        session,
        principal,
        "update",
        "product",
        product.id,
        product.org_id,
        auth_service.diff(before, snapshot(product)),
    )
    return product


def deactivate_product(session: Session, principal: Principal, product_id: uuid.UUID) -> Product:
    """Withdraws a product from listings; the row stays because traces and stamps refer to it."""
    product = _writable_product(session, principal, product_id)
    if product.is_active:
        product.is_active = False
        session.flush()
        auth_service.record(
            session,
            principal,
            "deactivate",
            "product",
            product.id,
            product.org_id,
            {"is_active": [True, False]},
        )
    return product


def product_images(
    session: Session, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[ProductImage, StoredFile]]]:
    """The images of already-authorized products with their files, in display order."""
    result: dict[uuid.UUID, list[tuple[ProductImage, StoredFile]]] = {
        pid: [] for pid in product_ids
    }
    if not product_ids:
        return result
    rows = session.execute(
        select(ProductImage, StoredFile)
        .join(StoredFile, StoredFile.id == ProductImage.file_id)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.position, ProductImage.id)
    )
    for image, stored in rows:
        result[image.product_id].append((image, stored))
    return result


def add_product_image(
    session: Session,
    principal: Principal,
    product_id: uuid.UUID,
    *,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    alt: dict[str, str] | None,
    settings: Settings,
) -> tuple[ProductImage, StoredFile]:
    """Stores an uploaded JPEG, PNG or WebP image and appends it to a product's images."""
    product = _writable_product(session, principal, product_id)
    count, last = session.execute(
        select(func.count(ProductImage.id), func.max(ProductImage.position)).where(
            ProductImage.product_id == product.id
        )
    ).one()
    if count >= MAX_IMAGES:
        raise Conflict(N_("A product can have at most {max} images"), max=MAX_IMAGES)
    alt_texts = normalize_texts(alt or {}, field="alt", max_length=NAME_MAX, required=False)
    stored = files.store_file(
        session,
        principal,
        product.org_id,
        data,
        filename,
        content_type,
        files.IMAGE_TYPES,
        settings,
    )
    image = ProductImage(
        org_id=product.org_id,
        product_id=product.id,
        file_id=stored.id,
        position=(last + 1) if last is not None else 0,
        alt=alt_texts,
    )
    session.add(image)
    session.flush()
    auth_service.record(
        session,
        principal,
        "add_image",
        "product",
        product.id,
        product.org_id,
        {"image_id": image.id, "file_id": stored.id, "sha256": stored.sha256},
    )
    return image, stored


def delete_product_image(
    session: Session, principal: Principal, product_id: uuid.UUID, image_id: uuid.UUID
) -> None:
    """Removes one image from a product (and its file record once nothing else uses it)."""
    product = _writable_product(session, principal, product_id)
    image = session.get(ProductImage, image_id)
    if image is None or image.product_id != product.id:
        raise NotFound()
    file_id = image.file_id
    session.delete(image)
    session.flush()
    auth_service.record(
        session,
        principal,
        "remove_image",
        "product",
        product.id,
        product.org_id,
        {"image_id": image_id, "file_id": file_id},
    )
    files.release_file(session, principal, file_id)
