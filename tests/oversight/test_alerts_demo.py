"""The rules on the demo data: the shrimp chain's reefer excursion (−14.5 °C against a −18 °C
limit) raises its alert for Đất Mũi's Cà Mau authority, and every rule runs on real data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.config import Settings
from truyxuat.demo import journeys, load
from truyxuat.oversight.models import Alert
from truyxuat.oversight.service import alerts as service


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: the demo creates two dozen logins."""
    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


def test_the_demo_shrimp_excursion_raises_a_cold_chain_alert(
    db: Session, settings: Settings
) -> None:
    load(db, if_empty=True, settings=settings)
    summary = service.run_rules(db, settings=settings)
    assert set(summary.by_rule) == set(service.RULE_LABELS)
    # The milk distributor unpacks the pallets it received before shipping their lots on.
    assert summary.by_rule["mass_imbalance"] == 0
    excursions = list(db.scalars(select(Alert).where(Alert.rule == "temperature_excursion")))
    assert excursions, summary
    assert {a.params["identifier"] for a in excursions} <= set(journeys.SHRIMP_PALLETS)
    assert all(a.params["value"] == journeys.SHRIMP_EXCURSION_MAX_CEL for a in excursions)
    assert {a.province_code for a in excursions} == {"96"}
    assert service.run_rules(db, settings=settings).created == 0
