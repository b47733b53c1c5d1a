"""Early-warning alerts: run the rules (`truyxuat.oversight.rules`), keep one alert per
situation, tell the organization concerned and the province's authorities through the outbox,
and let them acknowledge and resolve it.

A situation found again refreshes its alert (last seen, evidence, occurrences). An alert
already resolved stays resolved unless a run brings evidence it has not seen (a new event, a
new scan, a new lock...): then it is opened again and notified again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth.principal import OVERSIGHT_ROLES, Principal, can_write, read_filter
from truyxuat.config import Settings, get_settings
from truyxuat.db import utcnow
from truyxuat.epcis.models import Subscription
from truyxuat.epcis.subscriptions import SIGNATURE_HEADER, HttpPost, backoff, sign
from truyxuat.epcis.subscriptions import http_post as default_http_post
from truyxuat.errors import N_, Conflict, Forbidden, NotFound, invalid
from truyxuat.i18n import gettext
from truyxuat.oversight.models import Alert, AlertNotification, AlertSeverity, AlertState
from truyxuat.oversight.rules import MAX_EVIDENCE, Finding, RuleContext, all_rules
from truyxuat.oversight.rules.codes import INVALID_CODE_USED
from truyxuat.oversight.rules.cold_chain import TEMPERATURE_EXCURSION
from truyxuat.oversight.rules.diary import EARLY_HARVEST
from truyxuat.oversight.rules.mass import MASS_IMBALANCE, SHIPMENT_NOT_RECEIVED
from truyxuat.oversight.rules.moit import UNTRACED_MANDATORY_PRODUCT
from truyxuat.oversight.rules.stamps import COPIED_STAMP, PIN_BRUTE_FORCE
from truyxuat.recall.models import NotificationChannel, NotificationState
from truyxuat.registry.models import Organization, OrgKind
from truyxuat.webhooks import service as webhooks

RULE_LABELS: dict[str, str] = {
    COPIED_STAMP: N_("Copied stamp"),
    PIN_BRUTE_FORCE: N_("PIN brute force"),
    INVALID_CODE_USED: N_("Lapsed certificate or code still used"),
    EARLY_HARVEST: N_("Harvest before the pre-harvest interval"),
    TEMPERATURE_EXCURSION: N_("Cold-chain temperature excursion"),
    MASS_IMBALANCE: N_("More shipped than harvested or received"),
    SHIPMENT_NOT_RECEIVED: N_("Shipment never received"),
    UNTRACED_MANDATORY_PRODUCT: N_("Mandatory product sold without traceability data"),
}
SEVERITY_LABELS: dict[str, str] = {
    AlertSeverity.info.value: N_("Information"),
    AlertSeverity.warning.value: N_("Warning"),
    AlertSeverity.critical.value: N_("Critical"),
}
STATE_LABELS: dict[str, str] = {
    AlertState.open.value: N_("Open"),
    AlertState.acknowledged.value: N_("Acknowledged"),
    AlertState.resolved.value: N_("Resolved"),
}
# An alert still open (or only acknowledged) this long after it was first seen is overdue.
OVERDUE_AFTER: dict[AlertSeverity, timedelta] = {
    AlertSeverity.critical: timedelta(days=1),
    AlertSeverity.warning: timedelta(days=3),
    AlertSeverity.info: timedelta(days=7),
}
# Webhook deliveries given up after this many failures in a row.
MAX_ATTEMPTS = 10
_CHUNK = 500


@dataclass
class RunSummary:
    """What one evaluation of the rules did."""

    rules: list[str]
    found: int = 0
    created: int = 0
    refreshed: int = 0
    reopened: int = 0
    notifications: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    created_ids: list[uuid.UUID] = field(default_factory=list)
    reopened_ids: list[uuid.UUID] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON (counts; the ids stay with the caller)."""
        data = asdict(self)
        del data["created_ids"], data["reopened_ids"]
        return data


def rule_names() -> list[str]:
    """The names of every rule, in the order they run."""
    return list(all_rules())


def may_run(principal: Principal) -> bool:
    """May the caller run the rules now: the platform, authorities and inspectors."""
    return principal.is_platform_admin or bool(principal.jurisdictions(OVERSIGHT_ROLES))


def is_overdue(alert: Alert, now: datetime | None = None) -> bool:
    """Is the alert unresolved past the time its severity allows?"""
    if alert.state is AlertState.resolved:
        return False
    return (now or utcnow()) - alert.first_seen_at > OVERDUE_AFTER[alert.severity]


def title_text(alert: Alert, locale: str | None = None) -> str:
    """An alert's title in the reader's language, its numbers written the local way
    (1.138 km, −14,5 °C in Vietnamese); English msgid and plain numbers without a locale."""
    if locale is None:
        text, params = alert.title, dict(alert.params or {})
    else:
        text = gettext(locale, alert.title)
        params = {
            name: _number(value, locale) if isinstance(value, int | float) else value
            for name, value in (alert.params or {}).items()
        }
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def _number(value: float, locale: str) -> str:
    """A number in the locale's notation, at most one decimal."""
    if isinstance(value, bool):
        return str(value)
    return format_decimal(value, format="#,##0.#", locale=locale)


def run_rules(
    db: Session,
    *,
    now: datetime | None = None,
    rule: str | None = None,
    settings: Settings | None = None,
) -> RunSummary:
    """Evaluates every rule (or the one named), raising and refreshing alerts; flushes."""
    rules = all_rules()
    if rule is not None:
        if rule not in rules:
            raise invalid(["rule"], N_("Unknown rule: {rule}"), rule=rule)
        rules = {rule: rules[rule]}
    now = now or utcnow()
    ctx = RuleContext(db, settings or get_settings(), now)
    summary = RunSummary(rules=list(rules))
    for name, evaluate in rules.items():
        findings: dict[str, Finding] = {}
        for finding in evaluate(ctx):
            findings.setdefault(finding.dedup_key, finding)
        summary.by_rule[name] = len(findings)
        summary.found += len(findings)
        keys = sorted(findings)
        existing: dict[str, Alert] = {}
        for start in range(0, len(keys), _CHUNK):
            for alert in db.scalars(
                select(Alert).where(
                    Alert.rule == name, Alert.dedup_key.in_(keys[start : start + _CHUNK])
                )
            ):
                existing[alert.dedup_key] = alert
        for key in keys:
            finding = findings[key]
            found = existing.get(key)
            if found is None:
                created = _create(db, finding, now)
                if created is not None:
                    summary.created += 1
                    summary.created_ids.append(created.id)
                    summary.notifications += _notify(db, created, reopened=False)
                    continue
                # A concurrent run raised it meanwhile: refresh that one instead.
                found = db.scalar(select(Alert).where(Alert.rule == name, Alert.dedup_key == key))
                if found is None:  # pragma: no cover - the other run rolled back
                    continue
            alert = found
            if alert.state is AlertState.resolved:
                if _new_refs(alert, finding):
                    _refresh(alert, finding, now)
                    alert.state = AlertState.open
                    alert.acknowledged_at = alert.acknowledged_by = None
                    alert.resolved_at = alert.resolved_by = None
                    summary.reopened += 1
                    summary.reopened_ids.append(alert.id)
                    db.flush()
                    summary.notifications += _notify(db, alert, reopened=True)
            else:
                _refresh(alert, finding, now)
                summary.refreshed += 1
    db.flush()
    return summary


def _refs(evidence: list[dict[str, Any]]) -> set[str]:
    """The refs of evidence items."""
    return {str(item.get("ref")) for item in evidence if item.get("ref")}


def _new_refs(alert: Alert, finding: Finding) -> bool:
    """Does the finding bring evidence the alert has not seen?"""
    return bool(_refs(finding.evidence) - _refs(alert.evidence or []))


def _create(db: Session, finding: Finding, now: datetime) -> Alert | None:
    """A new alert from a finding; None when another run inserted it first (unique key)."""
    alert = Alert(
        rule=finding.rule,
        dedup_key=finding.dedup_key,
        severity=finding.severity,
        state=AlertState.open,
        org_id=finding.org_id,
        province_code=finding.province_code,
        gtin=finding.gtin,
        title=finding.title,
        params=finding.params,
        evidence=finding.evidence,
        evidence_url=finding.evidence_url,
        occurrences=finding.count,
        first_seen_at=now,
        last_seen_at=now,
    )
    try:
        with db.begin_nested():
            db.add(alert)
    except IntegrityError:
        return None
    return alert


def _refresh(alert: Alert, finding: Finding, now: datetime) -> None:
    """Brings an alert up to date with the situation found again (no new alert)."""
    fresh = _refs(finding.evidence)
    kept = [e for e in alert.evidence or [] if str(e.get("ref")) not in fresh]
    alert.evidence = (finding.evidence + kept)[:MAX_EVIDENCE]
    alert.params = finding.params
    alert.title = finding.title
    alert.severity = finding.severity
    alert.evidence_url = finding.evidence_url
    alert.occurrences = max(alert.occurrences, finding.count)
    alert.last_seen_at = now


# --- notifications ----------------------------------------------------------------------------


def notification_payload(alert: Alert, *, reopened: bool) -> dict[str, Any]:
    """What a recipient is told: the alert, its evidence link and where to act on it."""
    return {
        "type": "alert.reopened" if reopened else "alert.raised",
        "alertId": str(alert.id),
        "rule": alert.rule,
        "severity": alert.severity.value,
        "title": title_text(alert),
        "titleMsgid": alert.title,
        "params": alert.params,
        "orgId": str(alert.org_id) if alert.org_id else None,
        "provinceCode": alert.province_code,
        "gtin": alert.gtin,
        "evidenceUrl": alert.evidence_url,
        "firstSeenAt": alert.first_seen_at.isoformat(),
        "lastSeenAt": alert.last_seen_at.isoformat(),
        "page": f"/oversight/alerts/{alert.id}",
        "acknowledge": f"/api/v1/oversight/alerts/{alert.id}/acknowledge",
    }


def _notify(db: Session, alert: Alert, *, reopened: bool) -> int:
    """Outbox records: the organization concerned (webhooks, e-mail), its province's
    authorities and the national ones (e-mail); returns how many."""
    payload = notification_payload(alert, reopened=reopened)
    records: list[AlertNotification] = []
    if alert.org_id is not None:
        for dest in sorted(
            set(db.scalars(select(Subscription.dest).where(Subscription.org_id == alert.org_id)))
        ):
            records.append(_record(alert, alert.org_id, NotificationChannel.webhook, dest, payload))
        email = db.scalar(select(Organization.email).where(Organization.id == alert.org_id))
        if email:
            records.append(_record(alert, alert.org_id, NotificationChannel.email, email, payload))
    provinces: list[ColumnElement[bool]] = [Organization.province_code.is_(None)]
    if alert.province_code is not None:
        provinces.append(Organization.province_code == alert.province_code)
    for authority_id, email in db.execute(
        select(Organization.id, Organization.email)
        .where(Organization.kind == OrgKind.authority, or_(*provinces))
        .order_by(Organization.code)
    ):
        if email and authority_id != alert.org_id:
            records.append(_record(alert, authority_id, NotificationChannel.email, email, payload))
    db.add_all(records)
    db.flush()
    return len(records)


def _record(
    alert: Alert,
    org_id: uuid.UUID,
    channel: NotificationChannel,
    target: str,
    payload: dict[str, Any],
) -> AlertNotification:
    """One outbox record."""
    now = utcnow()
    return AlertNotification(
        alert_id=alert.id,
        org_id=org_id,
        channel=channel,
        target=target,
        payload=payload,
        state=NotificationState.pending,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


@dataclass
class DeliveryReport:
    """What one pass over the webhook outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver(
    db: Session, *, http_post: HttpPost = default_http_post, now: datetime | None = None
) -> DeliveryReport:
    """POSTs the webhook records that are due, signed with the recipient's subscription secret.

    A failure is retried later (30 s doubling, at most 6 h: `next_attempt_at`) and given up
    after MAX_ATTEMPTS. A sent record is never sent again. E-mail records stay pending for
    the mail relay, which sends `channel = 'email' AND state = 'pending'` rows and marks them
    sent (`state`, `sent_at`).
    """
    now = now or utcnow()
    report = DeliveryReport()
    due = db.scalars(
        select(AlertNotification)
        .where(
            AlertNotification.state == NotificationState.pending,
            AlertNotification.channel == NotificationChannel.webhook,
            AlertNotification.next_attempt_at <= now,
        )
        .order_by(AlertNotification.created_at, AlertNotification.id)
        .with_for_update(skip_locked=True)
    ).all()
    secrets: dict[tuple[uuid.UUID, str], str] = {}
    for org_id, dest, secret in db.execute(
        select(Subscription.org_id, Subscription.dest, Subscription.secret).where(
            Subscription.org_id.in_({record.org_id for record in due})
        )
    ):
        secrets.setdefault((org_id, dest), secret)
    for record in due:
        body = json.dumps(record.payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        hook_secret = secrets.get((record.org_id, record.target))
        if hook_secret is not None:
            headers[SIGNATURE_HEADER] = sign(hook_secret, body)
        record.attempts += 1
        outcome = webhooks.send(
            db,
            org_id=record.org_id,
            source="alert",
            source_id=record.id,
            url=record.target,
            body=body,
            headers=headers,
            post=http_post,
        )
        if outcome.ok:
            record.state = NotificationState.sent
            record.sent_at = now
            report.sent += 1
        elif record.attempts >= MAX_ATTEMPTS:
            record.state = NotificationState.failed
            report.failed += 1
        else:
            record.next_attempt_at = now + backoff(record.attempts)
            report.retrying += 1
    db.flush()
    return report


# --- reading, acknowledging, resolving ----------------------------------------------------


def visible_alerts(principal: Principal) -> Any:
    """WHERE clause: alerts of the caller's organizations and of its jurisdiction."""
    return read_filter(principal, Alert.org_id, (Alert.province_code,))


def list_alerts(
    db: Session,
    principal: Principal,
    *,
    state: AlertState | None = None,
    rule: str | None = None,
    severity: AlertSeverity | None = None,
    org_id: uuid.UUID | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Alert], int]:
    """The alerts the caller may see, filtered, newest seen first, and how many there are."""
    conditions: list[ColumnElement[bool]] = [visible_alerts(principal)]
    if state is not None:
        conditions.append(Alert.state == state)
    if rule:
        conditions.append(Alert.rule == rule)
    if severity is not None:
        conditions.append(Alert.severity == severity)
    if org_id is not None:
        conditions.append(Alert.org_id == org_id)
    total = db.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
    rows = db.scalars(
        select(Alert)
        .where(*conditions)
        .order_by(Alert.last_seen_at.desc(), Alert.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)


def visible_ids(db: Session, principal: Principal, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these alerts the caller may see."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _CHUNK):
        found |= set(
            db.scalars(
                select(Alert.id).where(
                    Alert.id.in_(ids[start : start + _CHUNK]), visible_alerts(principal)
                )
            )
        )
    return found


def get_alert(db: Session, principal: Principal, alert_id: uuid.UUID) -> Alert:
    """One alert the caller may see; NotFound otherwise (never revealing it exists)."""
    alert = db.scalar(select(Alert).where(Alert.id == alert_id, visible_alerts(principal)))
    if alert is None:
        raise NotFound()
    return alert


def notifications(db: Session, alert: Alert) -> list[AlertNotification]:
    """The outbox records of an alert, oldest first."""
    return list(
        db.scalars(
            select(AlertNotification)
            .where(AlertNotification.alert_id == alert.id)
            .order_by(AlertNotification.created_at, AlertNotification.id)
        )
    )


def can_act(principal: Principal, alert: Alert) -> bool:
    """May the caller acknowledge or resolve: a writer of the organization concerned, or an
    authority or inspector over the alert's province (platform admins too)?"""
    if principal.is_platform_admin:
        return True
    if alert.org_id is not None and can_write(principal, alert.org_id):
        return True
    return principal.oversees(alert.province_code)


def _note(alert: Alert, note: str) -> None:
    """Adds a note to the alert's notes (one per acknowledgement or resolution)."""
    note = note.strip()
    if note:
        alert.resolution_note = "\n".join(n for n in (alert.resolution_note, note) if n)


def acknowledge(db: Session, principal: Principal, alert_id: uuid.UUID, note: str = "") -> Alert:
    """Records that someone is on it (idempotent for an acknowledged alert)."""
    alert = get_alert(db, principal, alert_id)
    if not can_act(principal, alert):
        raise Forbidden()
    if alert.state is AlertState.resolved:
        raise Conflict(N_("This alert is already resolved"))
    if alert.state is AlertState.open:
        alert.state = AlertState.acknowledged
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = principal.label
    _note(alert, note)
    db.flush()
    return alert


def resolve(db: Session, principal: Principal, alert_id: uuid.UUID, note: str = "") -> Alert:
    """Closes the alert with what was done; it comes back only with new evidence."""
    alert = get_alert(db, principal, alert_id)
    if not can_act(principal, alert):
        raise Forbidden()
    if alert.state is AlertState.resolved:
        raise Conflict(N_("This alert is already resolved"))
    if not note.strip():
        raise invalid(["note"], N_("Say how the alert was resolved"))
    now = utcnow()
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = principal.label
    alert.state = AlertState.resolved
    alert.resolved_at = now
    alert.resolved_by = principal.label
    _note(alert, note)
    db.flush()
    return alert
