"""The read every scan of a serialized item makes: its stamp and its scan counts.

It is the passport's one database read once the product and its lot are cached, and going
through the ORM's session, connection and result machinery cost ten times the read itself
(about 600 µs against 50 µs on SQLite). So this one statement is compiled by SQLAlchemy once
per dialect, with its columns' own result processors, and run on the driver's cursor.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, true
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

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


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # bind names in order, for a positional paramstyle
    processors: tuple[Callable[[Any], Any] | None, ...]


@functools.cache
def _compiled(dialect: Dialect) -> _Compiled:
    compiled = _STAMP_AND_SCANS.compile(dialect=dialect)
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in _STAMP_AND_SCANS.selected_columns
    )
    order = tuple(compiled.positiontup) if compiled.positiontup else None
    return _Compiled(str(compiled), order, processors)


def _execute(dialect: Dialect, dbapi_connection: Any, key: ItemKey) -> ItemRead:
    compiled = _compiled(dialect)
    values = {"gtin": key.gtin, "serial": key.serial}
    params: Any = [values[name] for name in compiled.order] if compiled.order else values
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(compiled.sql, params)
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return ItemRead(None, None)
    lot, state, activated_at, has_pin, count, first_at, located = (
        value if process is None else process(value)
        for value, process in zip(row, compiled.processors, strict=True)
    )
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
    """Reads items on a connection of an engine of its own, or through sessions.

    The engine is the resolver's (see `truyxuat.db.reader_engine`): the reader keeps one of
    its connections (taking it from the pool and back on every scan cost as much as the read)
    and a database that dropped it (a restart) costs one retry on a new one. Over sessions
    instead (an app given its session factory, as the tests give theirs), the read runs in
    the session's transaction.
    """

    def __init__(
        self, engine: Engine | None = None, sessions: Callable[[], Session] | None = None
    ) -> None:
        if (engine is None) == (sessions is None):
            raise ValueError("an item reader reads through an engine or through sessions")
        self.engine = engine
        self.sessions = sessions
        self._connection: PoolProxiedConnection | None = None
        # The loop of each worker reads through it; a lock keeps any other thread off the
        # connection meanwhile (uncontended, it costs nothing).
        self._lock = threading.Lock()

    def read(self, key: ItemKey) -> ItemRead:
        """The item's stamp (None if never issued) and its scan counts."""
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

    def close(self) -> None:
        """Gives the kept connection back to its pool."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
