"""The demo's inspection: one violation remedied and verified (its code approved again), one
still open with a deadline; the Bắc Ninh inspector and the cooperative see them, others not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.demo import inspections as demo_inspections
from truyxuat.demo import load
from truyxuat.oversight.models import Inspection, Violation, ViolationState
from truyxuat.oversight.service import inspections as service
from truyxuat.registry.models import CodeStatus, GrowingArea, Organization


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: the demo creates two dozen logins."""
    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


def org(db: Session, code: str) -> Organization:
    found = db.scalar(select(Organization).where(Organization.code == code))
    assert found is not None
    return found


def test_the_demo_has_a_verified_and_an_open_violation(
    client: TestClient, db: Session, settings: Settings
) -> None:
    summary = load(db, settings=settings)
    assert "1 inspections" in summary and "2 violations" in summary
    inspection = db.scalars(select(Inspection)).one()
    violations = {v.state: v for v in db.scalars(select(Violation))}
    assert set(violations) == {ViolationState.verified, ViolationState.open}
    verified, still_open = violations[ViolationState.verified], violations[ViolationState.open]
    assert verified.remedy and verified.suspends_id is not None
    area = db.get(GrowingArea, verified.suspends_id)
    assert area is not None and area.code == demo_inspections.AREA_CODE
    assert area.status is CodeStatus.approved
    assert still_open.deadline is not None and still_open.deadline > service.today()
    assert still_open.suspends_type is None

    inspector = api_headers(db, org(db, "SNNMT-BN"), Role.inspector)
    listed = client.get("/api/v1/oversight/violations?state=open", headers=inspector).json()
    assert [v["id"] for v in listed["items"]] == [str(still_open.id)]
    cooperative = api_headers(db, org(db, demo_inspections.ORG_CODE), Role.org_staff)
    assert (
        client.get(
            f"/api/v1/oversight/inspections/{inspection.id}", headers=cooperative
        ).status_code
        == 200
    )
    for code in ("SNNMT-CM", "HTX-VT-NAMDUONG"):
        other = api_headers(
            db, org(db, code), Role.authority if code == "SNNMT-CM" else Role.org_admin
        )
        assert (
            client.get(f"/api/v1/oversight/inspections/{inspection.id}", headers=other).status_code
            == 404
        )
