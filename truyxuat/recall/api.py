"""Recall API: open (or drill), list, read, acknowledge, close."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from truyxuat.auth.deps import DB, Caller
from truyxuat.recall import service
from truyxuat.recall.models import Recall, RecallSeverity
from truyxuat.registry.schemas.common import MAX_OFFSET

router = APIRouter(tags=["recalls"])


class RecallIn(BaseModel):
    """Opening a recall: the lot (GS1 Digital Link or EPC URN), the reason, the severity."""

    epc: str = Field(min_length=1, max_length=1024)
    reason: str = Field(min_length=1, max_length=4000)
    severity: RecallSeverity = RecallSeverity.class_ii
    drill: bool = False


class AcknowledgeIn(BaseModel):
    """A recipient's acknowledgement, with an optional note (what it did)."""

    note: str = Field(default="", max_length=4000)


class RecallOut(BaseModel):
    """A recall's header."""

    id: uuid.UUID
    org_id: uuid.UUID
    epc: str
    gtin: str | None
    lot: str | None
    reason: str
    severity: RecallSeverity
    state: str
    drill: bool
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    compute_ms: float | None
    summary: dict[str, Any]


class RecallPage(BaseModel):
    """A page of recalls."""

    items: list[RecallOut]
    total: int


def _out(recall: Recall) -> RecallOut:
    return RecallOut.model_validate(recall, from_attributes=True)


def view_json(view: service.RecallView) -> dict[str, Any]:
    """A recall with what the caller may see of its items, recipients and notifications."""
    return {
        **_out(view.recall).model_dump(mode="json"),
        "openedByOrg": view.opener_name,
        "full": view.full,
        "items": [
            {
                "kind": i.kind.value,
                "ref": i.ref,
                "gtin": i.gtin,
                "lot": i.lot,
                "orgId": str(i.org_id) if i.org_id else None,
                "depth": i.depth,
            }
            for i in view.items
        ],
        "recipients": [
            {
                "orgId": str(r.org_id),
                "name": name,
                "notifiedAt": r.notified_at.isoformat() if r.notified_at else None,
                "acknowledgedAt": r.acknowledged_at.isoformat() if r.acknowledged_at else None,
                "acknowledgedBy": r.acknowledged_by,
                "note": r.note,
            }
            for r, name in view.recipients
        ],
        "notifications": [
            {
                "channel": n.channel.value,
                "target": n.target,
                "state": n.state.value,
                "createdAt": n.created_at.isoformat(),
            }
            for n in view.notifications
        ],
        "drillReport": view.drill_report(),
    }


@router.post("/recalls", status_code=201)
def open_recall(body: RecallIn, db: DB, principal: Caller) -> dict[str, Any]:
    """Opens a recall (or a mock-recall drill) on a lot; answers with everything it reaches."""
    recall = service.open_recall(
        db,
        principal,
        service.RecallRequest(
            epc=body.epc, reason=body.reason, severity=body.severity, drill=body.drill
        ),
    )
    return view_json(service.get_recall(db, principal, recall.id))


@router.get("/recalls", response_model=RecallPage)
def list_recalls(
    db: DB,
    principal: Caller,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecallPage:
    """Recalls the caller opened or oversees, and those addressed to its organizations."""
    rows, total = service.list_recalls(db, principal, offset=offset, limit=limit)
    return RecallPage(items=[_out(r) for r in rows], total=total)


@router.get("/recalls/{recall_id}")
def get_recall(recall_id: uuid.UUID, db: DB, principal: Caller) -> dict[str, Any]:
    """One recall: whole for its opener and authorities, a recipient's own part otherwise."""
    return view_json(service.get_recall(db, principal, recall_id))


@router.post("/recalls/{recall_id}/acknowledge")
def acknowledge(
    recall_id: uuid.UUID, body: AcknowledgeIn, db: DB, principal: Caller
) -> dict[str, Any]:
    """Records the caller's organization's acknowledgement (idempotent)."""
    service.acknowledge(db, principal, recall_id, body.note)
    return view_json(service.get_recall(db, principal, recall_id))


@router.post("/recalls/{recall_id}/close", response_model=RecallOut)
def close_recall(recall_id: uuid.UUID, db: DB, principal: Caller) -> RecallOut:
    """Closes a recall: the banner goes away, the record stays."""
    return _out(service.close_recall(db, principal, recall_id))
