"""Print-ready stamp output: PDF label sheets (A4 grids) and roll labels, and CSV/XLSX code lists
for industrial printers. Pure: takes plain `StampLabel` records, knows nothing of the database.

The PDF is written directly (no PDF library): each symbol is a 1-bit inline image mask, which
keeps a 100,000-label run fast and small, and pages stream to the output one at a time so memory
stays bounded. Text uses an embedded TrueType font (DejaVu Sans from Debian fonts-dejavu-core,
which covers Vietnamese) as a CID font, so diacritics render and stay searchable/copyable.
"""

from __future__ import annotations

import csv
import io
import struct
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from truyxuat.stamps.carriers import Matrix, datamatrix_matrix, element_string, qr_matrix

StampKind = Literal["qr", "anticounterfeit"]
PdfCarrier = Literal["qr", "datamatrix"]

MM = 72 / 25.4
# Below about 0.25 mm a module is under 3 dots at 300 dpi: thermal label printers smear it.
MIN_MODULE_MM = 0.25
SCRATCH_NOTE = "Cào lớp phủ để xem mã PIN / scratch to reveal"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


@dataclass(frozen=True)
class StampLabel:
    """One stamp to print: its Digital Link, keys, product name and (anti-counterfeit) PIN."""

    uri: str
    gtin: str
    serial: str | None
    lot: str | None
    product_name: str
    pin: str | None = None
    kind: StampKind = "qr"


@dataclass(frozen=True)
class SheetLayout:
    """A grid of labels on a sheet (A4 by default); columns and rows follow from the sizes."""

    label_width_mm: float = 70.0
    label_height_mm: float = 37.0
    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    margin_x_mm: float = 0.0
    margin_y_mm: float = 0.0
    gap_x_mm: float = 0.0
    gap_y_mm: float = 0.0

    @property
    def columns(self) -> int:
        """How many labels fit across the sheet."""
        usable = self.page_width_mm - 2 * self.margin_x_mm + self.gap_x_mm
        return int((usable + 1e-9) // (self.label_width_mm + self.gap_x_mm))

    @property
    def rows(self) -> int:
        """How many labels fit down the sheet."""
        usable = self.page_height_mm - 2 * self.margin_y_mm + self.gap_y_mm
        return int((usable + 1e-9) // (self.label_height_mm + self.gap_y_mm))

    def positions(self) -> list[tuple[float, float]]:
        """Bottom-left corners (pt) of the label cells, filled row by row from the top left."""
        if self.columns < 1 or self.rows < 1:
            raise ValueError("the label does not fit on the sheet with these margins")
        top = self.page_height_mm - self.margin_y_mm
        return [
            (
                (self.margin_x_mm + col * (self.label_width_mm + self.gap_x_mm)) * MM,
                (top - row * (self.label_height_mm + self.gap_y_mm) - self.label_height_mm) * MM,
            )
            for row in range(self.rows)
            for col in range(self.columns)
        ]


@dataclass(frozen=True)
class RollLayout:
    """Roll labels: one label per page, the page the size of the label."""

    label_width_mm: float = 50.0
    label_height_mm: float = 30.0


# ---------------------------------------------------------------------------------------------
# Fonts


class _TrueTypeFont:
    """The parts of a TrueType font a PDF needs: cmap, advance widths and metrics."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        # PDF names may not hold delimiters; font file stems are plain ASCII in practice.
        self.name = "".join(c for c in path.stem if c.isascii() and c.isalnum()) or "Font"
        self.data = data
        tables = {}
        (count,) = struct.unpack_from(">H", data, 4)
        for i in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag.decode("latin-1")] = (offset, length)
        head = tables["head"][0]
        self.units = struct.unpack_from(">H", data, head + 18)[0]
        self.bbox = struct.unpack_from(">hhhh", data, head + 36)
        hhea = tables["hhea"][0]
        self.ascent, self.descent = struct.unpack_from(">hh", data, hhea + 4)
        (metrics,) = struct.unpack_from(">H", data, hhea + 34)
        hmtx = tables["hmtx"][0]
        self.advances = [struct.unpack_from(">H", data, hmtx + 4 * i)[0] for i in range(metrics)]
        self.cap_height = self.ascent * 7 // 10
        if "OS/2" in tables:
            os2 = tables["OS/2"][0]
            if struct.unpack_from(">H", data, os2)[0] >= 2:
                self.cap_height = struct.unpack_from(">h", data, os2 + 88)[0]
        self.cmap = _read_cmap(data, tables["cmap"][0])

    def advance(self, glyph: int) -> int:
        """Advance width of a glyph in font units (glyphs past hmtx reuse the last width)."""
        return self.advances[glyph] if glyph < len(self.advances) else self.advances[-1]


def _read_cmap(data: bytes, base: int) -> dict[int, int]:
    """Unicode → glyph id from a cmap table (format 12 preferred, else format 4)."""
    (count,) = struct.unpack_from(">H", data, base + 2)
    subtables = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, base + 4 + 8 * i)
        subtables[(platform, encoding)] = base + offset
    mapping: dict[int, int] = {}
    for key in ((3, 10), (0, 4), (3, 1), (0, 3), (0, 1)):
        if key not in subtables:
            continue
        at = subtables[key]
        fmt = struct.unpack_from(">H", data, at)[0]
        if fmt == 12:
            (groups,) = struct.unpack_from(">I", data, at + 12)
            for g in range(groups):
                start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
                for code in range(start, end + 1):
                    mapping[code] = glyph + code - start
            return mapping
        if fmt == 4:
            segs = struct.unpack_from(">H", data, at + 6)[0] // 2
            ends = struct.unpack_from(f">{segs}H", data, at + 14)
            starts = struct.unpack_from(f">{segs}H", data, at + 16 + 2 * segs)
            deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 4 * segs)
            range_at = at + 16 + 6 * segs
            offsets = struct.unpack_from(f">{segs}H", data, range_at)
            for s in range(segs):
                for code in range(starts[s], ends[s] + 1):
                    if code == 0xFFFF:
                        continue
                    if offsets[s] == 0:
                        glyph = (code + deltas[s]) & 0xFFFF
                    else:
                        where = range_at + 2 * s + offsets[s] + 2 * (code - starts[s])
                        glyph = struct.unpack_from(">H", data, where)[0]
                        glyph = (glyph + deltas[s]) & 0xFFFF if glyph else 0
                    if glyph:
                        mapping[code] = glyph
            return mapping
    raise ValueError("font has no usable Unicode cmap")


@lru_cache(maxsize=4)
def _load_font(path: Path) -> _TrueTypeFont:
    """Parses a font once per process (the file does not change while we run)."""
    return _TrueTypeFont(path)


def find_font() -> Path | None:
    """The first installed TrueType font known to cover Vietnamese, or None."""
    return next((path for path in FONT_CANDIDATES if path.is_file()), None)


class _TextEncoder:
    """Turns text into PDF string operands and measures it, for one document's font."""

    def __init__(self, font: _TrueTypeFont | None) -> None:
        self.font = font
        self.used: dict[int, str] = {}
        self._cache: dict[str, tuple[str, float]] = {}

    def encode(self, text: str) -> tuple[str, float]:
        """Returns (hex string operand, width in text-space units per 1 pt of font size)."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        if self.font is None:
            # No Vietnamese font installed: Helvetica with diacritics folded away still reads.
            folded = _fold(text)
            hit = ("<" + folded.encode("latin-1").hex() + ">", 0.55 * len(folded))
        else:
            cmap, font, used = self.font.cmap, self.font, self.used
            glyphs = []
            width = 0
            for char in unicodedata.normalize("NFC", text):
                glyph = cmap.get(ord(char), 0)
                used.setdefault(glyph, char)
                glyphs.append(glyph)
                width += font.advance(glyph)
            operand = "<" + b"".join(g.to_bytes(2, "big") for g in glyphs).hex() + ">"
            hit = (operand, width / font.units)
        if len(self._cache) < 4096:
            self._cache[text] = hit
        return hit

    def width(self, text: str, size: float) -> float:
        """Width of text in points at a font size."""
        return self.encode(text)[1] * size


def _fold(text: str) -> str:
    """Vietnamese text reduced to ASCII (đ → d, ế → e) for fonts without those glyphs."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if ord(c) < 128)


# ---------------------------------------------------------------------------------------------
# PDF writing


class _PdfWriter:
    """A minimal streaming PDF writer: objects go out as they are made, the xref at the end."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.position = 0
        self.offsets: dict[int, int] = {}
        self.next_number = 1
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)

    def reserve(self) -> int:
        """Reserves an object number to be written later."""
        number = self.next_number
        self.next_number += 1
        return number

    def object(self, number: int, body: str) -> None:
        """Writes a non-stream object."""
        self.offsets[number] = self.position
        self._write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))

    def stream(self, number: int, data: bytes, extra: str = "", *, level: int = 6) -> None:
        """Writes a Flate-compressed stream object."""
        packed = zlib.compress(data, level)
        self.offsets[number] = self.position
        head = f"{number} 0 obj\n<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n"
        self._write(head.encode("latin-1") + packed + b"\nendstream\nendobj\n")

    def finish(self, root: int) -> None:
        """Writes the cross-reference table and trailer."""
        xref = self.position
        lines = [f"xref\n0 {self.next_number}\n", "0000000000 65535 f \n"]
        lines += [f"{self.offsets[n]:010d} 00000 n \n" for n in range(1, self.next_number)]
        lines.append(f"trailer\n<< /Size {self.next_number} /Root {root} 0 R >>\n")
        lines.append(f"startxref\n{xref}\n%%EOF\n")
        self._write("".join(lines).encode("latin-1"))


def _font_objects(pdf: _PdfWriter, number: int, text: _TextEncoder) -> None:
    """Writes the font resource (Type0/CID TrueType with ToUnicode, or Helvetica as fallback)."""
    font = text.font
    if font is None:
        pdf.object(
            number,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        )
        return
    cid, descriptor, file, to_unicode = (pdf.reserve() for _ in range(4))
    scale = 1000 / font.units
    pdf.object(
        number,
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{font.name} /Encoding /Identity-H "
        f"/DescendantFonts [{cid} 0 R] /ToUnicode {to_unicode} 0 R >>",
    )
    widths = " ".join(
        f"{glyph} [{round(font.advance(glyph) * scale)}]" for glyph in sorted(text.used)
    )
    pdf.object(
        cid,
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{font.name} "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /DW 600 /W [{widths}] >>",
    )
    x0, y0, x1, y1 = (round(v * scale) for v in font.bbox)
    pdf.object(
        descriptor,
        f"<< /Type /FontDescriptor /FontName /{font.name} /Flags 32 "
        f"/FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle 0 /Ascent {round(font.ascent * scale)} "
        f"/Descent {round(font.descent * scale)} /CapHeight {round(font.cap_height * scale)} "
        f"/StemV 80 /FontFile2 {file} 0 R >>",
    )
    pdf.stream(file, font.data, f"/Length1 {len(font.data)} ")
    entries = [
        f"<{glyph:04X}> <{char.encode('utf-16-be').hex().upper()}>"
        for glyph, char in sorted(text.used.items())
        if glyph
    ]
    blocks = [
        f"{len(entries[i : i + 100])} beginbfchar\n" + "\n".join(entries[i : i + 100])
        for i in range(0, len(entries), 100)
    ]
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\nendbfchar\n".join(blocks)
        + ("\nendbfchar\n" if blocks else "")
        + "endcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend\n"
    )
    pdf.stream(to_unicode, cmap.encode("latin-1"))


# ---------------------------------------------------------------------------------------------
# Label drawing


def _image_mask(dark: Matrix, x: float, y: float, module: float) -> str:
    """A symbol as an inline 1-bit image mask: dark modules paint, light ones stay paper."""
    height, width = dark.shape
    bits = np.packbits(~dark, axis=1).tobytes().hex()
    return (
        f"q {width * module:.3f} 0 0 {height * module:.3f} {x:.3f} {y:.3f} cm "
        f"BI /W {width} /H {height} /IM true /F /AHx ID {bits}> EI Q\n"
    )


def _fit(text: _TextEncoder, value: str, size: float, room: float) -> str:
    """Cuts value with an ellipsis so it fits in room points."""
    if text.width(value, size) <= room:
        return value
    while value and text.width(value + "…", size) > room:
        value = value[:-1]
    return value + "…"


def _wrap(text: _TextEncoder, value: str, size: float, room: float, max_lines: int) -> list[str]:
    """Wraps value on spaces into at most max_lines lines of room points (last one cut)."""
    lines: list[str] = []
    words = value.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and text.width(line + " " + words[0], size) <= room:
            line += " " + words.pop(0)
        if len(lines) == max_lines - 1 and words:
            line += " " + " ".join(words)
            words = []
        lines.append(_fit(text, line, size, room))
    return lines


def _draw_label(
    label: StampLabel,
    x0: float,
    y0: float,
    width: float,
    height: float,
    text: _TextEncoder,
    carrier: PdfCarrier,
) -> str:
    """PDF operators for one label whose cell's bottom-left corner is (x0, y0)."""
    if carrier == "qr":
        dark, quiet = qr_matrix(label.uri, quiet_zone=False), 4
    else:
        gs1 = element_string(label.gtin, label.lot, label.serial)
        dark, quiet = datamatrix_matrix(gs1, quiet_zone=False), 2
    pad = min(1.5 * MM, min(width, height) * 0.05)
    side = min(height - 2 * pad, width * 0.5)
    module = side / (max(dark.shape) + 2 * quiet)
    if module < MIN_MODULE_MM * MM:
        raise ValueError(
            f"label too small: {module / MM:.2f} mm modules for {label.uri} "
            f"(at least {MIN_MODULE_MM} mm needed to scan reliably)"
        )
    sym_x = x0 + pad + quiet * module
    sym_y = y0 + (height - dark.shape[0] * module) / 2
    ops = [_image_mask(dark, sym_x, sym_y, module)]

    size = max(4.5, min(9.0, height / 12))
    left = x0 + pad + side
    room = x0 + width - pad - left
    lines: list[tuple[str, float]] = [
        (line, size) for line in _wrap(text, label.product_name, size, room, 3)
    ]
    for caption, value in (("Lô/Lot", label.lot), ("Số/SN", label.serial)):
        if value:
            line = f"{caption}: {value}"
            # Lot and serial must stay whole to be read back: shrink rather than cut.
            line_size = max(3.5, min(size * 0.85, room / max(text.width(line, 1.0), 1e-6)))
            lines.append((line, line_size))
    y = y0 + height - pad
    for line, line_size in lines:
        y -= line_size * 1.15
        operand, _ = text.encode(line)
        ops.append(f"BT /F1 {line_size:.2f} Tf {left:.3f} {y:.3f} Td {operand} Tj ET\n")

    if label.kind == "anticounterfeit":
        if not label.pin:
            raise ValueError(f"anti-counterfeit stamp {label.uri} has no PIN")
        note_size = max(4.0, size * 0.65)
        notes = _wrap(text, SCRATCH_NOTE, note_size, room, 2)
        y = y0 + pad
        for note in reversed(notes):
            operand, _ = text.encode(note)
            ops.append(f"BT /F1 {note_size:.2f} Tf {left:.3f} {y:.3f} Td {operand} Tj ET\n")
            y += note_size * 1.15
        pin_size = size * 1.2
        panel_h = pin_size * 1.7
        # The grey panel marks where the scratch-off foil goes over the printed PIN.
        ops.append(
            f"q 0.8 g {left:.3f} {y:.3f} {room:.3f} {panel_h:.3f} re f "
            f"0 g 0.5 w {left:.3f} {y:.3f} {room:.3f} {panel_h:.3f} re S Q\n"
        )
        pin = f"PIN {label.pin}"
        operand, pin_width = text.encode(pin)
        pin_x = left + max(0.0, (room - pin_width * pin_size) / 2)
        pin_y = y + (panel_h - pin_size * 0.7) / 2
        ops.append(f"BT /F1 {pin_size:.2f} Tf {pin_x:.3f} {pin_y:.3f} Td {operand} Tj ET\n")
    return "".join(ops)


def _chunks(labels: Iterable[StampLabel], size: int) -> Iterator[list[StampLabel]]:
    """Splits labels into lists of at most size, lazily."""
    iterator = iter(labels)
    while chunk := list(islice(iterator, size)):
        yield chunk


def render_pdf(
    labels: Iterable[StampLabel],
    out: BinaryIO | Path,
    *,
    layout: SheetLayout | RollLayout,
    progress: Callable[[int], None] | None = None,
    carrier: PdfCarrier = "qr",
    font_path: Path | None = None,
) -> int:
    """Writes labels to a print-ready PDF page by page; returns how many labels were drawn."""
    if isinstance(out, Path):
        with out.open("wb") as handle:
            return render_pdf(
                labels,
                handle,
                layout=layout,
                progress=progress,
                carrier=carrier,
                font_path=font_path,
            )
    path = font_path or find_font()
    text = _TextEncoder(_load_font(path) if path else None)
    if isinstance(layout, SheetLayout):
        cells = layout.positions()
        page_w, page_h = layout.page_width_mm * MM, layout.page_height_mm * MM
    else:
        cells = [(0.0, 0.0)]
        page_w, page_h = layout.label_width_mm * MM, layout.label_height_mm * MM
    label_w, label_h = layout.label_width_mm * MM, layout.label_height_mm * MM

    pdf = _PdfWriter(out)
    catalog, pages, font = pdf.reserve(), pdf.reserve(), pdf.reserve()
    resources = f"<< /Font << /F1 {font} 0 R >> >>"
    kids: list[int] = []
    done = 0
    for chunk in _chunks(labels, len(cells)):
        ops = "".join(
            _draw_label(label, x, y, label_w, label_h, text, carrier)
            for label, (x, y) in zip(chunk, cells, strict=False)
        )
        content, page = pdf.reserve(), pdf.reserve()
        # Level 1: the content is mostly hex image data; higher levels cost time, not bytes.
        pdf.stream(content, ops.encode("latin-1"), level=1)
        pdf.object(
            page,
            f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {page_w:.3f} {page_h:.3f}] "
            f"/Resources {resources} /Contents {content} 0 R >>",
        )
        kids.append(page)
        done += len(chunk)
        if progress is not None:
            progress(done)
    if not kids:
        raise ValueError("no labels to print")
    _font_objects(pdf, font, text)
    pdf.object(
        pages,
        f"<< /Type /Pages /Count {len(kids)} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>",
    )
    pdf.object(catalog, f"<< /Type /Catalog /Pages {pages} 0 R >>")
    pdf.finish(catalog)
    return done


# ---------------------------------------------------------------------------------------------
# Code lists for industrial printers

CODE_COLUMNS = ("uri", "gtin", "lot", "serial", "element_string")


def _rows(labels: Iterable[StampLabel], include_pins: bool) -> Iterator[list[str]]:
    """Header then one row per label; the PIN column only when explicitly asked for."""
    yield [*CODE_COLUMNS, "pin"] if include_pins else list(CODE_COLUMNS)
    for label in labels:
        row = [
            label.uri,
            label.gtin,
            label.lot or "",
            label.serial or "",
            element_string(label.gtin, label.lot, label.serial),
        ]
        if include_pins:
            row.append(label.pin or "")
        yield row


def write_codes_csv(
    labels: Iterable[StampLabel], out: BinaryIO | Path, *, include_pins: bool = False
) -> int:
    """Writes a UTF-8 CSV of codes (no PINs unless include_pins); returns the label count."""
    if isinstance(out, Path):
        with out.open("wb") as handle:
            return write_codes_csv(labels, handle, include_pins=include_pins)
    wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    count = -1
    try:
        writer = csv.writer(wrapper)
        for row in _rows(labels, include_pins):
            writer.writerow(row)
            count += 1
        wrapper.flush()
    finally:
        # Hand the caller's stream back open: detach instead of letting the wrapper close it.
        wrapper.detach()
    return count


def write_codes_xlsx(
    labels: Iterable[StampLabel], out: BinaryIO | Path, *, include_pins: bool = False
) -> int:
    """Writes an XLSX of codes in openpyxl's streaming mode; returns the label count."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("codes")
    count = -1
    for row in _rows(labels, include_pins):
        sheet.append(row)
        count += 1
    workbook.save(out)
    return count
