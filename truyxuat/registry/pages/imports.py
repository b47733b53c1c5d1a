"""Registry pages: CSV/XLSX import of master data, all or nothing, with a row/column error table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal
from truyxuat.errors import N_, DomainError, invalid
from truyxuat.registry.imports import ImportKind
from truyxuat.registry.pages.common import (
    field_errors,
    is_decider,
    page,
    reraise_unless_form_error,
    to_uuid,
    writable_orgs,
)
from truyxuat.registry.service import imports as service
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)
BASE = "/registry/import"
FIELDS = ("kind", "org_id", "file", "dry_run")
KIND_LABELS = {
    ImportKind.organizations: N_("Organizations"),
    ImportKind.facilities: N_("Facilities"),
    ImportKind.growing_areas: N_("Growing areas"),
    ImportKind.packing_houses: N_("Packing houses"),
    ImportKind.products: N_("Products"),
    ImportKind.certifications: N_("Certifications"),
}


def _context(
    db: DB, principal: Principal, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """What the import page needs: the kinds the caller may import and for which organization."""
    kinds = [k for k in ImportKind if k is not ImportKind.organizations or is_decider(principal)]
    return {
        "values": values,
        "errors": errors,
        "kinds": kinds,
        "kind_labels": KIND_LABELS,
        "orgs": writable_orgs(db, principal),
        "report": None,
        **extra,
    }


@router.get(BASE, response_class=HTMLResponse)
def import_form(request: Request, db: DB, principal: Caller, kind: str = "") -> Response:
    """Shows the upload form with the blank templates to download."""
    orgs = writable_orgs(db, principal)
    default = principal.default_org_id()
    org = next((o for o in orgs if o.id == default), orgs[0] if orgs else None)
    values = {
        "kind": kind if kind in ImportKind.__members__ else ImportKind.growing_areas.value,
        "org_id": str(org.id) if org else "",
        "dry_run": "",
    }
    return page(request, "registry/import.html", _context(db, principal, values, {}))


@router.post(BASE, response_class=HTMLResponse)
async def import_file(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Imports every row of the uploaded file, or none of them with every error listed."""
    form = await read_form(request, principal)
    values = {
        "kind": str(form.get("kind") or ""),
        "org_id": str(form.get("org_id") or ""),
        "dry_run": "1" if form.get("dry_run") else "",
    }
    upload = form.get("file")
    try:
        if values["kind"] not in ImportKind.__members__:
            raise invalid("kind", N_("Choose one of the listed values"))
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise invalid("file", N_("This field is required"))
        limit = request.app.state.settings.max_upload_bytes
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise invalid("file", N_("The file is larger than {max} bytes"), max=limit)
        kind = ImportKind(values["kind"])
        report = service.run_import(
            db,
            principal,
            kind,
            data,
            upload.filename,
            org_id=to_uuid(values["org_id"]) if kind is not ImportKind.organizations else None,
            dry_run=bool(values["dry_run"]),
        )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "registry/import.html",
            _context(db, principal, values, field_errors(exc, locale, FIELDS)),
            status_code=422,
        )
    if report.rejected:
        db.rollback()  # the service already undid its rows; make sure nothing else is kept
    return page(
        request,
        "registry/import.html",
        _context(
            db,
            principal,
            values,
            {},
            report=report.render(locale),
            rejected=report.rejected,
            filename=upload.filename,
            kind_label=KIND_LABELS[kind],
            target=f"/registry/{kind.value.replace('_', '-')}",
        ),
        status_code=422 if report.rejected else 200,
    )
