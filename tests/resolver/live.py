"""A throw-away database of each store and the real app serving it under uvicorn."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import _drop_postgres_database, _postgres_database
from tests.web.test_browser import _free_port
from truyxuat.app import create_app
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
    return f"http://127.0.0.1:{_free_port()}"


@contextmanager
def serving(settings: Settings, base: str) -> Iterator[str]:
    """Runs the app under uvicorn at `base` until the block ends."""
    port = int(base.rsplit(":", 1)[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
