"""Shared benchmark plumbing: fresh databases of each kind, timing, result lines."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from truyxuat.db import upgrade

PG_URL = os.environ.get(
    "TRUYXUAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """Yields the URL of a new migrated database ("sqlite" or "postgresql"), dropped after."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    name = f"truyxuat_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rate(fn: Callable[[], int]) -> float:
    """Runs fn (which returns how many operations it did) and returns operations per second."""
    start = time.perf_counter()
    count = fn()
    return count / (time.perf_counter() - start)


def report(name: str, figure: float, unit: str, ceiling: float, ceiling_name: str) -> None:
    """Prints one benchmark line with its ratio to the machine's ceiling."""
    print(
        f"{name}: {figure:,.0f} {unit}  | ceiling ({ceiling_name}): {ceiling:,.0f} {unit}"
        f"  | ratio {figure / ceiling:.2f}"
    )
