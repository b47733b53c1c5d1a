"""Oversight pages: a product's demand forecast (chart, model, backtest, downloads) and the
products ranked by supply-risk score."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.errors import N_, ValidationFailed, invalid
from truyxuat.gs1.identifiers import normalize_gtin
from truyxuat.i18n import gettext
from truyxuat.oversight import charts, forecasting
from truyxuat.oversight.service import forecast as service
from truyxuat.registry.pages.common import field_errors, page, provinces

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS = ("gtin", "province", "weeks", "signal")
SIGNAL_LABELS = {
    service.Signal.shipping: N_("Shipped (demand)"),
    service.Signal.receiving: N_("Received"),
    service.Signal.scans: N_("Consumer scans"),
}
KIND_LABELS = {
    forecasting.ModelKind.naive: N_("Naive: the last week repeated"),
    forecasting.ModelKind.simple: N_("Simple exponential smoothing"),
    forecasting.ModelKind.trend: N_("Exponential smoothing with trend (Holt)"),
    forecasting.ModelKind.seasonal: N_("Seasonal exponential smoothing (Holt-Winters)"),
}
FALLBACK_LABELS = {
    "short": N_("Too little history for a model (fewer than 6 weeks): naive forecast."),
    "flat": N_("The history does not vary: naive forecast."),
    "failed": N_("No model could be fitted to this history: naive forecast."),
}
UNIT_LABELS = {"kg": N_("kg"), "L": N_("litres"), "pcs": N_("pieces"), "scans": N_("scans")}


def _weeks(raw: str) -> int:
    """The horizon from the form, within 1 to MAX_HORIZON weeks."""
    try:
        weeks = int(raw or forecasting.DEFAULT_HORIZON)
    except ValueError:
        raise invalid("weeks", N_("Give a whole number of weeks")) from None
    if not 1 <= weeks <= forecasting.MAX_HORIZON:
        raise invalid("weeks", N_("Give between 1 and {max} weeks"), max=forecasting.MAX_HORIZON)
    return weeks


def _signal(raw: str) -> service.Signal:
    """The signal from the form (shipping when absent)."""
    try:
        return service.Signal(raw or service.Signal.shipping.value)
    except ValueError:
        raise invalid("signal", N_("Choose what to forecast")) from None


def _chart(view: service.ForecastView, locale: str) -> str:
    """The history (solid), forecast (dashed) and 95 % interval as an SVG line chart."""
    labels, series, band = service.chart_table(
        view,
        gettext(locale, N_("History")),
        gettext(locale, N_("Forecast")),
        gettext(locale, N_("95% prediction interval")),
        joined=True,
    )
    unit = gettext(locale, UNIT_LABELS.get(view.series.unit, view.series.unit))
    return charts.line_chart(
        title=gettext(locale, N_("Weekly demand and forecast")),
        x_labels=labels,
        series=series,
        band=band,
        y_unit=unit,
        empty_text=gettext(locale, N_("No data")),
    )


def _download(view: service.ForecastView, locale: str, kind: str) -> Response:
    """History and forecast as a CSV or XLSX table."""
    labels, series, band = service.chart_table(
        view,
        gettext(locale, N_("History")),
        gettext(locale, N_("Forecast")),
        gettext(locale, N_("95% prediction interval")),
    )
    week = gettext(locale, N_("Week"))
    name = f"forecast-{view.series.gtin}"
    if kind == "xlsx":
        body: bytes | str = charts.table_xlsx(
            gettext(locale, N_("Forecast")), week, labels, series, band
        )
        media = XLSX
    else:
        body, media = charts.table_csv(week, labels, series, band), "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


@router.get("/oversight/forecast", response_class=HTMLResponse)
def forecast_page(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Choose a product and province; see its weekly history and forecast, the model and its
    backtest against the naive forecast; download the table."""
    query = request.query_params
    values = {name: query.get(name, "") for name in FIELDS}
    context: dict[str, Any] = {
        "values": values,
        "errors": {},
        "products": service.readable_products(db, principal),
        "product_name": lambda p: service.product_name(p, locale),
        "signals": list(service.Signal),
        "signal_labels": SIGNAL_LABELS,
        "kind_labels": KIND_LABELS,
        "fallback_labels": FALLBACK_LABELS,
        "unit_labels": UNIT_LABELS,
        "view": None,
        "chart": None,
        "provinces": provinces(db),
        "max_weeks": forecasting.MAX_HORIZON,
    }
    if not values["gtin"]:
        return page(request, "oversight/forecast.html", context)
    try:
        gtin = normalize_gtin(values["gtin"], field="gtin")
        weeks, signal = _weeks(values["weeks"]), _signal(values["signal"])
        province = service.check_province(db, values["province"] or None)
        view = service.forecast_view(
            db, principal, gtin, signal=signal, province=province, weeks=weeks
        )
    except ValidationFailed as exc:
        context["errors"] = field_errors(exc, locale, FIELDS)
        return page(request, "oversight/forecast.html", context, status_code=422)
    if query.get("format") in ("csv", "xlsx"):
        return _download(view, locale, str(query.get("format")))
    context.update(
        view=view,
        chart=_chart(view, locale),
        province_names=dict(context["provinces"]),
        total=sum(view.series.values),
        download=f"/oversight/forecast?{request.url.query}",
    )
    return page(request, "oversight/forecast.html", context)


@router.get("/oversight/risk", response_class=HTMLResponse)
def risk_page(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """The products the caller may read, ranked by supply-risk score with its parts."""
    return page(
        request,
        "oversight/forecast_risk.html",
        {
            "risks": service.risk_scores(db, principal),
            "product_name": lambda p: service.product_name(p, locale),
            "unit_labels": UNIT_LABELS,
            "weights": {
                "alert_max": service.ALERT_MAX,
                "recall_max": service.RECALL_MAX,
                "gap_max": service.GAP_MAX,
            },
        },
    )
