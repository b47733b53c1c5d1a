"""Oversight pages: the alerts the caller may see (filters, severity, age, overdue), one
alert with its evidence and notifications, and the acknowledge / resolve forms."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.db import utcnow
from truyxuat.errors import N_, Conflict, Forbidden, ValidationFailed
from truyxuat.oversight.models import Alert, AlertSeverity, AlertState
from truyxuat.oversight.service import alerts as service
from truyxuat.registry.pages.common import (
    clean_offset,
    field_errors,
    form_values,
    org_names,
    page,
    pager,
    provinces,
    redirect,
)
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)
BASE = "/oversight/alerts"
PAGE_SIZE = 50
EVIDENCE_LABELS = {
    "event": N_("EPCIS event"),
    "scan": N_("Consumer scan"),
    "scans": N_("Consumer scans"),
    "stamp_lock": N_("Stamp locked after wrong PINs"),
    "pin_window": N_("Hour of wrong PINs"),
    "certificate": N_("Certificate"),
    "growing_area": N_("Growing area"),
    "packing_house": N_("Packing house"),
    "reading": N_("Temperature reading"),
    "product": N_("Product"),
    "stamps": N_("Activated stamps"),
}
# Details an evidence item may carry, shown beside it.
DETAIL_LABELS = {
    "role": N_("Role"),
    "step": N_("Step"),
    "amount": N_("Amount"),
    "unit": N_("Unit"),
    "value": N_("Value (°C)"),
    "count": N_("Count"),
    "product": N_("Product applied"),
    "safe_from": N_("Safe to harvest from"),
    "destination": N_("Destination"),
    "device": N_("Device"),
    "recorded": N_("Recorded"),
}
# Badge classes of the shared stylesheet: red, amber, neutral.
SEVERITY_BADGES = {"critical": "revoked", "warning": "pending", "info": "info"}
STATE_BADGES = {"open": "suspended", "acknowledged": "pending", "resolved": "approved"}


def _common(locale: str) -> dict[str, Any]:
    """Labels and helpers both pages use."""
    return {
        "rule_labels": service.RULE_LABELS,
        "severity_labels": service.SEVERITY_LABELS,
        "state_labels": service.STATE_LABELS,
        "severity_badges": SEVERITY_BADGES,
        "state_badges": STATE_BADGES,
        "evidence_labels": EVIDENCE_LABELS,
        "detail_labels": DETAIL_LABELS,
        "title": lambda alert: service.title_text(alert, locale),
        "overdue": service.is_overdue,
        "age_days": lambda alert: max(0, (utcnow() - alert.first_seen_at).days),
    }


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request,
    db: DB,
    principal: Caller,
    locale: Locale,
    state: str = "",
    rule: str = "",
    severity: str = "",
    offset: int = 0,
) -> Response:
    """The alerts of the caller's organizations and jurisdiction, with filters."""
    offset = clean_offset(offset)
    rows, total = service.list_alerts(
        db,
        principal,
        state=AlertState(state) if state in AlertState.__members__ else None,
        rule=rule if rule in service.RULE_LABELS else None,
        severity=AlertSeverity(severity) if severity in AlertSeverity.__members__ else None,
        offset=offset,
        limit=PAGE_SIZE,
    )
    return page(
        request,
        "oversight/alert_list.html",
        {
            **_common(locale),
            "alerts": rows,
            "total": total,
            "pager": pager(request, offset, total, PAGE_SIZE),
            "filters": {"state": state, "rule": rule, "severity": severity},
            "names": org_names(db, {a.org_id for a in rows if a.org_id}),
            "can_run": service.may_run(principal),
        },
    )


@router.post(BASE + "/run", response_class=HTMLResponse)
async def run(request: Request, db: DB, principal: Caller) -> Response:
    """Runs the rules now, then shows the list."""
    await read_form(request, principal)
    if not service.may_run(principal):
        raise Forbidden()
    service.run_rules(db, settings=request.app.state.settings)
    return redirect(BASE, "saved")


def _detail(
    request: Request,
    db: DB,
    principal: Caller,
    locale: str,
    alert: Alert,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The page of one alert."""
    names = org_names(db, {alert.org_id} if alert.org_id else set())
    return page(
        request,
        "oversight/alert_detail.html",
        {
            **_common(locale),
            "alert": alert,
            "org_name": names.get(alert.org_id) if alert.org_id else None,
            "province_name": dict(provinces(db)).get(alert.province_code or ""),
            "notifications": service.notifications(db, alert),
            "can_act": service.can_act(principal, alert) and alert.state is not AlertState.resolved,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get(BASE + "/{alert_id}", response_class=HTMLResponse)
def detail_page(
    alert_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """One alert: what it is about, its evidence, its notifications, and what to do."""
    return _detail(request, db, principal, locale, service.get_alert(db, principal, alert_id))


async def _act(
    alert_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: str, action: str
) -> Response:
    """Acknowledges or resolves from the form; a refused note is shown on the form."""
    values = form_values(await read_form(request, principal), "note")
    act = service.acknowledge if action == "acknowledge" else service.resolve
    try:
        act(db, principal, alert_id, values["note"] or "")
    except (ValidationFailed, Conflict) as exc:
        alert = service.get_alert(db, principal, alert_id)
        errors = field_errors(exc, locale, ("note",))
        return _detail(request, db, principal, locale, alert, errors=errors, status_code=422)
    return redirect(f"{BASE}/{alert_id}", "saved")


@router.post(BASE + "/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    alert_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """Someone is on it."""
    return await _act(alert_id, request, db, principal, locale, "acknowledge")


@router.post(BASE + "/{alert_id}/resolve", response_class=HTMLResponse)
async def resolve(
    alert_id: uuid.UUID, request: Request, db: DB, principal: Caller, locale: Locale
) -> Response:
    """Closes the alert with what was done."""
    return await _act(alert_id, request, db, principal, locale, "resolve")
