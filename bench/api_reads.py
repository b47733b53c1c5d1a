"""API reads: GET one organization with an API key, per second, through the real HTTP stack,
against the ceiling of the same server's /healthz (a hello-world endpoint with one SELECT 1)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.common import fresh_database, rate, report
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.registry.models import Organization, OrgKind

REQUESTS = 1500
CLIENTS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hammer(url: str, headers: dict[str, str]) -> int:
    def worker(n: int) -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            for _ in range(n):
                client.get(url).raise_for_status()

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(worker, [REQUESTS // CLIENTS] * CLIENTS))
    return (REQUESTS // CLIENTS) * CLIENTS


def main() -> None:
    """Measures API reads against /healthz on SQLite and PostgreSQL."""
    for kind in ("sqlite", "postgresql"):
        _measure(kind)


def _measure(kind: str) -> None:
    if True:
        with fresh_database(kind) as url:
            factory = make_sessionmaker(make_engine(url))
            with session_scope(factory) as session:
                org = Organization(
                    code="BENCH", kind=OrgKind.enterprise, name="Bench", province_code="24"
                )
                session.add(org)
                session.flush()
                _, key = auth_service.create_api_key(session, org=org, role=Role.org_staff)
                org_id = org.id
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "truyxuat", "serve", "--port", str(port)],
                env={
                    "TRUYXUAT_DATABASE_URL": url,
                    "TRUYXUAT_SECRET_KEY": "bench",
                    "PATH": "/usr/bin:/bin",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                for _ in range(100):
                    try:
                        httpx.get(f"{base}/healthz", timeout=1)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                headers = {"Authorization": f"Bearer {key}"}
                ceiling = rate(lambda: _hammer(f"{base}/healthz", {}))
                figure = rate(lambda: _hammer(f"{base}/api/v1/organizations/{org_id}", headers))
                report(f"API GET organization [{kind}]", figure, "req/s", ceiling, "/healthz")
            finally:
                server.terminate()
                server.wait(10)
