"""CLI for the registry: `truyxuat registry import KIND FILE --org CODE` with a progress bar."""

from __future__ import annotations

import enum
import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import N_, DomainError
from truyxuat.registry.imports import ImportKind, ImportReport, translate
from truyxuat.registry.models import Organization, OrgKind
from truyxuat.registry.service.imports import run_import

registry_app = typer.Typer(help="Registry master data: imports.", no_args_is_help=True)


@registry_app.callback()
def registry() -> None:
    """Registry master data: organizations, places, products, certificates."""


class Lang(enum.StrEnum):
    """Languages of the printed report."""

    vi = "vi"
    en = "en"


def cli_principal(org: Organization, locale: str) -> Principal:
    """A trusted local operator acting as the organization's administrator.

    An authority organization's operator acts as that authority (so it may register
    organizations in its province), the platform organization's as platform admin.
    """
    role = {OrgKind.platform: Role.platform_admin, OrgKind.authority: Role.authority}.get(
        org.kind, Role.org_admin
    )
    return Principal(
        label=f"cli:{getpass.getuser()}",
        grants=(Grant(org.id, role, org.province_code),),
        active_org_id=org.id,
        locale=locale,
    )


def operator_of(session: Session, org_code: str | None, locale: str) -> Principal:
    """The named organization's operator (`cli_principal`), else the platform's; an unknown
    code (or no platform organization) ends the command with exit code 2."""
    query = select(Organization)
    query = (
        query.where(Organization.code == org_code)
        if org_code
        else query.where(Organization.kind == OrgKind.platform).order_by(Organization.code)
    )
    org = session.scalars(query.limit(1)).first()
    if org is None:
        typer.secho(
            f"unknown organization code: {org_code}"
            if org_code
            else "no platform organization: pass --org",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    return cli_principal(org, locale)


@registry_app.command("import")
def import_file(
    kind: ImportKind = typer.Argument(..., help="What the file holds."),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A .csv (UTF-8) or .xlsx file."
    ),
    org: str = typer.Option(..., "--org", help="Code of the organization to import for."),
    lang: Lang = typer.Option(Lang.vi, "--lang", help="Language of the report."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing."),
) -> None:
    """Imports every row of FILE or none of them, printing each row's errors."""
    locale = lang.value
    console = Console()
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            organization = session.scalar(select(Organization).where(Organization.code == org))
            if organization is None:
                message = translate(locale, N_("Unknown organization code {code}"), code=org)
                typer.secho(message, fg="red", err=True)
                raise typer.Exit(2)
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as bar:
                task = bar.add_task(f"{kind.value} ← {file.name}", total=None)
                report = run_import(
                    session,
                    cli_principal(organization, locale),
                    kind,
                    file.read_bytes(),
                    file.name,
                    org_id=None if kind is ImportKind.organizations else organization.id,
                    dry_run=dry_run,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    except DomainError as exc:
        typer.secho(translate(locale, exc.message, **exc.params), fg="red", err=True)
        raise typer.Exit(2) from None
    _print_report(console, report, locale)
    if report.rejected:
        raise typer.Exit(2)


def _print_report(console: Console, report: ImportReport, locale: str) -> None:
    """Prints the outcome line and, for a rejected file, a table of row, column and message."""
    if report.rejected:
        table = Table(
            translate(locale, N_("Row")),
            translate(locale, N_("Column")),
            translate(locale, N_("Message")),
            title=translate(locale, N_("Import rejected")),
            show_lines=False,
        )
        for error in report.sorted_errors():
            table.add_row(
                "" if error.row is None else str(error.row),
                error.column or "",
                translate(locale, error.message, **error.params),
            )
        console.print(table)
        console.print(
            translate(
                locale, N_("{count} error(s): nothing was imported"), count=len(report.errors)
            ),
            style="bold red",
        )
    elif report.dry_run:
        console.print(
            translate(
                locale,
                N_("Dry run: all {count} rows are valid; nothing was written"),
                count=report.valid_rows,
            ),
            style="bold green",
        )
    else:
        console.print(
            translate(locale, N_("Imported {count} rows"), count=report.created),
            style="bold green",
        )
