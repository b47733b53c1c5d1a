"""Organizations: registration, profile changes and the authority's approval."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.auth.principal import (
    Principal,
    ensure_decider,
    ensure_readable,
    ensure_writable,
    read_filter,
)
from truyxuat.errors import N_, Forbidden, NotFound, invalid
from truyxuat.gs1 import gln_matches_prefix, normalize_company_prefix, normalize_gln
from truyxuat.registry.models import Organization, OrgKind, OrgStatus
from truyxuat.registry.schemas.organizations import (
    OrganizationIn,
    OrganizationPatch,
    RegistrationIn,
)
from truyxuat.registry.service.common import (
    check_admin_units,
    ensure_unique,
    paginate,
    patch_values,
)

TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$|^\d{12}$")
PROFILE_FIELDS = [
    "name",
    "name_en",
    "tax_code",
    "gs1_company_prefix",
    "gln",
    "province_code",
    "commune_code",
    "address",
    "contact_name",
    "phone",
    "email",
    "website",
]


def snapshot(org: Organization) -> dict[str, Any]:
    """The organization's fields, for the audit log."""
    return {f: getattr(org, f) for f in ["code", "kind", "status", *PROFILE_FIELDS]}


def _normalize(session: Session, values: dict[str, Any], *, exclude_id: uuid.UUID | None) -> None:
    """Validates identifiers in place: tax code, GS1 prefix, GLN and their uniqueness."""
    if values.get("tax_code"):
        if not TAX_CODE.match(values["tax_code"]):
            raise invalid("tax_code", N_("A tax code has 10 digits (or 10-3 for a branch)"))
        ensure_unique(
            session,
            Organization.tax_code,
            values["tax_code"],
            field="tax_code",
            exclude_id=exclude_id,
        )
    elif "tax_code" in values:
        values["tax_code"] = None
    if values.get("gs1_company_prefix"):
        values["gs1_company_prefix"] = normalize_company_prefix(values["gs1_company_prefix"])
    if values.get("gln"):
        values["gln"] = normalize_gln(values["gln"])
        prefix = values.get("gs1_company_prefix")
        if prefix and not gln_matches_prefix(values["gln"], prefix):
            raise invalid(
                "gln",
                N_("GLN {gln} does not start with the company prefix {prefix}"),
                gln=values["gln"],
                prefix=prefix,
            )
        ensure_unique(session, Organization.gln, values["gln"], field="gln", exclude_id=exclude_id)
    elif "gln" in values:
        values["gln"] = None


def create_organization(
    session: Session, principal: Principal | None, data: OrganizationIn
) -> Organization:
    """Registers an organization; platform admins and authorities (in their province) may.

    An authority-created or admin-created organization starts approved; a self-registered one
    (principal None) starts pending.
    """
    if principal is not None and not principal.is_platform_admin:
        ensure_decider(principal, data.province_code)
        if data.kind in (OrgKind.authority, OrgKind.platform):
            raise Forbidden()
    if principal is None and data.kind in (OrgKind.authority, OrgKind.platform):
        raise invalid("kind", N_("Authorities are registered by the platform administrator"))
    values = data.model_dump()
    check_admin_units(
        session,
        values["province_code"],
        values["commune_code"],
        required=data.kind not in (OrgKind.platform,)
        and not (data.kind is OrgKind.authority and principal is not None),
    )
    ensure_unique(session, Organization.code, values["code"], field="code")
    _normalize(session, values, exclude_id=None)
    org = Organization(
        **values, status=OrgStatus.pending if principal is None else OrgStatus.approved
    )
    session.add(org)
    session.flush()
    auth_service.record(session, principal, "create", "organization", org.id, org.id, snapshot(org))
    return org


def register(session: Session, data: RegistrationIn) -> Organization:
    """Self-registration: a pending organization with its first admin user."""
    org = create_organization(session, None, data.organization)
    user = auth_service.create_user(
        session, email=data.admin_email, full_name=data.admin_name, password=data.admin_password
    )
    auth_service.add_membership(session, user=user, org=org, role=Role.org_admin)
    return org


def get_organization(session: Session, principal: Principal, org_id: uuid.UUID) -> Organization:
    """Returns an organization the caller may see."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound()
    ensure_readable(principal, org.id, (org.province_code,))
    return org


def get_by_code(session: Session, principal: Principal, code: str) -> Organization:
    """Returns an organization by its code, if the caller may see it."""
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise NotFound()
    ensure_readable(principal, org.id, (org.province_code,))
    return org


def list_organizations(
    session: Session,
    principal: Principal,
    *,
    kind: OrgKind | None = None,
    status: OrgStatus | None = None,
    province_code: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Organization], int]:
    """Lists organizations the caller may see, filtered."""
    query = select(Organization).where(
        read_filter(principal, Organization.id, (Organization.province_code,))
    )
    if kind:
        query = query.where(Organization.kind == kind)
    if status:
        query = query.where(Organization.status == status)
    if province_code:
        query = query.where(Organization.province_code == province_code)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(Organization.name.ilike(like) | Organization.code.ilike(like))
    return paginate(session, query.order_by(Organization.name), offset=offset, limit=limit)


def update_organization(
    session: Session, principal: Principal, org_id: uuid.UUID, patch: OrganizationPatch
) -> Organization:
    """Changes an organization's profile (its admins, or the platform admin)."""
    org = get_organization(session, principal, org_id)
    ensure_writable(principal, org.id, (org.province_code,), admin_only=True)
    values = patch_values(patch, Organization)
    if "province_code" in values or "commune_code" in values:
        check_admin_units(
            session,
            values.get("province_code", org.province_code),
            values.get("commune_code", org.commune_code),
        )
    if "gln" in values and "gs1_company_prefix" not in values:
        values["gs1_company_prefix"] = org.gs1_company_prefix
    _normalize(session, values, exclude_id=org.id)
    before = snapshot(org)
    for name, value in values.items():
        setattr(org, name, value)
    session.flush()
    auth_service.record(
        session,
        principal,
        "update",
        "organization",
        org.id,
        org.id,
        auth_service.diff(before, snapshot(org)),
    )
    return org


def decide_organization(
    session: Session, principal: Principal, org_id: uuid.UUID, status: str, reason: str = ""
) -> Organization:
    """An authority approves or suspends an organization in its jurisdiction."""
    org = get_organization(session, principal, org_id)
    ensure_decider(principal, org.province_code)
    try:
        new_status = OrgStatus(status)
    except ValueError:
        raise invalid("status", N_("Unknown status {status}"), status=status) from None
    before = org.status
    org.status = new_status
    session.flush()
    auth_service.record(
        session,
        principal,
        "decide",
        "organization",
        org.id,
        org.id,
        {"status": [before, new_status], "reason": reason},
    )
    return org
