"""Ledger on PostgreSQL: appends per second (append in the caller's transaction + integration
into tiles) against a raw COPY of equal rows; inclusion proof time at 1,000,000 leaves; and a
full `ledger verify` of 1,000,000 stored events (event hashes, leaves, tiles, checkpoints).

Sizes: BENCH_LEDGER_APPENDS (default 200,000) and BENCH_LEDGER_EVENTS (default 1,000,000).
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bench.common import fresh_database, report
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope, utcnow
from truyxuat.epcis.hashing import event_hash
from truyxuat.epcis.models import EpcisEvent

# The bulk path of store_events (see _bulk_store).
from truyxuat.epcis.service import _EVENT_COLUMNS, _insert, _row
from truyxuat.ledger import service
from truyxuat.ledger.models import LedgerEntry
from truyxuat.ledger.verify import verify_ledger
from truyxuat.registry.models import Organization, OrgKind

APPENDS = int(os.environ.get("BENCH_LEDGER_APPENDS", "200000"))
EVENTS = int(os.environ.get("BENCH_LEDGER_EVENTS", "1000000"))
BATCH = 10_000
BULK = 50_000
APPEND_TARGET = 20_000.0
PROOF_TARGET_MS = 1.0
PROOFS = 2_000


def main() -> None:
    """Runs the three ledger figures on fresh PostgreSQL databases."""
    with tempfile.TemporaryDirectory() as tmp:
        settings_dir = Path(tmp)
        appends(settings_dir)
        verification(settings_dir)


def appends(data_dir: Path) -> None:
    """Appends APPENDS entries in transactions of BATCH (the captures' share of the work),
    then integrates them; then both at once, as in production where the integrator runs in the
    background while captures append. Against a raw COPY of the same rows."""
    with fresh_database("postgresql") as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        appended = _append_all(factory, 0)
        start = time.perf_counter()
        with session_scope(factory) as db:
            integrated = service.integrate(db)
        integration = time.perf_counter() - start
        assert integrated == APPENDS, integrated
        ceiling = _raw_copy_rate(engine)
        print(
            f"ledger appends: {APPENDS:,} entries appended in {appended:.1f} s "
            f"({APPENDS / appended:,.0f}/s), integrated in {integration:.1f} s "
            f"({APPENDS / integration:,.0f}/s); one after the other "
            f"{APPENDS / (appended + integration):,.0f}/s"
        )
        # Both stages together: the log's sustained rate.
        done = threading.Event()
        start = time.perf_counter()
        appender = threading.Thread(target=lambda: (_append_all(factory, APPENDS), done.set()))
        appender.start()
        total = 0
        while total < APPENDS:
            with session_scope(factory) as db:
                total += service.integrate(db)
            if not done.is_set():
                time.sleep(0.05)
        together = time.perf_counter() - start
        appender.join()
        figure = APPENDS / together
        print(
            f"ledger appends with the integrator running alongside: {APPENDS:,} entries logged "
            f"in {together:.1f} s; target {APPEND_TARGET:,.0f}/s: "
            + ("ok" if figure >= APPEND_TARGET else "SLOWER THAN TARGET")
        )
        report("ledger appends logged [postgresql]", figure, "entries/s", ceiling, "raw COPY")
        engine.dispose()


def _append_all(factory: Any, offset: int) -> float:
    """Appends APPENDS entries in transactions of BATCH; returns the seconds taken."""
    start = time.perf_counter()
    for first in range(offset, offset + APPENDS, BATCH):
        with session_scope(factory) as db:
            service.append_many(
                db,
                (
                    (service.EVENT, f"ni:///sha-256;{n:064x}?ver=CBV2.0", "bench-org")
                    for n in range(first, min(first + BATCH, offset + APPENDS))
                ),
            )
    return time.perf_counter() - start


def _raw_copy_rate(engine: Engine) -> float:
    """COPYs the appended entries (read back as text) into a table like ledger_entry."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        columns = "kind, payload, subject, salt, created_at"
        buffer = io.BytesIO()
        with driver.cursor() as cursor:
            query = f"COPY (SELECT {columns} FROM ledger_entry LIMIT {APPENDS}) TO STDOUT"
            with cursor.copy(query) as copy:
                for block in copy:
                    buffer.write(block)
            cursor.execute(
                "CREATE TEMP TABLE raw_entry (LIKE ledger_entry INCLUDING ALL) ON COMMIT DROP"
            )
            start = time.perf_counter()
            with cursor.copy(f"COPY raw_entry ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            seconds = time.perf_counter() - start
        raw.rollback()
        return APPENDS / seconds
    finally:
        raw.close()


def _event(n: int) -> dict[str, object]:
    """A distinct ObjectEvent."""
    return {
        "type": "ObjectEvent",
        "eventTime": f"2026-11-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:"
        f"{n // 60 % 60:02d}:{n % 60:02d}+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"https://id.gs1.org/01/08930000010015/21/{n}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "https://id.gs1.org/414/8930000000019"},
    }


def verification(data_dir: Path) -> None:
    """Stores EVENTS events (each logged), integrates and signs, then times inclusion proofs
    at that size and a full verification."""
    with fresh_database("postgresql") as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        settings = Settings(database_url=url, secret_key="bench", data_dir=data_dir)
        with session_scope(factory) as db:
            org = Organization(code="BENCH", kind=OrgKind.enterprise, name="Bench")
            db.add(org)
            db.flush()
            org_id = org.id
        start = time.perf_counter()
        for first in range(0, EVENTS, BULK):
            with session_scope(factory) as db:
                _bulk_store(
                    db, org_id, [_event(n) for n in range(first, min(first + BULK, EVENTS))]
                )
        stored = time.perf_counter() - start
        start = time.perf_counter()
        with session_scope(factory) as db:
            service.integrate(db)
            service.sign_checkpoint(db, settings)
            size = service.tree_size(db)
            entries = db.scalar(select(func.count()).select_from(LedgerEntry))
        integration = time.perf_counter() - start
        print(
            f"ledger setup: {EVENTS:,} events bulk-stored (and appended) in {stored:.1f} s, "
            f"{entries:,} entries integrated and signed in {integration:.1f} s"
        )
        assert size == EVENTS, f"only {size} of {EVENTS} events reached the log"

        timings: list[float] = []
        with session_scope(factory) as db:
            step = max(1, size // PROOFS)
            for index in range(0, size, step):
                t0 = time.perf_counter()
                service.inclusion_proof(db, index, size)
                timings.append(time.perf_counter() - t0)
        median_ms = statistics.median(timings) * 1000
        ceiling_ms = _point_read_ms(factory)
        print(
            f"ledger inclusion proof at {size:,} leaves: median {median_ms:.3f} ms over "
            f"{len(timings):,} proofs (target < {PROOF_TARGET_MS} ms: "
            + ("ok" if median_ms < PROOF_TARGET_MS else "SLOWER THAN TARGET")
            + f"); one primary-key row read: {ceiling_ms:.3f} ms"
        )
        report(
            "ledger inclusion proofs [postgresql]",
            1000 / median_ms,
            "proofs/s",
            1000 / ceiling_ms,
            "single-row reads",
        )

        start = time.perf_counter()
        with session_scope(factory) as db:
            result = verify_ledger(db, settings)
        seconds = time.perf_counter() - start
        assert result.ok, result.problems[:5]
        print(
            f"ledger verify: {result.events:,} events, {result.leaves:,} leaves, "
            f"{result.checkpoints} checkpoints verified in {seconds:.1f} s"
        )
        report(
            "ledger verify [postgresql]",
            result.events / seconds,
            "events/s",
            EVENTS / stored,
            "bulk-storing the same events",
        )
        engine.dispose()


def _bulk_store(db: Session, org_id: Any, events: list[dict[str, Any]]) -> None:
    """Stores events as `store_events` does (canonical hash, event row by COPY, ledger entry)
    without its duplicate checks and identifier rows: the bench needs 1,000,000 events fast."""
    record_time = utcnow()
    pairs = [(event, event_hash(event)) for event in events]
    rows = (_row(org_id, event, digest, record_time, None) for event, digest in pairs)
    _insert(db, EpcisEvent.__tablename__, _EVENT_COLUMNS, rows)
    service.append_events(db, org_id, pairs)


def _point_read_ms(factory: object) -> float:
    """Median time of reading one tile row by primary key (the unit a proof is made of)."""
    from truyxuat.ledger.models import LedgerTile

    timings = []
    with session_scope(factory) as db:  # type: ignore[arg-type]
        for idx in range(500):
            t0 = time.perf_counter()
            db.execute(
                select(LedgerTile.hashes).where(LedgerTile.level == 0, LedgerTile.idx == idx)
            ).scalar()
            timings.append(time.perf_counter() - t0)
    return statistics.median(timings) * 1000


if __name__ == "__main__":
    main()
