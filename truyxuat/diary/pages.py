"""Diary web pages, phone first: choose a growing area → tap an activity → a short form →
confirmation, with the area's recent activities read back from the stored EPCIS events.

Handlers are thin: they parse the form and call `truyxuat.diary.service`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal
from truyxuat.config import Settings
from truyxuat.diary import activities, service
from truyxuat.diary.activities import ACTIVITY_LABELS, FIELDS, UNIT_LABELS, UNITS, Activity
from truyxuat.epcis import service as epcis_service
from truyxuat.errors import N_, DomainError, NotFound
from truyxuat.gs1 import gtin_display
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
ICONS = {
    Activity.sowing: "🌱",
    Activity.fertilizing: "🧪",
    Activity.spraying: "💨",
    Activity.irrigation: "💧",
    Activity.harvest: "🧺",
    Activity.packing: "📦",
    Activity.shipping: "🚚",
    Activity.receiving: "📥",
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
def area_page(request: Request, area_id: str, db: DB, principal: Caller) -> Response:
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
