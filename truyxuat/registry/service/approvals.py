"""Codes an authority approves: growing-area and packing-house codes.

Holds what both kinds share (code format and uniqueness, the owning organization, export
markets, going back to pending after a material change), the authority's decisions with their
allowed transitions, and the queue of codes awaiting a decision.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Principal, ensure_decider, ensure_readable
from truyxuat.db import utcnow
from truyxuat.errors import N_, Conflict, FieldError, Forbidden, NotFound, ValidationFailed, invalid
from truyxuat.ledger import service as ledger
from truyxuat.registry.models import CodeStatus, GrowingArea, Organization, OrgKind, PackingHouse
from truyxuat.registry.service.common import (
    ensure_unique,
    org_province,
    writable_org,
)

T = TypeVar("T")
CodeKind = Literal["growing_area", "packing_house"]
KINDS: tuple[CodeKind, ...] = ("growing_area", "packing_house")

CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9.-]{1,62})[A-Z0-9]$")
MARKET = re.compile(r"^[A-Z][A-Z0-9-]{1,19}$")

# From each status, the decisions an authority may take. Revoked is final: a new application
# needs a new code.
TRANSITIONS: dict[CodeStatus, frozenset[CodeStatus]] = {
    CodeStatus.pending: frozenset({CodeStatus.approved, CodeStatus.revoked}),
    CodeStatus.approved: frozenset({CodeStatus.suspended, CodeStatus.revoked}),
    CodeStatus.suspended: frozenset({CodeStatus.approved, CodeStatus.revoked}),
    CodeStatus.revoked: frozenset(),
}
NEEDS_REASON = frozenset({CodeStatus.suspended, CodeStatus.revoked})


class Checks:
    """Runs several field checks and reports all their errors at once (forms show them all)."""

    def __init__(self) -> None:
        """Starts with no errors."""
        self.errors: list[FieldError] = []

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Runs one check; returns its result, or None after recording its field errors."""
        try:
            return check(*args, **kwargs)
        except ValidationFailed as exc:
            self.errors.extend(exc.errors)
            return None

    def done(self) -> None:
        """Raises every recorded field error together."""
        if self.errors:
            raise ValidationFailed(self.errors)


def normalize_code(code: str) -> str:
    """Upper-cases a code and checks its format: A–Z, 0–9, '-' and '.', 3 to 64 characters."""
    value = code.strip().upper()
    if not CODE.match(value):
        raise invalid(
            "code",
            N_("A code has 3 to 64 characters: letters A–Z, digits, '-' and '.'; got {code}"),
            code=code,
        )
    return value


def normalize_list(
    values: list[str], *, field: str, pattern: re.Pattern[str] | None, max_chars: int
) -> str:
    """Joins a list (markets, crops) into its stored comma-separated form, checking each item."""
    items: list[str] = []
    for index, raw in enumerate(values):
        item = raw.strip().upper() if pattern is not None else raw.strip()
        if not item:
            continue
        if "," in item or (pattern is not None and not pattern.match(item)):
            raise invalid([field, index], N_("{value} is not a valid entry"), value=raw)
        if item not in items:
            items.append(item)
    joined = ", ".join(items)
    if len(joined) > max_chars:
        raise invalid(field, N_("The list is too long (at most {n} characters)"), n=max_chars)
    return joined


def normalize_markets(markets: list[str]) -> str:
    """Export markets as stored: upper-case codes such as EU, US, CN, JP."""
    return normalize_list(markets, field="export_markets", pattern=MARKET, max_chars=200)


def owning_org(session: Session, principal: Principal, org_id: uuid.UUID | None) -> Organization:
    """The producer a new code is registered to, which the caller must be allowed to change."""
    org = writable_org(session, principal, org_id)
    if org.kind in (OrgKind.authority, OrgKind.platform):
        raise invalid("org_id", N_("Codes are registered to producers, not to authorities"))
    return org


@contextmanager
def guarded_code(
    session: Session, column: Any, code: str, *, exclude_id: uuid.UUID | None = None
) -> Iterator[None]:
    """Runs an insert/update in a savepoint so a duplicate code that slipped past the check
    (a concurrent request) becomes a field error on "code", never a 500."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        ensure_unique(session, column, code, field="code", exclude_id=exclude_id)
        raise


def ensure_editable(status: CodeStatus) -> None:
    """Refuses changes to a revoked code (revocation is final)."""
    if status is CodeStatus.revoked:
        raise Conflict(N_("A revoked code cannot be changed"))


def ensure_code_change_allowed(status: CodeStatus, old: str, new: str) -> None:
    """A code may be renamed only while pending: once granted it is an official identifier."""
    if new != old and status is not CodeStatus.pending:
        raise Conflict(N_("Code {code} is already granted and cannot be renamed"), code=old)


def reopen(
    obj: GrowingArea | PackingHouse, changed: set[str], material: frozenset[str]
) -> list[str]:
    """Sends an approved code back to pending when a field its approval relied on changed.

    Returns the material fields that changed (empty when the status stays).
    """
    fields = sorted(changed & material)
    if obj.status is not CodeStatus.approved or not fields:
        return []
    obj.status = CodeStatus.pending
    obj.status_reason = ""
    obj.decided_by = None
    obj.decided_at = None
    return fields


def _parse_status(status: str) -> CodeStatus:
    """Reads a decision's target status."""
    try:
        return CodeStatus(status)
    except ValueError:
        raise invalid("status", N_("Unknown status {status}"), status=status) from None


def _decide(
    session: Session,
    principal: Principal,
    obj: GrowingArea | PackingHouse,
    entity_type: CodeKind,
    status: str,
    reason: str,
) -> None:
    """Applies an authority's decision to a code the caller can already read."""
    ensure_decider(principal, obj.province_code)
    new_status = _parse_status(status)
    old_status = obj.status
    if new_status not in TRANSITIONS[old_status]:
        raise Conflict(
            N_("Cannot change status from {old} to {new}"), old=old_status, new=new_status
        )
    reason = reason.strip()
    if new_status in NEEDS_REASON and not reason:
        raise invalid("reason", N_("Give a reason for this decision"))
    obj.status = new_status
    obj.status_reason = reason
    obj.decided_by = principal.user_id
    obj.decided_at = utcnow()
    session.flush()
    auth_service.record(
        session,
        principal,
        "decide",
        entity_type,
        obj.id,
        obj.org_id,
        {"status": [old_status, new_status], "reason": reason},
    )
    ledger.append_record(
        session,
        f"registry.{entity_type}.{new_status.value}",
        {"id": obj.id, "code": obj.code, "status": new_status, "at": obj.decided_at},
        subject=str(obj.org_id),
    )


def decide_growing_area(
    session: Session, principal: Principal, area_id: uuid.UUID, status: str, reason: str = ""
) -> GrowingArea:
    """An authority approves, suspends or revokes a growing-area code in its province."""
    area = session.get(GrowingArea, area_id)
    if area is None:
        raise NotFound()
    ensure_readable(
        principal, area.org_id, (area.province_code, org_province(session, area.org_id))
    )
    _decide(session, principal, area, "growing_area", status, reason)
    return area


def decide_packing_house(
    session: Session, principal: Principal, house_id: uuid.UUID, status: str, reason: str = ""
) -> PackingHouse:
    """An authority approves, suspends or revokes a packing-house code in its province."""
    house = session.get(PackingHouse, house_id)
    if house is None:
        raise NotFound()
    ensure_readable(
        principal, house.org_id, (house.province_code, org_province(session, house.org_id))
    )
    _decide(session, principal, house, "packing_house", status, reason)
    return house


@dataclass(frozen=True)
class QueueItem:
    """One code awaiting a decision, with what an authority needs to pick it up."""

    kind: CodeKind
    id: uuid.UUID
    code: str
    name: str
    org_id: uuid.UUID
    org_name: str
    province_code: str
    crops: str
    area_ha: float | None
    submitted_at: datetime


def approval_queue(
    session: Session,
    principal: Principal,
    kind: str | None = None,
    *,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[QueueItem], int]:
    """Pending codes in the caller's jurisdiction, oldest first (authorities and admins only)."""
    if kind is not None and kind not in KINDS:
        raise invalid("kind", N_("Unknown kind {kind}"), kind=kind)
    zones = principal.jurisdictions(frozenset({Role.authority}))
    if not principal.is_platform_admin and not zones:
        raise Forbidden()
    provinces = None if principal.is_platform_admin or None in zones else zones
    items: list[QueueItem] = []
    total = 0
    # Each kind is read up to offset+limit rows; merging the two sorted lists gives the page.
    if kind in (None, "growing_area"):
        area_query = (
            select(GrowingArea, Organization.name)
            .join(Organization, Organization.id == GrowingArea.org_id)
            .where(GrowingArea.status == CodeStatus.pending)
        )
        if provinces is not None:
            area_query = area_query.where(GrowingArea.province_code.in_(provinces))
        total += _count(session, area_query)
        for area, org_name in session.execute(
            area_query.order_by(GrowingArea.updated_at, GrowingArea.id).limit(offset + limit)
        ):
            items.append(
                QueueItem(
                    "growing_area",
                    area.id,
                    area.code,
                    area.name,
                    area.org_id,
                    org_name,
                    area.province_code,
                    area.crop,
                    area.area_ha,
                    area.updated_at,
                )
            )
    if kind in (None, "packing_house"):
        house_query = (
            select(PackingHouse, Organization.name)
            .join(Organization, Organization.id == PackingHouse.org_id)
            .where(PackingHouse.status == CodeStatus.pending)
        )
        if provinces is not None:
            house_query = house_query.where(PackingHouse.province_code.in_(provinces))
        total += _count(session, house_query)
        for house, org_name in session.execute(
            house_query.order_by(PackingHouse.updated_at, PackingHouse.id).limit(offset + limit)
        ):
            items.append(
                QueueItem(
                    "packing_house",
                    house.id,
                    house.code,
                    house.name,
                    house.org_id,
                    org_name,
                    house.province_code,
                    house.crops,
                    None,
                    house.updated_at,
                )
            )
    items.sort(key=lambda item: (item.submitted_at, str(item.id)))
    return items[offset : offset + limit], total


def _count(session: Session, query: Any) -> int:
    """Counts the rows of a query."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
