"""CLI for stamps: issue a print run, print it (PDF/CSV/XLSX), activate or void serial ranges."""

from __future__ import annotations

import csv
import enum
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import typer
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.cli import exit_with_error
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.registry.cli import cli_principal
from truyxuat.registry.models import Organization, Product
from truyxuat.stamps import service
from truyxuat.stamps.models import RunState, StampKind, StampRun
from truyxuat.stamps.schemas import StampRunIn

stamps_app = typer.Typer(help="Stamps: print runs, printing, activation.", no_args_is_help=True)
# Runs at least this big show a progress bar.
PROGRESS_MIN = 50_000


class PrintFormat(enum.StrEnum):
    """Output formats of `stamps print`."""

    pdf = "pdf"
    csv = "csv"
    xlsx = "xlsx"


class PrintLayout(enum.StrEnum):
    """PDF layouts: A4 label sheets or one label per page for roll printers."""

    sheet = "sheet"
    roll = "roll"


def _org(session: Session, code: str) -> Organization:
    """The organization with this code, or exit."""
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        typer.secho(f"unknown organization code: {code}", fg="red", err=True)
        raise typer.Exit(2)
    return org


def _run_org(session: Session, run_id: str) -> tuple[uuid.UUID, Organization]:
    """The run id and its owner organization (the CLI acts as that organization's admin)."""
    try:
        parsed = uuid.UUID(run_id)
    except ValueError:
        parsed = None
    run = session.get(StampRun, parsed) if parsed else None
    org = session.get(Organization, run.org_id) if run else None
    if run is None or org is None:
        typer.secho(f"unknown stamp run: {run_id}", fg="red", err=True)
        raise typer.Exit(2)
    return run.id, org


@stamps_app.command("issue")
def issue(
    org: str = typer.Option(..., "--org", help="Organization code."),
    gtin: str = typer.Option(..., "--gtin", help="The product's GTIN."),
    lot: str | None = typer.Option(None, "--lot", help="Lot printed in the codes, if known."),
    count: int = typer.Option(..., "--count", help="How many stamps."),
    kind: StampKind = typer.Option(StampKind.qr, "--kind", help="qr or anticounterfeit."),
    pins_out: Path | None = typer.Option(
        None, "--pins-out", help="CSV file to write serial,pin to (anticounterfeit runs)."
    ),
) -> None:
    """Issues a print run of stamps and prints its id."""
    settings = get_settings()
    if kind is StampKind.anticounterfeit and pins_out is None:
        typer.secho("--pins-out is required for anticounterfeit runs", fg="red", err=True)
        raise typer.Exit(2)
    factory = make_sessionmaker(make_engine(settings.database_url))
    body = StampRunIn(gtin=gtin, lot=lot, count=count, kind=kind)
    try:
        with session_scope(factory) as session, Progress(disable=count < PROGRESS_MIN) as bar:
            principal = cli_principal(_org(session, org), settings.default_locale)
            task = bar.add_task("issuing", total=count)
            issued = service.issue_run(
                session, principal, body, settings, progress=lambda n: bar.advance(task, n)
            )
            if pins_out is not None and issued.pins:
                _write_pins(pins_out, issued.pins.items())
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(str(issued.run.id))


def _write_pins(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """Writes serial,pin rows (the only copy of the PINs: keep the file safe, then delete it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        path.chmod(0o600)
        writer = csv.writer(handle)
        writer.writerow(["serial", "pin"])
        writer.writerows(rows)


def _read_pins(path: Path) -> dict[str, str]:
    """Reads the serial,pin CSV written by `issue --pins-out`."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["serial"]: row["pin"] for row in csv.DictReader(handle)}


@stamps_app.command("print")
def print_run(
    run: str = typer.Argument(..., help="The run id."),
    format: PrintFormat = typer.Option(PrintFormat.pdf, "--format", help="pdf, csv or xlsx."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    pins: Path | None = typer.Option(
        None, "--pins", help="The serial,pin CSV written by `stamps issue --pins-out`."
    ),
    layout: PrintLayout = typer.Option(PrintLayout.sheet, "--layout", help="sheet or roll (PDF)."),
) -> None:
    """Prints a run's stamps to a PDF, or lists its codes as CSV/XLSX; marks the run printed."""
    from truyxuat.stamps import printing

    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            run_id, org = _run_org(session, run)
            principal = cli_principal(org, settings.default_locale)
            stamp_run = service.get_run(session, principal, run_id)
            product = session.get(Product, stamp_run.product_id)
            name = str((product.names if product else {}).get("vi", ""))
            pin_map = _read_pins(pins) if pins else None
            if (
                stamp_run.kind is StampKind.anticounterfeit
                and format is PrintFormat.pdf
                and not pin_map
            ):
                typer.secho(
                    "--pins is required to print anticounterfeit stamps", fg="red", err=True
                )
                raise typer.Exit(2)

            def labels() -> Iterator[printing.StampLabel]:
                for record in service.stamp_records(session, principal, run_id, settings, pin_map):
                    yield printing.StampLabel(
                        uri=record.uri,
                        gtin=record.gtin,
                        serial=record.serial,
                        lot=record.lot,
                        product_name=name,
                        pin=record.pin,
                        kind=stamp_run.kind.value,
                    )

            with Progress(disable=stamp_run.count < PROGRESS_MIN) as bar:
                task = bar.add_task("printing", total=stamp_run.count)
                if format is PrintFormat.pdf:
                    chosen = (
                        printing.SheetLayout()
                        if layout is PrintLayout.sheet
                        else printing.RollLayout()
                    )
                    done = printing.render_pdf(
                        labels(),
                        out,
                        layout=chosen,
                        progress=lambda n: bar.update(task, completed=n),
                    )
                elif format is PrintFormat.csv:
                    done = printing.write_codes_csv(labels(), out)
                else:
                    done = printing.write_codes_xlsx(labels(), out)
            if stamp_run.state is RunState.generated:
                service.mark_printed(session, principal, run_id)
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(f"{done} stamps written to {out}")


@stamps_app.command("activate")
def activate(
    run: str = typer.Argument(..., help="The run id."),
    lot: str = typer.Option(..., "--lot", help="The lot the stamps are bound to."),
    from_serial: str | None = typer.Option(
        None, "--from", help="First serial (or scanned Digital Link) of the range."
    ),
    to_serial: str | None = typer.Option(
        None, "--to", help="Last serial (or scanned Digital Link) of the range."
    ),
) -> None:
    """Activates a whole run, or the range between two serials, for a lot."""
    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            run_id, org = _run_org(session, run)
            principal = cli_principal(org, settings.default_locale)
            _, changed = service.activate(
                session, principal, run_id, lot=lot, from_serial=from_serial, to_serial=to_serial
            )
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(f"activated {changed} stamps for lot {lot}")


@stamps_app.command("void")
def void(
    run: str = typer.Argument(..., help="The run id."),
    reason: str = typer.Option(..., "--reason", help="Why (damaged, lost, recalled...)."),
    from_serial: str | None = typer.Option(None, "--from", help="First serial of the range."),
    to_serial: str | None = typer.Option(None, "--to", help="Last serial of the range."),
) -> None:
    """Voids a whole run, or the range between two serials."""
    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            run_id, org = _run_org(session, run)
            principal = cli_principal(org, settings.default_locale)
            _, changed = service.void(
                session,
                principal,
                run_id,
                reason=reason,
                from_serial=from_serial,
                to_serial=to_serial,
            )
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(f"voided {changed} stamps")
