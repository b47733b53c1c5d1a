"""Oversight pages: the inspections and violations the caller may see, recording an inspection
(with photos), adding a violation, the organization's remedy and the inspector's verification."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write
from truyxuat.config import Settings
from truyxuat.errors import N_, DomainError, FieldError, ValidationFailed, invalid
from truyxuat.oversight.models import (
    Inspection,
    InspectionResult,
    SuspensionTarget,
    Violation,
    ViolationSeverity,
    ViolationState,
)
from truyxuat.oversight.service import inspections as service
from truyxuat.registry.models import GrowingArea, Organization, PackingHouse
from truyxuat.registry.pages.common import field_errors, form_values, page, redirect
from truyxuat.web.forms import read_form
from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent.parent / "templates")

router = APIRouter(include_in_schema=False)
BASE = "/oversight/inspections"
INSPECTION_FIELDS = ("org_id", "place", "inspected_on", "result", "findings", "photo")
VIOLATION_FIELDS = ("rule", "description", "severity", "deadline", "suspends")
RESULT_LABELS = {
    InspectionResult.compliant: N_("Compliant"),
    InspectionResult.violations: N_("Violations found"),
    InspectionResult.follow_up: N_("Follow-up needed"),
}
SEVERITY_LABELS = {
    ViolationSeverity.minor: N_("Minor"),
    ViolationSeverity.major: N_("Major"),
    ViolationSeverity.critical: N_("Critical"),
}
STATE_LABELS = {
    ViolationState.open: N_("Open"),
    ViolationState.remedied: N_("Remedied, awaiting verification"),
    ViolationState.verified: N_("Verified"),
}
TARGET_LABELS = {
    SuspensionTarget.growing_area: N_("Growing-area code"),
    SuspensionTarget.packing_house: N_("Packing-house code"),
    SuspensionTarget.certification: N_("Certificate"),
}
LABELS = {
    "result": RESULT_LABELS,
    "severity": SEVERITY_LABELS,
    "state": STATE_LABELS,
    "target": TARGET_LABELS,
}


def _settings(request: Request) -> Settings:
    """The running app's settings (upload limit, data folder)."""
    settings: Settings = request.app.state.settings
    return settings


def _day(value: str | None, field: str) -> date | None:
    """A date typed in a form (YYYY-MM-DD), None when blank."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(field, N_("Give a date as YYYY-MM-DD")) from None


def _uuid(value: str | None, field: str) -> uuid.UUID | None:
    """An id chosen in a form, None when blank."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid(field, N_("Invalid value")) from None


def _places(db: Session, orgs: list[Organization]) -> list[tuple[str, str]]:
    """Growing areas and packing houses of the organizations in the caller's remit (choices)."""
    ids = [o.id for o in orgs]
    if not ids:
        return []
    names = {o.id: o.name for o in orgs}
    areas = db.execute(
        select(GrowingArea.id, GrowingArea.code, GrowingArea.org_id)
        .where(GrowingArea.org_id.in_(ids))
        .order_by(GrowingArea.code)
        .limit(500)
    ).all()
    houses = db.execute(
        select(PackingHouse.id, PackingHouse.code, PackingHouse.org_id)
        .where(PackingHouse.org_id.in_(ids))
        .order_by(PackingHouse.code)
        .limit(500)
    ).all()
    return [(f"growing_area:{i}", f"{code} — {names[org]}") for i, code, org in areas] + [
        (f"packing_house:{i}", f"{code} — {names[org]}") for i, code, org in houses
    ]


def _list_context(db: Session, principal: Principal) -> dict[str, Any]:
    """What the list page shows: inspections, unverified violations, the new-inspection form."""
    inspections, total = service.list_inspections(db, principal, limit=100)
    violations, _ = service.list_violations(db, principal, unverified=True, limit=100)
    orgs = service.inspectable_orgs(db, principal)
    names = service.org_names(db, {i.org_id for i in inspections} | {v.org_id for v in violations})
    return {
        "inspections": inspections,
        "total": total,
        "violations": violations,
        "names": names,
        "today": service.today(),
        "can_inspect": bool(orgs),
        "orgs": [(str(o.id), o.name) for o in orgs],
        "places": _places(db, orgs),
        "results": [(r.value, RESULT_LABELS[r]) for r in InspectionResult],
        "values": {"inspected_on": service.today().isoformat(), "result": "compliant"},
        "errors": {},
        "olabels": LABELS,
    }


@router.get(BASE, response_class=HTMLResponse)
def list_page(request: Request, db: DB, principal: Caller) -> Response:
    """Inspections and open violations the caller may see, and the form to record one."""
    return page(request, "oversight/inspection_list.html", _list_context(db, principal))


def _photos(values: dict[str, Any]) -> list[UploadFile]:
    """The photos attached to a form (one or several file inputs named "photo")."""
    found = values.get("photo")
    items = found if isinstance(found, list) else [found]
    return [f for f in items if isinstance(f, UploadFile) and f.filename]


async def _store_photos(
    db: Session,
    principal: Principal,
    inspection_id: uuid.UUID,
    photos: list[UploadFile],
    settings: Settings,
) -> None:
    """Stores each uploaded photo with the inspection."""
    for photo in photos:
        data = await photo.read(settings.max_upload_bytes + 1)
        try:
            service.add_photo(
                db,
                principal,
                inspection_id,
                data=data,
                filename=photo.filename,
                content_type=photo.content_type,
                settings=settings,
            )
        except DomainError as exc:
            if isinstance(exc, ValidationFailed) or exc.status not in (413, 415, 409):
                raise
            raise ValidationFailed([FieldError(["photo"], exc.message, exc.params)]) from None


@router.post(BASE, response_class=HTMLResponse)
async def record_inspection(
    request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """Records an inspection from the form (with its photos), then shows it."""
    raw = await read_form(request, principal)
    values = form_values(raw, *INSPECTION_FIELDS[:-1])
    try:
        org_id = _uuid(values["org_id"], "org_id")
        if org_id is None:
            raise invalid("org_id", N_("Choose the organization inspected"))
        inspected_on = _day(values["inspected_on"], "inspected_on")
        if inspected_on is None:
            raise invalid("inspected_on", N_("Give a date as YYYY-MM-DD"))
        result = values["result"] or ""
        if result not in InspectionResult.__members__:
            raise invalid("result", N_("Choose the result"))
        kind, _, place_id = (values["place"] or "").partition(":")
        place = _uuid(place_id, "place") if kind else None
        with db.begin_nested():
            inspection = service.record_inspection(
                db,
                principal,
                service.InspectionRequest(
                    org_id=org_id,
                    inspected_on=inspected_on,
                    result=InspectionResult(result),
                    findings=values["findings"] or "",
                    growing_area_id=place if kind == "growing_area" else None,
                    packing_house_id=place if kind == "packing_house" else None,
                ),
            )
            await _store_photos(db, principal, inspection.id, _photos(raw), _settings(request))
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        context = _list_context(db, principal)
        context["values"] = {k: v or "" for k, v in values.items()}
        errors = field_errors(exc, locale, INSPECTION_FIELDS)
        # A place of another organization is the place field's error.
        for name in ("growing_area_id", "packing_house_id"):
            if name in errors:
                errors["place"] = errors.pop(name)
        context["errors"] = errors
        return page(request, "oversight/inspection_list.html", context, status_code=422)
    return redirect(f"{BASE}/{inspection.id}", "created")


def _detail_context(db: Session, principal: Principal, inspection: Inspection) -> dict[str, Any]:
    """What the inspection page shows, and which forms the caller gets."""
    violations = service.violations_of(db, inspection.id)
    provinces = (service.org_province(db, inspection.org_id), inspection.province_code)
    overseer = service.is_overseer(principal, provinces)
    suspendable = service.suspendable(db, inspection.org_id) if overseer else {}
    names = service.org_names(db, {inspection.org_id, inspection.inspector_org_id})
    place = None
    if inspection.growing_area_id:
        area = db.get(GrowingArea, inspection.growing_area_id)
        place = area.code if area else None
    elif inspection.packing_house_id:
        house = db.get(PackingHouse, inspection.packing_house_id)
        place = house.code if house else None
    return {
        "inspection": inspection,
        "violations": violations,
        "suspended": {v.id: service.suspension_label(db, v) for v in violations},
        "names": names,
        "place": place,
        "today": service.today(),
        "can_inspect": overseer,
        "can_remedy": can_write(principal, inspection.org_id),
        "severities": [(s.value, SEVERITY_LABELS[s]) for s in ViolationSeverity],
        "suspendable": [
            (f"{kind.value}:{target_id}", label, kind)
            for kind, rows in suspendable.items()
            for target_id, label in rows
        ],
        "values": {"severity": ViolationSeverity.minor.value},
        "errors": {},
        "form_for": None,
        "olabels": LABELS,
    }


@router.get(BASE + "/{inspection_id}", response_class=HTMLResponse)
def detail_page(inspection_id: uuid.UUID, request: Request, db: DB, principal: Caller) -> Response:
    """An inspection: findings, photos, violations with their remedy and verification."""
    inspection = service.get_inspection(db, principal, inspection_id)
    return page(
        request, "oversight/inspection_detail.html", _detail_context(db, principal, inspection)
    )


def _detail_with_errors(
    request: Request,
    db: Session,
    principal: Principal,
    inspection_id: uuid.UUID,
    exc: DomainError,
    locale: str,
    fields: tuple[str, ...],
    values: dict[str, Any],
    form_for: str,
) -> Response:
    """Shows the inspection again with the form's errors (422)."""
    if exc.status in (401, 403, 404):
        raise exc
    inspection = service.get_inspection(db, principal, inspection_id)
    context = _detail_context(db, principal, inspection)
    context["values"] = {k: v or "" for k, v in values.items()}
    context["errors"] = field_errors(exc, locale, fields)
    context["form_for"] = form_for
    return page(request, "oversight/inspection_detail.html", context, status_code=422)


@router.post(BASE + "/{inspection_id}/violations", response_class=HTMLResponse)
async def record_violation(
    inspection_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """Adds a violation found at the inspection."""
    values = form_values(await read_form(request, principal), *VIOLATION_FIELDS)
    try:
        severity = values["severity"] or ""
        if severity not in ViolationSeverity.__members__:
            raise invalid("severity", N_("Choose a severity"))
        kind, _, target = (values["suspends"] or "").partition(":")
        if kind and kind not in SuspensionTarget.__members__:
            raise invalid("suspends", N_("Invalid value"))
        with db.begin_nested():
            service.record_violation(
                db,
                principal,
                inspection_id,
                service.ViolationRequest(
                    rule=values["rule"] or "",
                    severity=ViolationSeverity(severity),
                    description=values["description"] or "",
                    deadline=_day(values["deadline"], "deadline"),
                    suspends_type=SuspensionTarget(kind) if kind else None,
                    suspends_id=_uuid(target, "suspends") if kind else None,
                ),
            )
    except DomainError as exc:
        if isinstance(exc, ValidationFailed):
            for err in exc.errors:
                if err.loc and err.loc[-1] in ("suspends_id", "suspends_type"):
                    err.loc = ["suspends"]
        return _detail_with_errors(
            request, db, principal, inspection_id, exc, locale, VIOLATION_FIELDS, values, "new"
        )
    return redirect(f"{BASE}/{inspection_id}", "saved")


@router.post(BASE + "/{inspection_id}/photos", response_class=HTMLResponse)
async def add_photos(
    inspection_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """Adds photos taken on site."""
    raw = await read_form(request, principal)
    try:
        photos = _photos(raw)
        if not photos:
            raise invalid("photo", N_("Choose a photo"))
        with db.begin_nested():
            await _store_photos(db, principal, inspection_id, photos, _settings(request))
    except DomainError as exc:
        return _detail_with_errors(
            request, db, principal, inspection_id, exc, locale, ("photo",), {}, "photo"
        )
    return redirect(f"{BASE}/{inspection_id}", "saved")


def _readable_violation(db: Session, principal: Principal, violation_id: uuid.UUID) -> Violation:
    """The violation (readable by the caller) a remedy or verification form is about."""
    return service.get_violation(db, principal, violation_id)


@router.post("/oversight/violations/{violation_id}/remedy", response_class=HTMLResponse)
async def record_remedy(
    violation_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """The organization records what it did."""
    values = form_values(await read_form(request, principal), "remedy")
    violation = _readable_violation(db, principal, violation_id)
    try:
        with db.begin_nested():
            service.record_remedy(db, principal, violation_id, values["remedy"] or "")
    except DomainError as exc:
        return _detail_with_errors(
            request,
            db,
            principal,
            violation.inspection_id,
            exc,
            locale,
            ("remedy",),
            values,
            str(violation_id),
        )
    return redirect(f"{BASE}/{violation.inspection_id}", "saved")


@router.post("/oversight/violations/{violation_id}/verify", response_class=HTMLResponse)
async def verify_remedy(
    violation_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """The inspector accepts the remedy or sends it back with a note."""
    values = form_values(await read_form(request, principal), "decision", "note")
    violation = _readable_violation(db, principal, violation_id)
    try:
        with db.begin_nested():
            service.verify_remedy(
                db,
                principal,
                violation_id,
                accept=values["decision"] == "accept",
                note=values["note"] or "",
            )
    except DomainError as exc:
        return _detail_with_errors(
            request,
            db,
            principal,
            violation.inspection_id,
            exc,
            locale,
            ("note",),
            values,
            str(violation_id),
        )
    return redirect(f"{BASE}/{violation.inspection_id}", "saved")
