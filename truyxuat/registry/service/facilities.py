"""Facilities: the places an organization operates, each optionally identified by a GLN."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import Principal, ensure_readable, ensure_writable, read_filter
from truyxuat.errors import N_, Conflict, NotFound, invalid
from truyxuat.gs1 import gln_matches_prefix, normalize_gln
from truyxuat.registry.models import (
    Certification,
    CertScope,
    Facility,
    FacilityKind,
    Organization,
    PackingHouse,
)
from truyxuat.registry.schemas.facilities import FacilityIn, FacilityPatch
from truyxuat.registry.service.common import (
    check_admin_units,
    ensure_unique,
    owner_provinces,
    paginate,
    patch_values,
    writable_org,
)

FIELDS = [
    "kind",
    "name",
    "gln",
    "province_code",
    "commune_code",
    "address",
    "latitude",
    "longitude",
]


def snapshot(facility: Facility) -> dict[str, Any]:
    """The facility's fields, for the audit log."""
    return {f: getattr(facility, f) for f in ["org_id", *FIELDS]}


def _provinces(session: Session, facility: Facility) -> tuple[str | None, ...]:
    """The provinces whose authorities may read this facility (its owner's and its own)."""
    return owner_provinces(session, facility.org_id, facility.province_code)


def _check_gln(
    session: Session, org: Organization, values: dict[str, Any], *, exclude_id: uuid.UUID | None
) -> None:
    """Normalizes the GLN in place and checks it is the organization's and not yet used."""
    if values.get("gln"):
        values["gln"] = normalize_gln(values["gln"])
        prefix = org.gs1_company_prefix
        if prefix and not gln_matches_prefix(values["gln"], prefix):
            raise invalid(
                "gln",
                N_("GLN {gln} does not start with the company prefix {prefix}"),
                gln=values["gln"],
                prefix=prefix,
            )
        ensure_unique(session, Facility.gln, values["gln"], field="gln", exclude_id=exclude_id)
    else:
        values["gln"] = None


def _check(
    session: Session,
    org: Organization,
    values: dict[str, Any],
    *,
    changed: set[str],
    exclude_id: uuid.UUID | None,
) -> None:
    """Validates a facility's merged values in place: GLN, admin units, coordinates.

    Only changed identifiers are re-checked, so editing a name never fails on a GLN that
    predates a change of the organization's company prefix.
    """
    if "gln" in changed:
        _check_gln(session, org, values, exclude_id=exclude_id)
    if changed & {"province_code", "commune_code"}:
        check_admin_units(session, values.get("province_code"), values.get("commune_code"))
    # A half coordinate cannot be placed on a map or in an EPCIS event.
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        missing = "longitude" if values.get("longitude") is None else "latitude"
        raise invalid(missing, N_("Give both latitude and longitude, or neither"))


def create_facility(session: Session, principal: Principal, data: FacilityIn) -> Facility:
    """Registers a facility for an organization the caller may write to."""
    org = writable_org(session, principal, data.org_id)
    values = data.model_dump(exclude={"org_id"})
    _check(session, org, values, changed=set(values), exclude_id=None)
    facility = Facility(org_id=org.id, **values)
    session.add(facility)
    session.flush()
    auth_service.record(
        session, principal, "create", "facility", facility.id, org.id, snapshot(facility)
    )
    return facility


def get_facility(session: Session, principal: Principal, facility_id: uuid.UUID) -> Facility:
    """Returns a facility the caller may see."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise NotFound()
    ensure_readable(principal, facility.org_id, _provinces(session, facility))
    return facility


def list_facilities(
    session: Session,
    principal: Principal,
    *,
    kind: FacilityKind | None = None,
    province_code: str | None = None,
    org_id: uuid.UUID | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Facility], int]:
    """Lists facilities the caller may see, filtered."""
    query = select(Facility).where(
        read_filter(principal, Facility.org_id, (Facility.province_code,))
    )
    if kind:
        query = query.where(Facility.kind == kind)
    if province_code:
        query = query.where(Facility.province_code == province_code)
    if org_id:
        query = query.where(Facility.org_id == org_id)
    if q and q.strip():
        text = q.strip()
        query = query.where(
            or_(
                Facility.name.ilike(f"%{text}%"),
                Facility.address.ilike(f"%{text}%"),
                Facility.gln.startswith("".join(text.split())),
            )
        )
    return paginate(session, query.order_by(Facility.name, Facility.id), offset=offset, limit=limit)


def update_facility(
    session: Session, principal: Principal, facility_id: uuid.UUID, patch: FacilityPatch
) -> Facility:
    """Changes a facility of an organization the caller may write to."""
    facility = get_facility(session, principal, facility_id)
    ensure_writable(principal, facility.org_id, _provinces(session, facility))
    changes = patch_values(patch, Facility)
    for required in ("kind", "name"):
        if required in changes and changes[required] is None:
            raise invalid(required, N_("This field cannot be empty"))
    if changes.get("address", "") is None:
        changes["address"] = ""
    before = snapshot(facility)
    values = {**before, **changes}
    org = session.get(Organization, facility.org_id)
    assert org is not None  # foreign key
    _check(session, org, values, changed=set(changes), exclude_id=facility.id)
    for name in FIELDS:
        setattr(facility, name, values[name])
    session.flush()
    auth_service.record(
        session,
        principal,
        "update",
        "facility",
        facility.id,
        facility.org_id,
        auth_service.diff(before, snapshot(facility)),
    )
    return facility


def delete_facility(session: Session, principal: Principal, facility_id: uuid.UUID) -> None:
    """Deletes a facility nothing else refers to (certificates, packing-house codes)."""
    facility = get_facility(session, principal, facility_id)
    ensure_writable(principal, facility.org_id, _provinces(session, facility))
    certified = session.scalar(
        select(Certification.id)
        .where(Certification.scope_type == CertScope.facility)
        .where(Certification.scope_id == facility.id)
        .limit(1)
    )
    packing = session.scalar(
        select(PackingHouse.id).where(PackingHouse.facility_id == facility.id).limit(1)
    )
    if certified is not None or packing is not None:
        raise Conflict(
            N_("This facility is still referred to by certificates or packing-house codes")
        )
    before = snapshot(facility)
    try:
        # Rows of other domains may still point here (foreign keys RESTRICT).
        with session.begin_nested():
            session.delete(facility)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This facility is still in use and cannot be deleted")) from None
    auth_service.record(
        session, principal, "delete", "facility", facility_id, before["org_id"], before
    )
