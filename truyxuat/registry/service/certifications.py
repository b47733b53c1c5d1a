"""Certifications: who certified what (organization, facility, growing area, packing house or
product), valid when, with a scanned document; revocation by the owner or the authority."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import (
    Principal,
    ensure_decider,
    ensure_readable,
    ensure_writable,
    read_filter,
)
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.errors import N_, Conflict, Forbidden, NotFound, invalid
from truyxuat.ledger import service as ledger
from truyxuat.registry.models import (
    Certification,
    CertScheme,
    CertScope,
    Facility,
    GrowingArea,
    Organization,
    PackingHouse,
    Product,
)
from truyxuat.registry.schemas.certifications import (
    EXPIRING_WITHIN_DAYS,
    CertificationIn,
    CertificationPatch,
    CertState,
    vietnam_today,
)
from truyxuat.registry.service import common, files
from truyxuat.registry.service.common import paginate, patch_values

# The tables a certificate's scope may point into; each row carries its owner's org_id.
SCOPE_MODELS: dict[CertScope, type[Facility | GrowingArea | PackingHouse | Product]] = {
    CertScope.facility: Facility,
    CertScope.growing_area: GrowingArea,
    CertScope.packing_house: PackingHouse,
    CertScope.product: Product,
}
FIELDS = [
    "scheme",
    "scheme_name",
    "issuer",
    "number",
    "scope_type",
    "scope_id",
    "valid_from",
    "valid_to",
    "document_file_id",
    "revoked_at",
]


def snapshot(cert: Certification) -> dict[str, Any]:
    """The certificate's fields, for the audit log."""
    return {f: getattr(cert, f) for f in ["org_id", *FIELDS]}


def _check_scope(
    session: Session, org: Organization, scope_type: CertScope, scope_id: uuid.UUID | None
) -> uuid.UUID:
    """Checks the certified object exists and belongs to the certificate's organization.

    A missing object and another organization's object get the same answer, so the check
    never reveals what other tenants have registered.
    """
    if scope_type is CertScope.organization:
        if scope_id is not None and scope_id != org.id:
            raise invalid(
                "scope_id", N_("A certificate of an organization must name that organization")
            )
        return org.id
    if scope_id is None:
        raise invalid("scope_id", N_("Name the {scope} this certificate covers"), scope=scope_type)
    model = SCOPE_MODELS[scope_type]
    owner = session.scalar(select(model.org_id).where(model.id == scope_id))
    if owner != org.id:
        raise invalid(
            "scope_id",
            N_("No {scope} with this id belongs to the organization"),
            scope=scope_type,
        )
    return scope_id


def _check_values(
    session: Session,
    values: dict[str, Any],
    *,
    changed: set[str],
    exclude_id: uuid.UUID | None,
) -> None:
    """Checks scheme name, validity dates and that (scheme, issuer, number) is not taken."""
    if values["scheme"] is CertScheme.other and not values.get("scheme_name"):
        raise invalid("scheme_name", N_("Name the scheme when it is 'other'"))
    if values["valid_to"] < values["valid_from"]:
        raise invalid(
            "valid_to",
            N_("The end of validity must be on or after its start ({valid_from})"),
            valid_from=values["valid_from"].isoformat(),
        )
    today = vietnam_today()
    if "valid_to" in changed and values["valid_to"] < today:
        raise invalid(
            "valid_to",
            N_("This certificate expired on {date}; only current certificates can be registered"),
            date=values["valid_to"].isoformat(),
        )
    if changed & {"issuer", "number"}:
        query = select(Certification.id).where(
            Certification.scheme == values["scheme"],
            Certification.issuer == values["issuer"],
            Certification.number == values["number"],
        )
        if exclude_id is not None:
            query = query.where(Certification.id != exclude_id)
        if session.scalar(query.limit(1)) is not None:
            raise invalid(
                "number",
                N_("Certificate {number} from {issuer} is already registered"),
                number=values["number"],
                issuer=values["issuer"],
            )


def create_certification(
    session: Session, principal: Principal, data: CertificationIn
) -> Certification:
    """Registers a current certificate for an object of an organization the caller may write to."""
    org = common.writable_org(session, principal, data.org_id)
    values = data.model_dump(exclude={"org_id"})
    values["scope_id"] = _check_scope(session, org, data.scope_type, data.scope_id)
    _check_values(session, values, changed=set(values), exclude_id=None)
    cert = Certification(org_id=org.id, **values)
    session.add(cert)
    session.flush()
    auth_service.record(
        session, principal, "create", "certification", cert.id, org.id, snapshot(cert)
    )
    ledger.append_record(
        session,
        "registry.certification.created",
        {"id": cert.id, **snapshot(cert)},
        subject=str(org.id),
    )
    return cert


def get_certification(session: Session, principal: Principal, cert_id: uuid.UUID) -> Certification:
    """Returns a certificate the caller may see."""
    cert = session.get(Certification, cert_id)
    if cert is None:
        raise NotFound()
    ensure_readable(principal, cert.org_id, common.owner_provinces(session, cert.org_id))
    return cert


def _writable(session: Session, principal: Principal, cert_id: uuid.UUID) -> Certification:
    """Returns a certificate the caller may change; revoked ones are frozen."""
    cert = get_certification(session, principal, cert_id)
    ensure_writable(principal, cert.org_id, common.owner_provinces(session, cert.org_id))
    if cert.revoked_at is not None:
        raise Conflict(N_("A revoked certificate cannot be changed"))
    return cert


def state_condition(state: CertState, on: date) -> ColumnElement[bool]:
    """A WHERE clause selecting certificates in `state` on a day (mirrors `cert_state`)."""
    live = and_(Certification.revoked_at.is_(None), Certification.suspended_at.is_(None))
    soon = on + timedelta(days=EXPIRING_WITHIN_DAYS)
    started = Certification.valid_from <= on
    if state is CertState.revoked:
        return Certification.revoked_at.is_not(None)
    if state is CertState.suspended:
        return and_(Certification.revoked_at.is_(None), Certification.suspended_at.is_not(None))
    if state is CertState.expired:
        return and_(live, Certification.valid_to < on)
    if state is CertState.not_yet_valid:
        return and_(live, Certification.valid_to >= on, Certification.valid_from > on)
    if state is CertState.expiring:
        return and_(live, started, Certification.valid_to >= on, Certification.valid_to <= soon)
    return and_(live, started, Certification.valid_to > soon)


def list_certifications(
    session: Session,
    principal: Principal,
    *,
    scope_type: CertScope | None = None,
    scope_id: uuid.UUID | None = None,
    scheme: CertScheme | None = None,
    state: CertState | None = None,
    org_id: uuid.UUID | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Certification], int]:
    """Lists certificates the caller may see, filtered; `state` is as of today in Viet Nam."""
    query = select(Certification).where(read_filter(principal, Certification.org_id, ()))
    if scope_type:
        query = query.where(Certification.scope_type == scope_type)
    if scope_id:
        query = query.where(Certification.scope_id == scope_id)
    if scheme:
        query = query.where(Certification.scheme == scheme)
    if state:
        query = query.where(state_condition(state, vietnam_today()))
    if org_id:
        query = query.where(Certification.org_id == org_id)
    query = query.order_by(Certification.valid_to, Certification.id)
    return paginate(session, query, offset=offset, limit=limit)


def certifications_for(
    session: Session, scope_type: CertScope, scope_id: uuid.UUID, *, on: date | None = None
) -> list[Certification]:
    """The certificates of one object valid on a day (default today), for passports and reports.

    No caller check: valid certificates are public facts shown on product passports. A
    certificate suspended by an inspection's violation is not valid until the suspension lifts.
    """
    day = on or vietnam_today()
    return list(
        session.scalars(
            select(Certification)
            .where(
                Certification.scope_type == scope_type,
                Certification.scope_id == scope_id,
                Certification.revoked_at.is_(None),
                Certification.suspended_at.is_(None),
                Certification.valid_from <= day,
                Certification.valid_to >= day,
            )
            .order_by(Certification.scheme, Certification.valid_to)
        )
    )


def update_certification(
    session: Session, principal: Principal, cert_id: uuid.UUID, patch: CertificationPatch
) -> Certification:
    """Corrects a certificate's issuer, number, scheme name or validity dates."""
    cert = _writable(session, principal, cert_id)
    changes = patch_values(patch, Certification)
    for required in ("issuer", "number", "valid_from", "valid_to"):
        if required in changes and changes[required] is None:
            raise invalid(required, N_("This field cannot be empty"))
    if changes.get("scheme_name", "") is None:
        changes["scheme_name"] = ""
    before = snapshot(cert)
    _check_values(session, {**before, **changes}, changed=set(changes), exclude_id=cert.id)
    for name, value in changes.items():
        setattr(cert, name, value)
    session.flush()
    auth_service.record(
        session,
        principal,
        "update",
        "certification",
        cert.id,
        cert.org_id,
        auth_service.diff(before, snapshot(cert)),
    )
    return cert


def revoke_certification(
    session: Session, principal: Principal, cert_id: uuid.UUID, reason: str = ""
) -> Certification:
    """Revokes a certificate: its organization's admin, or an authority over its province."""
    cert = get_certification(session, principal, cert_id)
    provinces = common.owner_provinces(session, cert.org_id)
    try:
        ensure_writable(principal, cert.org_id, provinces, admin_only=True)
    except Forbidden:
        ensure_decider(principal, provinces[0])
    if cert.revoked_at is not None:
        raise Conflict(N_("This certificate is already revoked"))
    cert.revoked_at = utcnow()
    session.flush()
    auth_service.record(
        session,
        principal,
        "revoke",
        "certification",
        cert.id,
        cert.org_id,
        {"revoked_at": [None, cert.revoked_at], "reason": reason},
    )
    ledger.append_record(
        session,
        "registry.certification.revoked",
        {"id": cert.id, "revoked_at": cert.revoked_at, "reason": reason},
        subject=str(cert.org_id),
    )
    return cert


def attach_document(
    session: Session,
    principal: Principal,
    cert_id: uuid.UUID,
    *,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    settings: Settings,
) -> Certification:
    """Stores the certificate's scan (PDF, JPEG or PNG), replacing any earlier one."""
    cert = _writable(session, principal, cert_id)
    stored = files.store_file(
        session,
        principal,
        cert.org_id,
        data,
        filename,
        content_type,
        files.DOCUMENT_TYPES,
        settings,
    )
    previous = cert.document_file_id
    cert.document_file_id = stored.id
    session.flush()
    auth_service.record(
        session,
        principal,
        "attach_document",
        "certification",
        cert.id,
        cert.org_id,
        {"document_file_id": [previous, stored.id], "sha256": stored.sha256},
    )
    if previous is not None:
        files.release_file(session, principal, previous)
    return cert


def delete_certification(session: Session, principal: Principal, cert_id: uuid.UUID) -> None:
    """Deletes a certificate entered by mistake (a withdrawn one should be revoked instead)."""
    cert = get_certification(session, principal, cert_id)
    ensure_writable(principal, cert.org_id, common.owner_provinces(session, cert.org_id))
    before = snapshot(cert)
    document = cert.document_file_id
    session.delete(cert)
    session.flush()
    auth_service.record(
        session, principal, "delete", "certification", cert_id, before["org_id"], before
    )
    if document is not None:
        files.release_file(session, principal, document)
