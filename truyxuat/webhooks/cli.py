"""CLI: the webhook delivery log — list, replay, prune."""

from __future__ import annotations

import uuid
from datetime import timedelta

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.cli import exit_with_error
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.registry.cli import cli_principal
from truyxuat.registry.models import Organization
from truyxuat.webhooks import service

webhooks_app = typer.Typer(help="Webhook deliveries: list, replay, prune.", no_args_is_help=True)
_OPERATOR = Principal(label="cli", grants=(Grant(uuid.UUID(int=0), Role.platform_admin, None),))


def _principal(session: Session, org_code: str | None) -> Principal:
    """The organization's administrator, or the node's operator (all deliveries)."""
    if org_code is None:
        return _OPERATOR
    org = session.scalars(select(Organization).where(Organization.code == org_code)).first()
    if org is None:
        typer.secho(f"unknown organization code: {org_code}", fg="red", err=True)
        raise typer.Exit(2)
    return cli_principal(org, "en")


@webhooks_app.command("list")
def list_deliveries(
    org: str | None = typer.Option(None, "--org", help="Only this organization's deliveries."),
    failed: bool = typer.Option(False, "--failed", help="Only deliveries that were not 2xx."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="How many, newest first."),
) -> None:
    """Prints the newest deliveries: time, status, source, URL and id."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        principal = _principal(session, org)
        rows, total = service.list_deliveries(
            session, principal, failed=True if failed else None, limit=limit
        )
        for row in rows:
            status = str(row.status) if row.status is not None else "-"
            typer.echo(
                f"{row.created_at:%Y-%m-%d %H:%M:%S} {status:>3} {row.source:<18} "
                f"{row.url} {row.id}" + (f" ({row.error})" if row.error and not row.ok else "")
            )
        typer.echo(f"{len(rows)} of {total} deliveries")


@webhooks_app.command("replay")
def replay(
    delivery_id: uuid.UUID = typer.Argument(..., help="The id of the delivery to send again."),
) -> None:
    """Sends a delivery again, byte for byte, and prints the receiver's answer."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            outcome = service.replay(session, _OPERATOR, delivery_id)
    except DomainError as exc:
        exit_with_error(exc)
    if not outcome.ok:
        typer.secho(f"replay {outcome.delivery.id}: {outcome.error}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"replay {outcome.delivery.id}: HTTP {outcome.status}")


@webhooks_app.command("prune")
def prune(
    days: int = typer.Option(30, "--days", min=1, help="Keep the deliveries of this many days."),
) -> None:
    """Deletes deliveries older than DAYS (the log keeps whole bodies)."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        removed = service.prune(session, older_than=timedelta(days=days))
    typer.echo(f"{removed} deliveries removed")
