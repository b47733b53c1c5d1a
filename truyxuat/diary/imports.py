"""Diary import from a spreadsheet (CSV or XLSX), all rows or none.

One row is one activity: the growing-area code, the activity (English key such as `spraying` or
its Vietnamese name such as "Phun thuốc"), and the form fields of that activity (see
`activities.FIELDS`), headed by their field names or the Vietnamese headers in `HEADERS`.
Every row is checked before anything is stored; any error rejects the whole file.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.diary import service
from truyxuat.diary.activities import ACTIVITY_LABELS, COMMON_FIELDS, FIELDS, Activity, build_event
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.validation import EpcisValidator
from truyxuat.errors import N_, FieldError, NotFound, ValidationFailed
from truyxuat.i18n import gettext as translated
from truyxuat.registry.imports import FileRejected, read_table
from truyxuat.registry.models import GrowingArea

ALL_FIELDS = sorted({name for names in FIELDS.values() for name in names} | set(COMMON_FIELDS))
HEADERS: dict[str, str] = {
    "vùng trồng": "growing_area",
    "mã vùng trồng": "growing_area",
    "hoạt động": "activity",
    "công việc": "activity",
    "thời gian": "event_time",
    "ngày giờ": "event_time",
    "cây trồng": "crop",
    "giống": "variety",
    "tên thuốc": "product_name",
    "tên phân bón": "product_name",
    "sản phẩm đã dùng": "product_name",
    "hoạt chất": "active_ingredient",
    "liều lượng": "dose",
    "đơn vị liều": "dose_uom",
    "thời gian cách ly": "phi_days",
    "gtin": "gtin",
    "lô": "lot",
    "lô hàng": "lot",
    "số lượng": "quantity",
    "đơn vị": "uom",
    "gln đối tác": "partner_gln",
    "vĩ độ": "latitude",
    "kinh độ": "longitude",
    "ghi chú": "note",
    "gtin đóng gói": "output_gtin",
    "lô đóng gói": "output_lot",
}
# The template's columns: (field, Vietnamese header, English header), in form order.
TEMPLATE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("growing_area", "Mã vùng trồng", "growing area"),
    ("activity", "Hoạt động", "activity"),
    ("event_time", "Thời gian", "event time"),
    ("crop", "Cây trồng", "crop"),
    ("variety", "Giống", "variety"),
    ("product_name", "Sản phẩm đã dùng", "product name"),
    ("active_ingredient", "Hoạt chất", "active ingredient"),
    ("dose", "Liều lượng", "dose"),
    ("dose_uom", "Đơn vị liều", "dose uom"),
    ("phi_days", "Thời gian cách ly", "phi days"),
    ("gtin", "GTIN", "gtin"),
    ("lot", "Lô", "lot"),
    ("quantity", "Số lượng", "quantity"),
    ("uom", "Đơn vị", "uom"),
    ("output_gtin", "GTIN đóng gói", "output gtin"),
    ("output_lot", "Lô đóng gói", "output lot"),
    ("partner_gln", "GLN đối tác", "partner gln"),
    ("latitude", "Vĩ độ", "latitude"),
    ("longitude", "Kinh độ", "longitude"),
    ("note", "Ghi chú", "note"),
)


@dataclass(frozen=True)
class DiaryImport:
    """The outcome of an accepted import: how many events were recorded."""

    rows: int
    created: int


def _key(text: str) -> str:
    """A header or activity name compared without case, accents aside from đ, or extra spaces."""
    return " ".join(unicodedata.normalize("NFC", text).strip().lower().split())


def _header(text: str) -> str | None:
    """The field a column header stands for."""
    key = _key(text)
    if key.replace(" ", "_") in (*ALL_FIELDS, "growing_area", "activity"):
        return key.replace(" ", "_")
    return HEADERS.get(key)


def _activity(text: str) -> Activity | None:
    """An activity from its key or its English or Vietnamese name."""
    key = _key(text)
    for activity, label in ACTIVITY_LABELS.items():
        names = {activity.value, _key(label), _key(translated("vi", label))}
        names.update(_key(part) for part in translated("vi", label).split("/"))
        names.update(_key(part) for part in label.split("/"))
        if key in names:
            return activity
    return None


def import_diary(
    db: Session,
    principal: Principal,
    *,
    data: bytes,
    filename: str,
    validator: EpcisValidator,
    now: datetime | None = None,
) -> DiaryImport:
    """Records every row of a diary spreadsheet, or none; ValidationFailed names each bad cell.

    Locations are ["row N", field] with N the row number the spreadsheet shows.
    """
    try:
        table = read_table(data, filename)
    except FileRejected as exc:
        raise ValidationFailed(
            [FieldError(["file"], exc.error.message, exc.error.params)]
        ) from None
    columns = [_header(h) for h in table.headers]
    errors: list[FieldError] = [
        FieldError(["file"], N_("Unknown column “{name}”"), {"name": header})
        for header, column in zip(table.headers, columns, strict=True)
        if header and column is None
    ]
    for needed in ("growing_area", "activity"):
        if needed not in columns:
            errors.append(FieldError(["file"], N_("Missing column “{name}”"), {"name": needed}))
    if errors:
        raise ValidationFailed(errors)
    planned: list[tuple[Principal, dict[str, Any]]] = []
    areas: dict[str, service.DiaryArea | None] = {}
    for number, cells in table.rows:
        row = {c: v for c, v in zip(columns, cells, strict=False) if c is not None and v}
        loc = f"row {number}"
        code = row.pop("growing_area", "")
        if code not in areas:
            area_id = db.scalar(select(GrowingArea.id).where(GrowingArea.code == code))
            areas[code] = _diary_area(db, principal, area_id)
        target = areas[code]
        if target is None:
            errors.append(
                FieldError(
                    [loc, "growing_area"], N_("Unknown growing area “{code}”"), {"code": code}
                )
            )
            continue
        activity = _activity(row.pop("activity", ""))
        if activity is None:
            errors.append(FieldError([loc, "activity"], N_("Choose one of the listed values")))
            continue
        try:
            event = build_event(
                activity,
                row,
                place=service.area_place(db, target.area),
                now=now,
                event_id=f"urn:uuid:{uuid.uuid4()}",
            )
        except ValidationFailed as exc:
            errors.extend(FieldError([loc, *e.loc], e.message, e.params) for e in exc.errors)
            continue
        planned.append((service.acting_principal(db, principal, target.org_id), event))
    if errors:
        raise ValidationFailed(errors)
    with db.begin_nested():
        for acting, event in planned:
            epcis_service.capture_event(db, acting, event=event, validator=validator)
    return DiaryImport(rows=len(table.rows), created=len(planned))


def _diary_area(
    db: Session, principal: Principal, area_id: uuid.UUID | None
) -> service.DiaryArea | None:
    """The growing area if the caller may record on it."""
    if area_id is None:
        return None
    try:
        return service.get_diary_area(db, principal, area_id)
    except NotFound:
        return None


def template_headers(locale: str) -> list[str]:
    """The template's header row in Vietnamese (vi) or English (any other locale)."""
    return [vi if locale == "vi" else en for _, vi, en in TEMPLATE_COLUMNS]


def column_label(field: str, locale: str) -> str:
    """How the template heads a field's column, for error messages."""
    for name, vi, en in TEMPLATE_COLUMNS:
        if name == field:
            return vi if locale == "vi" else en
    return field


def template_csv(locale: str) -> bytes:
    """A blank CSV diary: the header row, UTF-8 with a BOM so Excel shows Vietnamese right."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(template_headers(locale))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_xlsx(locale: str) -> bytes:
    """A blank XLSX diary (bold header row) with a second sheet naming the activities."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = translated(locale, N_("Diary"))[:31]
    headers = template_headers(locale)
    sheet.append(headers)
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = max(12, len(header) + 4)
    sheet.freeze_panes = "A2"
    names = book.create_sheet(translated(locale, N_("Activities"))[:31])
    for activity, label in ACTIVITY_LABELS.items():
        names.append([translated(locale, label), activity.value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
