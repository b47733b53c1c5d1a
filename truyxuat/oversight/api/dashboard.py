"""Oversight API: the dashboard's figures, each chart's table (CSV/XLSX) and the monthly PDF
report, all for the caller's scope (/api/v1/oversight/...)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.oversight import monthly_report
from truyxuat.oversight.service import dashboard
from truyxuat.oversight.service.dashboard_charts import Chart, chart_table

router = APIRouter(tags=["oversight"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


class TableFormat(StrEnum):
    """How a chart's table is downloaded."""

    csv = "csv"
    xlsx = "xlsx"


def download(body: bytes | str, media_type: str, filename: str) -> Response:
    """A file download response."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The chart's table: one row per x label, one column per series",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
ProvinceQuery = Annotated[
    str | None,
    Query(
        pattern=r"^\d{2}$",
        description="One province the caller oversees (for a national view); default all",
    ),
]
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The monthly report (A4 PDF)",
        "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/oversight/dashboard", response_model=dashboard.Dashboard)
def get_dashboard(
    db: DB, principal: Caller, locale: Locale, province: ProvinceQuery = None
) -> dashboard.Dashboard:
    """Every figure of the oversight dashboard for the caller's scope (province, country or
    own organization), as of today in Viet Nam."""
    return dashboard.build_dashboard(db, principal, locale=locale, province=province)


@router.get(
    "/oversight/dashboard/charts/{chart}", response_class=Response, responses=TABLE_RESPONSES
)
def get_chart_table(
    db: DB,
    principal: Caller,
    locale: Locale,
    chart: Annotated[Chart, Path(description="Which chart")],
    format: TableFormat = TableFormat.csv,
    province: ProvinceQuery = None,
) -> Response:
    """The table behind one dashboard chart, as CSV or XLSX."""
    board = dashboard.build_dashboard(
        db,
        principal,
        locale=locale,
        province=province,
        with_moit=chart is Chart.moit_coverage,
    )
    table = chart_table(board, chart.value, locale)
    if format is TableFormat.xlsx:
        return download(table.xlsx(), XLSX, f"{chart.value}.xlsx")
    return download(table.csv(), "text/csv; charset=utf-8", f"{chart.value}.csv")


@router.get("/oversight/report", response_class=Response, responses=PDF_RESPONSES)
def get_monthly_report(
    db: DB,
    principal: Caller,
    locale: Locale,
    month: Annotated[
        str | None, Query(max_length=7, description="YYYY-MM; default the last full month")
    ] = None,
    province: ProvinceQuery = None,
) -> Response:
    """The monthly oversight report as PDF, in the caller's language."""
    checked = monthly_report.parse_month(month)
    body = monthly_report.build_report(db, principal, checked, locale, province)
    return download(body, PDF, f"oversight-{checked}.pdf")
