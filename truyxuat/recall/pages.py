"""Recall pages: the recalls the caller may see, opening one (or a drill), a recall's detail
with what it reaches and who acknowledged, and the recipient's acknowledgement."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import can_write
from truyxuat.errors import N_, DomainError, invalid
from truyxuat.recall import service
from truyxuat.recall.models import RecallSeverity, RecallState
from truyxuat.registry.models import Organization
from truyxuat.registry.pages.common import field_errors, form_values, page, redirect
from truyxuat.web.forms import read_form
from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent / "templates")

router = APIRouter(include_in_schema=False)
BASE = "/recalls"
FIELDS = ("epc", "reason", "severity", "drill")
SEVERITY_LABELS = {
    RecallSeverity.class_i: N_("Class I — may cause serious harm"),
    RecallSeverity.class_ii: N_("Class II — may cause temporary harm"),
    RecallSeverity.class_iii: N_("Class III — unlikely to cause harm"),
}
KIND_LABELS = {
    "lot": N_("Lot"),
    "item": N_("Serialized item"),
    "sscc": N_("Pallet or case (SSCC)"),
    "shipment": N_("Shipment"),
    "stamp": N_("Activated stamp"),
}


def _list_context(db: DB, principal: Caller) -> dict[str, Any]:
    recalls, total = service.list_recalls(db, principal, limit=100)
    return {
        "recalls": recalls,
        "total": total,
        "severity_labels": SEVERITY_LABELS,
        "severities": list(RecallSeverity),
        "values": {"severity": RecallSeverity.class_ii.value},
        "errors": {},
    }


@router.get(BASE, response_class=HTMLResponse)
def list_page(request: Request, db: DB, principal: Caller) -> Response:
    """The recalls the caller opened, oversees or received, and the form to open one."""
    return page(request, "recall/list.html", _list_context(db, principal))


@router.post(BASE, response_class=HTMLResponse)
async def open_recall(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Opens a recall (or a drill) from the form, then shows it."""
    values = form_values(await read_form(request, principal), *FIELDS)
    try:
        if not values["epc"]:
            raise invalid("epc", N_("Give the lot as a Digital Link or EPC URN"))
        severity = values["severity"] or RecallSeverity.class_ii.value
        if severity not in RecallSeverity.__members__:
            raise invalid("severity", N_("Choose a severity"))
        recall = service.open_recall(
            db,
            principal,
            service.RecallRequest(
                epc=values["epc"],
                reason=values["reason"] or "",
                severity=RecallSeverity(severity),
                drill=bool(values["drill"]),
            ),
        )
    except DomainError as exc:
        context = _list_context(db, principal)
        context["values"] = {k: v or "" for k, v in values.items()}
        context["errors"] = field_errors(exc, locale, FIELDS)
        return page(request, "recall/list.html", context, status_code=422)
    return redirect(f"{BASE}/{recall.id}")


@router.get(BASE + "/{recall_id}", response_class=HTMLResponse)
def detail_page(recall_id: uuid.UUID, request: Request, db: DB, principal: Caller) -> Response:
    """A recall: what it reaches, its recipients and their acknowledgements."""
    view = service.get_recall(db, principal, recall_id)
    writable = principal.writable_org_ids()
    pending = [r for r, _ in view.recipients if r.org_id in writable and not r.acknowledged_at]
    return page(
        request,
        "recall/detail.html",
        {
            "view": view,
            "recall": view.recall,
            "report": view.drill_report(),
            "can_acknowledge": bool(pending),
            "can_close": view.recall.state is RecallState.open
            and (
                can_write(principal, view.recall.org_id)
                or principal.oversees(org_province(db, view.recall.org_id))
            ),
            "severity_labels": SEVERITY_LABELS,
            "kind_labels": KIND_LABELS,
        },
    )


@router.post(BASE + "/{recall_id}/close", response_class=HTMLResponse)
async def close(recall_id: uuid.UUID, request: Request, db: DB, principal: Caller) -> Response:
    """Closes the recall: the banner goes away, the record stays."""
    await read_form(request, principal)
    service.close_recall(db, principal, recall_id)
    return redirect(f"{BASE}/{recall_id}", "saved")


def org_province(db: Session, org_id: uuid.UUID) -> str | None:
    """The province of an organization."""
    return db.scalar(select(Organization.province_code).where(Organization.id == org_id))


@router.post(BASE + "/{recall_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    recall_id: uuid.UUID, request: Request, db: DB, principal: Caller
) -> Response:
    """Records the caller's organization's acknowledgement."""
    values = form_values(await read_form(request, principal), "note")
    service.acknowledge(db, principal, recall_id, values["note"] or "")
    return redirect(f"{BASE}/{recall_id}", "saved")
