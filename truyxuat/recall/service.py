"""Recall service: open a recall, compute what it reaches, notify, acknowledge; and the public
banner lookup a passport makes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.recall.models import Recall, RecallItem, RecallItemKind, RecallState
from truyxuat.registry.models import Organization

# Items that carry the banner on a passport: the lots and serialized items reached.
_BANNER_KINDS = (RecallItemKind.lot.value, RecallItemKind.item.value)


@dataclass(frozen=True)
class RecallNotice:
    """What a passport shows about a live recall of its lot (public: no tenant data)."""

    recall_id: uuid.UUID
    reason: str
    severity: str
    opened_at: datetime
    opened_by: str
    state: str


def recall_notice(db: Session, gtin: str, lot: str | None) -> RecallNotice | None:
    """The newest open, non-drill recall reaching this GTIN and lot, or None.

    With no lot (a passport of a product, or a stamp printed without one), any recalled lot of
    the GTIN raises the banner: the consumer cannot tell the lots apart.
    """
    query = (
        select(Recall, Organization.name)
        .join(RecallItem, RecallItem.recall_id == Recall.id)
        .join(Organization, Organization.id == Recall.org_id)
        .where(
            RecallItem.gtin == gtin,
            RecallItem.kind.in_(_BANNER_KINDS),
            Recall.state == RecallState.open,
            Recall.drill.is_(False),
        )
        .order_by(Recall.opened_at.desc())
        .limit(1)
    )
    if lot is not None:
        query = query.where(RecallItem.lot == lot)
    found = db.execute(query).first()
    if found is None:
        return None
    recall, org_name = found
    return RecallNotice(
        recall_id=recall.id,
        reason=recall.reason,
        severity=recall.severity.value,
        opened_at=recall.opened_at,
        opened_by=org_name,
        state=recall.state.value,
    )
