"""Helpers shared by the registry services: admin units, uniqueness, paging."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from truyxuat.errors import N_, FieldError, ValidationFailed, invalid
from truyxuat.registry.models import AdminUnit

T = TypeVar("T")


def check_admin_units(
    session: Session,
    province_code: str | None,
    commune_code: str | None,
    *,
    required: bool = False,
) -> None:
    """Checks the province exists and the commune belongs to it."""
    if province_code is None:
        if required:
            raise invalid("province_code", N_("Province is required"))
        if commune_code is not None:
            raise invalid("province_code", N_("Province is required when a commune is given"))
        return
    province = session.get(AdminUnit, province_code)
    if province is None or province.level != "province":
        raise invalid("province_code", N_("Unknown province code {code}"), code=province_code)
    if commune_code is not None:
        commune = session.get(AdminUnit, commune_code)
        if commune is None or commune.level != "commune":
            raise invalid("commune_code", N_("Unknown commune code {code}"), code=commune_code)
        if commune.parent_code != province_code:
            raise invalid(
                "commune_code",
                N_("Commune {commune} is not in province {province}"),
                commune=commune.name,
                province=province.name,
            )


def ensure_unique(
    session: Session, column: Any, value: Any, *, field: str, exclude_id: Any = None
) -> None:
    """Raises a field error when another row already uses `value` in a unique column."""
    if value is None:
        return
    entity = column.class_
    query = select(entity.id).where(column == value)
    if exclude_id is not None:
        query = query.where(entity.id != exclude_id)
    if session.scalar(query.limit(1)) is not None:
        raise ValidationFailed(
            [FieldError([field], N_("{value} is already registered"), {"value": value})]
        )


def paginate(
    session: Session, query: Select[T], *, offset: int, limit: int
) -> tuple[list[T], int]:
    """Runs a listing query for one page and counts the whole result."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.offset(offset).limit(limit)))
    return items, total
