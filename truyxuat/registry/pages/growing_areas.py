"""Registry pages: growing-area codes (mã số vùng trồng) — list, apply, detail with map, edit."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write, ensure_decider
from truyxuat.errors import DomainError, Forbidden
from truyxuat.registry.geometry import check_geometry, geojson_from_wkt_or_text
from truyxuat.registry.models import CodeStatus, GrowingArea, GrowingAreaOwner
from truyxuat.registry.pages.common import (
    clean_offset,
    communes,
    field_errors,
    form_values,
    geometry_svg,
    org_names,
    page,
    pager,
    parse,
    provinces,
    redirect,
    reraise_unless_form_error,
    to_uuid,
    writable_orgs,
)
from truyxuat.registry.schemas.growing_areas import GrowingAreaIn, GrowingAreaPatch
from truyxuat.registry.service import approvals
from truyxuat.registry.service import growing_areas as service
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)

FIELDS = (
    "org_id",
    "code",
    "name",
    "crop",
    "variety",
    "area_ha",
    "province_code",
    "commune_code",
    "export_markets",
    "geometry",
    "owners",
)
BASE = "/registry/growing-areas"


def _decimal(text: str | None) -> str | None:
    """Accepts a Vietnamese decimal comma ("5,2") as well as a point."""
    return text.replace(",", ".") if text else text


def _geometry(text: str | None) -> Any:
    """Reads the geometry box: GeoJSON text, WKT or a "latitude, longitude" pair."""
    if not text:
        return None
    return text if text.lstrip().startswith("{") else geojson_from_wkt_or_text(text)


def owners_from_text(text: str | None) -> list[dict[str, Any]]:
    """Reads one owner a line: "name; phone; area in ha" (phone and area optional)."""
    owners: list[dict[str, Any]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(";")]
        owner: dict[str, Any] = {"name": parts[0]}
        if len(parts) > 1 and parts[1]:
            owner["phone"] = parts[1]
        if len(parts) > 2 and parts[2]:
            owner["area_ha"] = _decimal(parts[2])
        owners.append(owner)
    return owners


def owners_to_text(owners: list[GrowingAreaOwner]) -> str:
    """Writes owners back in the form's one-a-line format."""
    lines = []
    for o in owners:
        area = "" if o.area_ha is None else f"{o.area_ha:g}"
        lines.append("; ".join([o.name, o.phone, area]).rstrip("; "))
    return "\n".join(lines)


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """Turns the form's strings into the API schema's input."""
    data = {k: v for k, v in values.items() if k not in ("geometry", "owners")}
    data["area_ha"] = _decimal(values.get("area_ha"))
    data["export_markets"] = values.get("export_markets") or ""
    data["owners"] = owners_from_text(values.get("owners"))
    data["geometry"] = _geometry(values.get("geometry"))
    return data


def _form_context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the growing-area form needs: values, errors and the choices."""
    return {
        "values": values,
        "errors": errors,
        "orgs": writable_orgs(db, principal),
        "provinces": provinces(db),
        "communes": communes(db, values.get("province_code")),
        **extra,
    }


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request,
    db: DB,
    principal: Caller,
    q: str = "",
    status: str = "",
    crop: str = "",
    province_code: str = "",
    org_id: str = "",
    offset: int = 0,
) -> Response:
    """Lists the growing areas the caller may see, with filters and paging."""
    offset = clean_offset(offset)
    items, total = service.list_growing_areas(
        db,
        principal,
        status=CodeStatus(status) if status in CodeStatus.__members__ else None,
        crop=crop or None,
        province_code=province_code or None,
        org_id=to_uuid(org_id),
        q=q or None,
        offset=offset,
        limit=20,
    )
    return page(
        request,
        "registry/growing_area_list.html",
        {
            "items": items,
            "pager": pager(request, offset, total),
            "filters": {"q": q, "status": status, "crop": crop, "province_code": province_code},
            "statuses": list(CodeStatus),
            "provinces": provinces(db),
            "province_names": dict(provinces(db)),
            "org_names": org_names(db, {a.org_id for a in items}),
            "can_create": bool(writable_orgs(db, principal)),
        },
    )


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller) -> Response:
    """Shows the application form for a growing-area code."""
    orgs = writable_orgs(db, principal)
    if not orgs:
        raise Forbidden()
    default = principal.default_org_id()
    org = next((o for o in orgs if o.id == default), orgs[0])
    values = {"org_id": str(org.id), "province_code": org.province_code}
    return page(
        request,
        "registry/growing_area_form.html",
        _form_context(db, principal, values, {}, creating=True),
    )


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Applies for a growing-area code with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS)
    try:
        data = parse(GrowingAreaIn, _payload(values))
        area = service.create_growing_area(db, principal, data)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/growing_area_form.html",
            _form_context(db, principal, values, field_errors(exc, locale, FIELDS), creating=True),
            status_code=422,
        )
    return redirect(f"{BASE}/{area.id}", "created")


@router.post(f"{BASE}/geometry-check", response_class=HTMLResponse)
async def geometry_check(request: Request, principal: Caller, locale: Locale) -> Response:
    """Checks a pasted polygon as the user types (htmx): its area in ha, or what is wrong."""
    values = form_values(await read_form(request, principal), "geometry", "area_ha")
    area: float | None = None
    error: str | None = None
    try:
        declared = float(_decimal(values["area_ha"]) or "nan")
    except ValueError:
        declared = float("nan")
    try:
        checked = check_geometry(
            _geometry(values["geometry"]),
            declared_area_ha=declared if declared == declared and declared > 0 else None,
            require_vietnam=True,
        )
        area = checked.area_ha
    except DomainError as exc:
        error = field_errors(exc, locale, ("geometry",)).get("geometry") or next(
            iter(field_errors(exc, locale, ("geometry",)).values()), None
        )
    return page(request, "registry/_geometry_check.html", {"area": area, "error": error})


def _detail_context(db: DB, principal: Principal, area: GrowingArea) -> dict[str, Any]:
    """What the growing-area page shows."""
    names = dict(provinces(db))
    try:
        ensure_decider(principal, area.province_code)
        can_decide = True
    except Forbidden:
        can_decide = False
    return {
        "area": area,
        "owners": service.owners_by_area(db, [area.id])[area.id],
        "org_name": org_names(db, {area.org_id}).get(area.org_id, ""),
        "province_name": names.get(area.province_code, area.province_code),
        "commune_name": dict(communes(db, area.province_code)).get(area.commune_code or "", ""),
        "geojson": json.dumps(service.as_feature(area), ensure_ascii=False, indent=2),
        "svg": geometry_svg(area.geometry),
        "can_edit": can_write(principal, area.org_id) and area.status is not CodeStatus.revoked,
        "can_decide": can_decide,
        "decisions": sorted(approvals.TRANSITIONS[area.status]),
        "errors": {},
        "reason": "",
    }


@router.get(BASE + "/{area_id}", response_class=HTMLResponse)
def detail(request: Request, db: DB, principal: Caller, area_id: uuid.UUID) -> Response:
    """Shows a growing area: status, computed area, map, GeoJSON and owners."""
    area = service.get_growing_area(db, principal, area_id)
    return page(request, "registry/growing_area_detail.html", _detail_context(db, principal, area))


@router.get(BASE + "/{area_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, db: DB, principal: Caller, area_id: uuid.UUID) -> Response:
    """Shows the form to change a growing area."""
    area = service.get_growing_area(db, principal, area_id)
    if not can_write(principal, area.org_id):
        raise Forbidden()
    values: dict[str, Any] = {name: getattr(area, name) for name in FIELDS[1:-2]}
    values["org_id"] = str(area.org_id)
    values["area_ha"] = f"{area.area_ha:g}"
    values["geometry"] = json.dumps(area.geometry, ensure_ascii=False)
    values["owners"] = owners_to_text(service.owners_by_area(db, [area.id])[area.id])
    return page(
        request,
        "registry/growing_area_form.html",
        _form_context(db, principal, values, {}, creating=False, area=area),
    )


@router.post(BASE + "/{area_id}/edit", response_class=HTMLResponse)
async def update(
    request: Request, db: DB, principal: Caller, locale: Locale, area_id: uuid.UUID
) -> Response:
    """Saves a growing area with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS)
    try:
        payload = _payload(values)
        payload.pop("org_id", None)
        patch = parse(GrowingAreaPatch, payload, drop_blank=False)
        area = service.update_growing_area(db, principal, area_id, patch)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        area = service.get_growing_area(db, principal, area_id)
        return page(
            request,
            "registry/growing_area_form.html",
            _form_context(
                db,
                principal,
                values,
                field_errors(exc, locale, FIELDS),
                creating=False,
                area=area,
            ),
            status_code=422,
        )
    return redirect(f"{BASE}/{area.id}", "saved")


@router.post(BASE + "/{area_id}/decision", response_class=HTMLResponse)
async def decide(
    request: Request, db: DB, principal: Caller, locale: Locale, area_id: uuid.UUID
) -> Response:
    """An authority approves, suspends or revokes the code, giving a reason."""
    form = form_values(await read_form(request, principal), "status", "reason")
    try:
        approvals.decide_growing_area(
            db, principal, area_id, form["status"] or "", form["reason"] or ""
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        area = service.get_growing_area(db, principal, area_id)
        context = _detail_context(db, principal, area)
        context["errors"] = field_errors(exc, locale, ("status", "reason"))
        context["reason"] = form["reason"] or ""
        return page(request, "registry/growing_area_detail.html", context, status_code=422)
    return redirect(f"{BASE}/{area_id}", "decided")
