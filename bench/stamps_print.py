"""Stamp printing: 100,000 anti-counterfeit labels to an A4 PDF (target under 60 s), against the
ceiling of zxing-cpp encoding the same 100,000 QR codes and nothing else."""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import zxingcpp

from bench.common import rate, report
from truyxuat.gs1 import make_gtin13
from truyxuat.stamps.printing import SheetLayout, StampLabel, render_pdf

LABELS = 100_000
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _labels() -> Iterator[StampLabel]:
    """Item-level labels for one product and lot, half of them anti-counterfeit with a PIN."""
    gtin = "0" + make_gtin13("893612345", 1)
    lot = "LOT-2026-01"
    for i in range(LABELS):
        serial = "".join(secrets.choice(ALPHABET) for _ in range(10))
        yield StampLabel(
            uri=f"http://127.0.0.1:8000/01/{gtin}/10/{lot}/21/{serial}",
            gtin=gtin,
            serial=serial,
            lot=lot,
            product_name="Gạo ST25 Sóc Trăng – túi 5 kg",
            pin=f"{secrets.randbelow(10**8):08d}" if i % 2 else None,
            kind="anticounterfeit" if i % 2 else "qr",
        )


def main() -> None:
    """Prints 100,000 labels to PDF and reports labels/s against raw QR encodes/s."""
    labels = list(_labels())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stamps.pdf"
        start = time.perf_counter()
        render_pdf(iter(labels), out, layout=SheetLayout())
        seconds = time.perf_counter() - start
        size = out.stat().st_size

    def encode_only() -> int:
        for label in labels:
            zxingcpp.create_barcode(label.uri, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        return len(labels)

    ceiling = rate(encode_only)
    print(f"stamps print: {LABELS:,} labels to PDF in {seconds:.1f} s ({size / 1e6:.0f} MB)")
    report("stamps print (PDF, A4 3x8)", LABELS / seconds, "labels/s", ceiling, "zxing QR encode")


if __name__ == "__main__":
    main()
