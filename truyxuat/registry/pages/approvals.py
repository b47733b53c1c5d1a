"""Registry pages: the authority's approval queue for codes and organizations."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal
from truyxuat.errors import DomainError, NotFound
from truyxuat.registry.models import Organization, OrgStatus
from truyxuat.registry.pages.common import (
    clean_offset,
    field_errors,
    form_values,
    page,
    pager,
    provinces,
    redirect,
    reraise_unless_form_error,
)
from truyxuat.registry.service import approvals
from truyxuat.registry.service import organizations as org_service
from truyxuat.web.forms import read_form

router = APIRouter(include_in_schema=False)
BASE = "/registry/approvals"
KINDS = ("growing_area", "packing_house", "organization")
DETAIL_URL = {
    "growing_area": "/registry/growing-areas/{id}",
    "packing_house": "/registry/packing-houses/{id}",
    "organization": "/registry/organizations/{id}",
}


def _queue_context(
    request: Request, db: DB, principal: Principal, kind: str, offset: int
) -> dict[str, Any]:
    """The pending codes and organizations in the caller's jurisdiction."""
    code_kind = kind if kind in approvals.KINDS else None
    codes: list[approvals.QueueItem] = []
    total = 0
    if kind != "organization":
        codes, total = approvals.approval_queue(db, principal, code_kind, offset=offset, limit=20)
    else:
        approvals.approval_queue(db, principal, limit=1)  # the same access rule: deciders only
    orgs: list[Organization] = []
    org_total = 0
    if kind in ("", "organization"):
        orgs, org_total = org_service.list_organizations(
            db, principal, status=OrgStatus.pending, limit=50
        )
    return {
        "kind": kind,
        "codes": codes,
        "orgs": orgs,
        "org_total": org_total,
        "pager": pager(request, offset, total),
        "province_names": dict(provinces(db)),
        "detail_url": DETAIL_URL,
        "row_errors": {},
        "reasons": {},
    }


@router.get(BASE, response_class=HTMLResponse)
def queue(request: Request, db: DB, principal: Caller, kind: str = "", offset: int = 0) -> Response:
    """Lists what awaits the authority's decision, oldest first."""
    kind = kind if kind in KINDS else ""
    context = _queue_context(request, db, principal, kind, clean_offset(offset))
    return page(request, "registry/approvals.html", context)


@router.post(BASE + "/{kind}/{item_id}", response_class=HTMLResponse)
async def decide(
    request: Request,
    db: DB,
    principal: Caller,
    locale: Locale,
    kind: str,
    item_id: uuid.UUID,
) -> Response:
    """Approves, suspends or revokes one item of the queue, with a reason."""
    form = form_values(await read_form(request, principal), "status", "reason")
    status, reason = form["status"] or "", form["reason"] or ""
    try:
        if kind == "growing_area":
            approvals.decide_growing_area(db, principal, item_id, status, reason)
        elif kind == "packing_house":
            approvals.decide_packing_house(db, principal, item_id, status, reason)
        elif kind == "organization":
            org_service.decide_organization(db, principal, item_id, status, reason)
        else:
            raise NotFound()
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        context = _queue_context(request, db, principal, "", 0)
        messages = field_errors(exc, locale, ("status", "reason"))
        context["row_errors"] = {str(item_id): " · ".join(messages.values())}
        context["reasons"] = {str(item_id): reason}
        return page(request, "registry/approvals.html", context, status_code=422)
    return redirect(BASE, "decided")
