"""EPCIS commands: `truyxuat epcis hash FILE` prints the CBV 2.0 hash of each event of a file;
`truyxuat epcis deliver` pushes new events to the webhooks subscribed to named queries."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import typer

from truyxuat.epcis.hashing import event_hash, events_from_document, prehash_string
from truyxuat.errors import ValidationFailed

epcis_app = typer.Typer(help="GS1 EPCIS 2.0 events.", no_args_is_help=True)

CONTENT_TYPES = {
    ".jsonld": "application/ld+json",
    ".json": "application/json",
    ".xml": "application/xml",
}


@epcis_app.callback()
def epcis() -> None:
    """GS1 EPCIS 2.0 events: canonical event hashes, webhook deliveries."""


@epcis_app.command("hash")
def hash_file(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="An EPCIS document or query document: .jsonld, .json or .xml.",
    ),
    prehash: bool = typer.Option(
        False, "--prehash", help="Print the canonical pre-hash strings instead of the hashes."
    ),
) -> None:
    """Prints the CBV 2.0 event hash of every event in FILE, one per line, in document order."""
    content_type = CONTENT_TYPES.get(file.suffix.lower())
    if content_type is None:
        raise typer.BadParameter(
            f"cannot tell the format of {file.name}: use .jsonld, .json or .xml",
            param_hint="FILE",
        )
    try:
        events = events_from_document(file.read_bytes(), content_type)
        lines = [prehash_string(event) if prehash else event_hash(event) for event in events]
    except ValidationFailed as exc:
        for error in exc.errors:
            where = "/".join(str(part) for part in error.loc)
            typer.echo(f"{file.name}: {where}: {error.message.format(**error.params)}", err=True)
        raise typer.Exit(1) from None
    for line in lines:
        typer.echo(line)


@epcis_app.command("deliver")
def deliver(
    once: bool = typer.Option(False, "--once", help="Deliver what is due once, then exit."),
    interval: float = typer.Option(
        5.0, "--interval", min=0.1, help="Seconds to wait between rounds when running on."
    ),
    settle: float = typer.Option(
        2.0,
        "--settle",
        min=0.0,
        help="Leave events recorded in the last SECONDS for the next round (slow commits).",
    ),
) -> None:
    """Pushes the new events of named queries to their subscribed webhooks (the outbox)."""
    from truyxuat.config import get_settings
    from truyxuat.db import make_engine, make_sessionmaker, session_scope, utcnow
    from truyxuat.epcis.subscriptions import deliver_due

    factory = make_sessionmaker(make_engine(get_settings().database_url))
    while True:
        with session_scope(factory) as session:
            sent = deliver_due(session, now=utcnow() - timedelta(seconds=settle))
        if sent:
            typer.echo(f"delivered {sent} document(s)")
        if once:
            return
        time.sleep(interval)
