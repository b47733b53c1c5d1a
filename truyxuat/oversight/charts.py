"""Server-rendered SVG charts and their data tables, shared by the dashboard, the forecast page
and the monthly PDF.

Pure (no database, no JavaScript, no network): each function returns SVG markup that a page
includes as is and svglib draws into the PDF. Series differ by dash pattern and marker as well as
by colour so a chart reads in grayscale; every label is XML-escaped; titles and labels arrive
already translated.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

__all__ = ["Band", "Series", "bar_chart", "line_chart", "table_csv", "table_xlsx"]


@dataclass(frozen=True)
class Series:
    """One named row of values, one per x label (None = no value at that x)."""

    label: str
    values: Sequence[float | None]
    style: str = "solid"  # "solid" | "dashed" (e.g. the forecast after the history)


@dataclass(frozen=True)
class Band:
    """A shaded interval between two rows of values, e.g. a 95 % prediction interval."""

    label: str
    lower: Sequence[float | None]
    upper: Sequence[float | None]


# Colours from the Okabe-Ito palette (distinct for colour-blind readers), ordered so that
# neighbours also differ in lightness when printed in grayscale.
COLOURS = ("#0b4f8a", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#555555")
BAR_FILLS = ("#0b4f8a", "#e69f00", "#7fc7b0", "#cc79a7", "#56b4e9", "#d55e00", "#999999")
DASHES = ("", "7 4", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
TARGET_COLOUR = "#b00020"
BAND_FILL = "#8fb3d9"
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
# Characters XML 1.0 forbids even when escaped: stripped so user data cannot break the markup.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FONT_SIZE = 11
_CHAR_WIDTH = 0.6 * _FONT_SIZE  # a rough average advance; good enough to lay out labels


def _esc(text: object) -> str:
    """Escapes text for element content and double-quoted attributes."""
    return _xml_escape(_FORBIDDEN.sub("", str(text)), {'"': "&quot;"})


def _num(value: float) -> str:
    """A coordinate with at most one decimal (compact markup)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def format_value(value: float) -> str:
    """A number for axes and tables: thousands grouped by a thin space, at most two decimals."""
    if value != value:  # NaN
        return ""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}".replace(",", "\u202f")
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u202f")


def _text_width(text: str, size: float = _FONT_SIZE) -> float:
    """Approximate width of a label in user units."""
    return len(text) * 0.6 * size


def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1-2-5 step giving about `ticks` intervals over `span`."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _y_range(values: Sequence[float], *, zero: bool = True) -> tuple[float, float, float]:
    """The y axis bounds and tick step covering every value (and zero, for counts and bars)."""
    low = min(values) if values else 0.0
    high = max(values) if values else 1.0
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    step = _nice_step(high - low)
    if step < 1 and all(float(v).is_integer() for v in values):
        step = 1.0  # counts: no fractional ticks
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _label_step(x_labels: Sequence[str], plot_width: float) -> int:
    """Every how many x labels to print so that they do not overlap."""
    if not x_labels:
        return 1
    widest = max(_text_width(label) for label in x_labels) + 8
    fits = max(1, int(plot_width // widest))
    return max(1, math.ceil(len(x_labels) / fits))


class _Canvas:
    """The frame shared by both chart kinds: title, axes, grid, legend, target line."""

    def __init__(
        self,
        *,
        title: str,
        width: int,
        height: int,
        legend: list[tuple[str, str]],
        y_unit: str,
        categories: Sequence[str] = (),
    ) -> None:
        """Lays out the plot area for the given size and legend entries.

        `categories` are a bar chart's x labels: each must be shown, so when they do not fit
        side by side they are slanted and the plot gives them room.
        """
        self.title, self.width, self.height, self.y_unit = title, width, height, y_unit
        self.legend = legend
        self.left, self.right, self.top = 64.0, 16.0, 40.0
        self.legend_rows = self._legend_rows()
        self.slant = 0.0
        if categories:
            slot = (width - self.left - self.right) / len(categories)
            widest = max(_text_width(label) for label in categories)
            if widest + 6 > slot:
                self.slant = min(0.5 * widest, 0.3 * height)  # sin 30° of the longest label
        self.bottom = 30.0 + 18.0 * len(self.legend_rows) + self.slant
        self.plot_w = width - self.left - self.right
        self.plot_h = max(40.0, height - self.top - self.bottom)
        self.parts: list[str] = []

    def _legend_rows(self) -> list[list[tuple[str, str, float]]]:
        """Splits the legend entries into rows that fit the width."""
        rows: list[list[tuple[str, str, float]]] = []
        row: list[tuple[str, str, float]] = []
        used = 0.0
        for kind, label in self.legend:
            item_w = 30 + _text_width(label) + 16
            if row and used + item_w > self.width - 2 * self.right:
                rows.append(row)
                row, used = [], 0.0
            row.append((kind, label, item_w))
            used += item_w
        if row:
            rows.append(row)
        return rows

    def y_of(self, value: float, low: float, high: float) -> float:
        """The y coordinate of a value."""
        return self.top + self.plot_h - (value - low) / (high - low) * self.plot_h

    def axes(self, low: float, high: float, step: float) -> None:
        """Draws the y grid with its tick labels, the unit and the axis lines."""
        ticks = round((high - low) / step)
        for index in range(ticks + 1):
            value = low + index * step
            y = self.y_of(value, low, high)
            self.parts.append(
                f'<line x1="{_num(self.left)}" y1="{_num(y)}" x2="{_num(self.left + self.plot_w)}"'
                f' y2="{_num(y)}" stroke="#dddddd" stroke-width="1"/>'
            )
            self.parts.append(
                f'<text x="{_num(self.left - 6)}" y="{_num(y + 4)}" text-anchor="end"'
                f' font-size="{_FONT_SIZE}" fill="#333333">{_esc(format_value(value))}</text>'
            )
        if self.y_unit:
            self.parts.append(
                f'<text x="{_num(self.left - 6)}" y="{_num(self.top - 8)}" text-anchor="end"'
                f' font-size="{_FONT_SIZE}" fill="#333333">{_esc(self.y_unit)}</text>'
            )
        base = self.top + self.plot_h
        self.parts.append(
            f'<line x1="{_num(self.left)}" y1="{_num(self.top)}" x2="{_num(self.left)}"'
            f' y2="{_num(base)}" stroke="#333333" stroke-width="1"/>'
        )
        zero = self.y_of(0.0, low, high) if low <= 0 <= high else base
        self.parts.append(
            f'<line x1="{_num(self.left)}" y1="{_num(zero)}" x2="{_num(self.left + self.plot_w)}"'
            f' y2="{_num(zero)}" stroke="#333333" stroke-width="1"/>'
        )

    def x_labels(self, labels: Sequence[str], centres: Sequence[float]) -> None:
        """Prints the x labels under the plot, thinned so that they do not overlap."""
        step = 1 if self.slant else _label_step(labels, self.plot_w)
        y = self.top + self.plot_h + 16
        for index, (label, x) in enumerate(zip(labels, centres, strict=True)):
            if index % step:
                continue
            if self.slant:
                self.parts.append(
                    f'<text x="{_num(x)}" y="{_num(y - 4)}" text-anchor="end"'
                    f' transform="rotate(-30 {_num(x)} {_num(y - 4)})" font-size="{_FONT_SIZE}"'
                    f' fill="#333333">{_esc(label)}</text>'
                )
                continue
            self.parts.append(
                f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="middle" font-size="{_FONT_SIZE}"'
                f' fill="#333333">{_esc(label)}</text>'
            )

    def target(self, value: float, label: str, low: float, high: float) -> None:
        """A dashed horizontal line at the target, labelled at its right end."""
        y = self.y_of(value, low, high)
        self.parts.append(
            f'<line x1="{_num(self.left)}" y1="{_num(y)}" x2="{_num(self.left + self.plot_w)}"'
            f' y2="{_num(y)}" stroke="{TARGET_COLOUR}" stroke-width="1.5"'
            f' stroke-dasharray="10 4 2 4" data-kind="target"/>'
        )
        text = label or format_value(value)
        self.parts.append(
            f'<text x="{_num(self.left + self.plot_w - 4)}" y="{_num(y - 5)}" text-anchor="end"'
            f' font-size="{_FONT_SIZE}" fill="{TARGET_COLOUR}">{_esc(text)}</text>'
        )

    def legend_marks(self) -> None:
        """Draws the legend rows under the x labels."""
        y = self.top + self.plot_h + 38 + self.slant
        for row in self.legend_rows:
            x = self.left
            for kind, label, item_w in row:
                self.parts.append(_legend_swatch(kind, x, y))
                self.parts.append(
                    f'<text x="{_num(x + 30)}" y="{_num(y + 4)}" font-size="{_FONT_SIZE}"'
                    f' fill="#222222">{_esc(label)}</text>'
                )
                x += item_w
            y += 18

    def render(self, desc: str, body: list[str]) -> str:
        """Wraps everything into one self-contained <svg> element."""
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%"'
            f' viewBox="0 0 {self.width} {self.height}" preserveAspectRatio="xMidYMid meet"'
            f' font-family="{FONT}" class="chart">'
            f"<title>{_esc(self.title)}</title><desc>{_esc(desc)}</desc>"
            f'<rect x="0" y="0" width="{self.width}" height="{self.height}" fill="#ffffff"/>'
            f'<text x="{_num(self.left)}" y="20" font-size="14" font-weight="bold"'
            f' fill="#111111">{_esc(self.title)}</text>'
        )
        return head + "".join(self.parts) + "".join(body) + "</svg>"

    def empty(self, message: str) -> str:
        """A chart with no values: its title and a centred message instead of axes."""
        self.parts = [
            f'<text x="{_num(self.width / 2)}" y="{_num(self.top + self.plot_h / 2)}"'
            f' text-anchor="middle" font-size="13" fill="#555555"'
            f' data-kind="empty">{_esc(message)}</text>'
        ]
        return self.render(message, [])


def _legend_swatch(kind: str, x: float, y: float) -> str:
    """The small sample drawn before a legend label."""
    what, _, index_text = kind.partition(":")
    index = int(index_text or 0)
    if what == "bar":
        return (
            f'<rect x="{_num(x)}" y="{_num(y - 6)}" width="22" height="11"'
            f' fill="{BAR_FILLS[index % len(BAR_FILLS)]}" stroke="#222222" stroke-width="0.6"/>'
        )
    if what == "band":
        return (
            f'<rect x="{_num(x)}" y="{_num(y - 6)}" width="22" height="11" fill="{BAND_FILL}"'
            f' fill-opacity="0.45"/>'
        )
    if what == "target":
        return (
            f'<line x1="{_num(x)}" y1="{_num(y)}" x2="{_num(x + 22)}" y2="{_num(y)}"'
            f' stroke="{TARGET_COLOUR}" stroke-width="1.5" stroke-dasharray="10 4 2 4"/>'
        )
    dashed = what == "dashed"
    colour = COLOURS[index % len(COLOURS)]
    dash = "6 4" if dashed else DASHES[index % len(DASHES)]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_num(x)}" y1="{_num(y)}" x2="{_num(x + 22)}" y2="{_num(y)}"'
        f' stroke="{colour}" stroke-width="2"{dash_attr}/>'
        + _marker(MARKERS[index % len(MARKERS)], x + 11, y, colour)
    )


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    """A point marker; the shape tells series apart without colour."""
    if shape == "square":
        return f'<rect x="{_num(x - 3)}" y="{_num(y - 3)}" width="6" height="6" fill="{colour}"/>'
    if shape == "triangle":
        points = f"{_num(x)},{_num(y - 4)} {_num(x + 4)},{_num(y + 3)} {_num(x - 4)},{_num(y + 3)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    if shape == "diamond":
        corners = ((x, y - 4), (x + 4, y), (x, y + 4), (x - 4, y))
        points = " ".join(f"{_num(a)},{_num(b)}" for a, b in corners)
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{colour}"/>'


def _present(values: Sequence[float | None]) -> list[float]:
    """The values that are there (not None, not NaN)."""
    return [float(v) for v in values if v is not None and v == v]


def _describe(x_labels: Sequence[str], series: Sequence[Series], band: Band | None) -> str:
    """A plain-text summary of the data for screen readers (the <desc> element)."""
    parts: list[str] = []
    span = f"{x_labels[0]} – {x_labels[-1]}" if x_labels else ""
    for item in series:
        values = _present(item.values)
        if values:
            parts.append(
                f"{item.label}: {format_value(min(values))} – {format_value(max(values))}"
                f" ({len(values)})"
            )
    if band is not None:
        parts.append(band.label)
    return (span + ". " if span else "") + "; ".join(parts)


def _check_lengths(x_labels: Sequence[str], series: Sequence[Series], band: Band | None) -> None:
    """Every row must have one value per x label."""
    for item in series:
        if len(item.values) != len(x_labels):
            raise ValueError(f"series {item.label!r} has {len(item.values)} values")
    if band is not None and not (len(band.lower) == len(band.upper) == len(x_labels)):
        raise ValueError(f"band {band.label!r} does not match the x labels")


def line_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    band: Band | None = None,
    target: float | None = None,
    target_label: str = "",
    y_unit: str = "",
    width: int = 720,
    height: int = 300,
    empty_text: str = "—",
) -> str:
    """A line chart: one polyline per series (gaps at None), an optional band and target line."""
    _check_lengths(x_labels, series, band)
    legend = [
        (("dashed" if item.style == "dashed" else "line") + f":{index}", item.label)
        for index, item in enumerate(series)
    ]
    if band is not None:
        legend.append(("band", band.label))
    if target is not None and target_label:
        legend.append(("target", target_label))
    canvas = _Canvas(title=title, width=width, height=height, legend=legend, y_unit=y_unit)
    values = [v for item in series for v in _present(item.values)]
    if not values:
        return canvas.empty(empty_text)
    if band is not None:
        values += _present(band.lower) + _present(band.upper)
    if target is not None:
        values.append(float(target))
    low, high, step = _y_range(values, zero=min(values) >= 0)
    if target is not None and float(target) > high - step / 2:
        high += step  # headroom so the target's label does not sit on the title
    canvas.axes(low, high, step)
    count = len(x_labels)
    gap = canvas.plot_w / max(1, count - 1) if count > 1 else 0.0
    xs = [canvas.left + (gap * i if count > 1 else canvas.plot_w / 2) for i in range(count)]
    body: list[str] = []
    if band is not None:
        body.extend(_band_polygons(canvas, xs, band, low, high))
    if target is not None:
        canvas.target(float(target), target_label, low, high)
    markers = count <= 40  # markers on dense weekly series would only blur the lines
    for index, item in enumerate(series):
        body.extend(_polyline(canvas, xs, item, index, low, high, markers))
    canvas.x_labels(x_labels, xs)
    canvas.legend_marks()
    return canvas.render(_describe(x_labels, series, band), body)


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indexes of consecutive present values (a None breaks the line)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if value is None or value != value:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def _polyline(
    canvas: _Canvas,
    xs: Sequence[float],
    item: Series,
    index: int,
    low: float,
    high: float,
    markers: bool,
) -> list[str]:
    """One series as polylines over its runs of values, with markers at the points."""
    colour = COLOURS[index % len(COLOURS)]
    dash = "6 4" if item.style == "dashed" else DASHES[index % len(DASHES)]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    out = [f'<g data-series="{_esc(item.label)}">']
    for run in _runs(item.values):
        points = " ".join(
            f"{_num(xs[i])},{_num(canvas.y_of(float(item.values[i] or 0), low, high))}" for i in run
        )
        if len(run) > 1:
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
                f' stroke-linejoin="round"{dash_attr}/>'
            )
        if markers or len(run) == 1:
            for i in run:
                y = canvas.y_of(float(item.values[i] or 0), low, high)
                out.append(_marker(MARKERS[index % len(MARKERS)], xs[i], y, colour))
    out.append("</g>")
    return out


def _band_polygons(
    canvas: _Canvas, xs: Sequence[float], band: Band, low: float, high: float
) -> list[str]:
    """The band as one shaded polygon per run where both bounds are known."""
    both = [
        lo if lo is not None and hi is not None else None
        for lo, hi in zip(band.lower, band.upper, strict=True)
    ]
    out = [f'<g data-kind="band" data-series="{_esc(band.label)}">']
    for run in _runs(both):
        # A single x still shows its interval: a narrow column around that x.
        lefts = [xs[i] for i in run] if len(run) > 1 else [xs[run[0]] - 3, xs[run[0]] + 3]
        ups = [float(band.upper[i] or 0) for i in run] * (1 if len(run) > 1 else 2)
        downs = [float(band.lower[i] or 0) for i in run] * (1 if len(run) > 1 else 2)
        upper = [
            f"{_num(x)},{_num(canvas.y_of(v, low, high))}" for x, v in zip(lefts, ups, strict=True)
        ]
        lower = [
            f"{_num(x)},{_num(canvas.y_of(v, low, high))}"
            for x, v in reversed(list(zip(lefts, downs, strict=True)))
        ]
        out.append(
            f'<polygon points="{" ".join(upper + lower)}" fill="{BAND_FILL}" fill-opacity="0.45"'
            f' stroke="none"/>'
        )
    out.append("</g>")
    return out


def bar_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    target: float | None = None,
    target_label: str = "",
    y_unit: str = "",
    width: int = 720,
    height: int = 300,
    empty_text: str = "—",
) -> str:
    """A bar chart: grouped (side by side) or stacked bars per x label, an optional target line."""
    _check_lengths(x_labels, series, None)
    legend = [(f"bar:{index}", item.label) for index, item in enumerate(series)]
    if target is not None and target_label:
        legend.append(("target", target_label))
    canvas = _Canvas(
        title=title,
        width=width,
        height=height,
        legend=legend,
        y_unit=y_unit,
        categories=x_labels,
    )
    values = [v for item in series for v in _present(item.values)]
    if not values:
        return canvas.empty(empty_text)
    count = len(x_labels)
    if stacked:
        tops = [sum(max(0.0, float(s.values[i] or 0)) for s in series) for i in range(count)]
        bottoms = [sum(min(0.0, float(s.values[i] or 0)) for s in series) for i in range(count)]
        extent = tops + bottoms
    else:
        extent = list(values)
    if target is not None:
        extent.append(float(target))
    low, high, step = _y_range(extent)
    if target is not None and float(target) > high - step / 2:
        high += step  # headroom so the target's label does not sit on the title
    canvas.axes(low, high, step)
    slot = canvas.plot_w / max(1, count)
    centres = [canvas.left + slot * (i + 0.5) for i in range(count)]
    body: list[str] = []
    group_w = slot * 0.75
    bar_w = group_w if stacked else group_w / max(1, len(series))
    zero_y = canvas.y_of(0.0, low, high)
    for index, item in enumerate(series):
        fill = BAR_FILLS[index % len(BAR_FILLS)]
        body.append(f'<g data-series="{_esc(item.label)}">')
        for i, value in enumerate(item.values):
            if value is None or value != value:
                continue
            if stacked:
                below = [float(s.values[i] or 0) for s in series[:index]]
                if value >= 0:
                    start = sum(v for v in below if v > 0)
                else:
                    start = sum(v for v in below if v < 0)
                y0, y1 = canvas.y_of(start, low, high), canvas.y_of(start + value, low, high)
                x = centres[i] - group_w / 2
            else:
                y0, y1 = zero_y, canvas.y_of(float(value), low, high)
                x = centres[i] - group_w / 2 + bar_w * index
            top, bar_h = min(y0, y1), abs(y1 - y0)
            body.append(
                f'<rect x="{_num(x)}" y="{_num(top)}" width="{_num(max(1.0, bar_w - 1))}"'
                f' height="{_num(bar_h)}" fill="{fill}" stroke="#222222" stroke-width="0.6">'
                f"<title>{_esc(x_labels[i])} – {_esc(item.label)}: {_esc(format_value(value))}"
                "</title></rect>"
            )
        body.append("</g>")
    if target is not None:
        canvas.target(float(target), target_label, low, high)
    canvas.x_labels(x_labels, centres)
    canvas.legend_marks()
    return canvas.render(_describe(x_labels, series, None), body)


def _headers(x_header: str, series: Sequence[Series], band: Band | None) -> list[str]:
    """The header row: the x column, one column per series, then the band's two bounds."""
    headers = [x_header] + [item.label for item in series]
    if band is not None:
        headers += [f"{band.label} (−)", f"{band.label} (+)"]
    return headers


def _rows(
    x_labels: Sequence[str], series: Sequence[Series], band: Band | None
) -> list[list[str | float | None]]:
    """One row per x label with every series' value (None where absent)."""
    _check_lengths(x_labels, series, band)
    rows: list[list[str | float | None]] = []
    for i, label in enumerate(x_labels):
        row: list[str | float | None] = [label]
        row += [item.values[i] for item in series]
        if band is not None:
            row += [band.lower[i], band.upper[i]]
        rows.append(row)
    return rows


def _cell_text(value: str | float | None) -> str:
    """A CSV cell: numbers plain (a dot as decimal mark), text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, str):
        # A spreadsheet would run a cell starting like a formula (CSV injection).
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    if value != value:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def table_csv(
    x_header: str, x_labels: Sequence[str], series: Sequence[Series], band: Band | None = None
) -> str:
    """The chart's data as CSV: one row per x, one column per series (and the band's bounds)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell_text(h) for h in _headers(x_header, series, band)])
    for row in _rows(x_labels, series, band):
        writer.writerow([_cell_text(cell) for cell in row])
    return buffer.getvalue()


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def table_xlsx(
    title: str,
    x_header: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    band: Band | None = None,
) -> bytes:
    """The same table as an .xlsx workbook: numbers as numbers, a bold frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = (_SHEET_FORBIDDEN.sub(" ", _FORBIDDEN.sub("", title)).strip() or "Data")[:31]
    sheet.append([_FORBIDDEN.sub("", h) for h in _headers(x_header, series, band)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
    for row in _rows(x_labels, series, band):
        cells: list[str | float | None] = []
        for cell in row:
            if isinstance(cell, str):
                cells.append(_FORBIDDEN.sub("", cell))
            elif cell is None or cell != cell:
                cells.append(None)
            else:
                cells.append(float(cell))
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a label, never a formula the spreadsheet would run
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = max(
        12, min(40, max((len(x) for x in x_labels), default=8) + 2)
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
