"""`truyxuat oversight ...`: the dashboard report, inspections, alerts and forecasts."""

import typer

from truyxuat.oversight.cli import alerts, dashboard, forecast, inspections

oversight_app = typer.Typer(
    help="Oversight: monthly report, inspections, early-warning alerts, forecasts.",
    no_args_is_help=True,
)
oversight_app.add_typer(dashboard.app, name="report")
oversight_app.add_typer(inspections.app, name="inspections")
oversight_app.add_typer(alerts.app, name="alerts")
oversight_app.add_typer(forecast.app, name="forecast")
