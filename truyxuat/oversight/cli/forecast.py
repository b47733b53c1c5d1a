"""Oversight commands: a product's demand forecast, its backtest, and the supply-risk ranking."""

from __future__ import annotations

import json

import typer

from truyxuat.auth.cli import exit_with_error
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.gs1.identifiers import normalize_gtin
from truyxuat.oversight import forecasting
from truyxuat.oversight.service import forecast as service
from truyxuat.registry.cli import operator_of

app = typer.Typer(help="Oversight: demand forecasts and supply risk.", no_args_is_help=True)

GTIN = typer.Option(..., "--gtin", help="The product's GTIN.")
ORG = typer.Option(
    None, "--org", help="Code of the organization to act as (the platform's when absent)."
)


def _percent(value: float | None) -> str:
    """A percentage, or a dash when undefined."""
    return "—" if value is None else f"{value:.1f} %"


@app.command("show")
def show(
    gtin: str = GTIN,
    province: str | None = typer.Option(
        None, "--province", help="Province code (all when absent)."
    ),
    weeks: int = typer.Option(
        forecasting.DEFAULT_HORIZON,
        "--weeks",
        min=1,
        max=forecasting.MAX_HORIZON,
        help="Weeks ahead.",
    ),
    signal: service.Signal = typer.Option(
        service.Signal.shipping, "--signal", help="shipping (demand), receiving or scans."
    ),
    org: str | None = ORG,
    as_json: bool = typer.Option(False, "--json", help="Print the API's JSON instead of a table."),
) -> None:
    """Prints a product's weekly history and its forecast with 80 % and 95 % intervals."""
    from truyxuat.oversight.api.forecast import forecast_out

    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            principal = operator_of(session, org, settings.default_locale)
            view = service.forecast_view(
                session,
                principal,
                normalize_gtin(gtin),
                signal=signal,
                province=service.check_province(session, province),
                weeks=weeks,
            )
            if as_json:
                out = forecast_out(view, settings.default_locale).model_dump(mode="json")
                typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
                return
            result = view.forecast
            name = service.product_name(view.product, settings.default_locale)
            where = view.series.province or "all provinces"
            typer.echo(f"{view.series.gtin} {name} · {signal.value} · {where} · {view.series.unit}")
            typer.echo(
                f"model: {result.spec.code}" + (f" ({result.fallback})" if result.fallback else "")
            )
            typer.echo(
                f"history: {len(view.series.weeks)} weeks, total {sum(view.series.values):g}"
            )
            typer.echo(f"{'week':10}  {'forecast':>10}  {'80 %':>21}  {'95 %':>21}")
            for i, week in enumerate(view.future):
                typer.echo(
                    f"{week.isoformat():10}  {result.mean[i]:10.2f}  "
                    f"{result.lower[80][i]:10.2f}–{result.upper[80][i]:<10.2f}  "
                    f"{result.lower[95][i]:10.2f}–{result.upper[95][i]:<10.2f}"
                )
    except DomainError as exc:
        exit_with_error(exc)


@app.command("backtest")
def backtest(
    gtin: str = GTIN,
    province: str | None = typer.Option(
        None, "--province", help="Province code (all when absent)."
    ),
    signal: service.Signal = typer.Option(
        service.Signal.shipping, "--signal", help="shipping (demand), receiving or scans."
    ),
    horizon: int = typer.Option(
        service.BACKTEST_HORIZON, "--horizon", min=1, max=26, help="Weeks forecast at each origin."
    ),
    origins: int = typer.Option(
        service.BACKTEST_ORIGINS, "--origins", min=1, max=52, help="How many forecast origins."
    ),
    org: str | None = ORG,
) -> None:
    """Prints the rolling-origin backtest of the chosen model against the naive forecast."""
    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            principal = operator_of(session, org, settings.default_locale)
            series = service.demand_series(
                session,
                principal,
                normalize_gtin(gtin),
                signal=signal,
                province=service.check_province(session, province),
            )
    except DomainError as exc:
        exit_with_error(exc)
    result = forecasting.backtest(series.values, horizon=horizon, origins=origins)
    if result is None:
        typer.echo(f"too little history for a backtest: {len(series.values)} weeks")
        raise typer.Exit(1)
    typer.echo(f"model: {result.spec.code} · {result.origins} origins × {result.horizon} weeks")
    typer.echo(f"{'':8}  {'MAPE':>9}  {'sMAPE':>9}  {'MAE':>10}")
    for label, found in (("model", result.model), ("naive", result.naive)):
        typer.echo(
            f"{label:8}  {_percent(found.mape):>9}  {_percent(found.smape):>9}  {found.mae:10.2f}"
        )
    typer.echo("the model beats naive" if result.beats_naive else "the model does not beat naive")


@app.command("risk")
def risk(
    org: str | None = ORG,
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="How many products to list."),
) -> None:
    """Lists products by supply-risk score with its parts: alerts, recalls, forecast gap."""
    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    with session_scope(factory) as session:
        principal = operator_of(session, org, settings.default_locale)
        typer.echo(f"{'gtin':14}  {'score':>5}  {'alerts':>6}  {'recalls':>7}  {'gap':>5}  name")
        for r in service.risk_scores(session, principal, limit=limit):
            typer.echo(
                f"{r.product.gtin:14}  {r.score:5.1f}  {r.alert_points:6.0f}  "
                f"{r.recall_points:7.0f}  {r.gap_points:5.1f}  "
                f"{service.product_name(r.product, settings.default_locale)}"
            )
