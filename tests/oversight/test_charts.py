"""The shared SVG charts and their data tables: well-formed, accessible, escaped, round-trip."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl import load_workbook

from truyxuat.oversight.charts import Band, Series, bar_chart, line_chart, table_csv, table_xlsx

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def parse(markup: str) -> etree._Element:
    """Parses the SVG strictly (any escaping slip fails here)."""
    return etree.fromstring(markup.encode(), etree.XMLParser(resolve_entities=False))


def test_line_chart_is_well_formed_and_accessible() -> None:
    history = Series("Đã quét", [float(v) for v in range(12)])
    root = parse(line_chart(title="Lượt quét theo tháng", x_labels=MONTHS, series=[history]))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox") == "0 0 720 300"
    assert root.find(f"{SVG}title").text == "Lượt quét theo tháng"
    assert "Đã quét" in root.find(f"{SVG}desc").text
    assert root.findall(f".//{SVG}polyline")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "2026-01" in texts and "Đã quét" in texts


def test_labels_are_escaped() -> None:
    evil = '<script>alert("x")</script> & \x01'
    markup = bar_chart(title=evil, x_labels=[evil, "b"], series=[Series(evil, [1, 2])])
    root = parse(markup)
    assert "<script>" not in markup
    assert not root.findall(f".//{SVG}script")
    assert root.find(f"{SVG}title").text == '<script>alert("x")</script> & '
    line = line_chart(title="t", x_labels=["a", "b"], series=[Series('"q"', [1, 2])])
    assert parse(line).find(f".//{SVG}g").get("data-series") == '"q"'


def test_band_and_target_line_appear() -> None:
    history = [10.0, 12.0, 11.0, 13.0, None, None]
    forecast = [None, None, None, 13.0, 14.0, 15.0]
    band = Band("95 %", [None, None, None, 13.0, 12.0, 11.0], [None, None, None, 13.0, 16.0, 19.0])
    root = parse(
        line_chart(
            title="Forecast",
            x_labels=MONTHS[:6],
            series=[Series("History", history), Series("Forecast", forecast, style="dashed")],
            band=band,
            target=20,
            target_label="Target 20",
        )
    )
    bands = [g for g in root.iter(f"{SVG}g") if g.get("data-kind") == "band"]
    assert len(bands) == 1 and bands[0].findall(f"{SVG}polygon")
    targets = [e for e in root.iter(f"{SVG}line") if e.get("data-kind") == "target"]
    assert len(targets) == 1
    assert "Target 20" in [t.text for t in root.iter(f"{SVG}text")]
    dashed = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke-dasharray") == "6 4"]
    assert dashed, "the forecast is drawn dashed"


def test_bar_chart_grouped_and_stacked_with_target() -> None:
    series = [Series("Có dữ liệu", [3, 1]), Series("Chưa có", [2, 4])]
    for stacked in (False, True):
        root = parse(
            bar_chart(
                title="OCOP",
                x_labels=["A", "B"],
                series=series,
                stacked=stacked,
                target=5,
                target_label="Mục tiêu",
                y_unit="%",
            )
        )
        bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
        assert len(bars) == 4
        assert [e for e in root.iter(f"{SVG}line") if e.get("data-kind") == "target"]


def test_stacked_bars_sit_on_each_other() -> None:
    root = parse(
        bar_chart(
            title="t",
            x_labels=["x"],
            series=[Series("a", [2]), Series("b", [3])],
            stacked=True,
        )
    )
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    first, second = bars
    # The second bar starts where the first ends (same x, touching heights).
    assert first.get("x") == second.get("x")
    assert float(second.get("y")) + float(second.get("height")) == pytest.approx(
        float(first.get("y")), abs=0.2
    )


def test_empty_chart_shows_message_not_error() -> None:
    for chart in (line_chart, bar_chart):
        root = parse(
            chart(
                title="Nothing", x_labels=["a"], series=[Series("s", [None])], empty_text="No data"
            )
        )
        empty = [t for t in root.iter(f"{SVG}text") if t.get("data-kind") == "empty"]
        assert empty and empty[0].text == "No data"
    assert parse(line_chart(title="none", x_labels=[], series=[])) is not None


def test_many_labels_are_thinned() -> None:
    weeks = [f"2026-W{w:02d}" for w in range(1, 61)]
    root = parse(
        line_chart(title="w", x_labels=weeks, series=[Series("s", [float(i) for i in range(60)])])
    )
    shown = [t.text for t in root.iter(f"{SVG}text") if t.text in weeks]
    assert 3 <= len(shown) < 30
    assert shown[0] == "2026-W01"


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError):
        line_chart(title="t", x_labels=["a", "b"], series=[Series("s", [1.0])])


def test_csv_round_trip() -> None:
    series = [Series("Ordered", [100, 2.5, None]), Series("=HYPERLINK()", [1, 2, 3])]
    band = Band("95 %", [1, 2, 3], [4, 5, 6])
    text = table_csv("Month", MONTHS[:3], series, band)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Month", "Ordered", "'=HYPERLINK()", "95 % (−)", "95 % (+)"]
    assert rows[1] == ["2026-01", "100", "1", "1", "4"]
    assert rows[2] == ["2026-02", "2.5", "2", "2", "5"]
    assert rows[3] == ["2026-03", "", "3", "3", "6"]


def test_xlsx_round_trip() -> None:
    series = [Series("Đã kích hoạt", [100, 2.5, None]), Series("=1+1", [1, 2, 3])]
    data = table_xlsx("Tem: đặt/kích hoạt [2026]", "Tháng", MONTHS[:3], series)
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "Tem  đặt kích hoạt  2026"
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Tháng", "Đã kích hoạt", "=1+1"]
    assert sheet["C1"].data_type == "s"
    assert rows[1] == ["2026-01", 100, 1]
    assert rows[2] == ["2026-02", 2.5, 2]
    assert rows[3] == ["2026-03", None, 3]


def test_svglib_reads_the_markup() -> None:
    from svglib.svglib import svg2rlg

    markup = line_chart(
        title="Tiếng Việt có dấu",
        x_labels=MONTHS,
        series=[Series("a", [float(i) for i in range(12)])],
        band=Band("b", [0.0] * 12, [float(i + 2) for i in range(12)]),
        target=5,
        target_label="Mục tiêu",
    )
    drawing = svg2rlg(io.BytesIO(markup.replace('width="100%"', 'width="720"').encode()))
    assert drawing is not None
    # svglib measures in points (0.75 of a CSS pixel): the aspect ratio of the viewBox is kept.
    assert drawing.width / drawing.height == pytest.approx(720 / 300)


def test_bar_categories_that_do_not_fit_are_slanted_not_dropped() -> None:
    groups = [f"Nhóm sản phẩm số {i}" for i in range(8)]
    root = parse(bar_chart(title="t", x_labels=groups, series=[Series("s", [1.0] * 8)]))
    shown = [t for t in root.iter(f"{SVG}text") if t.text in groups]
    assert [t.text for t in shown] == groups
    assert all("rotate(-30" in (t.get("transform") or "") for t in shown)


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.text(max_size=30), min_size=1, max_size=8),
    values=st.lists(
        st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)),
        min_size=8,
        max_size=8,
    ),
)
def test_any_labels_and_values_give_well_formed_svg(
    labels: list[str], values: list[float | None]
) -> None:
    row = values[: len(labels)]
    for markup in (
        line_chart(title=labels[0], x_labels=labels, series=[Series(labels[-1], row)], target=1),
        bar_chart(title=labels[0], x_labels=labels, series=[Series(labels[-1], row)], stacked=True),
    ):
        root = parse(markup)
        assert root.find(f"{SVG}title") is not None
