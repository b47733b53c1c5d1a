"""Helpers shared by the registry services: admin units, uniqueness, paging."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal, ensure_writable
from truyxuat.db import Base
from truyxuat.errors import N_, FieldError, NotFound, ValidationFailed, invalid
from truyxuat.registry.models import AdminUnit, Organization

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


def patch_values(patch: BaseModel, model: type[Base]) -> dict[str, Any]:
    """The fields a PATCH sets. An explicit null empties a text field that has an empty
    default and is refused for a required one (the column would refuse it later, as a 500)."""
    values = patch.model_dump(exclude_unset=True)
    columns = model.__table__.c
    errors: list[FieldError] = []
    for name, value in values.items():
        if value is None and name in columns and not columns[name].nullable:
            default = columns[name].default
            if default is not None and getattr(default, "arg", None) == "":
                values[name] = ""
            else:
                errors.append(FieldError([name], N_("This field cannot be empty"), {}))
    if errors:
        raise ValidationFailed(errors)
    return values


def paginate(session: Session, query: Select[T], *, offset: int, limit: int) -> tuple[list[T], int]:
    """Runs a listing query for one page and counts the whole result."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.offset(offset).limit(limit)))
    return items, total


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching `text` anywhere, literally."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def org_province(session: Session, org_id: uuid.UUID) -> str | None:
    """The province of the organization owning a row (authorities there may read it)."""
    return session.scalar(select(Organization.province_code).where(Organization.id == org_id))


def owner_provinces(
    session: Session, org_id: uuid.UUID, *extra: str | None
) -> tuple[str | None, ...]:
    """The owner organization's province plus the row's own, as `ensure_readable` wants them.

    `read_filter` lets an authority see rows of organizations in its province, so single-row
    checks must pass the owner's province too or lists and gets would disagree.
    """
    return (org_province(session, org_id), *extra)


def writable_org(session: Session, principal: Principal, org_id: uuid.UUID | None) -> Organization:
    """The organization a new row is created for (default: the caller's), checked writable."""
    org_id = org_id or principal.default_org_id()
    if org_id is None:
        raise invalid("org_id", N_("Choose the organization this belongs to"))
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound()
    ensure_writable(principal, org.id, (org.province_code,))
    return org
