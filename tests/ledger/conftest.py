"""Shared helpers of the ledger tests: stored events that the ledger logs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import make_org
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.epcis.service import store_events
from truyxuat.ledger import service


def make_event(n: int) -> dict[str, Any]:
    """A valid ObjectEvent observing one SGTIN, distinct for each n."""
    return {
        "type": "ObjectEvent",
        "eventTime": f"2026-11-20T{n // 60 % 24:02d}:{n % 60:02d}:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{n}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    }


def capture(db: Session, settings: Settings, count: int, first: int = 0) -> None:
    """Stores `count` events of a new organization, integrates them and signs a checkpoint."""
    org = make_org(db)
    events = [make_event(n) for n in range(first, first + count)]
    store_events(db, org.id, events, record_time=utcnow(), capture_id=None)
    service.integrate(db)
    service.sign_checkpoint(db, settings)
    db.flush()
