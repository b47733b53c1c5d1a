"""Reports of suspected fakes as JSON, for the producer's and the authority's own systems."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from truyxuat.auth.deps import DB, Caller
from truyxuat.resolver import authenticity

router = APIRouter(tags=["resolver"])


class FakeReportOut(BaseModel):
    """One consumer's report of a suspected fake."""

    id: uuid.UUID
    org_id: uuid.UUID
    producer: str
    province_code: str | None
    gtin: str
    lot: str | None
    serial: str | None
    reasons: list[str]
    where_bought: str
    message: str
    created_at: datetime


@router.get("/fake-reports", response_model=list[FakeReportOut])
def fake_reports(
    db: DB,
    principal: Caller,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[FakeReportOut]:
    """Reports about the caller's products, or made in the provinces it oversees, newest first."""
    return [
        FakeReportOut(
            id=report.id,
            org_id=report.org_id,
            producer=producer,
            province_code=report.province_code,
            gtin=report.gtin,
            lot=report.lot,
            serial=report.serial,
            reasons=[r for r in report.reasons.split(",") if r],
            where_bought=report.where_bought,
            message=report.message,
            created_at=report.created_at,
        )
        for report, producer in authenticity.list_reports(db, principal, limit=limit, offset=offset)
    ]
