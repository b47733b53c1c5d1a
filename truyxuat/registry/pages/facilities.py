"""Registry pages: facilities (farms, factories, warehouses...) — list, register, edit, delete."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write
from truyxuat.errors import DomainError, Forbidden
from truyxuat.registry.models import Facility, FacilityKind
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
from truyxuat.registry.schemas.facilities import FacilityIn, FacilityPatch
from truyxuat.registry.service import facilities as service
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)
BASE = "/registry/facilities"
FIELDS = (
    "org_id",
    "kind",
    "name",
    "gln",
    "province_code",
    "commune_code",
    "address",
    "latitude",
    "longitude",
)


def _numbers(values: dict[str, Any]) -> dict[str, Any]:
    """Accepts a decimal comma in coordinates."""
    for name in ("latitude", "longitude"):
        if values.get(name):
            values[name] = values[name].replace(",", ".")
    return values


def _form_context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the facility form needs."""
    return {
        "values": values,
        "errors": errors,
        "orgs": writable_orgs(db, principal),
        "kinds": list(FacilityKind),
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
    kind: str = "",
    province_code: str = "",
    org_id: str = "",
    offset: int = 0,
) -> Response:
    """Lists the facilities the caller may see, with filters and paging."""
    offset = clean_offset(offset)
    items, total = service.list_facilities(
        db,
        principal,
        kind=FacilityKind(kind) if kind in FacilityKind.__members__ else None,
        province_code=province_code or None,
        org_id=to_uuid(org_id),
        q=q or None,
        offset=offset,
        limit=20,
    )
    return page(
        request,
        "registry/facility_list.html",
        {
            "items": items,
            "pager": pager(request, offset, total),
            "filters": {"q": q, "kind": kind, "province_code": province_code},
            "kinds": list(FacilityKind),
            "provinces": provinces(db),
            "province_names": dict(provinces(db)),
            "org_names": org_names(db, {f.org_id for f in items}),
            "can_create": bool(writable_orgs(db, principal)),
        },
    )


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller) -> Response:
    """Shows the form to register a facility."""
    orgs = writable_orgs(db, principal)
    if not orgs:
        raise Forbidden()
    org = next((o for o in orgs if o.id == principal.default_org_id()), orgs[0])
    values = {"org_id": str(org.id), "kind": "farm", "province_code": org.province_code}
    return page(
        request,
        "registry/facility_form.html",
        _form_context(db, principal, values, {}, creating=True),
    )


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Registers a facility with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS)
    try:
        facility = service.create_facility(db, principal, parse(FacilityIn, _numbers(values)))
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/facility_form.html",
            _form_context(db, principal, values, field_errors(exc, locale, FIELDS), creating=True),
            status_code=422,
        )
    return redirect(f"{BASE}/{facility.id}", "created")


def _detail_context(db: DB, principal: Principal, facility: Facility) -> dict[str, Any]:
    """What the facility page shows."""
    return {
        "facility": facility,
        "org_name": org_names(db, {facility.org_id}).get(facility.org_id, ""),
        "province_name": dict(provinces(db)).get(facility.province_code or "", ""),
        "can_edit": can_write(principal, facility.org_id),
        "errors": {},
    }


@router.get(BASE + "/{facility_id}", response_class=HTMLResponse)
def detail(request: Request, db: DB, principal: Caller, facility_id: uuid.UUID) -> Response:
    """Shows one facility."""
    facility = service.get_facility(db, principal, facility_id)
    return page(request, "registry/facility_detail.html", _detail_context(db, principal, facility))


@router.get(BASE + "/{facility_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, db: DB, principal: Caller, facility_id: uuid.UUID) -> Response:
    """Shows the form to change a facility."""
    facility = service.get_facility(db, principal, facility_id)
    if not can_write(principal, facility.org_id):
        raise Forbidden()
    values = {name: as_text(getattr(facility, name)) for name in FIELDS}
    return page(
        request,
        "registry/facility_form.html",
        _form_context(db, principal, values, {}, creating=False, facility=facility),
    )


@router.post(BASE + "/{facility_id}/edit", response_class=HTMLResponse)
async def update(
    request: Request, db: DB, principal: Caller, locale: Locale, facility_id: uuid.UUID
) -> Response:
    """Saves the changed fields of a facility with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS[1:])
    facility = service.get_facility(db, principal, facility_id)
    try:
        changes = changed_only(_numbers(dict(values)), facility)
        patch = parse(FacilityPatch, changes, drop_blank=False)
        service.update_facility(db, principal, facility_id, patch)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        facility = service.get_facility(db, principal, facility_id)
        return page(
            request,
            "registry/facility_form.html",
            _form_context(
                db,
                principal,
                {**values, "org_id": str(facility.org_id)},
                field_errors(exc, locale, FIELDS),
                creating=False,
                facility=facility,
            ),
            status_code=422,
        )
    return redirect(f"{BASE}/{facility_id}", "saved")


@router.post(BASE + "/{facility_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request, db: DB, principal: Caller, locale: Locale, facility_id: uuid.UUID
) -> Response:
    """Deletes a facility nothing refers to."""
    await read_form(request, principal)
    try:
        service.delete_facility(db, principal, facility_id)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        facility = service.get_facility(db, principal, facility_id)
        context = _detail_context(db, principal, facility)
        context["errors"] = field_errors(exc, locale, ())
        return page(request, "registry/facility_detail.html", context, status_code=409)
    return redirect(BASE, "deleted")
