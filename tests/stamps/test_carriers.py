"""Carriers: every symbol is checked by decoding it with zxing-cpp, not by comparing strings."""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from biip.gs1_messages import GS1Message

from truyxuat.gs1 import make_gtin13
from truyxuat.stamps import carriers

GTIN = "0" + make_gtin13("893612345", 1)
LOT = "LOT-2026-01"
SERIAL = "K7Q3M9X2TB"
URI = f"http://127.0.0.1:8000/01/{GTIN}/10/{LOT}/21/{SERIAL}"


def read_pgm(path: Path) -> np.ndarray:
    """Loads a binary PGM written by pdftoppm -gray."""
    data = path.read_bytes()
    width, height = (int(v) for v in data.split()[1:3])
    return np.frombuffer(data[-width * height :], dtype=np.uint8).reshape(height, width)


def read_png_1bit(data: bytes) -> np.ndarray:
    """Loads the 1-bit grayscale PNG our writer makes (checking signature and CRCs)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, width, height = 8, b"", 0, 0
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack_from(">I", data, at + 8 + length)
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack_from(">IIBB", body)
            assert (depth, color) == (1, 0)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    stride = (width + 7) // 8 + 1
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, stride)
    assert not raw[:, 0].any()  # filter type 0 on every row
    bits = np.unpackbits(raw[:, 1:], axis=1)[:, :width]
    return (bits * 255).astype(np.uint8)


def decode(image: np.ndarray) -> list[zxingcpp.Barcode]:
    """All symbols zxing-cpp finds in an image."""
    return list(zxingcpp.read_barcodes(image))


def test_element_string_orders_ais_and_pads_gtin() -> None:
    assert carriers.element_string(GTIN[1:], LOT, SERIAL) == f"(01){GTIN}(10){LOT}(21){SERIAL}"
    assert carriers.element_string(GTIN) == f"(01){GTIN}"


@pytest.mark.parametrize(
    "text",
    [URI, f"(01){GTIN}(10){LOT}(21){SERIAL}", f"]d201{GTIN}10{LOT}\x1d21{SERIAL}"],
)
def test_parse_gs1_reads_uri_element_string_and_scanned_data(text: str) -> None:
    assert carriers.parse_gs1(text) == carriers.Gs1Keys(GTIN, LOT, SERIAL)


def test_parse_gs1_rejects_non_gs1_text() -> None:
    with pytest.raises(ValueError):
        carriers.parse_gs1("hello")


def test_qr_matrix_keeps_four_module_quiet_zone_and_decodes() -> None:
    matrix = carriers.qr_matrix(URI)
    inner = carriers.qr_matrix(URI, quiet_zone=False)
    assert matrix.shape == (inner.shape[0] + 8, inner.shape[1] + 8)
    assert not matrix[:4].any() and not matrix[-4:].any()
    assert not matrix[:, :4].any() and not matrix[:, -4:].any()
    image = np.where(np.kron(matrix, np.ones((4, 4), dtype=bool)), 0, 255).astype(np.uint8)
    (found,) = decode(image)
    assert found.text == URI
    assert found.ec_level == "M"


def test_qr_matrix_takes_error_correction_level() -> None:
    image = np.where(np.kron(carriers.qr_matrix(URI, "H"), np.ones((4, 4))), 0, 255)
    (found,) = decode(image.astype(np.uint8))
    assert found.ec_level == "H"


@pytest.mark.parametrize(
    ("carrier", "fmt"),
    [
        ("qr", zxingcpp.BarcodeFormat.QRCode),
        ("datamatrix", zxingcpp.BarcodeFormat.DataMatrix),
        ("gs1-128", zxingcpp.BarcodeFormat.Code128),
        ("ean13", zxingcpp.BarcodeFormat.EAN13),
    ],
)
def test_png_decodes_to_the_stamp_keys(carrier: carriers.Carrier, fmt: object) -> None:
    (found,) = decode(read_png_1bit(carriers.png(URI, carrier, scale=3)))
    assert found.format == fmt
    keys = carriers.parse_gs1(found.text if carrier != "ean13" else "0" + found.text)
    assert keys.gtin == GTIN
    if carrier == "qr":
        assert found.text == URI
    if carrier in ("datamatrix", "gs1-128"):
        # GS1 mode: FNC1 first, so scanners report GS1 content (]d2 / ]C1).
        assert found.content_type == zxingcpp.ContentType.GS1
        strings = GS1Message.parse_hri(found.text).element_strings
        assert [es.ai.ai for es in strings] == ["01", "10", "21"]
        assert (keys.lot, keys.serial) == (LOT, SERIAL)


def test_datamatrix_matrix_encodes_gs1_with_fnc1() -> None:
    gs1 = carriers.element_string(GTIN, LOT, SERIAL)
    image = np.where(np.kron(carriers.datamatrix_matrix(gs1), np.ones((6, 6))), 0, 255)
    (found,) = decode(image.astype(np.uint8))
    assert found.symbology_identifier == "]d2"
    assert carriers.parse_gs1(found.text) == carriers.Gs1Keys(GTIN, LOT, SERIAL)


def test_linear_modules_are_one_row_with_quiet_zones() -> None:
    bars = carriers.gs1_128_modules(f"(01){GTIN}(10){LOT}")
    ean = carriers.ean13_modules(GTIN)
    assert bars.shape[0] == 1 and ean.shape[0] == 1
    assert not bars[0, :10].any() and not bars[0, -10:].any()
    image = np.where(np.repeat(np.repeat(ean, 50, axis=0), 3, axis=1), 0, 255)
    (found,) = decode(image.astype(np.uint8))
    assert found.text == GTIN[1:]


def test_ean13_rejects_a_bad_check_digit() -> None:
    with pytest.raises(ValueError):
        carriers.ean13_modules("8936123450018")


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which("chromium"), reason="needs chromium")
@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
def test_svg_and_png_render_in_a_browser_and_decode(tmp_path: Path) -> None:
    # A real browser rasterizes our files: proves they are valid PNG/SVG, not just our reading.
    scales = {"qr": 4, "datamatrix": 4, "gs1-128": 1, "ean13": 2}
    parts = []
    for carrier, scale in scales.items():
        png = base64.b64encode(carriers.png(URI, carrier, scale=scale)).decode()
        svg = carriers.svg(URI, carrier, scale=scale).split("?>", 1)[1]
        for body in (f'<img src="data:image/png;base64,{png}">', svg):
            parts.append(f'<div style="break-after:page;padding:20px">{body}</div>')
    html = tmp_path / "stamps.html"
    html.write_text("<html><body style='margin:0'>" + "".join(parts) + "</body></html>")
    pdf = tmp_path / "stamps.pdf"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.pgm"))
    assert len(pages) == 8
    for page, carrier in zip(pages, [c for c in scales for _ in (1, 2)], strict=True):
        (found,) = decode(read_pgm(page))
        text = found.text if carrier != "ean13" else "0" + found.text
        keys = carriers.parse_gs1(text)
        assert keys.gtin == GTIN, (page, carrier)
        if carrier != "ean13":
            assert (keys.lot, keys.serial) == (LOT, SERIAL), (page, carrier)
