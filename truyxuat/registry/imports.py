"""Reading registry import files (CSV or XLSX) into rows keyed by each kind's fields.

Pure, no database: file-type and encoding checks, matching headers against the per-kind specs
(`import_specs.py`), cell conversion, duplicates within one file, header templates and the
import report. `service/imports.py` runs the rows against the registry services. Rows are
numbered as a spreadsheet shows them: the header is row 1 when it is the first row.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from truyxuat.errors import N_, FieldError, ValidationFailed
from truyxuat.i18n import gettext
from truyxuat.registry.import_specs import (
    Column,
    ImportKind,
    KindSpec,
    LangColumns,
    compact,
    fold,
    is_row_number_header,
    norm,
)

MAX_ROWS = 20_000
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_TEXT_EXTENSIONS = {"", "csv", "txt", "tsv"}
_DELIMITERS = (",", ";", "\t")


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class RowError:
    """One problem: `row` as the spreadsheet shows it (None: the whole file), `column` as headed."""

    row: int | None
    column: str | None
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    field: str | None = None
    column_index: int | None = None

    @property
    def pointer(self) -> str:
        """Where the problem is, as an RFC 7111 fragment (#row=3, #cell=3,2) or "" for the file."""
        if self.row is None:
            return ""
        if self.column_index is not None:
            return f"#cell={self.row},{self.column_index}"
        return f"#row={self.row}"

    def render(self, locale: str) -> dict[str, Any]:
        """The error as JSON, its message in `locale`."""
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": translate(locale, self.message, **self.params),
            "pointer": self.pointer,
        }


@dataclass
class ImportReport:
    """The outcome of one import: all rows created, or none and every error found."""

    kind: ImportKind
    total_rows: int = 0
    created: int = 0
    valid_rows: int = 0
    dry_run: bool = False
    errors: list[RowError] = dataclasses.field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """True when the file had any error, so nothing was written."""
        return bool(self.errors)

    def sorted_errors(self) -> list[RowError]:
        """Errors in file order: file-level first, then by row and column."""
        return sorted(self.errors, key=lambda e: (e.row or 0, e.column_index or 0))

    def render(self, locale: str) -> dict[str, Any]:
        """The report as JSON, messages in `locale`."""
        return {
            "kind": self.kind.value,
            "total_rows": self.total_rows,
            "created": self.created,
            "valid_rows": self.valid_rows,
            "dry_run": self.dry_run,
            "errors": [e.render(locale) for e in self.sorted_errors()],
        }


class FileRejected(Exception):
    """The file as a whole cannot be read (type, encoding, emptiness)."""

    def __init__(self, message: str, **params: Any) -> None:
        """Keeps the untranslated message and its parameters."""
        self.error = RowError(None, None, message, params)
        super().__init__(message)


def translate(locale: str, message: str, **params: Any) -> str:
    """Translates a message via the catalog, falling back to this module's Vietnamese texts."""
    text = gettext(locale, message)
    if locale == "vi" and text == message:
        text = MESSAGES_VI.get(message, message)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


# ---------------------------------------------------------------------------------------------
# Reading files


@dataclass
class Table:
    """A sheet as text: its header cells and its non-blank data rows with their numbers."""

    headers: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]


def read_table(data: bytes, filename: str = "", *, sheet_names: Iterable[str] = ()) -> Table:
    """Reads a CSV (UTF-8, or UTF-16 with a BOM) or XLSX file; raises FileRejected otherwise."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data.strip():
        raise FileRejected(N_("The file is empty"))
    if data.startswith(_OLE2_MAGIC) or ext == "xls":
        raise FileRejected(
            N_("Old Excel .xls files are not supported: save the sheet as .xlsx or as CSV UTF-8")
        )
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, tuple(sheet_names))
    if ext in ("xlsx", "xlsm"):
        raise FileRejected(N_("This is not a valid .xlsx file"))
    if ext not in _TEXT_EXTENSIONS:
        raise FileRejected(
            N_("Files of type .{ext} cannot be imported: use CSV (UTF-8) or XLSX"), ext=ext
        )
    return _read_csv(decode_text(data))


def decode_text(data: bytes) -> str:
    """Decodes CSV bytes: UTF-8 (BOM or not) or UTF-16 with a BOM; anything else is rejected."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        encoding, body = "utf-8", data.removeprefix(codecs.BOM_UTF8)
        if b"\x00" in body[:4096]:
            raise FileRejected(N_("This is not a CSV text file: use CSV (UTF-8) or XLSX"))
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise FileRejected(
            N_(
                "The file is not saved as UTF-8 (line {line} holds bytes of another encoding, "
                "such as Windows-1258, TCVN3 or ANSI). In Excel choose Save As → "
                "“CSV UTF-8 (Comma delimited)” or save as .xlsx, then import again"
            ),
            line=line,
        ) from None
    # Some tools write Vietnamese in decomposed form; codes and names must compare equal.
    return unicodedata.normalize("NFC", text)


def _count_outside_quotes(line: str, delimiter: str) -> int:
    """Counts a delimiter in a line, ignoring those inside double quotes."""
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def detect_delimiter(text: str) -> str:
    """Picks comma, semicolon or tab by counting them in the header line (Sniffer on a tie)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: _count_outside_quotes(first, d) for d in _DELIMITERS}
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] > 0 and ranked[0] == ranked[1]:
        try:
            return csv.Sniffer().sniff(text[:65536], delimiters="".join(_DELIMITERS)).delimiter
        except csv.Error:
            pass
    return max(_DELIMITERS, key=lambda d: counts[d]) if ranked[0] else ","


def _read_csv(text: str) -> Table:
    """Parses decoded CSV text; rows keep their record number (what Excel shows)."""
    csv.field_size_limit(16 * 1024 * 1024)  # detailed polygons make long cells
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    records: list[tuple[int, list[str]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            records.append((number, record))
            if len(records) > MAX_ROWS + 100:
                break
    except csv.Error as exc:
        raise FileRejected(
            N_("The CSV file is malformed near row {row}: {reason}"),
            row=len(records) + 1,
            reason=str(exc),
        ) from None
    return _table(records)


def _read_xlsx(data: bytes, sheet_names: tuple[str, ...]) -> Table:
    """Reads the sheet named like the kind, else the first, with its row numbers."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged upload can fail in zipfile, lxml or openpyxl itself
        raise FileRejected(N_("This is not a valid .xlsx file")) from None
    try:
        wanted = {compact(name) for name in sheet_names}
        sheet = next(
            (ws for ws in book.worksheets if compact(ws.title) in wanted),
            book.worksheets[0] if book.worksheets else None,
        )
        if sheet is None:
            raise FileRejected(N_("The file is empty"))
        records: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            records.append((number, [cell_text(v) for v in values]))
            if len(records) > MAX_ROWS + 100:
                break
    finally:
        book.close()
    return _table(records)


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _table(records: list[tuple[int, list[str]]]) -> Table:
    """Splits records into the header (first non-blank row) and the non-blank rows after it."""
    cleaned = [(n, [c.strip() for c in cells]) for n, cells in records]
    nonblank = [(n, cells) for n, cells in cleaned if any(cells)]
    if not nonblank:
        raise FileRejected(N_("The file is empty"))
    (header_row, headers), rows = nonblank[0], nonblank[1:]
    return Table(headers=headers, header_row=header_row, rows=rows)


# ---------------------------------------------------------------------------------------------
# Mapping headers and converting rows


@dataclass(frozen=True)
class MappedColumn:
    """A recognised file column: its 1-based position, its header and the key it fills."""

    index: int
    header: str
    key: str  # a field, or "names.vi" for a language column
    column: Column | None
    lang: LangColumns | None


@dataclass
class ColumnMap:
    """The recognised columns of one file."""

    columns: list[MappedColumn]

    def find(self, key: str) -> MappedColumn | None:
        """The column filling `key` (a field, "names.vi", or "names" for any of its languages)."""
        exact = next((c for c in self.columns if c.key == key), None)
        if exact is not None:
            return exact
        family = [c for c in self.columns if c.key.startswith(f"{key}.")]
        return next((c for c in family if c.key.endswith(".vi")), family[0] if family else None)


@lru_cache(maxsize=16)
def _header_lookup(spec: KindSpec) -> tuple[dict[str, str], dict[str, str]]:
    """Header → field, exact (accents kept) and folded (accents dropped; ambiguous ones out)."""
    exact: dict[str, str] = {}
    folded: dict[str, set[str]] = {}
    for column in spec.columns:
        if isinstance(column, LangColumns):
            continue
        for name in (column.field, column.vi, *column.aliases):
            exact.setdefault(norm(name), column.field)
            folded.setdefault(fold(name), set()).add(column.field)
    return exact, {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}


def match_header(spec: KindSpec, header: str) -> tuple[str, Column | None, LangColumns | None]:
    """The key a header fills ("" when unknown), with its column or language family."""
    exact, folded = _header_lookup(spec)
    field = exact.get(norm(header)) or folded.get(fold(header))
    columns = {c.field: c for c in spec.columns if isinstance(c, Column)}
    if field is not None:
        return field, columns[field], None
    for family in spec.columns:
        if not isinstance(family, LangColumns):
            continue
        prefixes = "|".join(re.escape(p) for p in {fold(family.en_prefix), fold(family.vi_prefix)})
        match = re.match(rf"^(?:{prefixes})\s*[-(]?\s*([a-z]{{2,3}})\s*\)?$", fold(header))
        if match:
            return f"{family.field}.{match.group(1)}", None, family
    return "", None, None


def choose_header(spec: KindSpec, table: Table) -> Table:
    """Skips title rows ("DANH SÁCH ...") above the header: the header is the first of the
    first ten non-blank rows that names a known column (else the first non-blank row)."""
    candidates = [(table.header_row, table.headers), *table.rows[:9]]
    for position, (number, cells) in enumerate(candidates):
        if any(match_header(spec, cell)[0] for cell in cells if cell):
            if position == 0:
                return table
            return Table(headers=cells, header_row=number, rows=table.rows[position:])
    return table


def map_headers(spec: KindSpec, table: Table) -> tuple[ColumnMap, list[RowError]]:
    """Recognises each header; unknown, repeated and missing required columns are errors."""
    row = table.header_row
    errors: list[RowError] = []
    mapped: list[MappedColumn] = []
    seen: dict[str, MappedColumn] = {}
    for index, header in enumerate(table.headers, start=1):
        if not header or is_row_number_header(header):
            continue
        key, column, family = match_header(spec, header)
        if not key:
            errors.append(_unknown_column(spec, row, header, index))
            continue
        if key in seen:
            errors.append(
                RowError(
                    row,
                    header,
                    N_("Column “{column}” repeats column “{other}”"),
                    {"column": header, "other": seen[key].header},
                    key,
                    index,
                )
            )
            continue
        seen[key] = MappedColumn(index, header, key, column, family)
        mapped.append(seen[key])
    for wanted in spec.columns:
        if not wanted.required:
            continue
        if isinstance(wanted, LangColumns):
            if not any(k.startswith(f"{wanted.field}.") for k in seen):
                vi, en = wanted.header("vi", "vi"), wanted.header("vi", "en")
                errors.append(_missing(row, wanted.field, vi, en))
        elif wanted.field not in seen:
            errors.append(_missing(row, wanted.field, wanted.vi, wanted.en))
    width = len(table.headers)
    for index in range(1, max((len(cells) for _, cells in table.rows), default=0) + 1):
        if index <= width and table.headers[index - 1]:
            continue
        if any(index <= len(cells) and cells[index - 1] for _, cells in table.rows):
            errors.append(
                RowError(
                    row,
                    None,
                    N_("Column {index} holds data but has no header"),
                    {"index": index},
                    None,
                    index,
                )
            )
    return ColumnMap(mapped), errors


def _unknown_column(spec: KindSpec, row: int, header: str, index: int) -> RowError:
    """The error for an unrecognised header, suggesting the closest known one."""
    known = {
        name
        for column in spec.columns
        if isinstance(column, Column)
        for name in (column.field, column.vi)
    }
    close = difflib.get_close_matches(header, sorted(known), n=1, cutoff=0.6)
    if close:
        return RowError(
            row,
            header,
            N_("Unknown column “{column}” (did you mean “{suggestion}”?)"),
            {"column": header, "suggestion": close[0]},
            None,
            index,
        )
    return RowError(
        row,
        header,
        N_("Unknown column “{column}”: download the template to see the accepted columns"),
        {"column": header},
        None,
        index,
    )


def _missing(row: int, field: str, vi: str, en: str) -> RowError:
    """The error for a required column absent from the header row."""
    return RowError(
        row,
        en,
        N_("The required column “{en}” is missing (in Vietnamese: “{vi}”)"),
        {"en": en, "vi": vi},
        field,
    )


def convert_row(
    columns: ColumnMap, number: int, cells: list[str]
) -> tuple[dict[str, Any], list[RowError]]:
    """Converts one row's cells into field values; blank cells are left out."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for mapped in columns.columns:
        cell = cells[mapped.index - 1] if mapped.index <= len(cells) else ""
        if not cell:
            continue
        if mapped.lang is not None:
            lang = mapped.key.split(".", 1)[1]
            values.setdefault(mapped.lang.field, {})[lang] = cell
            continue
        assert mapped.column is not None
        try:
            values[mapped.key] = mapped.column.convert(cell)
        except ValidationFailed as exc:
            errors.extend(
                RowError(number, mapped.header, e.message, e.params, mapped.key, mapped.index)
                for e in exc.errors
            )
    return values, errors


def _identity(field: str, value: Any) -> str:
    """The value as compared for duplicates: GS1 keys by digits, text case-folded."""
    if field in ("gtin", "gln") and isinstance(value, str):
        return re.sub(r"\D", "", value).lstrip("0") or value
    return norm(str(value))


def find_duplicates(
    spec: KindSpec, columns: ColumnMap, rows: list[tuple[int, dict[str, Any]]]
) -> list[RowError]:
    """Rows repeating a value that must be unique (a code, a GTIN...) of an earlier row."""
    errors: list[RowError] = []
    for group in spec.unique:
        first: dict[tuple[str, ...], int] = {}
        for number, values in rows:
            if any(values.get(f) in (None, "") for f in group):
                continue
            key = tuple(_identity(f, values[f]) for f in group)
            if key in first:
                mapped = columns.find(group[-1])
                errors.append(
                    RowError(
                        number,
                        mapped.header if mapped else group[-1],
                        N_("“{value}” repeats row {first}: each must be unique in the file"),
                        {"value": " / ".join(str(values[f]) for f in group), "first": first[key]},
                        group[-1],
                        mapped.index if mapped else None,
                    )
                )
            else:
                first[key] = number
    return errors


def locate(
    spec: KindSpec, columns: ColumnMap, loc: list[str | int]
) -> tuple[str, MappedColumn | None]:
    """The field path and file column of an error location such as ["names", "vi"]."""
    parts = [p for p in loc if p not in ("body", "query", "path", "")]
    if not parts:
        return "", None
    renamed = dict(spec.field_columns)
    head = renamed.get(str(parts[0]), str(parts[0]))
    path = ".".join(str(p) for p in [head, *parts[1:]])
    if len(parts) > 1 and isinstance(parts[1], str):
        mapped = columns.find(f"{head}.{parts[1]}")
        if mapped is not None:
            return path, mapped
    return path, columns.find(head)


# ---------------------------------------------------------------------------------------------
# pydantic errors in our words

_PYDANTIC_MESSAGES = {
    "missing": N_("A value is required"),
    "string_too_short": N_("Must have at least {min_length} characters"),
    "string_too_long": N_("Must have at most {max_length} characters"),
    "too_long": N_("Must have at most {max_length} items"),
    "string_pattern_mismatch": N_("Contains characters that are not allowed"),
    "enum": N_("Must be one of: {expected}"),
    "literal_error": N_("Must be one of: {expected}"),
    "float_parsing": N_("Must be a number"),
    "float_type": N_("Must be a number"),
    "int_parsing": N_("Must be a whole number"),
    "int_type": N_("Must be a whole number"),
    "int_from_float": N_("Must be a whole number"),
    "finite_number": N_("Must be a number"),
    "greater_than": N_("Must be greater than {gt}"),
    "greater_than_equal": N_("Must be at least {ge}"),
    "less_than": N_("Must be less than {lt}"),
    "less_than_equal": N_("Must be at most {le}"),
    "date_parsing": N_("Write dates as YYYY-MM-DD or DD/MM/YYYY"),
    "date_from_datetime_parsing": N_("Write dates as YYYY-MM-DD or DD/MM/YYYY"),
    "date_type": N_("Write dates as YYYY-MM-DD or DD/MM/YYYY"),
    "uuid_parsing": N_("Must be an identifier (UUID)"),
    "uuid_type": N_("Must be an identifier (UUID)"),
}


def pydantic_errors(exc: ValidationError) -> list[FieldError]:
    """Turns a schema's validation errors into field errors with translatable messages."""
    result: list[FieldError] = []
    for err in exc.errors():
        loc: list[str | int] = [p for p in err.get("loc", ()) if isinstance(p, str | int)]
        message = _PYDANTIC_MESSAGES.get(err["type"])
        if message is None:
            result.append(FieldError(loc, N_("Invalid value: {detail}"), {"detail": err["msg"]}))
            continue
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        result.append(FieldError(loc, message, ctx))
    return result


# ---------------------------------------------------------------------------------------------
# Templates


def template_csv(spec: KindSpec, locale: str) -> bytes:
    """A blank CSV template: the header row, UTF-8 with a BOM so Excel shows Vietnamese right."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(spec.template_headers(locale))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_xlsx(spec: KindSpec, locale: str) -> bytes:
    """A blank XLSX template: one sheet named after the kind with a bold header row."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = spec.sheet_title(locale)[:31]
    headers = spec.template_headers(locale)
    sheet.append(headers)
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(12, len(header) + 4)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Vietnamese texts of messages the Babel catalog does not carry yet (the catalog wins once it
# does; drop an entry after `make i18n` has it translated).

MESSAGES_VI: dict[str, str] = {
    "Row": "Dòng",
    "Column": "Cột",
    "Message": "Lỗi",
    "Unknown organization code {code}": "Không có tổ chức mang mã {code}",
    "Dry run: all {count} rows are valid; nothing was written": (
        "Chạy thử: cả {count} dòng đều hợp lệ; chưa ghi gì vào cơ sở dữ liệu"
    ),
    "Imported {count} rows": "Đã nhập {count} dòng",
}
