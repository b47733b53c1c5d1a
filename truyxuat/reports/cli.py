"""CLI: `truyxuat export fsma204|eudr|one-up-one-down|compliance` — reports to files.

The operator runs them on the server with the platform's whole view of the chain.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import typer
from sqlalchemy.orm import Session, sessionmaker

from truyxuat.auth.cli import exit_with_error
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.reports import compliance, eudr, fsma, steps
from truyxuat.reports.common import table_xlsx

export_app = typer.Typer(help="Reports: FSMA 204, EUDR plots, one step back/forward, compliance.")
PLATFORM = Principal(label="cli", grants=(Grant(uuid.UUID(int=0), Role.platform_admin, None),))


def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(get_settings().database_url))


def _parse_date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.secho(f"{option}: expected a date as YYYY-MM-DD", fg="red", err=True)
        raise typer.Exit(2) from None


@export_app.command("fsma204")
def export_fsma(
    lot: str = typer.Option(..., "--lot", help="Lot: Digital Link, EPC URN, or number + --gtin."),
    out: Path = typer.Option(..., "--out", help="File to write: .xlsx, .csv or .json."),
    gtin: str | None = typer.Option(None, "--gtin", help="Only this product's lots."),
    start: str | None = typer.Option(None, "--from", help="First event date (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--to", help="Last event date (YYYY-MM-DD)."),
) -> None:
    """Writes the FSMA 204 sortable spreadsheet of a lot's chain."""
    first, last = _parse_date(start, "--from"), _parse_date(end, "--to")
    try:
        with session_scope(_factory()) as session:
            report = fsma.build(
                session,
                None,
                lot,
                gtin=gtin,
                start=first,
                end=last,
                locale=get_settings().default_locale,
            )
    except DomainError as exc:
        exit_with_error(exc)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        out.write_text(fsma.to_csv(report), encoding="utf-8")
    elif suffix == ".json":
        out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), "utf-8")
    else:
        out.write_bytes(fsma.to_xlsx(report))
    typer.echo(f"{len(report.rows)} CTE rows written to {out}")


@export_app.command("eudr")
def export_eudr(
    lot: str = typer.Option(..., "--lot", help="Lot: Digital Link, EPC URN, or number + --gtin."),
    out: Path = typer.Option(..., "--out", help="GeoJSON file to write (FILE-2.geojson... too)."),
    gtin: str | None = typer.Option(None, "--gtin", help="GTIN, when --lot is a lot number."),
) -> None:
    """Writes the plots behind a lot as GeoJSON, split into files under 25 MB."""
    try:
        with session_scope(_factory()) as session:
            report = eudr.build(session, None, lot, gtin=gtin)
    except DomainError as exc:
        exit_with_error(exc)
    parts = report.collections()
    paths = (
        [out]
        if len(parts) == 1
        else [out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(1, len(parts) + 1)]
    )
    for path, data in zip(paths, parts, strict=True):
        path.write_bytes(data)
    typer.echo(f"{len(report.features)} plots written to {', '.join(str(p) for p in paths)}")


@export_app.command("one-up-one-down")
def export_steps(
    lot: str = typer.Option(..., "--lot", help="Lot: Digital Link, EPC URN, or number + --gtin."),
    out: Path = typer.Option(..., "--out", help="File to write: .xlsx, .csv or .json."),
    gtin: str | None = typer.Option(None, "--gtin", help="GTIN, when --lot is a lot number."),
) -> None:
    """Writes the one step back / one step forward report of a lot."""
    try:
        with session_scope(_factory()) as session:
            report = steps.build(session, None, lot, gtin=gtin)
    except DomainError as exc:
        exit_with_error(exc)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        out.write_text(report.to_csv(), encoding="utf-8")
    elif suffix == ".json":
        out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), "utf-8")
    else:
        out.write_bytes(table_xlsx("One up one down", steps.COLUMNS, report.rows))
    typer.echo(f"{len(report.rows)} rows written to {out}")


@export_app.command("compliance")
def export_compliance(
    gtin: str = typer.Argument(..., help="The product's GTIN."),
    out: Path | None = typer.Option(None, "--out", help="JSON file to write (else printed)."),
) -> None:
    """Checks a product against the minimum fields of Circular 02/2024 and Decree 37/2026."""
    locale = get_settings().default_locale
    try:
        with session_scope(_factory()) as session:
            report = compliance.check_product(session, PLATFORM, gtin).to_json(locale)
    except DomainError as exc:
        exit_with_error(exc)
    if out is not None:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    for check in report["checks"]:
        mark = "ok " if check["ok"] else "MISSING"
        typer.echo(
            f"{mark:7} {check['label']}" + (f" — {check['detail']}" if check["detail"] else "")
        )
    if report["missing"]:
        raise typer.Exit(1)
