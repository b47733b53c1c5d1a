"""The `truyxuat` command line: database, server, accounts, demo data and imports."""

from __future__ import annotations

from pathlib import Path

import typer

from truyxuat.auth.cli import apikey_app, exit_with_error, user_app
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker
from truyxuat.epcis.cli import epcis_app
from truyxuat.errors import DomainError
from truyxuat.federation.cli import sync_app
from truyxuat.ledger.cli import ledger_app
from truyxuat.oversight.cli import oversight_app
from truyxuat.recall.cli import recall_app
from truyxuat.registry.cli import registry_app
from truyxuat.reports.cli import export_app
from truyxuat.stamps.cli import stamps_app
from truyxuat.trace.cli import trace_app
from truyxuat.webhooks.cli import webhooks_app

app = typer.Typer(help="truyxuat — open product traceability for Viet Nam.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data: the four example supply chains.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(registry_app, name="registry")
app.add_typer(stamps_app, name="stamps")
app.add_typer(epcis_app, name="epcis")
app.add_typer(ledger_app, name="ledger")
app.add_typer(trace_app, name="trace")
app.add_typer(recall_app, name="recall")
app.add_typer(export_app, name="export")
app.add_typer(sync_app, name="sync")
app.add_typer(oversight_app, name="oversight")
app.add_typer(webhooks_app, name="webhooks")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Migrates the database to the newest schema (or to REVISION)."""
    from truyxuat.db import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}: {_redact(settings.database_url)}")


@db_app.command("current")
def db_current() -> None:
    """Prints the database's current schema revision."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(get_settings().database_url)
    with engine.connect() as conn:
        typer.echo(MigrationContext.configure(conn).get_current_revision() or "empty")


@demo_app.command("load")
def demo_load(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if demo data exists."),
) -> None:
    """Loads the demo organizations, places, products, certificates and users."""
    from truyxuat.db import session_scope
    from truyxuat.demo import load

    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            summary = load(session, if_empty=if_empty)
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(summary)


@demo_app.command("history")
def demo_history(
    weeks: int = typer.Option(156, "--weeks", min=1, max=520, help="Weeks of deliveries."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if it is loaded."),
) -> None:
    """Loads weekly deliveries of the demo's milk and beer up to last week (for forecasts) and a
    year of consumers' scans of the demo stamps."""
    from truyxuat.db import session_scope, utcnow
    from truyxuat.demo import history, is_loaded
    from truyxuat.demo.loader import _validator
    from truyxuat.registry.schemas.certifications import vietnam_today

    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    with session_scope(factory) as session:
        if not is_loaded(session):
            typer.secho("load the demo first: truyxuat demo load", fg="red", err=True)
            raise typer.Exit(2)
        if history.is_loaded(session):
            if if_empty:
                typer.echo("demo history already loaded: nothing to do")
                return
            typer.secho("the demo history is already loaded", fg="red", err=True)
            raise typer.Exit(2)
        count = history.load_history(
            session, _validator(settings), today=vietnam_today(), weeks=weeks
        )
        scanned = history.load_scans(session, now=utcnow())
    typer.echo(
        f"demo history loaded: {count} EPCIS events over {weeks} weeks, {scanned} consumer scans"
    )


@demo_app.command("urls")
def demo_urls() -> None:
    """Prints demo scan addresses (stamps and lots) on the configured resolver base."""
    from truyxuat.demo.journeys import scan_lines

    for line in scan_lines(get_settings().resolver_base):
        typer.echo(line)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (PostgreSQL for more than one)."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serves the web app and the API."""
    import uvicorn

    typer.echo(f"truyxuat serving on http://{host}:{port}")
    uvicorn.run(
        "truyxuat.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        loop="asyncio",  # see pyproject.toml: uvloop starved new connections under load
    )


@app.command("backup")
def backup_command(
    archive: Path = typer.Argument(..., help="The backup file to write (a tar archive)."),
) -> None:
    """Backs up the database and uploaded files into one archive (safe while serving)."""
    from truyxuat.backup import backup

    settings = get_settings()
    try:
        done = backup(settings.database_url, settings.data_dir, archive)
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(
        f"backed up {done.rows} rows in {done.tables} tables and {done.files} files "
        f"({done.store}, schema {done.revision}) to {archive}"
    )


@app.command("restore")
def restore_command(
    archive: Path = typer.Argument(..., help="A backup archive made by `truyxuat backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the current data without asking."),
) -> None:
    """Replaces the database and uploaded files with a backup (all or nothing)."""
    from truyxuat.backup import read_manifest, restore

    settings = get_settings()
    try:
        manifest = read_manifest(archive)
        if not yes:
            typer.confirm(
                f"Replace every record of {_redact(settings.database_url)} with the backup "
                f"of {manifest['created_at']}?",
                abort=True,
            )
        done = restore(settings.database_url, settings.data_dir, archive)
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(f"restored {done.rows} rows in {done.tables} tables and {done.files} files")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


def main() -> None:
    """Entry point for `python -m truyxuat`."""
    app()
