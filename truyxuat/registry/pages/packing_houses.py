"""Registry pages: packing-house codes (mã số cơ sở đóng gói) — list, apply, detail, edit."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write, ensure_decider
from truyxuat.errors import DomainError, Forbidden
from truyxuat.registry.models import CodeStatus, Facility, PackingHouse
from truyxuat.registry.pages.common import (
    as_text,
    changed_only,
    clean_offset,
    communes,
    field_errors,
    form_values,
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
from truyxuat.registry.schemas.packing_houses import PackingHouseIn, PackingHousePatch
from truyxuat.registry.service import approvals
from truyxuat.registry.service import facilities as facility_service
from truyxuat.registry.service import packing_houses as service
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)
BASE = "/registry/packing-houses"
FIELDS = (
    "org_id",
    "code",
    "name",
    "facility_id",
    "crops",
    "capacity_tonnes_per_day",
    "province_code",
    "commune_code",
    "address",
    "export_markets",
)


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """Turns the form's strings into the API schema's input."""
    data = dict(values)
    if data.get("capacity_tonnes_per_day"):
        data["capacity_tonnes_per_day"] = data["capacity_tonnes_per_day"].replace(",", ".")
    return data


def _facilities(db: DB, principal: Principal) -> list[Facility]:
    """Facilities of the caller's own organizations, to link a packing house to."""
    mine = principal.writable_org_ids()
    items, _total = facility_service.list_facilities(db, principal, limit=500)
    return [f for f in items if principal.is_platform_admin or f.org_id in mine]


def _form_context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the packing-house form needs."""
    return {
        "values": values,
        "errors": errors,
        "orgs": writable_orgs(db, principal),
        "facilities": _facilities(db, principal),
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
    """Lists the packing houses the caller may see, with filters and paging."""
    offset = clean_offset(offset)
    items, total = service.list_packing_houses(
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
        "registry/packing_house_list.html",
        {
            "items": items,
            "pager": pager(request, offset, total),
            "filters": {"q": q, "status": status, "crop": crop, "province_code": province_code},
            "statuses": list(CodeStatus),
            "provinces": provinces(db),
            "province_names": dict(provinces(db)),
            "org_names": org_names(db, {h.org_id for h in items}),
            "can_create": bool(writable_orgs(db, principal)),
        },
    )


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller) -> Response:
    """Shows the application form for a packing-house code."""
    orgs = writable_orgs(db, principal)
    if not orgs:
        raise Forbidden()
    org = next((o for o in orgs if o.id == principal.default_org_id()), orgs[0])
    values = {"org_id": str(org.id), "province_code": org.province_code}
    return page(
        request,
        "registry/packing_house_form.html",
        _form_context(db, principal, values, {}, creating=True),
    )


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Applies for a packing-house code with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS)
    try:
        data = parse(PackingHouseIn, _payload(values))
        house = service.create_packing_house(db, principal, data)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/packing_house_form.html",
            _form_context(db, principal, values, field_errors(exc, locale, FIELDS), creating=True),
            status_code=422,
        )
    return redirect(f"{BASE}/{house.id}", "created")


def _detail_context(db: DB, principal: Principal, house: PackingHouse) -> dict[str, Any]:
    """What the packing-house page shows."""
    try:
        ensure_decider(principal, house.province_code)
        can_decide = True
    except Forbidden:
        can_decide = False
    facility = db.get(Facility, house.facility_id) if house.facility_id else None
    return {
        "house": house,
        "facility": facility,
        "org_name": org_names(db, {house.org_id}).get(house.org_id, ""),
        "province_name": dict(provinces(db)).get(house.province_code, house.province_code),
        "can_edit": can_write(principal, house.org_id) and house.status is not CodeStatus.revoked,
        "can_decide": can_decide,
        "decisions": sorted(approvals.TRANSITIONS[house.status]),
        "errors": {},
        "reason": "",
    }


@router.get(BASE + "/{house_id}", response_class=HTMLResponse)
def detail(request: Request, db: DB, principal: Caller, house_id: uuid.UUID) -> Response:
    """Shows a packing house with its status and the authority's decision form."""
    house = service.get_packing_house(db, principal, house_id)
    context = _detail_context(db, principal, house)
    return page(request, "registry/packing_house_detail.html", context)


@router.get(BASE + "/{house_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, db: DB, principal: Caller, house_id: uuid.UUID) -> Response:
    """Shows the form to change a packing house."""
    house = service.get_packing_house(db, principal, house_id)
    if not can_write(principal, house.org_id):
        raise Forbidden()
    values = {name: as_text(getattr(house, name)) for name in FIELDS}
    return page(
        request,
        "registry/packing_house_form.html",
        _form_context(db, principal, values, {}, creating=False, house=house),
    )


@router.post(BASE + "/{house_id}/edit", response_class=HTMLResponse)
async def update(
    request: Request, db: DB, principal: Caller, locale: Locale, house_id: uuid.UUID
) -> Response:
    """Saves the changed fields of a packing house with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS[1:])
    house = service.get_packing_house(db, principal, house_id)
    try:
        changes = changed_only(_payload(values), house)
        patch = parse(PackingHousePatch, changes, drop_blank=False)
        service.update_packing_house(db, principal, house_id, patch)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        house = service.get_packing_house(db, principal, house_id)
        return page(
            request,
            "registry/packing_house_form.html",
            _form_context(
                db,
                principal,
                {**values, "org_id": str(house.org_id)},
                field_errors(exc, locale, FIELDS),
                creating=False,
                house=house,
            ),
            status_code=422,
        )
    return redirect(f"{BASE}/{house_id}", "saved")


@router.post(BASE + "/{house_id}/decision", response_class=HTMLResponse)
async def decide(
    request: Request, db: DB, principal: Caller, locale: Locale, house_id: uuid.UUID
) -> Response:
    """An authority approves, suspends or revokes the code, giving a reason."""
    form = form_values(await read_form(request, principal), "status", "reason")
    try:
        approvals.decide_packing_house(
            db, principal, house_id, form["status"] or "", form["reason"] or ""
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        house = service.get_packing_house(db, principal, house_id)
        context = _detail_context(db, principal, house)
        context["errors"] = field_errors(exc, locale, ("status", "reason"))
        context["reason"] = form["reason"] or ""
        return page(request, "registry/packing_house_detail.html", context, status_code=422)
    return redirect(f"{BASE}/{house_id}", "decided")
