"""Several writers and several integrators at once, on a fresh database of each kind: every
committed entry gets exactly one leaf and the tree stays the RFC 9162 tree of the leaves."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import STORES, _drop_postgres_database, _postgres_database
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope, upgrade
from truyxuat.ledger import merkle, service
from truyxuat.ledger.models import LedgerEntry
from truyxuat.ledger.tiles import TileReader
from truyxuat.ledger.verify import verify_ledger

WRITERS, BATCHES, PER_BATCH = 4, 15, 40


@pytest.fixture(params=STORES)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own (the test commits)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concurrent.db'}"
        upgrade(url)
        yield url
        return
    name = f"truyxuat_ledger_{uuid.uuid4().hex[:10]}"
    url = _postgres_database(name)
    try:
        upgrade(url)
        yield url
    finally:
        _drop_postgres_database(name)


def test_concurrent_appends_and_integrators_give_each_entry_one_leaf(
    fresh_url: str, tmp_path: Path
) -> None:
    """Writers commit batches while two integrators run; nothing is lost or doubled."""
    engine = make_engine(fresh_url)
    factory = make_sessionmaker(engine)
    settings = Settings(database_url=fresh_url, secret_key="c", data_dir=tmp_path)
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for batch in range(BATCHES):
                with session_scope(factory) as db:
                    for n in range(PER_BATCH):
                        service.append(db, "test.entry", f"w{number} b{batch} n{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    def integrator() -> None:
        try:
            while not stop.is_set():
                with session_scope(factory) as db:
                    service.integrate(db, batch=100)
                    service.sign_checkpoint(db, settings)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    integrators = [threading.Thread(target=integrator) for _ in range(2)]
    for thread in [*writers, *integrators]:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in integrators:
        thread.join()
    assert not failures, failures
    with session_scope(factory) as db:
        service.integrate(db)
        service.sign_checkpoint(db, settings)
        rows = db.execute(
            select(
                LedgerEntry.leaf_index, LedgerEntry.salt, LedgerEntry.kind, LedgerEntry.payload
            ).order_by(LedgerEntry.leaf_index)
        ).all()
        total = WRITERS * BATCHES * PER_BATCH
        assert [r[0] for r in rows] == list(range(total))
        leaves = [service.entry_leaf_hash(bytes(s), k, p) for _, s, k, p in rows]
        assert TileReader(db, total).root() == merkle.root_hash(leaves)
        report = verify_ledger(db, settings)
        assert report.ok, report.problems
    engine.dispose()
