"""Per-client rate limits on the public endpoints: consumer scans of the resolver and the
passport's forms (PIN check, fake report, photo, place of a scan).

A token bucket per client address and rule, kept in the serving process (each worker limits
on its own; a limit of N per second with W workers lets up to N×W through, which still stops
a storm from one address). A storm from one client gets 429 problems with `Retry-After` while
every other client, and every signed-in tenant's API call, is served as usual. Sign-in and
wrong PINs have their own limits in the database (they must hold across processes).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
# A compressed Digital Link of a GTIN (see resolver.pages.CompressedLink).
_COMPRESSED = re.compile(r"^/A[Q-Za-f][A-Za-z0-9_-]{8,}$")
_PUBLIC_FORMS = ("/passport/pin", "/passport/report", "/passport/photo", "/passport/scans/")
# Buckets idle this long are full again: forgetting them loses nothing.
_IDLE_SECONDS = 300.0
_MAX_CLIENTS = 100_000


@dataclass
class Bucket:
    """A token bucket: `rate` tokens a second up to `burst`; one request takes one token."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Takes a token; returns 0 when allowed, else the seconds until one is free."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limiter:
    """The buckets of one rule, by client address."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def wait(self, client: str) -> float:
        """0 when the client may go on, else how many seconds it should wait."""
        now = self.clock()
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= _MAX_CLIENTS:
                self._forget_idle(now)
            bucket = self.buckets[client] = Bucket(self.rate, self.burst, self.burst, now)
        return bucket.take(now)

    def _forget_idle(self, now: float) -> None:
        """Drops the buckets of clients quiet long enough to be full again."""
        for client in [c for c, b in self.buckets.items() if now - b.updated > _IDLE_SECONDS]:
            del self.buckets[client]
        if len(self.buckets) >= _MAX_CLIENTS:  # a storm of distinct addresses: start afresh
            self.buckets.clear()


def rule_of(method: str, path: str) -> str | None:
    """Which limit a request falls under: "scan", "form" or None (not limited here)."""
    if method in ("GET", "HEAD") and (path.startswith("/01/") or _COMPRESSED.match(path)):
        return "scan"
    if method == "POST" and path.startswith(_PUBLIC_FORMS):
        return "form"
    return None


class RateLimit:
    """ASGI middleware applying the scan and public-form limits by client address."""

    def __init__(self, app: ASGIApp, *, limiters: dict[str, Limiter]) -> None:
        self.app = app
        self.limiters = limiters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answers 429 to a client over its limit, passes everything else on."""
        if scope["type"] == "http":
            rule = rule_of(scope["method"], scope["path"])
            limiter = self.limiters.get(rule) if rule else None
            if limiter is not None:
                client = scope.get("client")
                wait = limiter.wait(client[0] if client else "unknown")
                if wait > 0:
                    await _too_many(scope, send, wait)
                    return
        await self.app(scope, receive, send)


async def _too_many(scope: Scope, send: Send, wait: float) -> None:
    """A 429 problem saying when to come back (the same shape as every other problem)."""
    body = json.dumps(
        {
            "type": "/problems/too-many-requests",
            "title": "Too many requests",
            "status": 429,
            "detail": "Too many requests from your address; try again in a moment.",
            "instance": scope["path"],
        }
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(max(1, math.ceil(wait))).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def limiters(
    scan_per_second: float, scan_burst: int, form_per_minute: float, form_burst: int
) -> dict[str, Limiter]:
    """The limiters of the configured rules (a rate of 0 turns a rule off)."""
    found: dict[str, Limiter] = {}
    if scan_per_second > 0:
        found["scan"] = Limiter(scan_per_second, max(1, scan_burst))
    if form_per_minute > 0:
        found["form"] = Limiter(form_per_minute / 60, max(1, form_burst))
    return found
