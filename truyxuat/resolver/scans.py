"""The scan log: each browser resolution of a Digital Link, and what its pattern says.

A place is kept only when the consumer agreed to share it, and rounded to 0.1° (about 11 km):
enough to see a stamp scanned in two provinces, not enough to find a home.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from truyxuat.db import NO_FLUSH, new_id, utcnow
from truyxuat.driver import DriverStatement
from truyxuat.errors import N_, invalid
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import Scan

log = logging.getLogger(__name__)
PLACE_DECIMALS = 1
# How long after a scan its page may still attach a place to it.
PLACE_WINDOW = timedelta(minutes=30)
MAX_PLACES = 50


@dataclass(frozen=True)
class ScanStats:
    """How often, and since when, an item (or a lot) has been scanned."""

    count: int
    first_at: datetime | None
    located: int = 0


@dataclass(frozen=True)
class CopySign:
    """A pattern of scans that suggests a copied stamp."""

    kind: str  # far_apart | long_ago
    distance_km: int = 0
    days: int = 0
    since: datetime | None = None


# The scan log's columns a new scan fills (the rest are the place, given later).
_SCAN_COLUMNS = ("id", "gtin", "lot", "serial", "scanned_at", "user_agent", "locale")


@dataclass(slots=True)
class NewScan:
    """A scan about to be logged: a plain record, not an ORM object (one on every scan cost
    as much as reading the item), written by the `ScanWriter` as a `Scan` row."""

    id: uuid.UUID
    gtin: str
    lot: str | None
    serial: str | None
    user_agent: str
    locale: str
    scanned_at: datetime

    def row(self) -> dict[str, Any]:
        """The scan's row in the scan log."""
        return {name: getattr(self, name) for name in _SCAN_COLUMNS}

    def entity(self) -> Scan:
        """The scan as an ORM object, for a session to add (the demo's history, tests)."""
        return Scan(**self.row())


# Written on the driver's cursor (`truyxuat.driver`): through the session and Core, the
# group's insert cost the worker's loop a fifth of every scan.
_INSERT = DriverStatement(
    insert(cast(Table, Scan.__table__)).values({name: bindparam(name) for name in _SCAN_COLUMNS}),
    {name: Scan.__table__.c[name].type for name in _SCAN_COLUMNS},
)


def new(key: ItemKey, lot: str | None, user_agent: str, locale: str) -> NewScan:
    """A scan about to be logged (no personal data: no address, no cookie, the user agent)."""
    return NewScan(new_id(), key.gtin, lot, key.serial, user_agent[:300], locale[:8], utcnow())


class ScanWriter:
    """Writes scans in groups, from a thread of its own: one transaction for all waiting.

    Pages hand their scan over and go on; the thread takes every scan waiting and writes
    them in one commit (on SQLite each commit is a disk flush, and writers queue for one
    lock), so a lone scan is written at once and under load one flush carries many. The
    thread ends after a while with nothing to write and the next scan starts it again.
    """

    IDLE_SECONDS = 5.0
    # Scans coming close after a write (a busy node) wait this long for others to share
    # their commit; a lone scan is written at once.
    LINGER_SECONDS = 0.02
    BUSY_WITHIN_SECONDS = 0.05

    def __init__(self, factory: Callable[[], Session]) -> None:
        self.factory = factory
        self._queue: queue.SimpleQueue[tuple[NewScan, Future[None]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_write = 0.0

    def submit(self, scan: NewScan) -> Future[None]:
        """Queues a scan; the future is done once its group is committed (or failed)."""
        done: Future[None] = Future()
        self._queue.put((scan, done))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
                self._thread.start()
        return done

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self.IDLE_SECONDS)]
            except queue.Empty:
                with self._lock:
                    # A scan queued before the lock was taken is still seen here.
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if time.monotonic() - self._last_write < self.BUSY_WITHIN_SECONDS:
                time.sleep(self.LINGER_SECONDS)
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write([scan for scan, _ in batch])
            self._last_write = time.monotonic()
            for _, done in batch:
                done.set_result(None)

    def _write(self, batch: list[NewScan]) -> None:
        db = self.factory()
        try:
            # A scan lost in a machine's crash is acceptable; a disk flush on every group is
            # not (the log is statistics, not a sale record): PostgreSQL writes its WAL
            # asynchronously for this transaction, SQLite's commit skips the flush.
            connection = db.connection(execution_options={NO_FLUSH: True})
            dialect = connection.dialect
            if dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            driver = connection.connection.dbapi_connection
            _INSERT.execute_many(dialect, driver, [scan.row() for scan in batch])
            db.commit()
        except Exception:
            db.rollback()
            log.exception("could not log %d scans", len(batch))
        finally:
            db.close()


def writer_of(app_state: Any) -> ScanWriter:
    """The app's scan writer (created on first use, over the app's sessions)."""
    writer = getattr(app_state, "scan_writer", None)
    if writer is None:
        writer = ScanWriter(app_state.sessionmaker)
        app_state.scan_writer = writer
    return writer


def coarse(value: float) -> float:
    """A coordinate rounded to about 11 km."""
    return round(value, PLACE_DECIMALS)


def set_place(db: Session, scan_id: uuid.UUID, latitude: float, longitude: float) -> Scan:
    """Attaches the consented, coarse place to a recent scan (once)."""
    if not (-90 <= latitude <= 90) or not (-180 <= longitude <= 180):
        raise invalid("latitude", N_("The place is not a valid latitude and longitude"))
    scan = db.get(Scan, scan_id)
    if scan is None or scan.scanned_at < utcnow() - PLACE_WINDOW:
        raise invalid("scan", N_("This scan can no longer be given a place"))
    if scan.latitude is None:
        db.execute(
            update(Scan)
            .where(Scan.id == scan_id, Scan.latitude.is_(None))
            .values(latitude=coarse(latitude), longitude=coarse(longitude))
        )
        db.refresh(scan)
    return scan


def stats(db: Session, key: ItemKey, lot: str | None) -> ScanStats:
    """Scans of the serialized item, else of the lot, else of the product."""
    query = select(func.count(), func.min(Scan.scanned_at), func.count(Scan.latitude)).where(
        Scan.gtin == key.gtin
    )
    if key.serial:
        query = query.where(Scan.serial == key.serial)
    elif lot:
        query = query.where(Scan.lot == lot)
    count, first_at, located = db.execute(query).one()
    return ScanStats(int(count or 0), first_at, int(located or 0))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def copy_signs(
    session: Callable[[], Session],
    key: ItemKey,
    *,
    far_km: float,
    long_days: int,
    first_at: datetime | None,
    located: int = 2,
    now: datetime | None = None,
) -> list[CopySign]:
    """Signs that one serial is printed on many items: far-apart places, or a long time span.

    Only a serialized stamp can show them; a lot is many items and is scanned everywhere.
    """
    if not key.serial:
        return []
    now = now or utcnow()
    signs: list[CopySign] = []
    # Fewer than two located scans cannot be far apart: spare the query.
    places = (
        []
        if located < 2
        else session()
        .execute(
            select(Scan.latitude, Scan.longitude, Scan.scanned_at)
            .where(Scan.gtin == key.gtin, Scan.serial == key.serial, Scan.latitude.is_not(None))
            .order_by(Scan.scanned_at.desc())
            .limit(MAX_PLACES)
        )
        .all()
    )
    points = [(lat, lon) for lat, lon, _ in places if lat is not None and lon is not None]
    widest = 0.0
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            widest = max(widest, distance_km(a, b))
    if widest > far_km:
        signs.append(CopySign("far_apart", distance_km=round(widest)))
    if first_at is not None and now - first_at > timedelta(days=long_days):
        signs.append(CopySign("long_ago", days=(now - first_at).days, since=first_at))
    return signs
