"""Trace: backward and forward traces of a lot, and the FSMA 204 spreadsheet of one lot, over a
synthetic chain of about 1,000,000 EPCIS events on PostgreSQL.

The chain has 10 layers of lots (depth 10). Layer 0 lots are harvested on growing areas; every
lot of a later layer is made by a TransformationEvent from 2–4 lots of the layer before, picked
near it (supply chains are local: a packer buys from the farms around it), so each lot feeds
2–4 lots downstream (fan-in and fan-out of about 3). Every four lots of a layer are packed on a
pallet (AggregationEvent), which is shipped and received (ObjectEvents with source and
destination), so a trace also crosses organizations. 200 organizations own the layers' bands.

The rows are generated as COPY text (synthetic event hashes: the canonical hash is not what
this measures), the trace index is built after loading. Measured in the same run: our trace
(median and p99 over random lots, both directions, platform view), the FSMA spreadsheet for one
lot, and as the ceiling a recursive SQL CTE walking the same links in the database alone.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import fresh_database, report
from truyxuat.db import make_engine, make_sessionmaker
from truyxuat.reports import fsma
from truyxuat.trace.graph import Direction, trace

LAYERS = 10
# 1.75 events per lot and layer → 1,000,020 events (smaller for a quick try via the env).
LOTS_PER_LAYER = int(os.environ.get("TRUYXUAT_BENCH_TRACE_LOTS", "57144"))
PER_PALLET = 4
ORGS = 200
AREAS = 1000
SAMPLES = 60
DL = "https://id.gs1.org"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CTE_SQL = text(
    """
    WITH RECURSIVE walk(epc, depth) AS (
        SELECT CAST(:start AS varchar), 0
        UNION
        SELECT i.epc, w.depth + 1
        FROM walk w
        JOIN epcis_event_epc o ON o.epc = w.epc AND o.role IN ('output_quantity', 'parent')
        JOIN epcis_event_epc i ON i.org_id = o.org_id AND i.event_row_id = o.event_row_id
            AND i.role IN ('input_quantity', 'child_quantity')
        WHERE w.depth < 30
    )
    SELECT count(DISTINCT epc) FROM walk
    """
)


def _gtin(layer: int) -> str:
    body = f"0893600{layer:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _gln(org: int) -> str:
    body = f"893700{org:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _sscc(layer: int, pallet: int) -> str:
    body = f"0893700{layer:02d}{pallet:08d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def lot(layer: int, index: int) -> str:
    """The Digital Link of lot `index` of a layer."""
    return f"{DL}/01/{_gtin(layer)}/10/L{layer}-{index}"


def pallet(layer: int, index: int) -> str:
    """The Digital Link of the pallet carrying lot `index` of a layer."""
    return f"{DL}/00/{_sscc(layer, index // PER_PALLET)}"


def _org(layer: int, index: int) -> int:
    """The organization holding a lot: bands of the layer, 20 organizations per layer."""
    return layer * (ORGS // LAYERS) + index * (ORGS // LAYERS) // LOTS_PER_LAYER


def inputs(layer: int, index: int) -> list[int]:
    """The lots of the layer before that a lot is made from (2–4 of its neighbours)."""
    rng = random.Random(layer * 1_000_003 + index)
    count = rng.randint(2, 4)
    picked = {min(max(index + rng.randint(-3, 3), 0), LOTS_PER_LAYER - 1) for _ in range(count)}
    return sorted(picked)


PALLETS_PER_LAYER = -(-LOTS_PER_LAYER // PER_PALLET)
EVENTS_PER_LAYER = LOTS_PER_LAYER + 3 * PALLETS_PER_LAYER
ORG_IDS = [uuid.UUID(int=(0x01A1 << 112) | n) for n in range(ORGS)]
AREA_CODES = [f"BENCH-GA-{n:04d}" for n in range(AREAS)]


def _when(moment: datetime) -> tuple[str, str]:
    """(JSON eventTime, COPY timestamp) of an instant."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.isoformat()


def layer_rows(layer: int) -> tuple[str, str]:
    """The COPY text of one layer's events and identifier rows (run in worker processes;
    the JSON is written from templates: the identifiers need no escaping)."""
    events: list[str] = []
    epcs: list[str] = []
    counter = layer * EVENTS_PER_LAYER

    def add(
        org: int,
        kind: str,
        moment: datetime,
        step: str,
        body: str,
        ids: list[tuple[str, str]],
        place: str,
        action: str | None,
    ) -> None:
        nonlocal counter
        counter += 1
        row_id = uuid.UUID(int=(0x01A0 << 112) | counter)
        event_id = f"urn:uuid:{row_id}"
        when, stamp = _when(moment)
        extra = f',"action":"{action}"' if action else ""
        data = (
            f'{{"type":"{kind}","eventID":"{event_id}","eventTime":"{when}",'
            f'"eventTimeZoneOffset":"+07:00","bizStep":"{step}","readPoint":{{"id":"{place}"}},'
            f'"bizLocation":{{"id":"{place}"}}{extra},{body}}}'
        )
        org_id = ORG_IDS[org]
        events.append(
            f"{org_id}\t{row_id}\t{event_id}\tni:///sha-256;{counter:064x}?ver=CBV2.0\tf\t"
            f"{kind}\t{stamp}\t+07:00\t{stamp}\t{action or chr(92) + 'N'}\t"
            f"https://ref.gs1.org/cbv/BizStep-{step}\t\\N\t{place}\t{place}\t{data}\t\\N\n"
        )
        epcs.extend(f"{org_id}\t{row_id}\t{role}\t{epc}\n" for role, epc in ids)

    def quantity(epc: str, amount: int) -> str:
        return f'{{"epcClass":"{epc}","quantity":{amount},"uom":"KGM"}}'

    day = EPOCH + timedelta(days=3 * layer)
    for index in range(LOTS_PER_LAYER):
        org = _org(layer, index)
        place = f"{DL}/414/{_gln(org)}"
        moment = day + timedelta(seconds=index)
        me = lot(layer, index)
        if layer == 0:
            area = AREA_CODES[index % AREAS]
            body = (
                f'"epcList":[],"quantityList":[{quantity(me, 500)}],"ilmd":{{'
                f'"cbvmda:harvestStartDate":"{moment.date().isoformat()}",'
                f'"tx:growingAreaCode":"{area}"}}'
            )
            add(
                org,
                "ObjectEvent",
                moment,
                "commissioning",
                body,
                [("quantity", me)],
                f"{place}/254/{area}",
                "ADD",
            )
            continue
        sources = [lot(layer - 1, i) for i in inputs(layer, index)]
        body = (
            f'"inputQuantityList":[{",".join(quantity(x, 100) for x in sources)}],'
            f'"outputQuantityList":[{quantity(me, 90 * len(sources))}],'
            '"ilmd":{"cbvmda:bestBeforeDate":"2027-01-01"}'
        )
        ids = [("input_quantity", x) for x in sources] + [("output_quantity", me)]
        add(org, "TransformationEvent", moment, "commissioning", body, ids, place, None)
    for first in range(0, LOTS_PER_LAYER, PER_PALLET):
        org = _org(layer, first)
        place = f"{DL}/414/{_gln(org)}"
        buyer = _org(min(layer + 1, LAYERS - 1), first)
        if buyer == org:
            buyer = (org + 1) % ORGS
        moment = day + timedelta(days=1, seconds=first)
        unit = pallet(layer, first)
        members = [lot(layer, i) for i in range(first, min(first + PER_PALLET, LOTS_PER_LAYER))]
        body = (
            f'"parentID":"{unit}","childEPCs":[],'
            f'"childQuantityList":[{",".join(quantity(m, 90) for m in members)}]'
        )
        ids = [("parent", unit)] + [("child_quantity", m) for m in members]
        add(org, "AggregationEvent", moment, "packing", body, ids, place, "ADD")
        parties = (
            f'"epcList":["{unit}"],'
            f'"sourceList":[{{"type":"owning_party","source":"{DL}/417/{_gln(org)}"}}],'
            f'"destinationList":[{{"type":"owning_party","destination":"{DL}/417/{_gln(buyer)}"}}],'
            f'"bizTransactionList":[{{"type":"po","bizTransaction":"urn:po:{unit[-8:]}"}}]'
        )
        add(
            org,
            "ObjectEvent",
            moment + timedelta(hours=2),
            "shipping",
            parties,
            [("epc", unit)],
            place,
            "OBSERVE",
        )
        add(
            buyer,
            "ObjectEvent",
            moment + timedelta(hours=20),
            "receiving",
            parties,
            [("epc", unit)],
            f"{DL}/414/{_gln(buyer)}",
            "OBSERVE",
        )
    return "".join(events), "".join(epcs)


# Dropped while COPY runs and built once afterwards: bulk loading into a table without
# secondary indexes and foreign keys is several times faster.
_BEFORE_COPY = (
    "ALTER TABLE epcis_event_epc DROP CONSTRAINT fk_epcis_event_epc_event",
    "ALTER TABLE epcis_event_epc DROP CONSTRAINT pk_epcis_event_epc",
    "DROP INDEX ix_epcis_event_epc_trace",
    "DROP INDEX ix_epcis_event_epc_org_epc",
    "DROP INDEX ix_epcis_event_org_event_id",
    "DROP INDEX ix_epcis_event_org_event_time",
    "DROP INDEX ix_epcis_event_org_record_time",
    "ALTER TABLE epcis_event DROP CONSTRAINT uq_epcis_event_org_id_event_hash_error_declared",
)
_AFTER_COPY = (
    "ALTER TABLE epcis_event ADD CONSTRAINT uq_epcis_event_org_id_event_hash_error_declared"
    " UNIQUE (org_id, event_hash, error_declared)",
    "CREATE INDEX ix_epcis_event_org_event_id ON epcis_event (org_id, event_id)",
    "CREATE INDEX ix_epcis_event_org_event_time ON epcis_event (org_id, event_time)",
    "CREATE INDEX ix_epcis_event_org_record_time ON epcis_event (org_id, record_time, id)",
    "ALTER TABLE epcis_event_epc ADD CONSTRAINT pk_epcis_event_epc"
    " PRIMARY KEY (org_id, event_row_id, role, epc)",
    "CREATE INDEX ix_epcis_event_epc_trace ON epcis_event_epc (epc, role, org_id, event_row_id)",
    "CREATE INDEX ix_epcis_event_epc_org_epc ON epcis_event_epc (org_id, epc)",
    "ALTER TABLE epcis_event_epc ADD CONSTRAINT fk_epcis_event_epc_event FOREIGN KEY"
    " (org_id, event_row_id) REFERENCES epcis_event (org_id, id) ON DELETE CASCADE",
)


def _load(url: str) -> tuple[float, int]:
    """Creates the organizations and growing areas, then COPYs the events (generated by two
    worker processes while the database ingests); returns the time and the event count."""
    engine = make_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organization (id, code, kind, name, gln, province_code, address,"
                " contact_name, phone, email, website, status, created_at, updated_at) VALUES"
                " (:id, :code, 'enterprise', :name, :gln, NULL, '', '', '', '', '', 'approved',"
                " now(), now())"
            ),
            [
                {"id": o, "code": f"BENCH{n:03d}", "name": f"Bench org {n}", "gln": _gln(n)}
                for n, o in enumerate(ORG_IDS)
            ],
        )
        polygon = {
            "type": "Polygon",
            "coordinates": [
                [[106.5, 21.3], [106.52, 21.3], [106.52, 21.32], [106.5, 21.32], [106.5, 21.3]]
            ],
        }
        conn.execute(
            text(
                "INSERT INTO growing_area (id, org_id, code, name, crop, variety, area_ha,"
                " computed_area_ha, geometry, centroid_lat, centroid_lon, province_code,"
                " export_markets, status, status_reason, created_at, updated_at) VALUES"
                " (:id, :org, :code, :code, 'Vải thiều', '', :ha, :ha, CAST(:geo AS jsonb),"
                " 21.31, 106.51, '24', '', 'approved', '', now(), now())"
            ),
            [
                {
                    "id": uuid.UUID(int=(0x01A2 << 112) | n),
                    "org": ORG_IDS[n % (ORGS // LAYERS)],
                    "code": code,
                    "ha": 2.0 if n % 2 else 6.0,
                    "geo": json.dumps(polygon),
                }
                for n, code in enumerate(AREA_CODES)
            ],
        )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement in _BEFORE_COPY:
            cursor.execute(statement)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for events, epcs in pool.imap(layer_rows, range(LAYERS)):
                with cursor.copy(  # type: ignore[attr-defined]
                    "COPY epcis_event (org_id, id, event_id, event_hash, error_declared,"
                    " event_type, event_time, event_time_zone_offset, record_time, action,"
                    " biz_step, disposition, read_point, biz_location, event, capture_id)"
                    " FROM STDIN"
                ) as copy:
                    copy.write(events)
                with cursor.copy(  # type: ignore[attr-defined]
                    "COPY epcis_event_epc (org_id, event_row_id, role, epc) FROM STDIN"
                ) as copy:
                    copy.write(epcs)
        for statement in _AFTER_COPY:
            cursor.execute(statement)
        raw.commit()
    finally:
        raw.close()
    # A freshly loaded table has no visibility map yet: VACUUM makes index-only scans real,
    # as on a database in service.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) epcis_event"))
        conn.execute(text("VACUUM (ANALYZE) epcis_event_epc"))
    engine.dispose()
    return time.perf_counter() - start, LAYERS * EVENTS_PER_LAYER


def _timed(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    """Loads the chain, then measures traces, the FSMA spreadsheet and the SQL ceiling."""
    with fresh_database("postgresql") as url:
        seconds, count = _load(url)
        print(f"trace bench: loaded {count:,} events in {seconds:.1f} s ({count / seconds:,.0f}/s)")
        factory = make_sessionmaker(make_engine(url))
        rng = random.Random(7)
        last = [lot(LAYERS - 1, rng.randrange(LOTS_PER_LAYER)) for _ in range(SAMPLES)]
        first = [lot(0, rng.randrange(LOTS_PER_LAYER)) for _ in range(SAMPLES)]
        with factory() as session:
            session.execute(text("SELECT 1"))
            for epc in last[:3]:  # warm the caches and plans
                trace(session, epc, Direction.backward, principal=None, max_depth=30)
            sizes: list[int] = []

            def back(epc: str, db: Session = session) -> None:
                sizes.append(
                    len(trace(db, epc, Direction.backward, principal=None, max_depth=30).nodes)
                )

            def forward(epc: str, db: Session = session) -> None:
                sizes.append(
                    len(trace(db, epc, Direction.forward, principal=None, max_depth=30).nodes)
                )

            backward_ms = [_timed(back, e) for e in last]
            forward_ms = [_timed(forward, e) for e in first]
            cte_ms = [_timed(session.execute, CTE_SQL, {"start": e}) for e in last]
            middle = lot(LAYERS // 2, LOTS_PER_LAYER // 2)
            fsma_ms = [
                _timed(lambda: fsma.to_xlsx(fsma.build(session, None, middle))) for _ in range(5)
            ]
            rows = len(fsma.build(session, None, middle).rows)
        b_med, f_med = statistics.median(backward_ms), statistics.median(forward_ms)
        print(
            f"trace backward (layer 9 lot → origins): median {b_med:.1f} ms,"
            f" p99 {_percentile(backward_ms, 0.99):.1f} ms (target median < 100 ms)"
        )
        print(
            f"trace forward (layer 0 lot → customers): median {f_med:.1f} ms,"
            f" p99 {_percentile(forward_ms, 0.99):.1f} ms; graphs of"
            f" {min(sizes)}–{max(sizes)} nodes"
        )
        print(
            f"FSMA 204 spreadsheet of one lot ({rows} CTE rows):"
            f" median {statistics.median(fsma_ms):.0f} ms (target < 1000 ms)"
        )
        cte = statistics.median(cte_ms)
        report(
            "trace backward",
            1000 / b_med,
            "traces/s",
            1000 / cte,
            "recursive SQL CTE over the same links, no nodes/places/flags",
        )


if __name__ == "__main__":
    main()
