"""Builds the FastAPI app: the store, error handling, and each domain's API router and pages."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truyxuat import __version__
from truyxuat.auth.deps import DB
from truyxuat.config import Settings, get_settings
from truyxuat.db import (
    THREADS,
    in_memory,
    loop_engine,
    make_engine,
    make_sessionmaker,
    reader_engine,
)
from truyxuat.resolver.items import ItemReader
from truyxuat.web import problems
from truyxuat.web.ratelimit import RateLimit, limiters

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
# Pages load only our own scripts and styles; htmx injects a small inline style.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}
HSTS = "max-age=31536000; includeSubDomains"
"""Sent only over HTTPS: a plain-HTTP development server must not pin browsers to TLS."""
# The shop widget under /embed/ alone may be framed by any site (and sends no X-Frame-Options).
EMBED_HEADERS = {
    **{k: v for k, v in SECURITY_HEADERS.items() if k != "X-Frame-Options"},
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors *"
    ),
}


_SECURITY_RAW = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_EMBED_RAW = [(k.lower().encode(), v.encode()) for k, v in EMBED_HEADERS.items()]
_HSTS_RAW = (b"strict-transport-security", HSTS.encode())


class SecurityHeaders:
    """Adds browser hardening headers to every response (headers a route set itself win).

    A plain ASGI middleware rather than `@app.middleware("http")`: Starlette's
    BaseHTTPMiddleware streams every response through an extra task and queue, which cost a
    third of the throughput of the resolver's small answers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Passes the request on and amends the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _EMBED_RAW if scope["path"].startswith("/embed/") else _SECURITY_RAW
        # Behind TLS, directly or through a proxy (uvicorn's proxy_headers sets the scheme).
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in extra if n not in present]
                if https and _HSTS_RAW[0] not in present:
                    headers.append(_HSTS_RAW)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Creates the web app; tests pass their own session factory (bound to a test database)."""
    settings = settings or get_settings()
    loop_sessions = session_factory
    item_reader = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_sessionmaker(engine)
        loop_sessions = session_factory
        item_reader = ItemReader(engine=engine)
        if not in_memory(settings.database_url):  # a second engine would see another memory
            loop_sessions = make_sessionmaker(loop_engine(settings.database_url))
            item_reader = ItemReader(engine=reader_engine(settings.database_url))
    app = FastAPI(
        title="truyxuat",
        version=__version__,
        description=(
            "Open traceability platform for Viet Nam: registry, GS1 EPCIS 2.0 events, "
            "QR stamps, GS1 Digital Link resolver and a verifiable log."
        ),
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        responses=problems.PROBLEM_RESPONSES,
    )
    app.state.settings = settings
    app.state.sessionmaker = session_factory
    # For routes that read in the event loop (the resolver): see truyxuat.db.loop_engine.
    app.state.loop_sessionmaker = loop_sessions
    # The per-scan read of an item's stamp and scans (the resolver's, in the loop as well).
    app.state.item_reader = item_reader or ItemReader(sessions=loop_sessions)
    problems.install(app)

    app.add_middleware(SecurityHeaders)
    # Added last, so it runs first: a storm is refused before any other work is done for it.
    app.add_middleware(
        RateLimit,
        limiters=limiters(
            settings.scan_rate_per_second,
            settings.scan_rate_burst,
            settings.public_form_rate_per_minute,
            settings.public_form_rate_burst,
        ),
    )

    from truyxuat.resolver.pages import resolve

    # Every consumer scan is a `/01/...` link: matched before any other route, and not
    # through an included router (FastAPI matches those twice, route by route).
    app.add_api_route("/01/{rest:path}", resolve, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["ops"])
    def healthz(db: DB) -> JSONResponse:
        """Answers 200 when the app and its database respond."""
        db.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "version": __version__})

    from truyxuat.auth.api import router as auth_router
    from truyxuat.auth.pages import router as auth_pages
    from truyxuat.diary.pages import router as diary_pages
    from truyxuat.epcis.api import router as epcis_router
    from truyxuat.registry.api import router as registry_router
    from truyxuat.registry.pages import router as registry_pages
    from truyxuat.stamps.api import router as stamps_router
    from truyxuat.stamps.pages import router as stamps_pages

    # The resolver answers most requests (every consumer scan): its routes are matched first.
    _mount_resolver(app)
    app.include_router(auth_router, prefix="/api/v1")
    app.include_router(registry_router, prefix="/api/v1")
    app.include_router(stamps_router, prefix="/api/v1")
    from truyxuat.webhooks.api import router as webhooks_router

    app.include_router(webhooks_router, prefix="/api/v1")
    app.include_router(epcis_router, prefix="/epcis")
    app.include_router(auth_pages)
    app.include_router(registry_pages)
    app.include_router(stamps_pages)
    app.include_router(diary_pages)
    from truyxuat.ledger.api import install as install_ledger

    install_ledger(app)
    from truyxuat.federation.api import install as install_federation

    install_federation(app)
    _mount_trace(app)
    _mount_oversight(app)
    _bound_thread_pool(app)
    return app


def _bound_thread_pool(app: FastAPI) -> None:
    """Runs plain routes in at most THREADS threads, fewer than the database connections
    (see truyxuat.db); the limiter belongs to the event loop, so it is set as the app starts.
    As the app stops, the item reader gives back the connection it keeps."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        to_thread.current_default_thread_limiter().total_tokens = THREADS
        try:
            async with inner(application) as state:
                yield state
        finally:
            await app.state.item_reader.aclose()

    app.router.lifespan_context = lifespan


def freeze_long_lived() -> None:
    """Moves what a built app holds (routes, schemas, validators, catalogs) out of the
    collector's reach: it lives as long as the process, and full collections that walk it
    stall every request in flight (the resolver's p99). Only for served processes: tests build
    thousands of apps, whose frozen leftovers would never be freed."""
    gc.collect()
    gc.freeze()


# How long a thread may keep the interpreter while another waits (CPython's default is 5 ms).
# The event loop gives it up at every socket call and must then wait for it: behind a capture
# being validated in the thread pool, 5 ms at each of a request's calls made the scans' p99.
SWITCH_INTERVAL = 0.0005


def prepare_served_process() -> None:
    """What a worker process does once its app is built (and only a served one)."""
    freeze_long_lived()
    sys.setswitchinterval(SWITCH_INTERVAL)


def create_served_app() -> FastAPI:
    """The app as `truyxuat serve` runs it in each worker process."""
    app = create_app()
    prepare_served_process()
    return app


def _mount_oversight(app: FastAPI) -> None:
    """The authority dashboard, inspections, early-warning alerts and forecasts."""
    from truyxuat.oversight.api import router as oversight_api
    from truyxuat.oversight.pages import router as oversight_pages

    app.include_router(oversight_api, prefix="/api/v1")
    app.include_router(oversight_pages)


def _mount_resolver(app: FastAPI) -> None:
    """The GS1 Digital Link resolver at the site root, the passport and the shop widget."""
    from truyxuat.resolver.api import router as resolver_api
    from truyxuat.resolver.embed import router as resolver_embed
    from truyxuat.resolver.pages import router as resolver_pages

    app.include_router(resolver_api, prefix="/api/v1")
    app.include_router(resolver_pages)
    app.include_router(resolver_embed)


def _mount_trace(app: FastAPI) -> None:
    """Trace graph, recalls and export-market reports (API under /api/v1, and pages)."""
    from truyxuat.recall.api import router as recall_router
    from truyxuat.recall.pages import router as recall_pages
    from truyxuat.reports.api import router as reports_router
    from truyxuat.trace.api import router as trace_router
    from truyxuat.trace.pages import router as trace_pages

    app.include_router(trace_router, prefix="/api/v1")
    app.include_router(recall_router, prefix="/api/v1")
    app.include_router(reports_router, prefix="/api/v1")
    app.include_router(trace_pages)
    app.include_router(recall_pages)
