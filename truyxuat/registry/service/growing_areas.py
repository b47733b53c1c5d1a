"""Growing-area codes (mã số vùng trồng): application, owners, geometry checks and changes.

A code is applied for by the producer that farms the area, starts pending, and is approved by
the authority of its province (see `approvals`). Its plot is validated under EUDR rules
(`registry.geometry`): a polygon, or a point for plots of at most 4 ha.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import Principal, ensure_readable, ensure_writable, read_filter
from truyxuat.errors import N_, FieldError, NotFound, ValidationFailed
from truyxuat.registry.geometry import CheckedGeometry, check_geometry
from truyxuat.registry.models import (
    CodeStatus,
    GrowingArea,
    GrowingAreaOwner,
    Organization,
    OrgKind,
)
from truyxuat.registry.schemas.growing_areas import (
    GrowingAreaIn,
    GrowingAreaOut,
    GrowingAreaPatch,
    OwnerIn,
)
from truyxuat.registry.service.approvals import (
    Checks,
    ensure_code_change_allowed,
    ensure_editable,
    guarded_code,
    normalize_code,
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
MATERIAL_FIELDS = frozenset({"geometry", "area_ha", "crop", "province_code", "commune_code"})
# Owners may declare shares that, rounded, slightly exceed the whole.
OWNER_AREA_TOLERANCE = 0.10
_FIELDS = [
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
]


def snapshot(area: GrowingArea, owners: list[GrowingAreaOwner]) -> dict[str, Any]:
    """The area's fields and owners, for the audit log."""
    values = {f: getattr(area, f) for f in _FIELDS}
    values["owners"] = [
        {
            "name": o.name,
            "phone": o.phone,
            "household_org_id": o.household_org_id,
            "area_ha": o.area_ha,
        }
        for o in owners
    ]
    return values


def _check_owners(session: Session, owners: list[OwnerIn], area_ha: float) -> None:
    """Checks each owner's household organization and that their shares fit in the area."""
    errors: list[FieldError] = []
    for index, owner in enumerate(owners):
        if owner.household_org_id is None:
            continue
        kind = session.scalar(
            select(Organization.kind).where(Organization.id == owner.household_org_id)
        )
        if kind not in (OrgKind.household, OrgKind.cooperative):
            errors.append(
                FieldError(
                    ["owners", index, "household_org_id"],
                    N_("Unknown household organization"),
                )
            )
    shares = sum(o.area_ha or 0.0 for o in owners)
    if shares > area_ha * (1 + OWNER_AREA_TOLERANCE):
        errors.append(
            FieldError(
                ["owners"],
                N_("Owners' areas add up to {sum} ha, more than the declared {area} ha"),
                {"sum": f"{shares:.2f}", "area": f"{area_ha:.2f}"},
            )
        )
    if errors:
        raise ValidationFailed(errors)


def _apply_geometry(area: GrowingArea, checked: CheckedGeometry) -> None:
    """Stores a validated plot: normalized GeoJSON, geodesic area and centroid."""
    area.geometry = checked.geojson
    area.computed_area_ha = round(checked.area_ha, 4)
    area.centroid_lon, area.centroid_lat = checked.centroid


def _owner_rows(area: GrowingArea, owners: list[OwnerIn]) -> list[GrowingAreaOwner]:
    """Builds the owner rows of an area (tenant rows carry the area's organization)."""
    return [
        GrowingAreaOwner(
            org_id=area.org_id,
            growing_area_id=area.id,
            name=o.name,
            phone=o.phone,
            household_org_id=o.household_org_id,
            area_ha=o.area_ha,
        )
        for o in owners
    ]


def create_growing_area(session: Session, principal: Principal, data: GrowingAreaIn) -> GrowingArea:
    """Applies for a growing-area code; it starts pending the authority's approval."""
    org = owning_org(session, principal, data.org_id)
    checks = Checks()
    code = checks.run(normalize_code, data.code)
    if code is not None:
        checks.run(ensure_unique, session, GrowingArea.code, code, field="code")
    checks.run(check_admin_units, session, data.province_code, data.commune_code, required=True)
    checked = checks.run(
        check_geometry, data.geometry, declared_area_ha=data.area_ha, require_vietnam=True
    )
    markets = checks.run(normalize_markets, data.export_markets)
    checks.run(_check_owners, session, data.owners, data.area_ha)
    checks.done()
    assert code is not None and checked is not None and markets is not None
    area = GrowingArea(
        org_id=org.id,
        code=code,
        name=data.name,
        crop=data.crop,
        variety=data.variety,
        area_ha=data.area_ha,
        province_code=data.province_code,
        commune_code=data.commune_code,
        export_markets=markets,
        status=CodeStatus.pending,
        status_reason="",
    )
    _apply_geometry(area, checked)
    with guarded_code(session, GrowingArea.code, code):
        session.add(area)
        session.flush()
        owners = _owner_rows(area, data.owners)
        session.add_all(owners)
    auth_service.record(
        session, principal, "create", "growing_area", area.id, area.org_id, snapshot(area, owners)
    )
    return area


def get_growing_area(session: Session, principal: Principal, area_id: uuid.UUID) -> GrowingArea:
    """Returns a growing area the caller may see (owning org, authorities of its province)."""
    area = session.get(GrowingArea, area_id)
    if area is None:
        raise NotFound()
    ensure_readable(principal, area.org_id, _provinces(session, area))
    return area


def _provinces(session: Session, area: GrowingArea) -> tuple[str | None, ...]:
    """Provinces whose authorities may read the area: its own and its owner's."""
    return (area.province_code, org_province(session, area.org_id))


def list_growing_areas(
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
) -> tuple[list[GrowingArea], int]:
    """Lists the growing areas the caller may see, filtered, by code."""
    query = select(GrowingArea).where(
        read_filter(principal, GrowingArea.org_id, (GrowingArea.province_code,))
    )
    if status:
        query = query.where(GrowingArea.status == status)
    if crop and crop.strip():
        query = query.where(GrowingArea.crop.ilike(contains_pattern(crop), escape="\\"))
    if province_code:
        query = query.where(GrowingArea.province_code == province_code)
    if org_id:
        query = query.where(GrowingArea.org_id == org_id)
    if q and q.strip():
        like = contains_pattern(q)
        query = query.where(
            GrowingArea.code.ilike(like, escape="\\") | GrowingArea.name.ilike(like, escape="\\")
        )
    return paginate(session, query.order_by(GrowingArea.code), offset=offset, limit=limit)


def owners_by_area(
    session: Session, area_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[GrowingAreaOwner]]:
    """Loads the owners of several areas in one query."""
    found: dict[uuid.UUID, list[GrowingAreaOwner]] = defaultdict(list)
    if area_ids:
        rows = session.scalars(
            select(GrowingAreaOwner)
            .where(GrowingAreaOwner.growing_area_id.in_(area_ids))
            .order_by(GrowingAreaOwner.name, GrowingAreaOwner.id)
        )
        for owner in rows:
            found[owner.growing_area_id].append(owner)
    return found


def to_out(session: Session, area: GrowingArea) -> GrowingAreaOut:
    """The API shape of one area, with its owners."""
    return GrowingAreaOut.from_model(area, owners_by_area(session, [area.id])[area.id])


def to_outs(session: Session, areas: list[GrowingArea]) -> list[GrowingAreaOut]:
    """The API shapes of several areas, loading their owners in one query."""
    owners = owners_by_area(session, [a.id for a in areas])
    return [GrowingAreaOut.from_model(a, owners[a.id]) for a in areas]


def as_feature(area: GrowingArea) -> dict[str, Any]:
    """The area as a GeoJSON Feature (RFC 7946), as EUDR due-diligence statements take it."""
    return {
        "type": "Feature",
        "id": str(area.id),
        "geometry": area.geometry,
        "properties": {
            "code": area.code,
            "name": area.name,
            "crop": area.crop,
            "variety": area.variety,
            "area_ha": area.area_ha,
            "computed_area_ha": area.computed_area_ha,
            "province_code": area.province_code,
            "commune_code": area.commune_code,
            "status": area.status.value,
        },
    }


def update_growing_area(
    session: Session, principal: Principal, area_id: uuid.UUID, patch: GrowingAreaPatch
) -> GrowingArea:
    """Changes a growing area; a material change to an approved code needs re-approval."""
    area = get_growing_area(session, principal, area_id)
    ensure_writable(principal, area.org_id, _provinces(session, area))
    ensure_editable(area.status)
    values = patch_values(patch, GrowingArea)
    # Only the commune may be cleared; null for any other field means "unchanged".
    values = {k: v for k, v in values.items() if v is not None or k == "commune_code"}
    old_owners = owners_by_area(session, [area.id])[area.id]
    before = snapshot(area, old_owners)

    checks = Checks()
    if "code" in values:
        code = checks.run(normalize_code, values["code"])
        if code is not None:
            checks.run(ensure_code_change_allowed, area.status, area.code, code)
            checks.run(
                ensure_unique, session, GrowingArea.code, code, field="code", exclude_id=area.id
            )
            values["code"] = code
    if "province_code" in values or "commune_code" in values:
        checks.run(
            check_admin_units,
            session,
            values.get("province_code", area.province_code),
            values.get("commune_code", area.commune_code),
            required=True,
        )
    area_ha = values.get("area_ha", area.area_ha)
    checked = None
    if "geometry" in values or "area_ha" in values:
        checked = checks.run(
            check_geometry,
            values.get("geometry", area.geometry),
            declared_area_ha=area_ha,
            require_vietnam=True,
        )
    if "export_markets" in values:
        values["export_markets"] = checks.run(normalize_markets, values["export_markets"])
    new_owners = patch.owners if "owners" in values else None
    if new_owners is not None or "area_ha" in values:
        current = new_owners if new_owners is not None else _as_owner_in(old_owners)
        checks.run(_check_owners, session, current, area_ha)
    checks.done()

    code = values.get("code", area.code)
    with guarded_code(session, GrowingArea.code, code, exclude_id=area.id):
        for name, value in values.items():
            if name not in ("geometry", "owners"):
                setattr(area, name, value)
        if checked is not None:
            _apply_geometry(area, checked)
        owners = old_owners
        if new_owners is not None:
            for old in old_owners:
                session.delete(old)
            owners = _owner_rows(area, new_owners)
            session.add_all(owners)
    after = snapshot(area, owners)
    changes = auth_service.diff(before, after)
    reopened = reopen(area, set(changes), MATERIAL_FIELDS)
    if reopened:
        changes["status"] = [before["status"], area.status]
        changes["reapproval_required"] = reopened
    session.flush()
    auth_service.record(session, principal, "update", "growing_area", area.id, area.org_id, changes)
    return area


def _as_owner_in(owners: list[GrowingAreaOwner]) -> list[OwnerIn]:
    """Existing owners in input form, to re-check their shares against a new area."""
    return [
        OwnerIn(name=o.name, phone=o.phone, household_org_id=o.household_org_id, area_ha=o.area_ha)
        for o in owners
    ]
