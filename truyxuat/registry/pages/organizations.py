"""Registry pages: organizations (tenants) — list, register, profile, edit, approve."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write
from truyxuat.errors import N_, DomainError, invalid
from truyxuat.registry.models import Organization, OrgKind, OrgStatus
from truyxuat.registry.pages.common import (
    clean_offset,
    communes,
    field_errors,
    form_values,
    is_decider,
    page,
    pager,
    parse,
    provinces,
    redirect,
    reraise_unless_form_error,
)
from truyxuat.registry.schemas.organizations import OrganizationIn, OrganizationPatch
from truyxuat.registry.service import organizations as service
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)

FIELDS = (
    "code",
    "kind",
    "name",
    "name_en",
    "tax_code",
    "gs1_company_prefix",
    "gln",
    "province_code",
    "commune_code",
    "address",
    "contact_name",
    "phone",
    "email",
    "website",
)
TEXT_FIELDS = ("address", "contact_name", "phone", "email", "website")
CREATABLE_KINDS = (OrgKind.enterprise, OrgKind.cooperative, OrgKind.household)


def _form_context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the organization form needs: current values, errors and the choices."""
    kinds = list(OrgKind) if principal.is_platform_admin else list(CREATABLE_KINDS)
    return {
        "values": values,
        "errors": errors,
        "kinds": kinds,
        "provinces": provinces(db),
        "communes": communes(db, values.get("province_code")),
        **extra,
    }


def _text_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """Blank free-text fields are stored as empty strings, not NULL."""
    for name in TEXT_FIELDS:
        if values.get(name) is None:
            values[name] = ""
    return values


@router.get("/registry/organizations", response_class=HTMLResponse)
def list_page(
    request: Request,
    db: DB,
    principal: Caller,
    q: str = "",
    kind: str = "",
    status: str = "",
    province_code: str = "",
    offset: int = 0,
) -> Response:
    """Lists the organizations the caller may see, with filters and paging."""
    offset = clean_offset(offset)
    items, total = service.list_organizations(
        db,
        principal,
        kind=OrgKind(kind) if kind in OrgKind.__members__ else None,
        status=OrgStatus(status) if status in OrgStatus.__members__ else None,
        province_code=province_code or None,
        q=q or None,
        offset=offset,
        limit=20,
    )
    return page(
        request,
        "registry/organization_list.html",
        {
            "items": items,
            "pager": pager(request, offset, total),
            "filters": {"q": q, "kind": kind, "status": status, "province_code": province_code},
            "kinds": list(OrgKind),
            "statuses": list(OrgStatus),
            "provinces": provinces(db),
            "province_names": dict(provinces(db)),
            "can_create": principal.is_platform_admin or is_decider(principal),
        },
    )


@router.get("/registry/organizations/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller) -> Response:
    """Shows the form to register an organization (authorities and the platform admin)."""
    values: dict[str, Any] = {"kind": OrgKind.enterprise.value}
    zones = [p for p in principal.jurisdictions() if p]
    if zones:
        values["province_code"] = zones[0]
    return page(
        request,
        "registry/organization_form.html",
        _form_context(db, principal, values, {}, creating=True),
    )


@router.post("/registry/organizations/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Registers an organization with the same service the API uses."""
    values = form_values(await read_form(request, principal), *FIELDS)
    try:
        data = parse(OrganizationIn, values)
        org = service.create_organization(db, principal, data)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/organization_form.html",
            _form_context(db, principal, values, field_errors(exc, locale, FIELDS), creating=True),
            status_code=422,
        )
    return redirect(f"/registry/organizations/{org.id}", "created")


@router.get("/registry/organizations/{org_id}", response_class=HTMLResponse)
def detail(request: Request, db: DB, principal: Caller, org_id: uuid.UUID) -> Response:
    """Shows one organization's profile, with the authority's decision form."""
    org = service.get_organization(db, principal, org_id)
    return page(
        request,
        "registry/organization_detail.html",
        _detail_context(db, principal, org),
    )


def _detail_context(db: DB, principal: Principal, org: Organization) -> dict[str, Any]:
    """What the organization profile shows."""
    names = dict(provinces(db))
    return {
        "org": org,
        "province_name": names.get(org.province_code or "", org.province_code or ""),
        "can_edit": can_write(principal, org.id, admin_only=True),
        "can_decide": principal.is_platform_admin
        or (is_decider(principal) and principal.oversees(org.province_code)),
        "statuses": list(OrgStatus),
        "errors": {},
    }


@router.get("/registry/organizations/{org_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, db: DB, principal: Caller, org_id: uuid.UUID) -> Response:
    """Shows the profile form of an organization the caller administers."""
    org = service.get_organization(db, principal, org_id)
    values = {name: getattr(org, name) for name in FIELDS}
    return page(
        request,
        "registry/organization_form.html",
        _form_context(db, principal, values, {}, creating=False, org=org),
    )


@router.post("/registry/organizations/{org_id}/edit", response_class=HTMLResponse)
async def update(
    request: Request, db: DB, principal: Caller, locale: Locale, org_id: uuid.UUID
) -> Response:
    """Saves an organization's profile with the same service the API uses."""
    form = await read_form(request, principal)
    values = form_values(form, *FIELDS[2:])
    org = service.get_organization(db, principal, org_id)
    try:
        if not values.get("name"):
            raise invalid("name", N_("This field is required"))
        patch = parse(OrganizationPatch, _text_defaults(dict(values)), drop_blank=False)
        org = service.update_organization(db, principal, org_id, patch)
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        org = service.get_organization(db, principal, org_id)
        shown = {"code": org.code, "kind": org.kind, **values}
        return page(
            request,
            "registry/organization_form.html",
            _form_context(
                db,
                principal,
                shown,
                field_errors(exc, locale, FIELDS),
                creating=False,
                org=org,
            ),
            status_code=422,
        )
    return redirect(f"/registry/organizations/{org.id}", "saved")


@router.post("/registry/organizations/{org_id}/decision", response_class=HTMLResponse)
async def decide(
    request: Request, db: DB, principal: Caller, locale: Locale, org_id: uuid.UUID
) -> Response:
    """An authority approves or suspends an organization."""
    form = form_values(await read_form(request, principal), "status", "reason", "next")
    try:
        service.decide_organization(
            db, principal, org_id, form["status"] or "", form["reason"] or ""
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        org = service.get_organization(db, principal, org_id)
        context = _detail_context(db, principal, org)
        context["errors"] = field_errors(exc, locale, ("status", "reason"))
        return page(request, "registry/organization_detail.html", context, status_code=422)
    target = form["next"] if (form["next"] or "").startswith("/registry/") else None
    return redirect(target or f"/registry/organizations/{org_id}", "decided")
