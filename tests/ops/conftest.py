"""Fixtures for operating a node as its operator would: real processes, real files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SHARED_DATA, STORES, _drop_postgres_database, _postgres_database
from truyxuat.db import upgrade


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs `truyxuat ARGS` as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "truyxuat", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(params=STORES)
def node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a node with its own freshly migrated database and data folder."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'node.db'}"
        name = None
    else:
        name = f"truyxuat_backup_{uuid.uuid4().hex[:10]}"
        url = _postgres_database(name)
    upgrade(url)
    yield {
        **os.environ,
        "TRUYXUAT_DATABASE_URL": url,
        "TRUYXUAT_DATA_DIR": str(tmp_path / "data"),
        "TRUYXUAT_SECRET_KEY": "ops-test",
        "TRUYXUAT_DEFAULT_LOCALE": "en",
        "TRUYXUAT_EPCIS_SCHEMA": str(SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"),
    }
    if name is not None:
        _drop_postgres_database(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Starts `truyxuat serve` on a free port and waits until it answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "truyxuat", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return server, base
        except httpx.HTTPError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the server did not start")
