"""Oversight commands: the monthly report as PDF (`truyxuat oversight report monthly`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from truyxuat.auth.cli import exit_with_error
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.oversight import monthly_report
from truyxuat.registry.cli import operator_of

app = typer.Typer(help="Oversight: the dashboard's monthly report.", no_args_is_help=True)


class Lang(StrEnum):
    """The report's language."""

    vi = "vi"
    en = "en"


@app.command("monthly")
def monthly(
    out: Path = typer.Option(..., "--out", help="Where to write the PDF.", dir_okay=False),
    month: str | None = typer.Option(
        None, "--month", help="The month as YYYY-MM (default: the last full month)."
    ),
    org: str | None = typer.Option(
        None,
        "--org",
        help="Code of the organization whose view the report shows (an authority: its "
        "province); default the platform's (everything).",
    ),
    lang: Lang = typer.Option(Lang.vi, "--lang", help="Language of the report: vi or en."),
    province: str | None = typer.Option(
        None, "--province", help="Code of one province the organization oversees (e.g. 24)."
    ),
) -> None:
    """Writes the monthly oversight report of one month as an A4 PDF."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        checked = monthly_report.parse_month(month)
        with session_scope(factory) as session:
            principal = operator_of(session, org, lang.value)
            body = monthly_report.build_report(session, principal, checked, lang.value, province)
    except DomainError as exc:
        exit_with_error(exc)
    out.write_bytes(body)
    typer.echo(f"report for {checked} written to {out} ({len(body)} bytes)")
