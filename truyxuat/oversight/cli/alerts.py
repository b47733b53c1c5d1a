"""Oversight commands: run the early-warning rules, list alerts, send the webhook outbox.

`truyxuat oversight alerts run` is what cron calls (see docs/deployment.md) so alerts appear
without anyone asking; then `deliver` sends their webhooks.
"""

from __future__ import annotations

import typer
from sqlalchemy import select

from truyxuat.auth.cli import exit_with_error
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.oversight.models import Alert, AlertSeverity, AlertState
from truyxuat.oversight.service import alerts as service

app = typer.Typer(help="Oversight: early-warning alerts.", no_args_is_help=True)


@app.command("run")
def run(
    rule: str | None = typer.Option(
        None, "--rule", help="Only this rule (e.g. copied_stamp); all rules when left out."
    ),
) -> None:
    """Evaluates the rules: raises new alerts, refreshes known ones, queues notifications."""
    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            summary = service.run_rules(session, rule=rule, settings=settings)
    except DomainError as exc:
        exit_with_error(exc)
    for name in summary.rules:
        typer.echo(f"  {name}: {summary.by_rule.get(name, 0)} situations")
    typer.echo(
        f"{summary.found} situations: {summary.created} new alerts, {summary.refreshed} "
        f"refreshed, {summary.reopened} reopened; {summary.notifications} notifications queued"
    )


@app.command("list")
def list_alerts(
    state: AlertState | None = typer.Option(
        None, "--state", help="open, acknowledged or resolved."
    ),
    rule: str | None = typer.Option(None, "--rule", help="Only this rule."),
    severity: AlertSeverity | None = typer.Option(
        None, "--severity", help="info, warning or critical."
    ),
    limit: int = typer.Option(50, "--limit", help="How many, most recently seen first."),
) -> None:
    """Lists alerts (every province: the local operator), most recently seen first."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        query = select(Alert).order_by(Alert.last_seen_at.desc(), Alert.id).limit(limit)
        if state is not None:
            query = query.where(Alert.state == state)
        if rule:
            query = query.where(Alert.rule == rule)
        if severity is not None:
            query = query.where(Alert.severity == severity)
        for alert in session.scalars(query):
            typer.echo(
                f"{alert.id} {alert.last_seen_at:%Y-%m-%d %H:%M} {alert.severity.value:8} "
                f"{alert.state.value:12} {alert.rule} {service.title_text(alert)}"
            )


@app.command("deliver")
def deliver() -> None:
    """Sends the webhook notifications that are due (e-mail records stay for the mail relay)."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        report = service.deliver(session)
    typer.echo(
        f"{report.sent} webhook notifications delivered, {report.retrying} to retry, "
        f"{report.failed} given up"
    )
