"""Oversight API: demand forecasts per product and province, and the supply-risk ranking."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.gs1.identifiers import normalize_gtin
from truyxuat.oversight import charts, forecasting
from truyxuat.oversight.service import forecast as service

router = APIRouter(tags=["oversight"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Format(StrEnum):
    """How a forecast is answered: JSON, or a CSV/XLSX download of history and forecast."""

    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class HistoryPoint(BaseModel):
    """One past week: its Monday and its total."""

    week: date
    value: float


class ForecastPoint(BaseModel):
    """One future week: the point forecast and its 80 % and 95 % prediction intervals."""

    week: date
    mean: float
    lower80: float
    upper80: float
    lower95: float
    upper95: float


class ModelOut(BaseModel):
    """The model the forecast came from; `fallback` says why the naive one was used."""

    code: str
    kind: str
    season: int | None
    aicc: float | None
    fallback: str | None


class ErrorsOut(BaseModel):
    """Backtest errors: MAE in the series' unit, MAPE and sMAPE in percent."""

    mae: float
    mape: float | None
    smape: float | None
    points: int
    mapePoints: int


class BacktestOut(BaseModel):
    """Rolling-origin backtest of the model against the naive last-value forecast."""

    origins: int
    horizon: int
    model: ErrorsOut
    naive: ErrorsOut
    beatsNaive: bool


class ForecastOut(BaseModel):
    """A product's weekly history, its forecast with intervals, the model and its backtest."""

    gtin: str
    productName: str
    signal: service.Signal
    province: str | None
    provinces: list[str]
    unit: str
    history: list[HistoryPoint]
    forecast: list[ForecastPoint]
    model: ModelOut
    backtest: BacktestOut | None


class RiskOut(BaseModel):
    """A product's supply-risk score (0–100) and its three parts."""

    gtin: str
    productName: str
    score: float
    alerts: int
    alertPoints: float
    openRecalls: int
    closedRecalls: int
    recallPoints: float
    forecastDemand: float
    recentSupply: float | None
    gapPoints: float
    unit: str


class RiskPage(BaseModel):
    """Products ranked by supply-risk score, highest first."""

    items: list[RiskOut]


FORECAST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The forecast: JSON, or a CSV/XLSX table of history and forecast",
        "content": {"text/csv": {}, XLSX: {}},
    }
}


def _errors(found: forecasting.Errors) -> ErrorsOut:
    return ErrorsOut(
        mae=found.mae,
        mape=found.mape,
        smape=found.smape,
        points=found.points,
        mapePoints=found.mape_points,
    )


def forecast_out(view: service.ForecastView, locale: str) -> ForecastOut:
    """The JSON shape of a forecast view."""
    result, test = view.forecast, view.backtest
    return ForecastOut(
        gtin=view.series.gtin,
        productName=service.product_name(view.product, locale),
        signal=view.series.signal,
        province=view.series.province,
        provinces=view.series.provinces,
        unit=view.series.unit,
        history=[
            HistoryPoint(week=w, value=v)
            for w, v in zip(view.series.weeks, view.series.values, strict=True)
        ],
        forecast=[
            ForecastPoint(
                week=week,
                mean=result.mean[i],
                lower80=result.lower[80][i],
                upper80=result.upper[80][i],
                lower95=result.lower[95][i],
                upper95=result.upper[95][i],
            )
            for i, week in enumerate(view.future)
        ],
        model=ModelOut(
            code=result.spec.code,
            kind=result.spec.kind.value,
            season=result.spec.season,
            aicc=result.aicc,
            fallback=result.fallback,
        ),
        backtest=None
        if test is None
        else BacktestOut(
            origins=test.origins,
            horizon=test.horizon,
            model=_errors(test.model),
            naive=_errors(test.naive),
            beatsNaive=test.beats_naive,
        ),
    )


def _download(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/oversight/forecast", response_model=ForecastOut, responses=FORECAST_RESPONSES)
def get_forecast(
    db: DB,
    principal: Caller,
    locale: Locale,
    gtin: Annotated[str, Query(min_length=1, max_length=14, description="The product's GTIN")],
    province: Annotated[
        str | None, Query(max_length=16, description="Province code; all provinces when absent")
    ] = None,
    weeks: Annotated[int, Query(ge=1, le=forecasting.MAX_HORIZON)] = forecasting.DEFAULT_HORIZON,
    signal: service.Signal = service.Signal.shipping,
    format: Format = Format.json,
) -> Response:
    """Weekly demand of a product (shipped, received or scanned), forecast `weeks` ahead with
    80 % and 95 % prediction intervals, the model chosen and its backtest against naive."""
    code = normalize_gtin(gtin, field="gtin")
    chosen = service.check_province(db, province)
    view = service.forecast_view(db, principal, code, signal=signal, province=chosen, weeks=weeks)
    if format is Format.json:
        return JSONResponse(forecast_out(view, locale).model_dump(mode="json"))
    labels, series, band = service.chart_table(view, "history", "forecast", "95%")
    if format is Format.xlsx:
        body = charts.table_xlsx(f"Forecast {code}", "week", labels, series, band)
        return _download(body, XLSX, f"forecast-{code}.xlsx")
    body_csv = charts.table_csv("week", labels, series, band)
    return _download(body_csv, "text/csv; charset=utf-8", f"forecast-{code}.csv")


def risk_out(risk: service.Risk, locale: str) -> RiskOut:
    """The JSON shape of a product's risk score."""
    return RiskOut(
        gtin=risk.product.gtin,
        productName=service.product_name(risk.product, locale),
        score=risk.score,
        alerts=risk.alerts,
        alertPoints=risk.alert_points,
        openRecalls=risk.open_recalls,
        closedRecalls=risk.closed_recalls,
        recallPoints=risk.recall_points,
        forecastDemand=round(risk.demand, 3),
        recentSupply=None if risk.supply is None else round(risk.supply, 3),
        gapPoints=risk.gap_points,
        unit=risk.unit,
    )


@router.get("/oversight/risk", response_model=RiskPage)
def get_risk(
    db: DB,
    principal: Caller,
    locale: Locale,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RiskPage:
    """Products the caller may read, ranked by supply-risk score: open alerts, recalls
    reaching them, and the gap between forecast shipments and recent supply."""
    risks = service.risk_scores(db, principal, limit=limit)
    return RiskPage(items=[risk_out(r, locale) for r in risks])
