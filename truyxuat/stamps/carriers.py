"""Data carriers for stamps: QR, GS1 DataMatrix, GS1-128 and EAN-13 symbols as module matrices,
plus single-stamp SVG/PNG output. Encoding is done by zxing-cpp (C++), thousands of codes a second.

A matrix is a 2-D numpy array of booleans, True for a dark module, quiet zone included unless
asked otherwise; linear barcodes are one-row matrices (one column per module).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Literal

import biip
import numpy as np
import numpy.typing as npt
import zxingcpp
from biip.gs1_messages import GS1Message

Carrier = Literal["qr", "datamatrix", "gs1-128", "ean13"]
EccLevel = Literal["L", "M", "Q", "H"]
Matrix = npt.NDArray[np.bool_]

_FORMATS: dict[str, zxingcpp.BarcodeFormat] = {
    "qr": zxingcpp.BarcodeFormat.QRCode,
    "datamatrix": zxingcpp.BarcodeFormat.DataMatrix,
    "gs1-128": zxingcpp.BarcodeFormat.Code128,
    "ean13": zxingcpp.BarcodeFormat.EAN13,
}


@dataclass(frozen=True)
class Gs1Keys:
    """The GS1 keys a stamp carries: GTIN-14, and lot / serial when present."""

    gtin: str
    lot: str | None
    serial: str | None


def element_string(gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """Builds the human-readable GS1 element string "(01)GTIN14(10)LOT(21)SERIAL"."""
    text = f"(01){gtin.zfill(14)}"
    if lot:
        text += f"(10){lot}"
    if serial:
        text += f"(21){serial}"
    return text


def parse_gs1(text: str) -> Gs1Keys:
    """Parses a Digital Link URI, element string or scanned GS1 content into its keys (via biip)."""
    if text.startswith("("):
        # Scanners and zxing-cpp report GS1 content in the "(AI)value" form biip.parse refuses.
        strings = GS1Message.parse_hri(text).element_strings
        values = {es.ai.ai: es.value for es in strings}
        if "01" not in values:
            raise ValueError(f"no GTIN (01) in {text!r}")
        return Gs1Keys(gtin=values["01"], lot=values.get("10"), serial=values.get("21"))
    result = biip.parse(text)
    if result.gs1_digital_link_uri is not None:
        strings = result.gs1_digital_link_uri.element_strings
    elif result.gs1_message is not None:
        strings = result.gs1_message.element_strings
    elif result.gtin is not None:
        return Gs1Keys(gtin=result.gtin.as_gtin_14(), lot=None, serial=None)
    else:
        raise ValueError(f"not GS1 data: {text!r}")
    values = {es.ai.ai: es.value for es in strings}
    if "01" not in values:
        raise ValueError(f"no GTIN (01) in {text!r}")
    return Gs1Keys(gtin=values["01"], lot=values.get("10"), serial=values.get("21"))


def _barcode(text: str, carrier: Carrier, ecc: EccLevel) -> zxingcpp.Barcode:
    """Encodes text with zxing-cpp; GS1 carriers take an element string and encode it with FNC1."""
    fmt = _FORMATS[carrier]
    if carrier == "qr":
        return zxingcpp.create_barcode(text, fmt, ec_level=ecc)
    if carrier in ("datamatrix", "gs1-128"):
        return zxingcpp.create_barcode(text, fmt, gs1=True)
    return zxingcpp.create_barcode(text, fmt)


def _matrix(barcode: zxingcpp.Barcode, quiet_zone: bool) -> Matrix:
    """Module matrix of an encoded barcode (True = dark)."""
    image = np.asarray(barcode.to_image(scale=1, add_quiet_zones=quiet_zone))
    return image < 128


def qr_matrix(text: str, ecc: EccLevel = "M", *, quiet_zone: bool = True) -> Matrix:
    """QR code modules for text (a Digital Link URI), with the 4-module quiet zone by default."""
    return _matrix(_barcode(text, "qr", ecc), quiet_zone)


def datamatrix_matrix(gs1_element_string: str, *, quiet_zone: bool = True) -> Matrix:
    """GS1 DataMatrix modules (FNC1 first) for an element string like "(01)...(10)...(21)..."."""
    return _matrix(_barcode(gs1_element_string, "datamatrix", "M"), quiet_zone)


def gs1_128_modules(gs1_element_string: str, *, quiet_zone: bool = True) -> Matrix:
    """GS1-128 bars (one row, one column per module) for an element string."""
    return _matrix(_barcode(gs1_element_string, "gs1-128", "M"), quiet_zone)[:1]


def ean13_modules(gtin: str, *, quiet_zone: bool = True) -> Matrix:
    """EAN-13 bars (one row) for a GTIN-13, or a GTIN-14 with a leading zero, or 12 digits."""
    digits = gtin[1:] if len(gtin) == 14 and gtin.startswith("0") else gtin
    return _matrix(_barcode(digits, "ean13", "M"), quiet_zone)[:1]


def _content(text: str, carrier: Carrier) -> str:
    """What to encode for a carrier: GS1 carriers get the element string of a Digital Link."""
    if carrier in ("datamatrix", "gs1-128") and not text.startswith("("):
        keys = parse_gs1(text)
        return element_string(keys.gtin, keys.lot, keys.serial)
    if carrier == "ean13" and not text.isdigit():
        return parse_gs1(text).gtin[1:]
    return text


def svg(text: str, carrier: Carrier = "qr", *, ecc: EccLevel = "M", scale: int = 1) -> str:
    """A single stamp's symbol as an SVG document (quiet zone kept; linear codes with HRI text)."""
    barcode = _barcode(_content(text, carrier), carrier, ecc)
    linear = carrier in ("gs1-128", "ean13")
    return str(zxingcpp.write_barcode_to_svg(barcode, scale=scale, add_hrt=linear))


def png(text: str, carrier: Carrier = "qr", *, ecc: EccLevel = "M", scale: int = 8) -> bytes:
    """A single stamp's symbol as a 1-bit PNG, `scale` pixels per module, quiet zone kept."""
    barcode = _barcode(_content(text, carrier), carrier, ecc)
    dark = _matrix(barcode, True)
    if carrier in ("gs1-128", "ean13"):
        # Bars need height to scan; 60 modules is about the GS1 minimum ratio for these codes.
        dark = np.repeat(dark[:1], 60, axis=0)
    return png_bytes(dark, scale)


def png_bytes(dark: Matrix, scale: int) -> bytes:
    """Encodes a module matrix as a 1-bit grayscale PNG (no Pillow needed)."""
    pixels = np.repeat(np.repeat(~dark, scale, axis=0), scale, axis=1)
    height, width = pixels.shape
    rows = np.packbits(pixels, axis=1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
