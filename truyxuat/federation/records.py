"""Master data that goes upstream: the public fields of organizations, facilities, growing
areas, products, certificates and stamp runs — what the registers publish, not private
business fields (contact people, phone numbers, who decided, uploaded documents).

A record is a flat JSON object with the row's ID, so both nodes hold the row under the same
UUID; its digest (canonical JSON) tells whether it changed since it was last acknowledged.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.db import Base, UTCDateTime
from truyxuat.registry.models import Certification, Facility, GrowingArea, Organization, Product
from truyxuat.stamps.models import StampRun

# Parents before children: a receiver inserts them in this order (foreign keys).
ENTITIES: dict[str, tuple[type[Base], tuple[str, ...]]] = {
    "organization": (
        Organization,
        (
            "id",
            "code",
            "kind",
            "name",
            "name_en",
            "tax_code",
            "gs1_company_prefix",
            "gln",
            "province_code",
            "commune_code",
            "address",
            "website",
            "status",
        ),
    ),
    "facility": (
        Facility,
        (
            "id",
            "org_id",
            "kind",
            "name",
            "gln",
            "province_code",
            "commune_code",
            "address",
            "latitude",
            "longitude",
        ),
    ),
    "growing_area": (
        GrowingArea,
        (
            "id",
            "org_id",
            "code",
            "name",
            "crop",
            "variety",
            "area_ha",
            "computed_area_ha",
            "geometry",
            "centroid_lat",
            "centroid_lon",
            "province_code",
            "commune_code",
            "export_markets",
            "status",
            "status_reason",
            "decided_at",
        ),
    ),
    "product": (
        Product,
        (
            "id",
            "org_id",
            "gtin",
            "names",
            "descriptions",
            "category",
            "moit_group",
            "ocop_stars",
            "ocop_year",
            "net_content",
            "origin_province_code",
            "is_active",
            "temperature_min",
            "temperature_max",
        ),
    ),
    "certification": (
        Certification,
        (
            "id",
            "org_id",
            "scheme",
            "scheme_name",
            "issuer",
            "number",
            "scope_type",
            "scope_id",
            "valid_from",
            "valid_to",
            "revoked_at",
            "suspended_at",
            "suspension_reason",
        ),
    ),
    "stamp_run": (
        StampRun,
        (
            "id",
            "org_id",
            "product_id",
            "gtin",
            "lot",
            "kind",
            "count",
            "state",
            "activated_count",
            "voided_count",
        ),
    ),
}


def _json_value(value: Any) -> Any:
    """A column value as JSON: enums by value, IDs and times as text."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def digest(record: Mapping[str, Any]) -> str:
    """`sha-256:<hex>` of a record's canonical JSON."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha-256:" + hashlib.sha256(text.encode()).hexdigest()


def public_records(
    db: Session, entity: str, ids: Sequence[uuid.UUID] | None = None
) -> Iterator[dict[str, Any]]:
    """Every row of one entity (or those with the given IDs) as its public record."""
    model, fields = ENTITIES[entity]
    columns = [getattr(model, name) for name in fields]
    statement = select(*columns).order_by(columns[0])
    if ids is not None:
        statement = statement.where(columns[0].in_(ids))
    for row in db.execute(statement):
        yield {name: _json_value(value) for name, value in zip(fields, row, strict=True)}


def _python_type(column_type: Any) -> Any:
    """The Python type a column holds (UTC timestamps are a decorator over DateTime)."""
    if isinstance(column_type, UTCDateTime):
        return datetime
    try:
        return column_type.python_type
    except NotImplementedError:
        return object


def column_values(entity: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A received record as column values (IDs, times and dates parsed back), public fields
    only: anything else the sender put in is ignored."""
    model, fields = ENTITIES[entity]
    table = model.__table__
    values: dict[str, Any] = {}
    for name in fields:
        value = record.get(name)
        if value is not None:
            python_type = _python_type(table.c[name].type)
            if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
                value = python_type(value)
            elif python_type is uuid.UUID:
                value = uuid.UUID(str(value))
            elif python_type is datetime:
                value = datetime.fromisoformat(str(value))
            elif python_type is date:
                value = date.fromisoformat(str(value))
        values[name] = value
    return values
