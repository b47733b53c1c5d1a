"""Two issue commands at once on PostgreSQL (committed for real in a throwaway database):
the database refuses duplicate serials and the loser regenerates its clashing ones."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import STORES, _drop_postgres_database, _postgres_database
from tests.factories import make_org, make_product
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope, upgrade
from truyxuat.stamps import codes, service
from truyxuat.stamps.models import Stamp
from truyxuat.stamps.schemas import StampRunIn

pytestmark = pytest.mark.skipif("postgresql" not in STORES, reason="PostgreSQL not tested")
SPACE = [f"S{i:03d}" for i in range(1000)]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, dropped after the test."""
    name = f"truyxuat_test_{uuid.uuid4().hex[:12]}"
    url = _postgres_database(name)
    try:
        upgrade(url)
        yield url
    finally:
        _drop_postgres_database(name)


def _tiny_serials(count: int, taken: Iterable[str] = ()) -> list[str]:
    """Serials from a space of 1000, so two runs of 300 are sure to clash."""
    free = [s for s in SPACE if s not in set(taken)]
    return random.sample(free, count)


def test_two_concurrent_issues_never_share_a_serial(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codes, "unique_serials", _tiny_serials)
    clashes: list[int] = []
    existing = service._existing_serials

    def spy(session: Session, gtin: str, serials: list[str]) -> set[str]:
        found = existing(session, gtin, serials)
        clashes.append(len(found))
        return found

    monkeypatch.setattr(service, "_existing_serials", spy)
    factory = make_sessionmaker(make_engine(pg_url))
    with session_scope(factory) as session:
        org = make_org(session)
        gtin = make_product(session, org).gtin
    principal = Principal(label="t", grants=(Grant(org.id, Role.org_admin, org.province_code),))
    settings = Settings(database_url=pg_url, secret_key="s")
    first_written = threading.Event()
    errors: list[BaseException] = []

    def issue(first: bool) -> None:
        try:
            if not first:
                first_written.wait(10)
            with session_scope(factory) as session:
                service.issue_run(session, principal, StampRunIn(gtin=gtin, count=300), settings)
                if first:
                    # Hold the uncommitted rows while the other run inserts into the same keys.
                    first_written.set()
                    time.sleep(0.5)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            first_written.set()

    threads = [threading.Thread(target=issue, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with Session(make_engine(pg_url)) as session:
        total = session.scalar(select(func.count()).select_from(Stamp).where(Stamp.gtin == gtin))
        distinct = session.scalar(
            select(func.count(func.distinct(Stamp.serial))).where(Stamp.gtin == gtin)
        )
        runs = session.scalar(select(func.count(func.distinct(Stamp.run_id))))
    assert total == distinct == 600 and runs == 2
    assert clashes and clashes[0] > 0  # the second run really collided, then retried
