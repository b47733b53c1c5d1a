"""Packing-house codes (mã số cơ sở đóng gói): application and changes.

A code is applied for by the organization running the packing house, starts pending, and is
approved by the authority of its province (see `approvals`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import Principal, ensure_readable, ensure_writable, read_filter
from truyxuat.errors import N_, NotFound, invalid
from truyxuat.registry.models import CodeStatus, Facility, PackingHouse
from truyxuat.registry.schemas.packing_houses import PackingHouseIn, PackingHousePatch
from truyxuat.registry.service.approvals import (
    Checks,
    ensure_code_change_allowed,
    ensure_editable,
    guarded_code,
    normalize_code,
    normalize_list,
    normalize_markets,
    owning_org,
    reopen,
)
from truyxuat.registry.service.common import (
    check_admin_units,
    contains_pattern,
    ensure_unique,
    org_province,
    paginate,
    patch_values,
)

# Fields the authority's approval relied on: changing one sends an approved code back.
MATERIAL_FIELDS = frozenset({"facility_id", "crops", "address", "province_code", "commune_code"})
_FIELDS = [
    "code",
    "name",
    "facility_id",
    "crops",
    "capacity_tonnes_per_day",
    "province_code",
    "commune_code",
    "address",
    "export_markets",
    "status",
    "status_reason",
]
# Fields that may be cleared with an explicit null in a patch.
_NULLABLE = frozenset({"facility_id", "capacity_tonnes_per_day", "commune_code"})


def snapshot(house: PackingHouse) -> dict[str, Any]:
    """The packing house's fields, for the audit log."""
    return {f: getattr(house, f) for f in _FIELDS}


def normalize_crops(crops: list[str]) -> str:
    """Crops as stored: a comma-separated list of names, as given (e.g. "Vải thiều, Nhãn")."""
    return normalize_list(crops, field="crops", pattern=None, max_chars=300)


def _check_facility(session: Session, facility_id: uuid.UUID | None, org_id: uuid.UUID) -> None:
    """The facility, if named, must be one of the owning organization's own."""
    if facility_id is None:
        return
    owner = session.scalar(select(Facility.org_id).where(Facility.id == facility_id))
    # The same message whether it is missing or another tenant's, so ids reveal nothing.
    if owner != org_id:
        raise invalid("facility_id", N_("No such facility in this organization"))


def create_packing_house(
    session: Session, principal: Principal, data: PackingHouseIn
) -> PackingHouse:
    """Applies for a packing-house code; it starts pending the authority's approval."""
    org = owning_org(session, principal, data.org_id)
    checks = Checks()
    code = checks.run(normalize_code, data.code)
    if code is not None:
        checks.run(ensure_unique, session, PackingHouse.code, code, field="code")
    checks.run(_check_facility, session, data.facility_id, org.id)
    checks.run(check_admin_units, session, data.province_code, data.commune_code, required=True)
    crops = checks.run(normalize_crops, data.crops)
    markets = checks.run(normalize_markets, data.export_markets)
    checks.done()
    assert code is not None and crops is not None and markets is not None
    house = PackingHouse(
        org_id=org.id,
        code=code,
        name=data.name,
        facility_id=data.facility_id,
        crops=crops,
        capacity_tonnes_per_day=data.capacity_tonnes_per_day,
        province_code=data.province_code,
        commune_code=data.commune_code,
        address=data.address,
        export_markets=markets,
        status=CodeStatus.pending,
        status_reason="",
    )
    with guarded_code(session, PackingHouse.code, code):
        session.add(house)
    auth_service.record(
        session, principal, "create", "packing_house", house.id, house.org_id, snapshot(house)
    )
    return house


def get_packing_house(session: Session, principal: Principal, house_id: uuid.UUID) -> PackingHouse:
    """Returns a packing house the caller may see (owning org, authorities of its province)."""
    house = session.get(PackingHouse, house_id)
    if house is None:
        raise NotFound()
    ensure_readable(principal, house.org_id, _provinces(session, house))
    return house


def _provinces(session: Session, house: PackingHouse) -> tuple[str | None, ...]:
    """Provinces whose authorities may read the packing house: its own and its owner's."""
    return (house.province_code, org_province(session, house.org_id))


def list_packing_houses(
    session: Session,
    principal: Principal,
    *,
    status: CodeStatus | None = None,
    crop: str | None = None,
    province_code: str | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[PackingHouse], int]:
    """Lists the packing houses the caller may see, filtered, by code."""
    query = select(PackingHouse).where(
        read_filter(principal, PackingHouse.org_id, (PackingHouse.province_code,))
    )
    if status:
        query = query.where(PackingHouse.status == status)
    if crop and crop.strip():
        query = query.where(PackingHouse.crops.ilike(contains_pattern(crop), escape="\\"))
    if province_code:
        query = query.where(PackingHouse.province_code == province_code)
    if org_id:
        query = query.where(PackingHouse.org_id == org_id)
    if q and q.strip():
        like = contains_pattern(q)
        query = query.where(
            PackingHouse.code.ilike(like, escape="\\") | PackingHouse.name.ilike(like, escape="\\")
        )
    return paginate(session, query.order_by(PackingHouse.code), offset=offset, limit=limit)


def update_packing_house(
    session: Session, principal: Principal, house_id: uuid.UUID, patch: PackingHousePatch
) -> PackingHouse:
    """Changes a packing house; a material change to an approved code needs re-approval."""
    house = get_packing_house(session, principal, house_id)
    ensure_writable(principal, house.org_id, _provinces(session, house))
    ensure_editable(house.status)
    values = patch_values(patch, PackingHouse)
    # Null clears an optional field and means "unchanged" for a required one.
    values = {k: v for k, v in values.items() if v is not None or k in _NULLABLE}
    before = snapshot(house)

    checks = Checks()
    if "code" in values:
        code = checks.run(normalize_code, values["code"])
        if code is not None:
            checks.run(ensure_code_change_allowed, house.status, house.code, code)
            checks.run(
                ensure_unique, session, PackingHouse.code, code, field="code", exclude_id=house.id
            )
            values["code"] = code
    if "facility_id" in values:
        checks.run(_check_facility, session, values["facility_id"], house.org_id)
    if "province_code" in values or "commune_code" in values:
        checks.run(
            check_admin_units,
            session,
            values.get("province_code", house.province_code),
            values.get("commune_code", house.commune_code),
            required=True,
        )
    if "crops" in values:
        values["crops"] = checks.run(normalize_crops, values["crops"])
    if "export_markets" in values:
        values["export_markets"] = checks.run(normalize_markets, values["export_markets"])
    checks.done()

    with guarded_code(
        session, PackingHouse.code, values.get("code", house.code), exclude_id=house.id
    ):
        for name, value in values.items():
            setattr(house, name, value)
    changes = auth_service.diff(before, snapshot(house))
    reopened = reopen(house, set(changes), MATERIAL_FIELDS)
    if reopened:
        changes["status"] = [before["status"], house.status]
        changes["reapproval_required"] = reopened
    session.flush()
    auth_service.record(
        session, principal, "update", "packing_house", house.id, house.org_id, changes
    )
    return house
