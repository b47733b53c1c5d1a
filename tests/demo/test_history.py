"""The demo's delivery history, captured on both stores: every weekly lot is made, shipped
and received in the same quantity (no imbalance, nothing left in transit), it loads once,
and its beer history is seasonal enough for a seasonal model to beat the naive forecast."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from truyxuat.auth import service as auth_service
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.demo import history, load
from truyxuat.demo import journeys as j
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.models import EpcisEvent
from truyxuat.oversight import forecasting
from truyxuat.oversight.models import Alert, AlertSeverity
from truyxuat.oversight.service import alerts
from truyxuat.resolver.models import Scan

SCHEMA = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: the demo creates two dozen logins."""
    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


def test_every_weekly_lot_is_made_shipped_and_received_in_full() -> None:
    book = history.weekly_events(date(2026, 11, 23), weeks=10)
    amounts: dict[str, dict[str, float]] = defaultdict(dict)
    for events in book.values():
        for event in events:
            (line,) = event["quantityList"]  # type: ignore[misc]
            step = str(event["bizStep"])
            amounts[line["epcClass"]][step] = line["quantity"]
    assert len(amounts) == 10 * len(history.LINES)
    for lot, steps in amounts.items():
        assert set(steps) == {"commissioning", "shipping", "receiving"}, lot
        assert len(set(steps.values())) == 1, lot


def test_history_loads_once_after_the_demo(db: Session, settings: Settings) -> None:
    load(db, settings=settings)
    validator = epcis_service.validator_for(SCHEMA)
    assert not history.is_loaded(db)
    count = history.load_history(db, validator, today=date(2026, 12, 4), weeks=60)
    assert count == 60 * len(history.LINES) * 3
    assert history.is_loaded(db)
    newest = db.scalar(select(func.max(EpcisEvent.event_time)))
    assert newest is not None and newest.date() < date(2026, 11, 30)  # up to last full week


def test_consumer_scans_leave_the_tour_stamp_alone_and_show_one_copied_stamp(
    db: Session, settings: Settings
) -> None:
    load(db, settings=settings)
    now = utcnow()
    assert history.load_scans(db, now=now) > 50
    squid = j.OCOP_SQUID_STAMPS
    tour = db.scalar(select(func.count()).where(Scan.serial == squid.active_serials[0]))
    assert tour == 0  # `demo urls` calls it genuine: its first scan is the visitor's
    alerts.run_rules(db, now=now)
    copied = db.scalars(
        select(Alert).where(Alert.rule == "copied_stamp", Alert.severity == AlertSeverity.critical)
    ).all()
    assert [a.dedup_key.split(":")[0] for a in copied] == [
        f"{squid.gtin}/{squid.active_serials[1]}"
    ]


def test_the_beer_history_is_seasonal_enough_to_beat_naive() -> None:
    book = history.weekly_events(date(2026, 11, 23))
    beer = j.GTIN["BEER-LAGER-330"]
    weekly = [
        float(e["quantityList"][0]["quantity"])  # type: ignore[index]
        for e in book["SONGHONG-BREWERY"]
        if e["bizStep"] == "shipping" and beer in str(e["quantityList"])
    ]
    assert len(weekly) == history.WEEKS
    result = forecasting.backtest(weekly)
    assert result is not None and result.beats_naive
    assert result.spec.season == 52, result.spec
