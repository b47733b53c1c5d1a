"""Report downloads: FSMA 204, one step back / one step forward, EUDR plots, compliance check.

Every report is built from the events the caller may see. `format` picks JSON (default), CSV
or XLSX; the EUDR report is GeoJSON, in parts when it would exceed 25 MB.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.errors import N_, invalid
from truyxuat.reports import compliance, eudr, fsma, steps
from truyxuat.reports.common import table_csv, table_xlsx

router = APIRouter(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON = "application/geo+json"


class Format(StrEnum):
    """How a report is downloaded."""

    json = "json"
    csv = "csv"
    xlsx = "xlsx"


LotQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=1024,
        description="Lot: Digital Link, EPC URN, or lot number with `gtin`",
    ),
]
GtinQuery = Annotated[str | None, Query(pattern=r"^\d{8,14}$")]


# A report is JSON by default and a download with `format=csv|xlsx`.
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: JSON, or a CSV/XLSX download with `format`",
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
    }
}


def _download(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/fsma204", responses=REPORT_RESPONSES)
def fsma204(
    db: DB,
    principal: Caller,
    locale: Locale,
    lot: LotQuery,
    gtin: GtinQuery = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    format: Format = Format.json,
) -> Response:
    """FSMA 204 sortable spreadsheet: one row per CTE with its KDEs, and a glossary."""
    if start and end and start > end:
        raise invalid(["query", "from"], N_("The start date is after the end date"))
    report = fsma.build(db, principal, lot, gtin=gtin, start=start, end=end, locale=locale)
    if format is Format.xlsx:
        return _download(fsma.to_xlsx(report), XLSX, "fsma204.xlsx")
    if format is Format.csv:
        return _download(fsma.to_csv(report), "text/csv; charset=utf-8", "fsma204.csv")
    return JSONResponse(report.to_json())


@router.get("/reports/one-up-one-down", responses=REPORT_RESPONSES)
def one_up_one_down(
    db: DB, principal: Caller, lot: LotQuery, gtin: GtinQuery = None, format: Format = Format.json
) -> Response:
    """Immediate suppliers and inputs, immediate customers and outputs of a lot."""
    report = steps.build(db, principal, lot, gtin=gtin)
    if format is Format.xlsx:
        body = table_xlsx("One up one down", steps.COLUMNS, report.rows)
        return _download(body, XLSX, "one-up-one-down.xlsx")
    if format is Format.csv:
        return _download(report.to_csv(), "text/csv; charset=utf-8", "one-up-one-down.csv")
    return JSONResponse(report.to_json())


@router.get(
    "/reports/eudr",
    response_class=Response,
    responses={200: {"description": "One part of the plots", "content": {GEOJSON: {}}}},
)
def eudr_plots(
    db: DB,
    principal: Caller,
    lot: LotQuery,
    gtin: GtinQuery = None,
    part: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The GeoJSON FeatureCollection of the plots behind a lot; `X-Total-Parts` says how
    many parts there are (each under 25 MB); ask for the others with `part`."""
    parts = eudr.build(db, principal, lot, gtin=gtin).collections()
    if part > len(parts):
        raise invalid(["query", "part"], N_("There are only {count} parts"), count=len(parts))
    return Response(
        parts[part - 1],
        media_type=GEOJSON,
        headers={
            "X-Total-Parts": str(len(parts)),
            "Content-Disposition": f'attachment; filename="eudr-plots-{part}.geojson"',
        },
    )


@router.get("/reports/compliance/{gtin}", responses=REPORT_RESPONSES)
def compliance_check(
    gtin: str, db: DB, principal: Caller, locale: Locale, format: Format = Format.json
) -> Response:
    """A product's data against the minimum fields of Circular 02/2024 and Decree 37/2026."""
    report = compliance.check_product(db, principal, gtin).to_json(locale)
    headers = ["field", "label", "ok", "detail"]
    if format is Format.xlsx:
        return _download(
            table_xlsx("Compliance", headers, report["checks"]), XLSX, "compliance.xlsx"
        )
    if format is Format.csv:
        return _download(
            table_csv(headers, report["checks"]), "text/csv; charset=utf-8", "compliance.csv"
        )
    return JSONResponse(report)
