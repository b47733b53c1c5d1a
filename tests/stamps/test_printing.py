"""Printing: PDFs are rasterized with poppler at 300 dpi and every code decoded with zxing-cpp."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from openpyxl import load_workbook

from tests.stamps.test_carriers import read_pgm
from truyxuat.gs1 import make_gtin13
from truyxuat.stamps import carriers, printing
from truyxuat.stamps.printing import (
    RollLayout,
    SheetLayout,
    StampLabel,
    render_pdf,
    write_codes_csv,
    write_codes_xlsx,
)

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")), reason="needs poppler-utils"
)

BASE = "http://127.0.0.1:8000"
PRODUCT = "Gạo ST25 Sóc Trăng – túi 5 kg (Hợp tác xã Đồng Tiến)"
SERIALS = [
    "K7Q3M9X2TB", "P4ZR8WQ1LM", "A9X2C7V3NB", "T6Y1U8I4OP", "QW3E5R7T9Y", "Z2X4C6V8B0",
    "M1N3B5V7C9", "L0K9J8H7G6", "F5D4S3A2Q1", "W8E7R6T5Y4", "U3I2O1P0A9", "S8D7F6G5H4",
    "J3K2L1Z0X9", "C8V7B6N5M4", "Q3W2E1R0T9", "Y8U7I6O5P4", "A3S2D1F0G9", "H8J7K6L5Z4",
    "X3C2V1B0N9", "M8Q7W6E5R4", "T3Y2U1I0O9", "P8A7S6D5F4", "G3H2J1K0L9", "Z8X7C6V5B4",
    "N3M2Q1W0E9", "R8T7Y6U5I4", "O3P2A1S0D9", "F8G7H6J5K4", "L3Z2X1C0V9", "B8N7M6Q5W4",
]  # fmt: skip


def make_labels(count: int = 30, *, kind: str = "qr") -> list[StampLabel]:
    """Labels for real-looking item-level Digital Links over three products and two lots."""
    labels = []
    for i, serial in enumerate(SERIALS[:count]):
        gtin = "0" + make_gtin13("893612345", i % 3 + 1)
        lot = f"LOT-2026-0{i % 2 + 1}"
        labels.append(
            StampLabel(
                uri=f"{BASE}/01/{gtin}/10/{lot}/21/{serial}",
                gtin=gtin,
                serial=serial,
                lot=lot,
                product_name=PRODUCT,
                pin=f"{(i * 7919) % 1000000:06d}" if kind == "anticounterfeit" else None,
                kind="anticounterfeit" if kind == "anticounterfeit" else "qr",
            )
        )
    return labels


def rasterize(pdf: Path) -> list[list[zxingcpp.Barcode]]:
    """Renders every page at 300 dpi (grayscale) and decodes all symbols on each page."""
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", str(pdf), str(pdf.with_suffix(""))], check=True
    )
    pages = sorted(pdf.parent.glob(pdf.stem + "-*.pgm"))
    return [list(zxingcpp.read_barcodes(read_pgm(page))) for page in pages]


def pdf_text(pdf: Path) -> str:
    """The PDF's text layer, as a viewer's search or copy would see it."""
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_sheet_layout_derives_grid_from_sizes() -> None:
    assert (SheetLayout().columns, SheetLayout().rows) == (3, 8)
    layout = SheetLayout(
        label_width_mm=50, label_height_mm=30, margin_x_mm=5, margin_y_mm=10, gap_x_mm=2, gap_y_mm=3
    )
    assert (layout.columns, layout.rows) == (3, 8)
    assert len(layout.positions()) == 24
    with pytest.raises(ValueError):
        SheetLayout(label_width_mm=300).positions()


def test_sheet_pdf_decodes_to_exactly_the_stamp_uris(tmp_path: Path) -> None:
    labels = make_labels()
    seen: list[int] = []
    pdf = tmp_path / "sheet.pdf"
    assert render_pdf(labels, pdf, layout=SheetLayout(), progress=seen.append) == 30
    assert seen == [24, 30]

    pages = rasterize(pdf)
    assert [len(found) for found in pages] == [24, 6]
    decoded = [code for found in pages for code in found]
    assert all(code.format == zxingcpp.BarcodeFormat.QRCode for code in decoded)
    assert {code.text for code in decoded} == {label.uri for label in labels}
    by_uri = {label.uri: label for label in labels}
    for code in decoded:
        keys = carriers.parse_gs1(code.text)  # biip
        label = by_uri[code.text]
        assert (keys.gtin, keys.lot, keys.serial) == (label.gtin, label.lot, label.serial)


def test_sheet_pdf_with_datamatrix_decodes_to_gs1_keys(tmp_path: Path) -> None:
    labels = make_labels(12)
    pdf = tmp_path / "dm.pdf"
    layout = SheetLayout(label_width_mm=50, label_height_mm=25, margin_x_mm=5, margin_y_mm=8)
    render_pdf(labels, pdf, layout=layout, carrier="datamatrix")
    (found,) = rasterize(pdf)
    assert all(code.content_type == zxingcpp.ContentType.GS1 for code in found)
    keys = {carriers.parse_gs1(code.text) for code in found}
    assert keys == {carriers.Gs1Keys(lb.gtin, lb.lot, lb.serial) for lb in labels}


def test_roll_pdf_has_one_label_per_page_of_label_size(tmp_path: Path) -> None:
    labels = make_labels(5)
    pdf = tmp_path / "roll.pdf"
    render_pdf(labels, pdf, layout=RollLayout(label_width_mm=50, label_height_mm=30))
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+5$", info.stdout, re.M)
    assert "141.732 x 85.039 pts" in info.stdout
    pages = rasterize(pdf)
    assert [[code.text for code in found] for found in pages] == [[lb.uri] for lb in labels]


def test_anticounterfeit_label_prints_pin_panel_and_scratch_note(tmp_path: Path) -> None:
    labels = make_labels(4, kind="anticounterfeit")
    pdf = tmp_path / "ac.pdf"
    render_pdf(labels, pdf, layout=RollLayout(label_width_mm=60, label_height_mm=40))
    text = pdf_text(pdf)
    for label in labels:
        assert f"PIN {label.pin}" in text
    assert "Cào lớp phủ để xem mã" in text
    assert {code.text for found in rasterize(pdf) for code in found} == {lb.uri for lb in labels}


def test_anticounterfeit_label_without_pin_is_refused(tmp_path: Path) -> None:
    label = make_labels(1)[0]
    broken = StampLabel(
        label.uri, label.gtin, label.serial, label.lot, "X", None, "anticounterfeit"
    )
    with pytest.raises(ValueError):
        render_pdf([broken], io.BytesIO(), layout=RollLayout())


def test_vietnamese_product_name_keeps_diacritics_in_text_layer(tmp_path: Path) -> None:
    pdf = tmp_path / "vi.pdf"
    render_pdf(make_labels(3), pdf, layout=SheetLayout())
    text = pdf_text(pdf)
    assert "Gạo ST25 Sóc Trăng" in text
    assert "Lô/Lot: LOT-2026-01" in text
    assert "K7Q3M9X2TB" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    assert "CID TrueType" in fonts.stdout and " yes " in fonts.stdout  # embedded


def test_render_pdf_without_font_falls_back_to_folded_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(printing, "FONT_CANDIDATES", ())
    pdf = tmp_path / "plain.pdf"
    render_pdf(make_labels(2), pdf, layout=SheetLayout())
    assert "Gao ST25 Soc Trang" in pdf_text(pdf)
    assert {code.text for found in rasterize(pdf) for code in found} == {
        label.uri for label in make_labels(2)
    }


def test_render_pdf_streams_pages_before_reading_all_labels() -> None:
    buffer = io.BytesIO()
    sizes: list[int] = []

    def labels() -> Iterator[StampLabel]:
        for label in make_labels(6):
            sizes.append(len(buffer.getvalue()))
            yield label

    render_pdf(labels(), buffer, layout=RollLayout())
    # Each roll page is written before the next label is even asked for: memory stays bounded.
    assert sizes == sorted(sizes) and len(set(sizes)) == 6


def test_render_pdf_refuses_labels_too_small_to_scan() -> None:
    with pytest.raises(ValueError, match="too small"):
        render_pdf(make_labels(1), io.BytesIO(), layout=RollLayout(12, 8))


def test_render_pdf_writes_to_a_stream(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    render_pdf(make_labels(2), buffer, layout=RollLayout())
    assert buffer.getvalue().startswith(b"%PDF-1.7") and buffer.getvalue().endswith(b"%%EOF\n")


def test_codes_csv_has_no_pins_unless_asked(tmp_path: Path) -> None:
    labels = make_labels(3, kind="anticounterfeit")
    buffer = io.BytesIO()
    assert write_codes_csv(labels, buffer) == 3
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8"))))
    assert rows[0] == ["uri", "gtin", "lot", "serial", "element_string"]
    assert rows[1] == [
        labels[0].uri,
        labels[0].gtin,
        labels[0].lot,
        labels[0].serial,
        carriers.element_string(labels[0].gtin, labels[0].lot, labels[0].serial),
    ]
    assert all(label.pin not in buffer.getvalue().decode() for label in labels if label.pin)

    path = tmp_path / "codes.csv"
    write_codes_csv(labels, path, include_pins=True)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0][-1] == "pin" and rows[1][-1] == labels[0].pin


def test_codes_xlsx_streams_rows(tmp_path: Path) -> None:
    labels = make_labels(5)
    path = tmp_path / "codes.xlsx"
    assert write_codes_xlsx(labels, path) == 5
    sheet = load_workbook(path, read_only=True)["codes"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["uri", "gtin", "lot", "serial", "element_string"]
    assert [row[0] for row in rows[1:]] == [label.uri for label in labels]
