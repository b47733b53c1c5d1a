"""Registry pages: certifications (VietGAP, GlobalG.A.P., organic, HACCP, OCOP...) and state."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write
from truyxuat.errors import N_, DomainError, FieldError, Forbidden, ValidationFailed, invalid
from truyxuat.registry.models import (
    Certification,
    CertScheme,
    CertScope,
    Facility,
    GrowingArea,
    PackingHouse,
    Product,
)
from truyxuat.registry.pages.common import (
    as_text,
    changed_only,
    clean_offset,
    field_errors,
    form_values,
    org_names,
    page,
    pager,
    parse,
    redirect,
    reraise_unless_form_error,
    writable_orgs,
)
from truyxuat.registry.schemas.certifications import (
    FILES_URL,
    CertificationIn,
    CertificationPatch,
    CertState,
    cert_state,
    vietnam_today,
)
from truyxuat.registry.service import certifications as service
from truyxuat.registry.service import facilities, growing_areas, packing_houses, products
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)
BASE = "/registry/certifications"
FIELDS = (
    "org_id",
    "scheme",
    "scheme_name",
    "issuer",
    "number",
    "scope",
    "valid_from",
    "valid_to",
    "document",
)
EDITABLE = ("scheme_name", "issuer", "number", "valid_from", "valid_to")


def _state(cert: Certification) -> str:
    """valid, expiring, expired, revoked, suspended or not yet valid, today in Viet Nam."""
    return cert_state(
        cert.valid_from, cert.valid_to, cert.revoked_at, vietnam_today(), cert.suspended_at
    ).value


def _scope_choices(db: DB, principal: Principal) -> list[tuple[CertScope, list[tuple[str, str]]]]:
    """What a new certificate can cover: the caller's organizations and their registered things."""
    orgs = writable_orgs(db, principal)
    mine = {o.id for o in orgs}

    def own(items: list[Any]) -> list[Any]:
        return [i for i in items if i.org_id in mine]

    places, _n = facilities.list_facilities(db, principal, limit=500)
    areas, _n = growing_areas.list_growing_areas(db, principal, limit=500)
    houses, _n = packing_houses.list_packing_houses(db, principal, limit=500)
    goods, _n = products.list_products(db, principal, limit=500)
    return [
        (CertScope.organization, [(f"organization:{o.id}", o.name) for o in orgs]),
        (CertScope.facility, [(f"facility:{f.id}", f.name) for f in own(places)]),
        (
            CertScope.growing_area,
            [(f"growing_area:{a.id}", f"{a.code} {a.name}".strip()) for a in own(areas)],
        ),
        (CertScope.packing_house, [(f"packing_house:{h.id}", h.code) for h in own(houses)]),
        (
            CertScope.product,
            [(f"product:{p.id}", str(p.names.get("vi") or p.gtin)) for p in own(goods)],
        ),
    ]


def scope_names(db: Session, certs: list[Certification]) -> dict[uuid.UUID, str]:
    """Readable names of what each certificate covers."""
    names: dict[uuid.UUID, str] = org_names(
        db, {c.scope_id for c in certs if c.scope_type is CertScope.organization}
    )
    models: dict[CertScope, Any] = {
        CertScope.facility: Facility,
        CertScope.growing_area: GrowingArea,
        CertScope.packing_house: PackingHouse,
        CertScope.product: Product,
    }
    for cert in certs:
        model = models.get(cert.scope_type)
        if model is None:
            continue
        row = db.get(model, cert.scope_id)
        if isinstance(row, Product):
            names[cert.scope_id] = str(row.names.get("vi") or row.gtin)
        elif isinstance(row, GrowingArea | PackingHouse):
            names[cert.scope_id] = row.code
        elif isinstance(row, Facility):
            names[cert.scope_id] = row.name
    return names


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """Splits the combined "scope" choice into the schema's scope_type and scope_id."""
    data = {k: v for k, v in values.items() if k not in ("scope", "document")}
    scope_type, _sep, scope_id = (values.get("scope") or "").partition(":")
    if not scope_type:
        raise invalid("scope", N_("This field is required"))
    data["scope_type"] = scope_type
    data["scope_id"] = scope_id or None
    return data


def _errors(exc: DomainError, locale: str) -> dict[str, str]:
    """Shows errors on scope_type/scope_id next to the combined "scope" choice."""
    if isinstance(exc, ValidationFailed):
        exc = ValidationFailed(
            [
                FieldError(
                    ["scope" if p in ("scope_type", "scope_id") else p for p in e.loc],
                    e.message,
                    e.params,
                )
                for e in exc.errors
            ]
        )
    return field_errors(exc, locale, FIELDS)


async def _upload(
    request: Request, form: dict[str, Any], name: str
) -> tuple[bytes, str | None, str | None]:
    """An uploaded file field: its bytes, name and declared type (empty when none chosen)."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return b"", None, None
    limit = request.app.state.settings.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise invalid(name, N_("The file is larger than {max} bytes"), max=limit)
    return data, upload.filename, upload.content_type


def _form_context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the certificate form needs."""
    return {
        "values": values,
        "errors": errors,
        "orgs": writable_orgs(db, principal),
        "schemes": list(CertScheme),
        "scopes": _scope_choices(db, principal) if extra.get("creating") else [],
        **extra,
    }


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request,
    db: DB,
    principal: Caller,
    scheme: str = "",
    state: str = "",
    scope_type: str = "",
    offset: int = 0,
) -> Response:
    """Lists the certificates the caller may see, with their state today."""
    offset = clean_offset(offset)
    items, total = service.list_certifications(
        db,
        principal,
        scheme=CertScheme(scheme) if scheme in CertScheme.__members__ else None,
        state=CertState(state) if state in CertState.__members__ else None,
        scope_type=CertScope(scope_type) if scope_type in CertScope.__members__ else None,
        offset=offset,
        limit=20,
    )
    return page(
        request,
        "registry/certification_list.html",
        {
            "items": [(c, _state(c)) for c in items],
            "pager": pager(request, offset, total),
            "filters": {"scheme": scheme, "state": state, "scope_type": scope_type},
            "schemes": list(CertScheme),
            "states": list(CertState),
            "scope_types": list(CertScope),
            "scope_names": scope_names(db, items),
            "org_names": org_names(db, {c.org_id for c in items}),
            "can_create": bool(writable_orgs(db, principal)),
        },
    )


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller) -> Response:
    """Shows the form to register a certificate."""
    orgs = writable_orgs(db, principal)
    if not orgs:
        raise Forbidden()
    org = next((o for o in orgs if o.id == principal.default_org_id()), orgs[0])
    values = {"org_id": str(org.id), "scope": f"organization:{org.id}"}
    return page(
        request,
        "registry/certification_form.html",
        _form_context(db, principal, values, {}, creating=True),
    )


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Registers a certificate (and its scanned document) with the services the API uses."""
    form = await read_form(request, principal)
    values = form_values({k: v for k, v in form.items() if k != "document"}, *FIELDS[:-1])
    try:
        data, filename, content_type = await _upload(request, form, "document")
        cert = service.create_certification(db, principal, parse(CertificationIn, _payload(values)))
        if data:
            service.attach_document(
                db,
                principal,
                cert.id,
                data=data,
                filename=filename,
                content_type=content_type,
                settings=request.app.state.settings,
            )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/certification_form.html",
            _form_context(db, principal, values, _errors(exc, locale), creating=True),
            status_code=422,
        )
    return redirect(f"{BASE}/{cert.id}", "created")


def _detail_context(db: DB, principal: Principal, cert: Certification) -> dict[str, Any]:
    """What the certificate page shows."""
    return {
        "cert": cert,
        "state": _state(cert),
        "scope_name": scope_names(db, [cert]).get(cert.scope_id, ""),
        "org_name": org_names(db, {cert.org_id}).get(cert.org_id, ""),
        "document_url": (
            FILES_URL.format(file_id=cert.document_file_id) if cert.document_file_id else None
        ),
        "can_edit": can_write(principal, cert.org_id) and cert.revoked_at is None,
        "errors": {},
    }


@router.get(BASE + "/{cert_id}", response_class=HTMLResponse)
def detail(request: Request, db: DB, principal: Caller, cert_id: uuid.UUID) -> Response:
    """Shows one certificate with its state, document and the revoke form."""
    cert = service.get_certification(db, principal, cert_id)
    return page(request, "registry/certification_detail.html", _detail_context(db, principal, cert))


@router.get(BASE + "/{cert_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, db: DB, principal: Caller, cert_id: uuid.UUID) -> Response:
    """Shows the form to correct a certificate."""
    cert = service.get_certification(db, principal, cert_id)
    if not can_write(principal, cert.org_id):
        raise Forbidden()
    values = {name: as_text(getattr(cert, name)) for name in EDITABLE}
    values["scheme"] = cert.scheme.value
    return page(
        request,
        "registry/certification_form.html",
        _form_context(db, principal, values, {}, creating=False, cert=cert),
    )


@router.post(BASE + "/{cert_id}/edit", response_class=HTMLResponse)
async def update(
    request: Request, db: DB, principal: Caller, locale: Locale, cert_id: uuid.UUID
) -> Response:
    """Saves the corrected fields of a certificate with the same service the API uses."""
    values = form_values(await read_form(request, principal), *EDITABLE)
    cert = service.get_certification(db, principal, cert_id)
    try:
        changes = changed_only(values, cert)
        if "scheme_name" in changes and changes["scheme_name"] is None:
            changes["scheme_name"] = ""
        service.update_certification(
            db, principal, cert_id, parse(CertificationPatch, changes, drop_blank=False)
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        cert = service.get_certification(db, principal, cert_id)
        return page(
            request,
            "registry/certification_form.html",
            _form_context(
                db,
                principal,
                {**values, "scheme": cert.scheme.value},
                _errors(exc, locale),
                creating=False,
                cert=cert,
            ),
            status_code=422,
        )
    return redirect(f"{BASE}/{cert_id}", "saved")


@router.post(BASE + "/{cert_id}/document", response_class=HTMLResponse)
async def attach(
    request: Request, db: DB, principal: Caller, locale: Locale, cert_id: uuid.UUID
) -> Response:
    """Uploads the scanned certificate (PDF, JPEG or PNG), replacing an earlier one."""
    form = await read_form(request, principal)
    try:
        data, filename, content_type = await _upload(request, form, "document")
        if not data:
            raise invalid("document", N_("This field is required"))
        service.attach_document(
            db,
            principal,
            cert_id,
            data=data,
            filename=filename,
            content_type=content_type,
            settings=request.app.state.settings,
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        context = _detail_context(db, principal, service.get_certification(db, principal, cert_id))
        context["errors"] = {"document": " · ".join(field_errors(exc, locale, FIELDS).values())}
        return page(request, "registry/certification_detail.html", context, status_code=422)
    return redirect(f"{BASE}/{cert_id}", "saved")


@router.post(BASE + "/{cert_id}/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request, db: DB, principal: Caller, locale: Locale, cert_id: uuid.UUID
) -> Response:
    """Revokes a certificate (its organization's admin, or the province's authority)."""
    form = form_values(await read_form(request, principal), "reason")
    try:
        service.revoke_certification(db, principal, cert_id, form["reason"] or "")
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        context = _detail_context(db, principal, service.get_certification(db, principal, cert_id))
        context["errors"] = {"reason": " · ".join(field_errors(exc, locale, ()).values())}
        return page(request, "registry/certification_detail.html", context, status_code=422)
    return redirect(f"{BASE}/{cert_id}", "revoked")
