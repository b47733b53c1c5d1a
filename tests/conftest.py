"""Test fixtures: the real app over HTTP on a real database, SQLite and PostgreSQL.

Every database test runs once per store (the `engine` fixture is parametrized). The schema is
built by Alembic; each test runs inside a transaction that is rolled back.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from truyxuat.app import create_app
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade

SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
PG_URL = os.environ.get(
    "TRUYXUAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STORES = [s for s in os.environ.get("TRUYXUAT_TEST_STORES", "sqlite,postgresql").split(",") if s]


def _postgres_database(tmp_name: str) -> str:
    """Creates a fresh PostgreSQL database for this run and returns its URL."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{tmp_name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("TRUYXUAT_TEST_POSTGRES") == "required":
            pytest.fail(f"PostgreSQL is required but unavailable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + f"/{tmp_name}"


def _drop_postgres_database(tmp_name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{tmp_name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=STORES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
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


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine for the store under test."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in an outer transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    if trans.is_active:
        trans.rollback()
    conn.close()


def _session(conn: Connection) -> Session:
    return Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """A session for arranging and checking data; its commits are savepoints."""
    session = _session(connection)
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test, with files under a temporary folder."""
    return Settings(database_url="sqlite://", secret_key="test-secret", data_dir=tmp_path)


@pytest.fixture
def app(connection: Connection, settings: Settings) -> FastAPI:
    """The real app, whose requests share the test's rolled-back transaction."""
    return create_app(settings, session_factory=lambda: _session(connection))  # type: ignore[arg-type]


@pytest.fixture
def client(app: FastAPI, db: Session) -> Iterator[TestClient]:
    """An HTTP client for the app (the test's own pending changes are flushed first)."""
    db.flush()
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (see tests/browser.py)."""
    from tests.browser import launch_chromium

    yield from launch_chromium()
