"""Oversight commands: inspections."""

import typer

app = typer.Typer(help="Oversight: inspections.", no_args_is_help=True)


@app.command("placeholder", hidden=True)
def placeholder() -> None:
    """Replaced by the real commands of this part."""
