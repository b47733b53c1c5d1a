"""CLI: open a recall (or a drill), list recalls, send the webhook outbox."""

from __future__ import annotations

import typer
from sqlalchemy import select

from truyxuat.auth.cli import exit_with_error
from truyxuat.auth.principal import Principal
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.recall import service
from truyxuat.recall.models import Recall, RecallSeverity
from truyxuat.registry.cli import operator_of

recall_app = typer.Typer(help="Recalls: open, list, notify.", no_args_is_help=True)


def _principal(org_code: str | None, locale: str) -> Principal:
    """The opening organization's operator (the platform's when no code is given)."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        return operator_of(session, org_code, locale)


@recall_app.command("open")
def open_recall(
    lot: str = typer.Argument(..., help="The lot: Digital Link, EPC URN, or number with --gtin."),
    reason: str = typer.Option(..., "--reason", help="Why the lot is recalled."),
    severity: RecallSeverity = typer.Option(
        RecallSeverity.class_ii, "--severity", help="class_i, class_ii or class_iii."
    ),
    gtin: str | None = typer.Option(None, "--gtin", help="GTIN, when LOT is a lot number."),
    org: str | None = typer.Option(None, "--org", help="Code of the opening organization."),
    drill: bool = typer.Option(False, "--drill", help="A mock recall: measure, no banner."),
) -> None:
    """Opens a recall and prints what it reaches and how long the computation took."""
    from truyxuat.reports.common import lot_identifier

    settings = get_settings()
    principal = _principal(org, settings.default_locale)
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            epc = lot_identifier(lot, gtin)
            recall = service.open_recall(
                session, principal, service.RecallRequest(epc, reason, severity, drill)
            )
            view = service.get_recall(session, principal, recall.id)
            typer.echo(f"recall {recall.id} ({'drill' if drill else 'open'}) on {recall.epc}")
            for item in view.items:
                typer.echo(f"  {item.kind.value:8} depth {item.depth}: {item.ref}")
            for recipient, name in view.recipients:
                typer.echo(f"  recipient: {name} ({recipient.org_id})")
            typer.echo(f"computed in {recall.compute_ms:.1f} ms; summary {recall.summary}")
    except DomainError as exc:
        exit_with_error(exc)


@recall_app.command("list")
def list_recalls(
    limit: int = typer.Option(50, "--limit", help="How many, newest first."),
) -> None:
    """Lists recalls, newest first, with their state and what they reach."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        for recall in session.scalars(
            select(Recall).order_by(Recall.opened_at.desc()).limit(limit)
        ):
            kind = "drill" if recall.drill else recall.state.value
            typer.echo(
                f"{recall.id} {recall.opened_at:%Y-%m-%d %H:%M} {kind:6} "
                f"{recall.severity.value} {recall.epc} {recall.summary}"
            )


@recall_app.command("deliver")
def deliver() -> None:
    """Sends the pending webhook notifications (e-mail records stay for the mail relay)."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        sent = service.deliver_webhooks(session)
    typer.echo(f"{sent} webhook notifications delivered")
