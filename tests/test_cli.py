"""The command line, run as a real process against a real database file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from truyxuat.db import make_engine, make_sessionmaker, session_scope, upgrade
from truyxuat.registry.models import Organization, OrgKind


def _run(args: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "truyxuat", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,  # type: ignore[call-overload]
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing the CLI at a fresh SQLite file."""
    return {
        **os.environ,
        "TRUYXUAT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "TRUYXUAT_DATA_DIR": str(tmp_path / "data"),
        "TRUYXUAT_SECRET_KEY": "cli-test",
    }


def test_help_lists_the_commands(cli_env: dict[str, str]) -> None:
    result = _run(["--help"], cli_env)
    assert result.returncode == 0
    for command in ("db", "demo", "serve", "apikey", "user"):
        assert command in result.stdout


def test_db_upgrade_then_apikey_create_prints_a_working_key(cli_env: dict[str, str]) -> None:
    assert _run(["db", "upgrade"], cli_env).returncode == 0
    url = cli_env["TRUYXUAT_DATABASE_URL"]
    with session_scope(make_sessionmaker(make_engine(url))) as session:
        session.add(
            Organization(
                code="CTY-A", kind=OrgKind.enterprise, name="Công ty A", province_code="24"
            )
        )
    result = _run(["apikey", "create", "--org", "CTY-A", "--role", "org_admin"], cli_env)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("tx_")
    unknown = _run(["apikey", "create", "--org", "NOPE", "--role", "org_admin"], cli_env)
    assert unknown.returncode == 2
    assert "NOPE" in unknown.stderr


def test_apikey_create_refuses_authority_role_for_an_enterprise(cli_env: dict[str, str]) -> None:
    url = cli_env["TRUYXUAT_DATABASE_URL"]
    upgrade(url)
    with session_scope(make_sessionmaker(make_engine(url))) as session:
        session.add(
            Organization(
                code="CTY-B", kind=OrgKind.enterprise, name="Công ty B", province_code="24"
            )
        )
    result = _run(["apikey", "create", "--org", "CTY-B", "--role", "authority"], cli_env)
    assert result.returncode == 2
    assert "authority" in result.stderr


def test_serve_answers_healthz(cli_env: dict[str, str]) -> None:
    upgrade(cli_env["TRUYXUAT_DATABASE_URL"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "truyxuat", "serve", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert response.status_code == 200
    finally:
        server.terminate()
        server.wait(10)
