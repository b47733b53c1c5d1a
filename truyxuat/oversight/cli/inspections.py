"""Oversight commands: inspections and their violations, read by the local operator."""

from __future__ import annotations

import getpass
import uuid

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from truyxuat.auth.cli import exit_with_error
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import N_, DomainError, invalid
from truyxuat.oversight.models import Inspection, Violation, ViolationState
from truyxuat.oversight.service import inspections as service

app = typer.Typer(help="Oversight: inspections and violations.", no_args_is_help=True)


def _operator() -> Principal:
    """The trusted local operator: reads every province, like the platform's administrator."""
    return Principal(
        label=f"cli:{getpass.getuser()}",
        grants=(Grant(uuid.UUID(int=0), Role.platform_admin, None),),
        locale=get_settings().default_locale,
    )


def _org_id(session: Session, code: str | None) -> uuid.UUID | None:
    """The id of the organization with this code (an error line when there is none)."""
    if code is None:
        return None
    org = service.find_org(session, code)
    if org is None:
        raise invalid("org", N_("Unknown organization code {code}"), code=code)
    return org.id


@app.command("list")
def list_inspections(
    org: str | None = typer.Option(None, "--org", help="Only this organization (its code)."),
    open_only: bool = typer.Option(
        False, "--open", help="Only inspections with violations not yet verified."
    ),
    limit: int = typer.Option(50, "--limit", help="How many, newest first."),
) -> None:
    """Lists inspections, newest first, with their result and open violations."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            principal = _operator()
            rows, total = service.list_inspections(
                session, principal, org_id=_org_id(session, org), limit=10_000
            )
            open_counts = dict(
                session.execute(
                    select(Violation.inspection_id, func.count())
                    .where(Violation.state.in_(service.UNVERIFIED))
                    .group_by(Violation.inspection_id)
                ).all()
            )
            names = service.org_names(session, {r.org_id for r in rows})
            shown = [r for r in rows if not open_only or open_counts.get(r.id)][:limit]
            for inspection in shown:
                typer.echo(_line(inspection, names.get(inspection.org_id, ""), open_counts))
            typer.echo(f"{len(shown)} of {total} inspections")
    except DomainError as exc:
        exit_with_error(exc)


def _line(inspection: Inspection, org_name: str, open_counts: dict[uuid.UUID, int]) -> str:
    """One inspection as a line of the listing."""
    pending = open_counts.get(inspection.id, 0)
    return (
        f"{inspection.id} {inspection.inspected_on} {inspection.result.value:10} "
        f"{org_name} — {pending} open violation(s)"
    )


@app.command("violations")
def list_violations(
    org: str | None = typer.Option(None, "--org", help="Only this organization (its code)."),
    state: ViolationState | None = typer.Option(
        None, "--state", help="open, remedied or verified."
    ),
    overdue: bool = typer.Option(
        False, "--overdue", help="Only violations past their deadline and not verified."
    ),
    limit: int = typer.Option(50, "--limit", help="How many, nearest deadline first."),
) -> None:
    """Lists violations with their deadline, state and what they suspend."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            rows, total = service.list_violations(
                session,
                _operator(),
                state=state,
                overdue=True if overdue else None,
                org_id=_org_id(session, org),
                limit=limit,
            )
            names = service.org_names(session, {r.org_id for r in rows})
            for violation in rows:
                typer.echo(_violation_line(session, violation, names.get(violation.org_id, "")))
            typer.echo(f"{len(rows)} of {total} violations")
    except DomainError as exc:
        exit_with_error(exc)


def _violation_line(session: Session, violation: Violation, org_name: str) -> str:
    """One violation as a line of the listing."""
    late = " OVERDUE" if service.is_overdue(violation) else ""
    suspends = ""
    if violation.suspends_type is not None:
        label = service.suspension_label(session, violation) or "?"
        lifted = " (lifted)" if violation.state is ViolationState.verified else ""
        suspends = f" suspends {violation.suspends_type.value} {label}{lifted}"
    return (
        f"{violation.id} {violation.state.value:8} {violation.severity.value:8} "
        f"due {violation.deadline or '—'}{late} {org_name}: {violation.rule}{suspends}"
    )
