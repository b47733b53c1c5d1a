"""Oversight commands: forecast."""

import typer

app = typer.Typer(help="Oversight: forecast.", no_args_is_help=True)


@app.command("placeholder", hidden=True)
def placeholder() -> None:
    """Replaced by the real commands of this part."""
