"""The scan log's pure parts and its grouped writer under concurrent submissions."""

from __future__ import annotations

import threading
from concurrent.futures import Future, wait
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from tests.conftest import STORES
from tests.resolver.live import fresh_database
from truyxuat.db import make_engine, make_sessionmaker
from truyxuat.resolver import scans
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import Scan

HANOI = (21.0285, 105.8542)
SAIGON = (10.7769, 106.7009)


def test_distance_and_coarse_places() -> None:
    assert 1130 < scans.distance_km(HANOI, SAIGON) < 1150
    assert scans.distance_km(HANOI, HANOI) == 0
    assert (scans.coarse(HANOI[0]), scans.coarse(HANOI[1])) == (21.0, 105.9)


@pytest.mark.parametrize("kind", STORES)
def test_concurrent_scans_are_all_written_in_fewer_transactions(tmp_path: Path, kind: str) -> None:
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        commits: list[int] = []
        event.listen(engine, "commit", lambda _conn: commits.append(1))
        writer = scans.ScanWriter(make_sessionmaker(engine))
        key = ItemKey("08930000000002", "L1", None)

        written: list[Future[None]] = []

        def visit() -> None:
            for _ in range(25):
                written.append(writer.submit(scans.new(key, "L1", "test", "vi")))

        threads = [threading.Thread(target=visit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait(written, timeout=30)
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Scan)) == 200
        assert 1 <= len(commits) <= 200
        engine.dispose()
