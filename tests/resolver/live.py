"""A throw-away database of each store and the real app serving it under uvicorn."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import browser
from tests.browser import free_port
from tests.conftest import _drop_postgres_database, _postgres_database
from truyxuat.config import Settings
from truyxuat.db import upgrade


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """A freshly migrated SQLite file or PostgreSQL database, dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'live.db'}"
        upgrade(url)
        yield url
        return
    name = f"truyxuat_test_{uuid.uuid4().hex[:12]}"
    url = _postgres_database(name)
    try:
        upgrade(url)
        yield url
    finally:
        _drop_postgres_database(name)


def free_base() -> str:
    """An address on a free local port."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def serving(settings: Settings, base: str) -> Iterator[str]:
    """Runs the app under uvicorn at `base` (whose port the settings already name)."""
    with browser.serving(settings, int(base.rsplit(":", 1)[1])) as url:
        yield url
