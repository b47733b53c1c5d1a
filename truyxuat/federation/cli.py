"""`truyxuat sync ...`: push this node's log and master data upstream, and show where it is."""

from __future__ import annotations

import json
import time

import typer

from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope

sync_app = typer.Typer(help="Federation: push data to upstream nodes.", no_args_is_help=True)


@sync_app.callback()
def sync() -> None:
    """Federation with upstream nodes (province → national): run a sync, show its status."""


@sync_app.command("run")
def run(
    upstream: list[str] = typer.Option(
        [], "--upstream", help="Push to this base URL (repeatable); default: the configured ones."
    ),
    every: float = typer.Option(
        0.0, "--every", help="Run again every this many seconds, forever (0: run once)."
    ),
) -> None:
    """Pushes master data and the log up to the latest checkpoint to each upstream node,
    resuming from the last acknowledged position; exits 1 if an upstream failed."""
    from truyxuat.federation import connectors

    settings = get_settings()
    targets = connectors.configured(settings, upstream or None)
    if not targets:
        typer.secho(
            "no upstream: set TRUYXUAT_NODE_UPSTREAM_URLS, TRUYXUAT_PORTAL_URL or --upstream",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    while True:
        failed = False
        for report in (target.push(factory, settings) for target in targets):
            typer.echo(
                f"{report.upstream}: acknowledged {report.position}/{report.tree_size} leaves, "
                f"{report.batches} batches ({report.stored} events stored, "
                f"{report.duplicates} already held), {report.records} records"
            )
            for error in report.errors:
                failed = True
                typer.secho(f"  error: {error}", fg="red", err=True)
        if every <= 0:
            engine.dispose()
            raise typer.Exit(1 if failed else 0)
        time.sleep(every)


@sync_app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Shows each upstream's acknowledged position and pending leaves, and the downstream
    nodes this node holds data from."""
    from truyxuat.federation.api import status_context

    settings = get_settings()
    engine = make_engine(settings.database_url)
    with session_scope(make_sessionmaker(engine)) as db:
        context = status_context(db, settings)
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(context, default=str, indent=2))
        return
    node = context["node"]
    typer.echo(f"node {node['name']} ({node['role']}) at {node['base_url']}")
    if not context["upstreams"]:
        typer.echo("no upstream configured")
    for row in context["upstreams"]:
        typer.echo(
            f"upstream {row['upstream']}: acknowledged {row['position']}/{row['tree_size']}, "
            f"pending {row['pending']}, last acknowledged {row['acknowledged_at'] or '-'}"
            + (f", last error: {row['last_error']}" if row["last_error"] else "")
        )
    for row in context["downstreams"]:
        typer.echo(
            f"downstream {row['name'] or row['origin']} ({row['role'] or '?'}): "
            f"{row['next_index']}/{row['tree_size']} leaves verified, {row['events']} events, "
            f"{row['records']} records"
        )
