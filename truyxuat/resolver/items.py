"""The read every scan of a serialized item makes: its stamp and its scan counts.

It is the passport's one database read once the product and its lot are cached, and going
through the ORM's session, connection and result machinery cost ten times the read itself
(about 600 µs against 50 µs on SQLite): it runs on the driver's cursor (`truyxuat.driver`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, bindparam, func, select, true
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

from truyxuat.driver import DriverStatement
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import Scan
from truyxuat.stamps.models import Stamp, StampState


@dataclass(frozen=True, slots=True)
class StampSeen:
    """What a passport shows and judges of a stamp."""

    lot: str | None
    state: StampState
    activated_at: datetime | None
    has_pin: bool

    @classmethod
    def of(cls, stamp: Stamp) -> StampSeen:
        """The view of a stamp loaded by the ORM."""
        return cls(stamp.lot, stamp.state, stamp.activated_at, stamp.pin_hash is not None)


@dataclass(frozen=True, slots=True)
class ItemRead:
    """A serial's stamp (None: never issued) and its scans: count, first, located ones."""

    stamp: StampSeen | None
    counts: tuple[int, datetime | None, int] | None


_COUNTS = (
    select(
        func.count().label("scans"),
        func.min(Scan.scanned_at).label("first_at"),
        func.count(Scan.latitude).label("located"),
    )
    .where(Scan.gtin == bindparam("gtin"), Scan.serial == bindparam("serial"))
    .subquery()
)
# An aggregate without GROUP BY is always one row: joined to the stamp, one index range of
# the scan log gives all three counts.
_STAMP_AND_SCANS = (
    select(
        Stamp.lot,
        Stamp.state,
        Stamp.activated_at,
        Stamp.pin_hash.is_not(None).label("has_pin"),
        _COUNTS.c.scans,
        _COUNTS.c.first_at,
        _COUNTS.c.located,
    )
    .join(_COUNTS, true())
    .where(Stamp.gtin == bindparam("gtin"), Stamp.serial == bindparam("serial"))
)


_READ = DriverStatement(
    _STAMP_AND_SCANS, {"gtin": Stamp.__table__.c.gtin.type, "serial": Stamp.__table__.c.serial.type}
)


def _execute(dialect: Dialect, dbapi_connection: Any, key: ItemKey) -> ItemRead:
    return _item(
        _READ.fetch_one(dialect, dbapi_connection, {"gtin": key.gtin, "serial": key.serial})
    )


def _item(row: tuple[Any, ...] | None) -> ItemRead:
    if row is None:
        return ItemRead(None, None)
    lot, state, activated_at, has_pin, count, first_at, located = row
    return ItemRead(
        StampSeen(lot, state, activated_at, bool(has_pin)),
        (int(count or 0), first_at, int(located or 0)),
    )


def read_in(db: Session, key: ItemKey) -> ItemRead:
    """The item's stamp and scans, read on the session's own connection (its transaction)."""
    if not key.serial:
        return ItemRead(None, None)
    connection = db.connection()
    return _execute(connection.dialect, connection.connection.dbapi_connection, key)


class ItemReader:
    """Reads items on connections of its own, or through sessions.

    On SQLite the reader keeps one connection of the resolver's engine (`truyxuat.db.
    reader_engine`; taking it from the pool and back on every scan cost as much as the
    read). On PostgreSQL it reads on a few asynchronous psycopg connections of its own, in
    autocommit, so that the worker's loop serves other requests while the database answers
    (a round trip blocked the loop for about a third of a passport). A database that dropped
    a connection (a restart) costs one retry on a new one. Over sessions instead (an app
    given its session factory, as the tests give theirs), the read runs in the session's
    transaction.
    """

    # Reads in flight at once on PostgreSQL (each on a connection of its own).
    CONNECTIONS = 2

    def __init__(
        self, engine: Engine | None = None, sessions: Callable[[], Session] | None = None
    ) -> None:
        if (engine is None) == (sessions is None):
            raise ValueError("an item reader reads through an engine or through sessions")
        self.engine = engine
        self.sessions = sessions
        self._connection: PoolProxiedConnection | None = None
        # Any thread may call `read_now`; a lock keeps the others off the kept connection
        # meanwhile (uncontended, it costs nothing).
        self._lock = threading.Lock()
        self._conninfo: str | None = None
        if engine is not None and engine.dialect.name == "postgresql":
            self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False
            )
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._turns: asyncio.Semaphore | None = None
        self._closing: set[Any] = set()  # closes in flight, held until done

    async def read(self, key: ItemKey) -> ItemRead:
        """The item's stamp (None if never issued) and its scan counts, from the loop."""
        if self._conninfo is None or not key.serial:
            return self.read_now(key)
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.CONNECTIONS)
        async with self._turns:
            return await self._read_async(key)

    async def _read_async(self, key: ItemKey) -> ItemRead:
        assert self.engine is not None and self._conninfo is not None
        compiled = _READ.compiled(self.engine.dialect)
        params = compiled.params({"gtin": key.gtin, "serial": key.serial})
        for attempt in (1, 2):
            if self._idle:
                connection = self._idle.pop()
            else:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            try:
                async with connection.cursor() as cursor:
                    await cursor.execute(compiled.sql, params)
                    row = await cursor.fetchone()
            except psycopg.OperationalError:
                broken = connection.broken
                await connection.close()
                if attempt == 2 or not broken:
                    raise
                continue
            except BaseException:
                # Mid-read (a statement failed, or the client went away): not reused.
                closing = asyncio.ensure_future(connection.close())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
                raise
            self._idle.append(connection)
            return _item(None if row is None else compiled.row(row))
        raise AssertionError("unreachable")

    def read_now(self, key: ItemKey) -> ItemRead:
        """The item's stamp and scan counts, read at once (blocking the caller)."""
        if not key.serial:
            return ItemRead(None, None)
        if self.engine is None:
            assert self.sessions is not None
            db = self.sessions()
            try:
                return read_in(db, key)
            finally:
                db.close()
        dialect = self.engine.dialect
        with self._lock:
            for attempt in (1, 2):
                if self._connection is None:
                    self._connection = self.engine.raw_connection()
                connection = self._connection
                try:
                    return _execute(dialect, connection.dbapi_connection, key)
                except dialect.loaded_dbapi.Error as exc:
                    if attempt == 2 or not dialect.is_disconnect(
                        exc, connection.dbapi_connection, None
                    ):
                        raise
                    connection.invalidate(exc)
                    self._connection = None
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Closes the reader's connections (the app is stopping)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        while self._idle:
            await self._idle.pop().close()
