"""Oversight service: inspections, the violations they find, remedies and their verification.

An authority or inspector records an inspection of an organization in its jurisdiction (the
organization's province or the inspected place's); a violation may suspend one of that
organization's growing-area or packing-house codes or certificates until the organization's
remedy is verified. The inspected organization reads its own inspections and records remedies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.auth.principal import (
    OVERSIGHT_ROLES,
    Principal,
    can_read,
    ensure_writable,
    read_filter,
)
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.errors import N_, Conflict, Forbidden, NotFound, invalid
from truyxuat.ledger import service as ledger
from truyxuat.oversight.models import (
    Inspection,
    InspectionResult,
    SuspensionTarget,
    Violation,
    ViolationSeverity,
    ViolationState,
)
from truyxuat.registry.models import (
    Certification,
    CodeStatus,
    Facility,
    GrowingArea,
    Organization,
    OrgKind,
    PackingHouse,
    StoredFile,
)
from truyxuat.registry.schemas.certifications import vietnam_today
from truyxuat.registry.service import files
from truyxuat.registry.service.common import paginate

PHOTO_TYPES = files.IMAGE_TYPES
MAX_PHOTOS = 20
MAX_TEXT = 4000
# What each suspension target is, for the audit log and the ledger record kinds.
TARGET_MODELS: dict[SuspensionTarget, type[GrowingArea | PackingHouse | Certification]] = {
    SuspensionTarget.growing_area: GrowingArea,
    SuspensionTarget.packing_house: PackingHouse,
    SuspensionTarget.certification: Certification,
}
# States in which a violation keeps its suspension in force.
UNVERIFIED = (ViolationState.open, ViolationState.remedied)


@dataclass(frozen=True)
class InspectionRequest:
    """What recording an inspection takes."""

    org_id: uuid.UUID
    inspected_on: date
    result: InspectionResult
    findings: str = ""
    facility_id: uuid.UUID | None = None
    growing_area_id: uuid.UUID | None = None
    packing_house_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ViolationRequest:
    """What recording a violation takes; `suspends_*` names what it suspends, if anything."""

    rule: str
    severity: ViolationSeverity
    description: str = ""
    deadline: date | None = None
    suspends_type: SuspensionTarget | None = None
    suspends_id: uuid.UUID | None = None


# --- who may do what -----------------------------------------------------------------------


def is_overseer(principal: Principal, provinces: tuple[str | None, ...]) -> bool:
    """True when the caller is an authority/inspector over one of these provinces (or admin)."""
    if principal.is_platform_admin:
        return True
    return any(principal.oversees(p) for p in provinces) or None in principal.jurisdictions()


def _ensure_overseer(
    principal: Principal, org_id: uuid.UUID, provinces: tuple[str | None, ...]
) -> None:
    """404 when the caller may not read the object, 403 when it may but does not oversee it."""
    if not can_read(principal, org_id, provinces):
        raise NotFound()
    if not is_overseer(principal, provinces):
        raise Forbidden(N_("Only an authority or inspector may do this"))


def _inspector_org(principal: Principal, provinces: tuple[str | None, ...]) -> uuid.UUID:
    """The authority organization the caller inspects for (the grant covering the place)."""
    for grant in principal.grants:
        if grant.role in OVERSIGHT_ROLES and (
            grant.province_code is None or grant.province_code in provinces
        ):
            return grant.org_id
    for grant in principal.grants:
        if grant.role is Role.platform_admin:
            return grant.org_id
    raise Forbidden(N_("Only an authority or inspector may do this"))


def _provinces(row: Inspection | Violation, org_province: str | None) -> tuple[str | None, ...]:
    """The provinces whose overseers may act on an inspection or violation."""
    return (org_province, row.province_code)


def org_province(session: Session, org_id: uuid.UUID) -> str | None:
    """The province of an organization."""
    return session.scalar(select(Organization.province_code).where(Organization.id == org_id))


def today() -> date:
    """The calendar day in Viet Nam, the day deadlines fall on."""
    return vietnam_today()


def is_overdue(violation: Violation, on: date | None = None) -> bool:
    """Deadline passed and the remedy not verified."""
    return (
        violation.deadline is not None
        and violation.deadline < (on or today())
        and violation.state is not ViolationState.verified
    )


def overdue_condition(on: date) -> ColumnElement[bool]:
    """A WHERE clause for overdue violations (mirrors `is_overdue`)."""
    return and_(
        Violation.deadline.is_not(None),
        Violation.deadline < on,
        Violation.state != ViolationState.verified,
    )


# --- inspections ---------------------------------------------------------------------------


def _text(value: str, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """A stripped free-text field, checked for presence and length."""
    text = (value or "").strip()
    if required and not text:
        raise invalid(field, N_("This field is required"))
    if len(text) > limit:
        raise invalid(field, N_("Too long: at most {n} characters"), n=limit)
    return text


def _place(
    session: Session,
    model: type[Facility | GrowingArea | PackingHouse],
    place_id: uuid.UUID | None,
    org_id: uuid.UUID,
    field: str,
) -> Facility | GrowingArea | PackingHouse | None:
    """A facility, growing area or packing house of the inspected organization (422 otherwise)."""
    if place_id is None:
        return None
    place = cast(Facility | GrowingArea | PackingHouse | None, session.get(model, place_id))
    if place is None or place.org_id != org_id:
        raise invalid(field, N_("This does not belong to the inspected organization"))
    return place


def record_inspection(
    session: Session, principal: Principal, request: InspectionRequest
) -> Inspection:
    """Records an inspection of an organization (or one of its places) in the caller's remit."""
    org = session.get(Organization, request.org_id)
    if org is None:
        raise NotFound()
    if org.kind in (OrgKind.authority, OrgKind.platform):
        raise invalid("org_id", N_("Inspections are of producers and traders, not authorities"))
    places = [
        _place(session, Facility, request.facility_id, org.id, "facility_id"),
        _place(session, GrowingArea, request.growing_area_id, org.id, "growing_area_id"),
        _place(session, PackingHouse, request.packing_house_id, org.id, "packing_house_id"),
    ]
    place_province = next((p.province_code for p in places if p is not None), None)
    provinces = (org.province_code, place_province)
    _ensure_overseer(principal, org.id, provinces)
    if request.inspected_on > today():
        raise invalid("inspected_on", N_("The inspection date cannot be in the future"))
    inspection = Inspection(
        org_id=org.id,
        inspector_org_id=_inspector_org(principal, provinces),
        province_code=place_province or org.province_code,
        facility_id=request.facility_id,
        growing_area_id=request.growing_area_id,
        packing_house_id=request.packing_house_id,
        inspected_on=request.inspected_on,
        findings=_text(request.findings, "findings"),
        result=request.result,
        photo_file_ids=[],
        created_by=principal.label,
    )
    session.add(inspection)
    session.flush()
    auth_service.record(
        session,
        principal,
        "create",
        "inspection",
        inspection.id,
        org.id,
        {"inspected_on": inspection.inspected_on, "result": inspection.result},
    )
    return inspection


def get_inspection(session: Session, principal: Principal, inspection_id: uuid.UUID) -> Inspection:
    """An inspection the caller may read: the inspected organization or an overseer of it."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound()
    provinces = _provinces(inspection, org_province(session, inspection.org_id))
    if not can_read(principal, inspection.org_id, provinces):
        raise NotFound()
    return inspection


def list_inspections(
    session: Session,
    principal: Principal,
    *,
    org_id: uuid.UUID | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Inspection], int]:
    """Inspections the caller may read, newest first."""
    query = select(Inspection).where(
        read_filter(principal, Inspection.org_id, (Inspection.province_code,))
    )
    if org_id is not None:
        query = query.where(Inspection.org_id == org_id)
    query = query.order_by(Inspection.inspected_on.desc(), Inspection.created_at.desc())
    return paginate(session, query, offset=offset, limit=limit)


def add_photo(
    session: Session,
    principal: Principal,
    inspection_id: uuid.UUID,
    *,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    settings: Settings,
) -> StoredFile:
    """Adds a photo taken on site; it is kept with the inspected organization, which sees it."""
    inspection = get_inspection(session, principal, inspection_id)
    provinces = _provinces(inspection, org_province(session, inspection.org_id))
    _ensure_overseer(principal, inspection.org_id, provinces)
    if len(inspection.photo_file_ids) >= MAX_PHOTOS:
        raise Conflict(N_("An inspection keeps at most {n} photos"), n=MAX_PHOTOS)
    stored = files.save_upload(
        session,
        principal,
        inspection.org_id,
        data,
        filename,
        content_type,
        PHOTO_TYPES,
        settings,
    )
    # A new list, so the JSON column is seen as changed.
    inspection.photo_file_ids = [*inspection.photo_file_ids, str(stored.id)]
    session.flush()
    auth_service.record(
        session,
        principal,
        "add_photo",
        "inspection",
        inspection.id,
        inspection.org_id,
        {"file_id": stored.id},
    )
    return stored


# --- violations ----------------------------------------------------------------------------


def _target(
    session: Session, kind: SuspensionTarget, target_id: uuid.UUID
) -> GrowingArea | PackingHouse | Certification | None:
    """The code or certificate a violation suspends."""
    found = session.get(TARGET_MODELS[kind], target_id)
    return cast(GrowingArea | PackingHouse | Certification | None, found)


def _label(target: GrowingArea | PackingHouse | Certification) -> str:
    """The code or certificate number, for the ledger record and audit entry."""
    return target.number if isinstance(target, Certification) else target.code


def _suspend(
    session: Session,
    principal: Principal,
    violation: Violation,
    target: GrowingArea | PackingHouse | Certification,
) -> None:
    """Suspends the target for this violation, recording its previous status."""
    assert violation.suspends_type is not None
    kind = violation.suspends_type
    reason = f"{violation.rule}: {violation.description}".strip(": ")[:MAX_TEXT]
    now = utcnow()
    if isinstance(target, Certification):
        if target.revoked_at is not None:
            raise Conflict(N_("A revoked certificate cannot be suspended"))
        if target.suspended_at is not None:
            raise Conflict(N_("This certificate is already suspended"))
        target.suspended_at = now
        target.suspension_reason = reason
        violation.previous_status = None
        change: dict[str, Any] = {"suspended_at": [None, now], "reason": reason}
    else:
        if target.status is not CodeStatus.approved:
            raise Conflict(
                N_("Only an approved code can be suspended; this one is {status}"),
                status=target.status.value,
            )
        violation.previous_status = target.status.value
        target.status = CodeStatus.suspended
        target.status_reason = reason
        target.decided_by = principal.user_id
        target.decided_at = now
        change = {"status": [violation.previous_status, CodeStatus.suspended], "reason": reason}
    session.flush()
    auth_service.record(
        session,
        principal,
        "suspend",
        kind.value,
        target.id,
        target.org_id,
        {**change, "violation_id": violation.id},
    )
    ledger.append_record(
        session,
        f"oversight.{kind.value}.suspended",
        {"id": target.id, "code": _label(target), "violation": violation.id, "at": now},
        subject=str(target.org_id),
    )


def _lift(session: Session, principal: Principal, violation: Violation) -> bool:
    """Lifts the violation's suspension unless another unverified violation still holds it."""
    if violation.suspends_type is None or violation.suspends_id is None:
        return False
    others = session.scalar(
        select(Violation.id)
        .where(
            Violation.suspends_type == violation.suspends_type,
            Violation.suspends_id == violation.suspends_id,
            Violation.state.in_(UNVERIFIED),
            Violation.id != violation.id,
        )
        .limit(1)
    )
    target = _target(session, violation.suspends_type, violation.suspends_id)
    if others is not None or target is None:
        return False
    now = utcnow()
    if isinstance(target, Certification):
        if target.suspended_at is None:
            return False
        change: dict[str, Any] = {"suspended_at": [target.suspended_at, None]}
        target.suspended_at = None
        target.suspension_reason = ""
    else:
        # A code the authority revoked (or already restored) meanwhile stays as decided.
        if target.status is not CodeStatus.suspended:
            return False
        restored = CodeStatus(violation.previous_status or CodeStatus.approved.value)
        change = {"status": [target.status, restored]}
        target.status = restored
        target.status_reason = ""
        target.decided_by = principal.user_id
        target.decided_at = now
    session.flush()
    kind = violation.suspends_type
    auth_service.record(
        session,
        principal,
        "lift_suspension",
        kind.value,
        target.id,
        target.org_id,
        {**change, "violation_id": violation.id},
    )
    ledger.append_record(
        session,
        f"oversight.{kind.value}.lifted",
        {"id": target.id, "code": _label(target), "violation": violation.id, "at": now},
        subject=str(target.org_id),
    )
    return True


def record_violation(
    session: Session, principal: Principal, inspection_id: uuid.UUID, request: ViolationRequest
) -> Violation:
    """Records a violation found at an inspection, suspending a code or certificate if asked."""
    inspection = get_inspection(session, principal, inspection_id)
    provinces = _provinces(inspection, org_province(session, inspection.org_id))
    _ensure_overseer(principal, inspection.org_id, provinces)
    rule = _text(request.rule, "rule", required=True, limit=300)
    description = _text(request.description, "description")
    if request.deadline is not None and request.deadline < inspection.inspected_on:
        raise invalid("deadline", N_("The deadline cannot be before the inspection"))
    target = None
    if (request.suspends_type is None) != (request.suspends_id is None):
        field = "suspends_id" if request.suspends_id is None else "suspends_type"
        raise invalid(field, N_("Choose both what is suspended and which one"))
    if request.suspends_type is not None and request.suspends_id is not None:
        target = _target(session, request.suspends_type, request.suspends_id)
        if target is None or target.org_id != inspection.org_id:
            raise invalid("suspends_id", N_("This does not belong to the inspected organization"))
    violation = Violation(
        inspection_id=inspection.id,
        org_id=inspection.org_id,
        province_code=inspection.province_code,
        rule=rule,
        description=description,
        severity=request.severity,
        deadline=request.deadline,
        state=ViolationState.open,
        suspends_type=request.suspends_type,
        suspends_id=request.suspends_id,
        created_by=principal.label,
    )
    session.add(violation)
    session.flush()
    if target is not None:
        _suspend(session, principal, violation, target)
    if inspection.result is InspectionResult.compliant:
        inspection.result = InspectionResult.violations
    auth_service.record(
        session,
        principal,
        "create",
        "violation",
        violation.id,
        violation.org_id,
        {
            "inspection_id": inspection.id,
            "rule": rule,
            "severity": request.severity,
            "deadline": request.deadline,
            "suspends": [request.suspends_type, request.suspends_id],
        },
    )
    session.flush()
    return violation


def get_violation(session: Session, principal: Principal, violation_id: uuid.UUID) -> Violation:
    """A violation the caller may read."""
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFound()
    provinces = _provinces(violation, org_province(session, violation.org_id))
    if not can_read(principal, violation.org_id, provinces):
        raise NotFound()
    return violation


def violations_of(session: Session, inspection_id: uuid.UUID) -> list[Violation]:
    """The violations of an inspection the caller already read, oldest first."""
    return list(
        session.scalars(
            select(Violation)
            .where(Violation.inspection_id == inspection_id)
            .order_by(Violation.created_at, Violation.id)
        )
    )


def list_violations(
    session: Session,
    principal: Principal,
    *,
    state: ViolationState | None = None,
    overdue: bool | None = None,
    org_id: uuid.UUID | None = None,
    unverified: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Violation], int]:
    """Violations the caller may read, nearest deadline first; `overdue` as of today."""
    query = select(Violation).where(
        read_filter(principal, Violation.org_id, (Violation.province_code,))
    )
    if unverified:
        query = query.where(Violation.state.in_(UNVERIFIED))
    if state is not None:
        query = query.where(Violation.state == state)
    if overdue is True:
        query = query.where(overdue_condition(today()))
    elif overdue is False:
        query = query.where(~overdue_condition(today()))
    if org_id is not None:
        query = query.where(Violation.org_id == org_id)
    query = query.order_by(
        Violation.deadline.is_(None), Violation.deadline, Violation.created_at.desc()
    )
    return paginate(session, query, offset=offset, limit=limit)


def record_remedy(
    session: Session, principal: Principal, violation_id: uuid.UUID, remedy: str
) -> Violation:
    """The inspected organization says what it did about an open violation."""
    violation = get_violation(session, principal, violation_id)
    provinces = _provinces(violation, org_province(session, violation.org_id))
    ensure_writable(principal, violation.org_id, provinces)
    text = _text(remedy, "remedy", required=True)
    if violation.state is not ViolationState.open:
        raise Conflict(N_("Only an open violation can be remedied"))
    violation.remedy = text
    violation.state = ViolationState.remedied
    violation.remedied_at = utcnow()
    violation.remedied_by = principal.label
    session.flush()
    auth_service.record(
        session,
        principal,
        "remedy",
        "violation",
        violation.id,
        violation.org_id,
        {"state": [ViolationState.open, ViolationState.remedied], "remedy": text},
    )
    return violation


def verify_remedy(
    session: Session,
    principal: Principal,
    violation_id: uuid.UUID,
    *,
    accept: bool,
    note: str = "",
) -> Violation:
    """An overseer accepts a remedy (lifting the suspension) or sends it back with a note."""
    violation = get_violation(session, principal, violation_id)
    provinces = _provinces(violation, org_province(session, violation.org_id))
    _ensure_overseer(principal, violation.org_id, provinces)
    text = _text(note, "note", required=not accept)
    if violation.state is not ViolationState.remedied:
        raise Conflict(N_("Only a remedied violation can be verified"))
    new_state = ViolationState.verified if accept else ViolationState.open
    violation.state = new_state
    violation.verification_note = text
    if accept:
        violation.verified_at = utcnow()
        violation.verified_by = principal.label
    session.flush()
    auth_service.record(
        session,
        principal,
        "verify" if accept else "reject_remedy",
        "violation",
        violation.id,
        violation.org_id,
        {"state": [ViolationState.remedied, new_state], "note": text},
    )
    if accept:
        _lift(session, principal, violation)
    return violation


# --- what pages and lists show ---------------------------------------------------------------


def suspension_label(session: Session, violation: Violation) -> str | None:
    """The code or certificate number a violation suspends, if any."""
    if violation.suspends_type is None or violation.suspends_id is None:
        return None
    target = _target(session, violation.suspends_type, violation.suspends_id)
    return _label(target) if target is not None else None


def org_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Organization names by id (for lists of rows the caller already read)."""
    if not ids:
        return {}
    return dict(
        _pairs(session, select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    )


def _pairs(session: Session, query: Any) -> list[tuple[uuid.UUID, str]]:
    """Runs a two-column query (id, label) into plain tuples."""
    return [(row_id, label) for row_id, label in session.execute(query)]


def inspectable_orgs(session: Session, principal: Principal) -> list[Organization]:
    """Producers and traders in the caller's jurisdiction, by name (for the new-inspection form)."""
    if not principal.is_platform_admin and not principal.jurisdictions():
        return []
    query = select(Organization).where(
        Organization.kind.not_in((OrgKind.authority, OrgKind.platform))
    )
    zones = principal.jurisdictions()
    if not principal.is_platform_admin and None not in zones:
        query = query.where(Organization.province_code.in_({z for z in zones if z}))
    return list(session.scalars(query.order_by(Organization.name).limit(500)))


def suspendable(
    session: Session, org_id: uuid.UUID
) -> dict[SuspensionTarget, list[tuple[uuid.UUID, str]]]:
    """The organization's approved codes and live certificates a violation may suspend."""
    areas = _pairs(
        session,
        select(GrowingArea.id, GrowingArea.code)
        .where(GrowingArea.org_id == org_id, GrowingArea.status == CodeStatus.approved)
        .order_by(GrowingArea.code),
    )
    houses = _pairs(
        session,
        select(PackingHouse.id, PackingHouse.code)
        .where(PackingHouse.org_id == org_id, PackingHouse.status == CodeStatus.approved)
        .order_by(PackingHouse.code),
    )
    certs = _pairs(
        session,
        select(Certification.id, Certification.number)
        .where(
            Certification.org_id == org_id,
            Certification.revoked_at.is_(None),
            Certification.suspended_at.is_(None),
        )
        .order_by(Certification.number),
    )
    return {
        SuspensionTarget.growing_area: areas,
        SuspensionTarget.packing_house: houses,
        SuspensionTarget.certification: certs,
    }


def find_org(session: Session, code: str) -> Organization | None:
    """An organization by its code (for the CLI)."""
    return session.scalar(select(Organization).where(Organization.code == code))
