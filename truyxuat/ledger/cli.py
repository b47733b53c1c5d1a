"""`truyxuat ledger ...`: integrate, sign checkpoints, print keys, ask witnesses to cosign,
verify the whole ledger and verify offline bundles."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope

ledger_app = typer.Typer(help="The tamper-evident ledger (a verifiable log).", no_args_is_help=True)


@ledger_app.callback()
def ledger() -> None:
    """The tamper-evident ledger: integrate, checkpoint, witness, verify."""


def _factory():  # type: ignore[no-untyped-def]
    return make_sessionmaker(make_engine(get_settings().database_url))


@ledger_app.command("integrate")
def integrate() -> None:
    """Gives pending entries their leaves and signs a checkpoint if the tree grew."""
    from truyxuat.ledger import service
    from truyxuat.ledger.api import run_once

    settings = get_settings()
    count = run_once(_factory(), settings)
    with session_scope(_factory()) as db:
        size = service.tree_size(db)
    typer.echo(f"integrated {count} entries; tree size {size}")


@ledger_app.command("checkpoint")
def checkpoint() -> None:
    """Signs a checkpoint of the current tree (unless unchanged) and prints it as a note."""
    from truyxuat.ledger import service

    settings = get_settings()
    try:
        with session_scope(_factory()) as db:
            signed = service.sign_checkpoint(db, settings)
            note = service.checkpoint_note(db, signed)
    except service.LedgerError as exc:
        typer.secho(f"refused to sign: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(note, nl=False)


@ledger_app.command("keys")
def keys() -> None:
    """Prints this node's verifier keys: the ledger's and the witness's."""
    from truyxuat.ledger.keys import log_signer, witness_signer

    settings = get_settings()
    typer.echo(f"ledger  {log_signer(settings).verifier.vkey()}")
    typer.echo(f"witness {witness_signer(settings).verifier.vkey()}")


@ledger_app.command("witness")
def witness(
    url: str = typer.Argument(..., help="The witness node's base URL, e.g. https://portal.example"),
) -> None:
    """Asks a witness node to cosign the latest checkpoint and stores its cosignature."""
    import httpx

    from truyxuat.ledger import service

    settings = get_settings()
    try:
        with session_scope(_factory()) as db, httpx.Client(timeout=30) as http:
            name = service.request_cosignature(db, settings, url, http)
            size = service.tree_size(db)
    except service.LedgerError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"checkpoint {size} cosigned by {name}")


@ledger_app.command("verify")
def verify() -> None:
    """Recomputes every event hash, leaf, tile and checkpoint root and checks every signature;
    exits 1 naming each mismatch."""
    from truyxuat.ledger.verify import verify_ledger

    settings = get_settings()
    with session_scope(_factory()) as db:
        report = verify_ledger(db, settings)
    for problem in report.problems:
        typer.secho(problem, fg="red")
    summary = (
        f"{report.events} events, {report.leaves} leaves, {report.checkpoints} checkpoints: "
        + ("ok" if report.ok else f"{len(report.problems)} problems")
    )
    typer.echo(summary)
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command("verify-bundle")
def verify_bundle(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="A bundle (JSON) from /ledger/bundle."
    ),
    log_key: str = typer.Option(
        "", "--log-key", help="The verifier key the log must be signed with (pin it)."
    ),
    event_hash: str = typer.Option(
        "", "--event-hash", help="The event hash the bundle must be about."
    ),
) -> None:
    """Checks an offline proof bundle: leaf, inclusion proof, checkpoint signature and
    cosignatures; exits 1 when it does not hold."""
    from truyxuat.ledger import service

    try:
        bundle = json.loads(file.read_text())
        if log_key and bundle.get("log_key") != log_key:
            raise service.LedgerError("the bundle is signed by another log key")
        lines = service.verify_bundle(bundle, event_hash=event_hash or None)
    except (ValueError, AttributeError, service.LedgerError) as exc:
        typer.secho(f"bundle does not verify: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    for line in lines:
        typer.echo(line)
