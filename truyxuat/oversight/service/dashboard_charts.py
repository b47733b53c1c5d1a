"""The dashboard's charts as data: one table per chart (its title, x labels and series) built
from the dashboard figures, so the page, the downloads, the API and the PDF draw the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from truyxuat.errors import N_, NotFound
from truyxuat.i18n import gettext
from truyxuat.oversight import charts
from truyxuat.oversight.charts import Series
from truyxuat.oversight.service.dashboard import Dashboard, RegistryFigure

STATUS_LABELS = {
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "active": N_("Active"),
    "inactive": N_("Inactive"),
}
REGISTRY_TITLES = {
    "organizations": N_("Organizations registered per month, by status"),
    "products": N_("Products registered per month, by status"),
    "growing_areas": N_("Growing areas registered per month, by status"),
    "packing_houses": N_("Packing houses registered per month, by status"),
}


class Chart(StrEnum):
    """The dashboard's charts, in page order (their keys name the download URLs)."""

    organizations = "organizations"
    products = "products"
    growing_areas = "growing-areas"
    packing_houses = "packing-houses"
    ocop_coverage = "ocop-coverage"
    moit_coverage = "moit-coverage"
    stamps = "stamps"
    scans_by_province = "scans-by-province"
    scans_by_product = "scans-by-product"


CHART_KEYS = tuple(chart.value for chart in Chart)
_NAME_LENGTH = 22


@dataclass(frozen=True)
class ChartTable:
    """One chart's data, already translated, and how to draw it."""

    key: str
    title: str
    kind: str  # "line" | "bar"
    x_header: str
    x_labels: list[str]
    series: list[Series]
    stacked: bool = False
    target: float | None = None
    target_label: str = ""
    y_unit: str = ""
    notes: list[str] = field(default_factory=list)
    table_labels: list[str] | None = None  # full names for the tables when the axis shortens

    def _rows(self) -> list[str]:
        """The x labels the tables use."""
        return self.table_labels if self.table_labels is not None else self.x_labels

    def svg(self, locale: str) -> str:
        """The chart as SVG markup."""
        empty = gettext(locale, N_("No data yet"))
        if self.kind == "line":
            return charts.line_chart(
                title=self.title,
                x_labels=self.x_labels,
                series=self.series,
                target=self.target,
                target_label=self.target_label,
                y_unit=self.y_unit,
                empty_text=empty,
            )
        return charts.bar_chart(
            title=self.title,
            x_labels=self.x_labels,
            series=self.series,
            stacked=self.stacked,
            target=self.target,
            target_label=self.target_label,
            y_unit=self.y_unit,
            empty_text=empty,
        )

    def csv(self) -> str:
        """The chart's table as CSV."""
        return charts.table_csv(self.x_header, self._rows(), self.series)

    def xlsx(self) -> bytes:
        """The chart's table as an .xlsx workbook."""
        return charts.table_xlsx(self.title, self.x_header, self._rows(), self.series)


def _short(name: str) -> str:
    """A label short enough for an axis."""
    return name if len(name) <= _NAME_LENGTH else name[: _NAME_LENGTH - 1] + "…"


def _registry(board: Dashboard, figure: RegistryFigure, key: str, locale: str) -> ChartTable:
    """New registrations per month, stacked by status."""
    return ChartTable(
        key=key,
        title=gettext(locale, REGISTRY_TITLES[figure.kind]),
        kind="bar",
        x_header=gettext(locale, N_("Month")),
        x_labels=board.months,
        series=[
            Series(gettext(locale, STATUS_LABELS.get(status, status)), [float(v) for v in values])
            for status, values in figure.monthly.items()
        ],
        stacked=True,
    )


def chart_table(board: Dashboard, key: str, locale: str) -> ChartTable:
    """The table behind one chart of the dashboard (NotFound for an unknown chart)."""

    def t(message: str, **params: Any) -> str:
        return gettext(locale, message, **params)

    registry = {f.kind.replace("_", "-"): f for f in board.registry}
    if key in registry:
        return _registry(board, registry[key], key, locale)
    if key == "ocop-coverage":
        target = board.ocop.target
        return ChartTable(
            key=key,
            title=t(N_("OCOP products with traceability data")),
            kind="line",
            x_header=t(N_("Month")),
            x_labels=board.months,
            series=[Series(t(N_("Coverage")), list(board.ocop.monthly_percent))],
            target=target.percent,
            target_label=t(
                N_("Target {year}: {percent}%"), year=target.year, percent=f"{target.percent:g}"
            ),
            y_unit="%",
        )
    if key == "moit-coverage":
        return ChartTable(
            key=key,
            title=t(N_("MOIT mandatory groups: products carrying the required data")),
            kind="bar",
            x_header=t(N_("Product group")),
            x_labels=[g.label for g in board.moit],
            series=[Series(t(N_("Coverage")), [g.percent for g in board.moit])],
            target=100.0,
            target_label=t(N_("Required: 100%")),
            y_unit="%",
        )
    if key == "stamps":
        return ChartTable(
            key=key,
            title=t(N_("Stamps ordered, activated and scanned per month")),
            kind="line",
            x_header=t(N_("Month")),
            x_labels=board.months,
            series=[
                Series(t(N_("Ordered")), [float(v) for v in board.stamps.ordered]),
                Series(t(N_("Activated")), [float(v) for v in board.stamps.activated]),
                Series(t(N_("Scanned")), [float(v) for v in board.stamps.scanned]),
            ],
        )
    if key == "scans-by-province":
        rows = board.scans_by_province
        return ChartTable(
            key=key,
            title=t(N_("Scans in the last 12 months by province")),
            kind="bar",
            x_header=t(N_("Province")),
            x_labels=[_short(p.name) for p in rows],
            table_labels=[p.name for p in rows],
            series=[
                Series(t(N_("Products from the province")), [float(p.by_producer) for p in rows]),
                Series(t(N_("Scanned in the province")), [float(p.by_location) for p in rows]),
            ],
            notes=[board.scan_mapping],
        )
    if key == "scans-by-product":
        rows_ = board.scans_by_product
        return ChartTable(
            key=key,
            title=t(N_("Most scanned products in the last 12 months")),
            kind="bar",
            x_header=t(N_("Product")),
            x_labels=[_short(p.name or p.gtin) for p in rows_],
            table_labels=[f"{p.name} ({p.gtin})" for p in rows_],
            series=[Series(t(N_("Scans")), [float(p.scans) for p in rows_])],
        )
    raise NotFound()


def chart_tables(board: Dashboard, locale: str) -> list[ChartTable]:
    """Every chart of the dashboard, in page order."""
    return [chart_table(board, key, locale) for key in CHART_KEYS]
