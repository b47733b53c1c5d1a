"""Upstream requests are retried on 5xx, 429, timeouts and refused connections with exponential
backoff and full jitter, and give up after the configured number of tries (a loopback HTTP
server plays the failing upstream)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.ops.conftest import free_port
from truyxuat.config import Settings
from truyxuat.federation import sender


class Upstream:
    """Answers each POST with the next status of `statuses` (then 200), or hangs on 0."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.calls = 0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.calls += 1
                status = upstream.statuses.pop(0) if upstream.statuses else 200
                if status == 0:
                    time.sleep(1)
                    status = 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/federation/v1/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def settings() -> Settings:
    return Settings(sync_max_attempts=5, sync_backoff_seconds=0.2, sync_timeout_seconds=0.3)


def _post(settings: Settings, url: str, delays: list[float]) -> httpx.Response:
    with httpx.Client() as http:
        return sender.post(http, settings, url, b"{}", idempotency_key="k", sleep=delays.append)


def test_5xx_429_and_timeouts_are_retried_with_jittered_exponential_backoff(
    settings: Settings,
) -> None:
    upstream = Upstream([500, 503, 429, 0])
    try:
        delays: list[float] = []
        response = _post(settings, upstream.url, delays)
        assert response.status_code == 200 and upstream.calls == 5
        assert len(delays) == 4
        assert all(0 <= d <= 0.2 * 2**n for n, d in enumerate(delays))
    finally:
        upstream.close()


def test_a_client_error_is_not_retried(settings: Settings) -> None:
    upstream = Upstream([422])
    try:
        delays: list[float] = []
        assert _post(settings, upstream.url, delays).status_code == 422
        assert upstream.calls == 1 and delays == []
    finally:
        upstream.close()


def test_an_unreachable_upstream_gives_up_after_the_last_try(settings: Settings) -> None:
    delays: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/federation/v1/events"
    with pytest.raises(sender.SyncError, match="after 5 tries"):
        _post(settings, url, delays)
    assert len(delays) == 4


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    yield
