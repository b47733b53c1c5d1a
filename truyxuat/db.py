"""The store: engine, sessions, the declarative base and migration helpers.

The same code runs on the embedded SQLite file (default) and on PostgreSQL (psycopg 3).
One owner commits: the HTTP request dependency, or `session_scope()` for CLI and jobs.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both stores (SQLite keeps no offset by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Stores the instant in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Reads the instant back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


def utcnow() -> datetime:
    """Returns the current instant in UTC."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """Returns a time-ordered UUID (version 7 layout) so ids sort by creation and index well.

    Ids are global across provincial nodes, which federation relies on.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


# Execution option of a session's connection: this transaction only reads (see make_engine).
READ_ONLY = "truyxuat_read_only"
# Execution option of a write whose commit need not wait for the disk (the scan log): on
# SQLite it survives a crash of the process, not one of the machine (see make_engine).
NO_FLUSH = "truyxuat_no_flush"


# Connections per process, for plain routes (a thread pool of THREADS threads, set by the
# app) and background threads. The resolver, which reads in the event loop itself, has an
# engine of its own (`loop_engine`): a loop left waiting for a connection held by a request
# that needs the loop to finish would stall the whole worker.
POOL_SIZE = 10
POOL_OVERFLOW = 20
THREADS = POOL_SIZE + POOL_OVERFLOW - 6


def in_memory(url: str) -> bool:
    """Whether a SQLite URL names a database in memory (one per engine)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    return url.startswith("sqlite") and path in ("", ":memory:")


def make_engine(
    url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = POOL_OVERFLOW
) -> Engine:
    """Creates an engine for a URL; SQLite gets foreign keys on and a writable folder."""
    if url.startswith("sqlite"):
        pool: dict[str, Any] = {}
        if not in_memory(url):
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
            pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, emit BEGIN so SAVEPOINTs and rollbacks work.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            # then writes fails at once with "database is locked" under concurrent requests,
            # whereas this one waits (busy_timeout) its turn. A transaction that promises to
            # only read (execution option READ_ONLY, e.g. the public resolver) stays deferred
            # so readers run side by side instead of queueing for the write lock.
            options = conn.get_execution_options()
            if options.get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            # Whether a commit waits for the disk is the connection's setting (and cannot
            # change inside a transaction): each write sets its own before it begins.
            # The connection remembers its level, so only a change costs a statement.
            flush = "NORMAL" if options.get(NO_FLUSH) else "FULL"
            if conn.info.get("synchronous") != flush:
                conn.exec_driver_sql(f"PRAGMA synchronous = {flush}")
                conn.info["synchronous"] = flush
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def loop_engine(url: str) -> Engine:
    """The engine of code that runs in the event loop: it runs one request at a time, so one
    connection serves it (and a second one while the first is being replaced)."""
    return make_engine(url, pool_size=1, max_overflow=1)


def reader_engine(url: str) -> Engine:
    """The engine of the resolver's per-scan read (`truyxuat.resolver.items`), in the loop.

    On PostgreSQL its connections read in autocommit (no BEGIN and ROLLBACK round trips
    around one statement) and are not pinged before each use, which would double the read:
    the reader retries once on a new connection when the database dropped the old one.
    """
    if url.startswith("sqlite"):
        return make_engine(url, pool_size=1, max_overflow=1)
    return create_engine(url, pool_size=1, max_overflow=1, isolation_level="AUTOCOMMIT")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Returns the session factory bound to an engine."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Runs a unit of work: commits once at the end, rolls back everything on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    """Builds the Alembic config pointing at our migrations folder and a database URL."""
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    cfg = Config()
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Migrates the database at `url` to `revision` (Alembic is the only way the schema changes)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
