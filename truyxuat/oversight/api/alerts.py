"""Oversight API: early-warning alerts — list, read, acknowledge, resolve, and run the rules
now (/api/v1/oversight/alerts...)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.config import Settings
from truyxuat.errors import Forbidden
from truyxuat.i18n import gettext
from truyxuat.oversight.models import Alert, AlertSeverity, AlertState
from truyxuat.oversight.service import alerts as service
from truyxuat.registry.schemas.common import MAX_OFFSET

router = APIRouter(tags=["oversight"])


class NoteIn(BaseModel):
    """A note on acknowledging (what is being done) or resolving (what was done)."""

    note: str = Field(default="", max_length=4000)


class NotificationOut(BaseModel):
    """One outbox record of an alert."""

    channel: str
    target: str
    state: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class AlertOut(BaseModel):
    """An alert: the rule and situation, who must act, how serious, and what shows it."""

    id: uuid.UUID
    rule: str
    rule_label: str
    dedup_key: str
    severity: AlertSeverity
    state: AlertState
    org_id: uuid.UUID | None
    province_code: str | None
    gtin: str | None
    title: str = Field(description="In the caller's language")
    title_msgid: str
    params: dict[str, Any]
    evidence: list[dict[str, Any]]
    evidence_url: str
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str


class AlertDetail(AlertOut):
    """An alert with its notifications."""

    notifications: list[NotificationOut]


class AlertPage(BaseModel):
    """A page of alerts."""

    items: list[AlertOut]
    total: int


class RunOut(BaseModel):
    """What running the rules found, counted over the alerts the caller may see."""

    rules: list[str]
    created: int
    reopened: int
    open: int


def _out(alert: Alert, locale: str) -> dict[str, Any]:
    """An alert as JSON fields, its title in the caller's language."""
    return {
        "id": alert.id,
        "rule": alert.rule,
        "rule_label": gettext(locale, service.RULE_LABELS.get(alert.rule, alert.rule)),
        "dedup_key": alert.dedup_key,
        "severity": alert.severity,
        "state": alert.state,
        "org_id": alert.org_id,
        "province_code": alert.province_code,
        "gtin": alert.gtin,
        "title": service.title_text(alert, locale),
        "title_msgid": alert.title,
        "params": alert.params or {},
        "evidence": alert.evidence or [],
        "evidence_url": alert.evidence_url,
        "occurrences": alert.occurrences,
        "first_seen_at": alert.first_seen_at,
        "last_seen_at": alert.last_seen_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": alert.resolved_at,
        "resolved_by": alert.resolved_by,
        "resolution_note": alert.resolution_note,
    }


def _detail(db: DB, alert: Alert, locale: str) -> AlertDetail:
    """An alert with its outbox records."""
    notes = [
        NotificationOut.model_validate(n, from_attributes=True)
        for n in service.notifications(db, alert)
    ]
    return AlertDetail(**_out(alert, locale), notifications=notes)


@router.get("/oversight/alerts", response_model=AlertPage)
def list_alerts(
    db: DB,
    principal: Caller,
    locale: Locale,
    state: AlertState | None = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    severity: AlertSeverity | None = None,
    org_id: uuid.UUID | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    """Alerts of the caller's organizations and jurisdiction, most recently seen first."""
    rows, total = service.list_alerts(
        db,
        principal,
        state=state,
        rule=rule,
        severity=severity,
        org_id=org_id,
        offset=offset,
        limit=limit,
    )
    return AlertPage(items=[AlertOut(**_out(a, locale)) for a in rows], total=total)


@router.post("/oversight/alerts/run", response_model=RunOut)
def run_rules(
    request: Request,
    db: DB,
    principal: Caller,
    rule: Annotated[str | None, Query(max_length=64)] = None,
) -> RunOut:
    """Evaluates the rules now (authorities, inspectors and the platform)."""
    if not service.may_run(principal):
        raise Forbidden()
    settings: Settings = request.app.state.settings
    summary = service.run_rules(db, rule=rule, settings=settings)
    visible = service.visible_ids(db, principal, summary.created_ids + summary.reopened_ids)
    _, open_total = service.list_alerts(db, principal, state=AlertState.open, limit=1)
    return RunOut(
        rules=summary.rules,
        created=len(visible & set(summary.created_ids)),
        reopened=len(visible & set(summary.reopened_ids)),
        open=open_total,
    )


@router.get("/oversight/alerts/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: uuid.UUID, db: DB, principal: Caller, locale: Locale) -> AlertDetail:
    """One alert with its evidence and notifications."""
    return _detail(db, service.get_alert(db, principal, alert_id), locale)


@router.post("/oversight/alerts/{alert_id}/acknowledge", response_model=AlertDetail)
def acknowledge(
    alert_id: uuid.UUID, body: NoteIn, db: DB, principal: Caller, locale: Locale
) -> AlertDetail:
    """Someone is on it: the organization concerned or an authority over its province."""
    return _detail(db, service.acknowledge(db, principal, alert_id, body.note), locale)


@router.post("/oversight/alerts/{alert_id}/resolve", response_model=AlertDetail)
def resolve(
    alert_id: uuid.UUID, body: NoteIn, db: DB, principal: Caller, locale: Locale
) -> AlertDetail:
    """Closes the alert with what was done (a note is required)."""
    return _detail(db, service.resolve(db, principal, alert_id, body.note), locale)
