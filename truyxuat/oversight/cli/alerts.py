"""Oversight commands: alerts."""

import typer

app = typer.Typer(help="Oversight: alerts.", no_args_is_help=True)


@app.command("placeholder", hidden=True)
def placeholder() -> None:
    """Replaced by the real commands of this part."""
