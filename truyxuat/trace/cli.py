"""CLI: `truyxuat trace backward|forward EPC` — the trace as an indented list or JSON.

The operator runs it on the server, so it sees every organization's events (like a recall).
"""

from __future__ import annotations

import json

import typer

from truyxuat.auth.cli import exit_with_error
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.trace.graph import DEFAULT_DEPTH, Direction, TraceGraph, trace

trace_app = typer.Typer(help="Trace a lot, item or SSCC back or forward.", no_args_is_help=True)


def print_graph(graph: TraceGraph) -> None:
    """The nodes by depth, each with how it is linked, then the flags."""
    for node in sorted(graph.nodes.values(), key=lambda n: (n.depth, n.kind, n.id)):
        label = f"{node.label} ({node.id})" if node.label and node.label != node.id else node.id
        typer.echo(f"{'  ' * node.depth}{node.depth} {node.kind}: {label}")
    if graph.truncated:
        typer.secho(f"stopped at depth {graph.max_depth}: ask for a larger --depth", fg="yellow")
    for flag in graph.flags:
        typer.secho(f"flag {flag.kind}: {flag.event_id} {flag.details}", fg="red")
    typer.echo(f"{len(graph.nodes)} nodes, {len(graph.events)} events")


def _run(direction: Direction, epc: str, depth: int, as_json: bool) -> None:
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            graph = trace(session, epc, direction, principal=None, max_depth=depth)
    except DomainError as exc:
        exit_with_error(exc)
    if as_json:
        typer.echo(json.dumps(graph.to_json(), ensure_ascii=False, indent=2))
    else:
        print_graph(graph)


@trace_app.command("backward")
def backward(
    epc: str = typer.Argument(..., help="Digital Link or EPC URN of a lot, item or SSCC."),
    depth: int = typer.Option(DEFAULT_DEPTH, "--depth", help="How many steps at most."),
    as_json: bool = typer.Option(False, "--json", help="Print the graph as JSON."),
) -> None:
    """Traces towards the origins: inputs, contents, growing areas, suppliers."""
    _run(Direction.backward, epc, depth, as_json)


@trace_app.command("forward")
def forward(
    epc: str = typer.Argument(..., help="Digital Link or EPC URN of a lot, item or SSCC."),
    depth: int = typer.Option(DEFAULT_DEPTH, "--depth", help="How many steps at most."),
    as_json: bool = typer.Option(False, "--json", help="Print the graph as JSON."),
) -> None:
    """Traces towards the customers: outputs, pallets, shipments, recipients."""
    _run(Direction.forward, epc, depth, as_json)
