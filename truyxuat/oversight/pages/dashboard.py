"""Oversight pages: the one-screen dashboard (server-rendered SVG charts and tables), each
chart's table as CSV/XLSX, and the monthly PDF report."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.errors import N_, NotFound
from truyxuat.i18n import gettext
from truyxuat.oversight import monthly_report
from truyxuat.oversight.api.dashboard import PDF, XLSX, download
from truyxuat.oversight.service import dashboard
from truyxuat.oversight.service.dashboard_charts import (
    CHART_KEYS,
    STATUS_LABELS,
    chart_table,
    chart_tables,
)
from truyxuat.registry.pages.common import page

router = APIRouter(include_in_schema=False)


@router.get("/oversight", response_class=HTMLResponse)
def dashboard_page(
    request: Request, db: DB, principal: Caller, locale: Locale, province: str | None = None
) -> Response:
    """The dashboard of the caller's scope: what needs action, coverage, registry, stamps."""
    province = province or None
    board = dashboard.build_dashboard(db, principal, locale=locale, province=province)
    charts = {chart.key: chart for chart in chart_tables(board, locale)}
    ocop = board.ocop
    percent = "—" if ocop.percent is None else f"{ocop.percent:g} %".replace(".", ",")
    if locale == "en":
        percent = percent.replace(",", ".")
    return page(
        request,
        "oversight/dashboard.html",
        {
            "board": board,
            "charts": charts,
            "svgs": {key: chart.svg(locale) for key, chart in charts.items()},
            "status_labels": STATUS_LABELS,
            "kind_labels": monthly_report.KIND_LABELS,
            "lacking": [i for g in board.moit for i in g.items if not i.compliant],
            "ocop_sentence": gettext(
                locale,
                monthly_report.OCOP_SENTENCE,
                with_data=ocop.with_data,
                products=ocop.products,
                percent=percent,
            ),
            "organization_sentence": gettext(
                locale,
                monthly_report.ORGANIZATION_SENTENCE,
                with_data=board.organizations_coverage.with_data,
                organizations=board.organizations_coverage.organizations,
            ),
            "scans_sentence": gettext(
                locale, N_("{count} scans in the last 12 months."), count=board.scans_total
            ),
            "report_month": dashboard.last_full_month(board.as_of),
            "provinces": dashboard.province_choices(db, principal),
            "province": province or "",
            "suffix": f"?{urlencode({'province': province})}" if province else "",
        },
    )


@router.get("/oversight/charts/{name}")
def chart_download(
    name: str, db: DB, principal: Caller, locale: Locale, province: str | None = None
) -> Response:
    """One chart's table as `<chart>.csv` or `<chart>.xlsx`, for the same scope as the page."""
    key, _, extension = name.rpartition(".")
    if key not in CHART_KEYS or extension not in ("csv", "xlsx"):
        raise NotFound()
    board = dashboard.build_dashboard(
        db, principal, locale=locale, province=province or None, with_moit=key == "moit-coverage"
    )
    table = chart_table(board, key, locale)
    if extension == "xlsx":
        return download(table.xlsx(), XLSX, f"{key}.xlsx")
    return download(table.csv(), "text/csv; charset=utf-8", f"{key}.csv")


@router.get("/oversight/report.pdf")
def report_download(
    request: Request,
    db: DB,
    principal: Caller,
    locale: Locale,
    month: str | None = None,
    province: str | None = None,
) -> Response:
    """The monthly report as PDF (default: the last full month)."""
    checked = monthly_report.parse_month(month)
    body = monthly_report.build_report(db, principal, checked, locale, province or None)
    return download(body, PDF, f"oversight-{checked}.pdf")
