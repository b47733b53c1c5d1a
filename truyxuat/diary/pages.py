"""Diary web pages, phone first: choose a growing area → tap an activity → a short form →
confirmation, with the area's recent activities read back from the stored EPCIS events.

Handlers are thin: they parse the form and call `truyxuat.diary.service`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal
from truyxuat.config import Settings
from truyxuat.diary import activities, imports, service
from truyxuat.diary.activities import ACTIVITY_LABELS, FIELDS, UNIT_LABELS, UNITS, Activity
from truyxuat.epcis import service as epcis_service
from truyxuat.errors import N_, DomainError, FieldError, NotFound, ValidationFailed, invalid
from truyxuat.gs1 import gtin_display
from truyxuat.i18n import gettext
from truyxuat.registry.models import Product
from truyxuat.registry.pages.common import (
    field_errors,
    form_values,
    page,
    redirect,
    reraise_unless_form_error,
)
from truyxuat.web.forms import read_form
from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent / "templates")

router = APIRouter(include_in_schema=False)
BASE = "/diary"
# Small line icons drawn inline (emoji fonts are missing on some phones and kiosks).
_SVG = (
    '<svg viewBox="0 0 24 24" width="32" height="32" fill="none" stroke="currentColor" '
    'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">{}</svg>'
)
ICONS = {
    Activity.sowing: _SVG.format(
        '<path d="M12 21v-9"/><path d="M12 12c0-4 3-6 7-6 0 4-3 6-7 6z"/>'
        '<path d="M12 14c0-3-2-5-6-5 0 3 2 5 6 5z"/>'
    ),
    Activity.fertilizing: _SVG.format('<path d="M7 3h10l-1 5H8z"/><path d="M8 8l-2 13h12L16 8"/>'),
    Activity.spraying: _SVG.format(
        '<rect x="4" y="9" width="8" height="12" rx="2"/>'
        '<path d="M8 9V5h5"/><path d="M16 5h.01M19 3h.01M19 7h.01"/>'
    ),
    Activity.irrigation: _SVG.format('<path d="M12 3s6 7 6 11a6 6 0 0 1-12 0c0-4 6-11 6-11z"/>'),
    Activity.harvest: _SVG.format('<path d="M3 10h18l-2 10H5z"/><path d="M8 10l4-6 4 6"/>'),
    Activity.packing: _SVG.format(
        '<path d="M3 7l9-4 9 4v10l-9 4-9-4z"/><path d="M3 7l9 4 9-4M12 11v10"/>'
    ),
    Activity.shipping: _SVG.format(
        '<rect x="2" y="6" width="12" height="10"/>'
        '<path d="M14 9h4l3 3v4h-7"/><circle cx="6" cy="18" r="2"/>'
        '<circle cx="17" cy="18" r="2"/>'
    ),
    Activity.receiving: _SVG.format('<path d="M12 3v12M7 10l5 5 5-5"/><path d="M4 17v4h16v-4"/>'),
}
RECORDED = N_("Recorded in the diary.")


def _settings(request: Request) -> Settings:
    """The running app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def _area_id(value: str) -> uuid.UUID:
    """A growing area id from the path; NotFound when malformed."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound() from None


def _activity(value: str) -> Activity:
    """An activity from the path; NotFound when unknown."""
    try:
        return Activity(value)
    except ValueError:
        raise NotFound() from None


def _products(db: Session, org_id: uuid.UUID, locale: str) -> list[tuple[str, str]]:
    """The organization's active products as (gtin, name — GTIN) choices."""
    rows = db.scalars(
        select(Product)
        .where(Product.org_id == org_id, Product.is_active.is_(True))
        .order_by(Product.gtin)
        .limit(200)
    )
    out = []
    for product in rows:
        names = product.names or {}
        name = names.get(locale) or names.get("vi") or next(iter(names.values()), "")
        out.append((product.gtin, f"{name} — {gtin_display(product.gtin)}"))
    return out


@router.get(BASE, response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Caller) -> Response:
    """Lists the growing areas the caller keeps a diary for."""
    areas = service.diary_areas(db, principal)
    return page(request, "diary/home.html", {"areas": areas})


@router.get(BASE + "/areas/{area_id}", response_class=HTMLResponse)
def area_page(
    request: Request, area_id: str, db: DB, principal: Caller, locale: Locale
) -> Response:
    """A growing area: the big activity buttons and its recent activities."""
    target = service.get_diary_area(db, principal, _area_id(area_id))
    entries = [activities.summary(event) for event in service.timeline(db, target)]
    recorded = request.query_params.get("recorded")
    return page(
        request,
        "diary/area.html",
        {
            "target": target,
            "activities": [(a.value, ACTIVITY_LABELS[a], ICONS[a]) for a in Activity],
            "labels_activity": {a.value: ACTIVITY_LABELS[a] for a in Activity},
            "unit_labels": UNIT_LABELS,
            "entries": entries,
            "notice": RECORDED if recorded else None,
            "amount": lambda value: format_decimal(value, format="#,##0.###", locale=locale),
        },
    )


def _form_context(
    db: Session,
    principal: Principal,
    locale: str,
    target: service.DiaryArea,
    kind: Activity,
    values: dict[str, Any],
    errors: dict[str, str],
) -> dict[str, Any]:
    """What an activity form needs."""
    return {
        "target": target,
        "activity": kind.value,
        "activity_label": ACTIVITY_LABELS[kind],
        "icon": ICONS[kind],
        "fields": FIELDS[kind],
        "units": [(u, UNIT_LABELS[u]) for u in UNITS[kind]],
        "products": _products(db, target.org_id, locale),
        "values": values,
        "errors": errors,
    }


def _defaults(kind: Activity) -> dict[str, Any]:
    """Sensible starting values: now, the usual unit, a lot number from today's date."""
    now = datetime.now(UTC).astimezone(activities.VIETNAM)
    values: dict[str, Any] = {"event_time": now.strftime("%Y-%m-%dT%H:%M")}
    units = UNITS[kind]
    values["uom"] = units[0]
    values["dose_uom"] = units[0]
    if kind is Activity.harvest:
        values["lot"] = now.strftime("L%Y%m%d")
    return values


@router.get(BASE + "/areas/{area_id}/{activity}", response_class=HTMLResponse)
def activity_form(
    request: Request, area_id: str, activity: str, db: DB, principal: Caller, locale: Locale
) -> Response:
    """The short form of one activity."""
    target = service.get_diary_area(db, principal, _area_id(area_id))
    kind = _activity(activity)
    context = _form_context(db, principal, locale, target, kind, _defaults(kind), {})
    return page(request, "diary/form.html", context)


@router.post(BASE + "/areas/{area_id}/{activity}", response_class=HTMLResponse)
async def record(
    request: Request, area_id: str, activity: str, db: DB, principal: Caller, locale: Locale
) -> Response:
    """Records the activity as an EPCIS event, then shows the area with a confirmation."""
    target = service.get_diary_area(db, principal, _area_id(area_id))
    kind = _activity(activity)
    posted = await read_form(request, principal)
    names = (*FIELDS[kind], *activities.COMMON_FIELDS)
    values = form_values(posted, *names)
    upload = posted.get("photo")
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        if data:
            photo = service.Upload(data, upload.filename, upload.content_type)
    settings = _settings(request)
    try:
        row = service.record_activity(
            db,
            principal,
            growing_area_id=target.area.id,
            activity=kind,
            values=values,
            validator=epcis_service.validator_for(settings.epcis_schema),
            settings=settings,
            photo=photo,
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        errors = field_errors(exc, locale, (*names, "photo"))
        context = _form_context(db, principal, locale, target, kind, values, errors)
        return page(request, "diary/form.html", context, status_code=422)
    return redirect(f"{BASE}/areas/{target.area.id}?recorded={row.id}")


# --- import from a spreadsheet -------------------------------------------------------------

IMPORT = BASE + "/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import_page(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    problems: list[dict[str, Any]] | None = None,
    created: int | None = None,
    filename: str = "",
    status_code: int = 200,
) -> Response:
    """The import page, with the areas to name, and the errors or the outcome of an upload."""
    return page(
        request,
        "diary/import.html",
        {
            "areas": service.diary_areas(db, principal),
            "activities": [ACTIVITY_LABELS[a] for a in Activity],
            "problems": problems,
            "created": created,
            "filename": filename,
        },
        status_code=status_code,
    )


def _problems(errors: list[FieldError], locale: str) -> list[dict[str, Any]]:
    """Field errors as table rows: the spreadsheet row, its column header and the message."""
    out = []
    for error in errors:
        place = str(error.loc[0]) if error.loc else ""
        row = int(place[4:]) if place.startswith("row ") and place[4:].isdigit() else None
        column = str(error.loc[1]) if row is not None and len(error.loc) > 1 else None
        out.append(
            {
                "row": row,
                "column": imports.column_label(column, locale) if column else None,
                "message": gettext(locale, error.message, **error.params),
            }
        )
    return out


@router.get(IMPORT, response_class=HTMLResponse)
def import_form(request: Request, db: DB, principal: Caller) -> Response:
    """The upload form, the template to download and the codes of the caller's areas."""
    return _import_page(request, db, principal)


@router.get(IMPORT + "/template")
def import_template(principal: Caller, locale: Locale, format: str = "xlsx") -> Response:
    """A blank diary spreadsheet with the column headers in the caller's language."""
    name = f"nhat-ky-{locale}" if locale == "vi" else f"diary-{locale}"
    if format == "csv":
        return Response(
            imports.template_csv(locale),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        imports.template_xlsx(locale),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@router.post(IMPORT, response_class=HTMLResponse)
async def import_upload(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Records every row of the uploaded spreadsheet, or none with each error listed."""
    posted = await read_form(request, principal)
    upload = posted.get("file")
    settings = _settings(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems = _problems([FieldError(["file"], N_("This field is required"))], locale)
        return _import_page(request, db, principal, problems=problems, status_code=422)
    data = await upload.read(settings.max_upload_bytes + 1)
    try:
        if len(data) > settings.max_upload_bytes:
            raise invalid(
                ["file"], N_("The file is larger than {max} bytes"), max=settings.max_upload_bytes
            )
        result = imports.import_diary(
            db,
            principal,
            data=data,
            filename=upload.filename,
            validator=epcis_service.validator_for(settings.epcis_schema),
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        errors = (
            exc.errors
            if isinstance(exc, ValidationFailed)
            else [FieldError(["file"], exc.message, exc.params)]
        )
        return _import_page(
            request,
            db,
            principal,
            problems=_problems(errors, locale),
            filename=upload.filename,
            status_code=422,
        )
    return _import_page(request, db, principal, created=result.created, filename=upload.filename)
