"""Who is calling, and the rules that decide what they may read, change and approve.

Rules are pure functions of the principal and the object's owner/province, so every API,
page and CLI command applies the same ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from truyxuat.auth.models import Role
from truyxuat.errors import Forbidden, NotFound

WRITE_ROLES = frozenset({Role.org_admin, Role.org_staff})
OVERSIGHT_ROLES = frozenset({Role.authority, Role.inspector})


@dataclass(frozen=True)
class Grant:
    """One role held in one organization; `province_code` is that organization's province."""

    org_id: uuid.UUID
    role: Role
    province_code: str | None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user (web session) or an API key."""

    label: str
    grants: tuple[Grant, ...]
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    active_org_id: uuid.UUID | None = None
    csrf_token: str | None = None
    locale: str = "vi"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_platform_admin(self) -> bool:
        """True when the caller administers the whole platform."""
        return any(g.role is Role.platform_admin for g in self.grants)

    def roles_in(self, org_id: uuid.UUID) -> set[Role]:
        """The roles held in one organization."""
        return {g.role for g in self.grants if g.org_id == org_id}

    def member_org_ids(self) -> set[uuid.UUID]:
        """Organizations the caller belongs to, whatever the role."""
        return {g.org_id for g in self.grants}

    def writable_org_ids(self) -> set[uuid.UUID]:
        """Organizations whose data the caller may change."""
        return {g.org_id for g in self.grants if g.role in WRITE_ROLES}

    def jurisdictions(self, roles: frozenset[Role] = OVERSIGHT_ROLES) -> set[str | None]:
        """Provinces overseen by the caller's authority roles; None means nationwide."""
        return {g.province_code for g in self.grants if g.role in roles}

    def oversees(self, province_code: str | None, roles: frozenset[Role] = OVERSIGHT_ROLES) -> bool:
        """True when an authority/inspector grant covers this province."""
        zones = self.jurisdictions(roles)
        return None in zones or (province_code is not None and province_code in zones)

    def default_org_id(self) -> uuid.UUID | None:
        """The organization the caller acts for when none is named."""
        if self.active_org_id is not None:
            return self.active_org_id
        writable = [g.org_id for g in self.grants if g.role in WRITE_ROLES]
        if writable:
            return writable[0]
        return self.grants[0].org_id if self.grants else None


def can_read(principal: Principal, org_id: uuid.UUID, provinces: tuple[str | None, ...]) -> bool:
    """May the caller read an object owned by `org_id` located in any of `provinces`?"""
    if principal.is_platform_admin or org_id in principal.member_org_ids():
        return True
    return any(principal.oversees(p) for p in provinces if p is not None) or (
        None in principal.jurisdictions()
    )


def can_write(principal: Principal, org_id: uuid.UUID, *, admin_only: bool = False) -> bool:
    """May the caller change data owned by `org_id`?"""
    if principal.is_platform_admin:
        return True
    allowed = {Role.org_admin} if admin_only else WRITE_ROLES
    return bool(principal.roles_in(org_id) & allowed)


def ensure_readable(
    principal: Principal, org_id: uuid.UUID, provinces: tuple[str | None, ...] = ()
) -> None:
    """Raises NotFound (never revealing existence) when the caller may not read the object."""
    if not can_read(principal, org_id, provinces):
        raise NotFound()


def ensure_writable(
    principal: Principal,
    org_id: uuid.UUID,
    provinces: tuple[str | None, ...] = (),
    *,
    admin_only: bool = False,
) -> None:
    """Raises NotFound if the object is invisible to the caller, Forbidden if only readable."""
    ensure_readable(principal, org_id, provinces)
    if not can_write(principal, org_id, admin_only=admin_only):
        raise Forbidden()


def ensure_decider(principal: Principal, province_code: str | None) -> None:
    """Raises Forbidden unless the caller is an authority over this province (or platform admin)."""
    if principal.is_platform_admin:
        return
    if not principal.oversees(province_code, frozenset({Role.authority})):
        raise Forbidden()


def read_filter(
    principal: Principal,
    org_id_column: Any,
    province_columns: tuple[Any, ...] = (),
) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows the caller may read (tenant rows + jurisdiction)."""
    from truyxuat.registry.models import Organization

    if principal.is_platform_admin:
        return true()
    zones = principal.jurisdictions()
    if None in zones:
        return true()
    clauses: list[ColumnElement[bool]] = []
    members = principal.member_org_ids()
    if members:
        clauses.append(org_id_column.in_(members))
    provinces = {z for z in zones if z is not None}
    if provinces:
        clauses.append(
            org_id_column.in_(
                select(Organization.id).where(Organization.province_code.in_(provinces))
            )
        )
        clauses.extend(col.in_(provinces) for col in province_columns)
    return or_(*clauses) if clauses else false()
