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

import io
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
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


class Writer:
    """COPY text of the event and identifier rows."""

    def __init__(self, org_ids: list[uuid.UUID]) -> None:
        self.org_ids = org_ids
        self.events = io.StringIO()
        self.epcs = io.StringIO()
        self.count = 0

    def add(
        self,
        org: int,
        kind: str,
        moment: datetime,
        step: str,
        body: dict[str, object],
        ids: list[tuple[str, str]],
        place: str,
        action: str | None,
    ) -> None:
        """One event row and its identifier rows."""
        self.count += 1
        row_id = uuid.UUID(int=(0x01A0 << 112) | self.count)
        event_id = f"urn:uuid:{row_id}"
        event = {
            "type": kind,
            "eventID": event_id,
            "eventTime": moment.isoformat().replace("+00:00", "Z"),
            "eventTimeZoneOffset": "+07:00",
            "bizStep": step,
            "readPoint": {"id": place},
            "bizLocation": {"id": place},
            **({"action": action} if action else {}),
            **body,
        }
        data = json.dumps(event, separators=(",", ":")).replace("\\", "\\\\")
        org_id = self.org_ids[org]
        self.events.write(
            f"{org_id}\t{row_id}\t{event_id}\tni:///sha-256;{self.count:064x}?ver=CBV2.0\tf\t"
            f"{kind}\t{moment.isoformat()}\t+07:00\t{moment.isoformat()}\t"
            f"{action or chr(92) + 'N'}\thttps://ref.gs1.org/cbv/BizStep-{step}\t\\N\t"
            f"{place}\t{place}\t{data}\t\\N\n"
        )
        for role, epc in ids:
            self.epcs.write(f"{org_id}\t{row_id}\t{role}\t{epc}\n")


def generate(org_ids: list[uuid.UUID], areas: list[str]) -> Iterator[Writer]:
    """The events of the chain, one layer at a time (the writer is emptied between layers)."""
    writer = Writer(org_ids)
    for layer in range(LAYERS):
        writer.events, writer.epcs = io.StringIO(), io.StringIO()
        day = EPOCH + timedelta(days=3 * layer)
        for index in range(LOTS_PER_LAYER):
            org = _org(layer, index)
            place = f"{DL}/414/{_gln(org)}"
            moment = day + timedelta(seconds=index)
            me = lot(layer, index)
            if layer == 0:
                area = areas[index % len(areas)]
                writer.add(
                    org,
                    "ObjectEvent",
                    moment,
                    "commissioning",
                    {
                        "quantityList": [{"epcClass": me, "quantity": 500, "uom": "KGM"}],
                        "ilmd": {
                            "cbvmda:harvestStartDate": moment.date().isoformat(),
                            "tx:growingAreaCode": area,
                        },
                    },
                    [("quantity", me)],
                    f"{place}/254/{area}",
                    "ADD",
                )
            else:
                used = inputs(layer, index)
                sources = [lot(layer - 1, i) for i in used]
                writer.add(
                    org,
                    "TransformationEvent",
                    moment,
                    "commissioning",
                    {
                        "inputQuantityList": [
                            {"epcClass": s, "quantity": 100, "uom": "KGM"} for s in sources
                        ],
                        "outputQuantityList": [
                            {"epcClass": me, "quantity": 90 * len(sources), "uom": "KGM"}
                        ],
                        "ilmd": {"cbvmda:bestBeforeDate": "2027-01-01"},
                    },
                    [("input_quantity", s) for s in sources] + [("output_quantity", me)],
                    place,
                    None,
                )
        for first in range(0, LOTS_PER_LAYER, PER_PALLET):
            org = _org(layer, first)
            place = f"{DL}/414/{_gln(org)}"
            buyer = min(_org(min(layer + 1, LAYERS - 1), first), ORGS - 1)
            if buyer == org:
                buyer = (org + 1) % ORGS
            moment = day + timedelta(days=1, seconds=first)
            unit = pallet(layer, first)
            members = [lot(layer, i) for i in range(first, min(first + PER_PALLET, LOTS_PER_LAYER))]
            writer.add(
                org,
                "AggregationEvent",
                moment,
                "packing",
                {
                    "parentID": unit,
                    "childQuantityList": [
                        {"epcClass": m, "quantity": 90, "uom": "KGM"} for m in members
                    ],
                },
                [("parent", unit)] + [("child_quantity", m) for m in members],
                place,
                "ADD",
            )
            parties = {
                "epcList": [unit],
                "sourceList": [{"type": "owning_party", "source": f"{DL}/417/{_gln(org)}"}],
                "destinationList": [
                    {"type": "owning_party", "destination": f"{DL}/417/{_gln(buyer)}"}
                ],
                "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:po:{unit[-8:]}"}],
            }
            writer.add(
                org,
                "ObjectEvent",
                moment + timedelta(hours=2),
                "shipping",
                parties,
                [("epc", unit)],
                place,
                "OBSERVE",
            )
            writer.add(
                buyer,
                "ObjectEvent",
                moment + timedelta(hours=20),
                "receiving",
                parties,
                [("epc", unit)],
                f"{DL}/414/{_gln(buyer)}",
                "OBSERVE",
            )
        yield writer


def _load(url: str) -> tuple[float, int]:
    """Creates the organizations and growing areas, then COPYs the events; returns the time."""
    engine = make_engine(url)
    start = time.perf_counter()
    org_ids = [uuid.UUID(int=(0x01A1 << 112) | n) for n in range(ORGS)]
    areas = [f"BENCH-GA-{n:04d}" for n in range(AREAS)]
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
                for n, o in enumerate(org_ids)
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
                    "org": org_ids[n % (ORGS // LAYERS)],
                    "code": code,
                    "ha": 2.0 if n % 2 else 6.0,
                    "geo": json.dumps(polygon),
                }
                for n, code in enumerate(areas)
            ],
        )
    raw = engine.raw_connection()
    count = 0
    try:
        cursor = raw.cursor()
        cursor.execute("DROP INDEX IF EXISTS ix_epcis_event_epc_trace")
        cursor.execute("DROP INDEX IF EXISTS ix_epcis_event_epc_org_epc")
        for writer in generate(org_ids, areas):
            with cursor.copy(  # type: ignore[attr-defined]
                "COPY epcis_event (org_id, id, event_id, event_hash, error_declared, event_type,"
                " event_time, event_time_zone_offset, record_time, action, biz_step,"
                " disposition, read_point, biz_location, event, capture_id) FROM STDIN"
            ) as copy:
                copy.write(writer.events.getvalue())
            with cursor.copy(  # type: ignore[attr-defined]
                "COPY epcis_event_epc (org_id, event_row_id, role, epc) FROM STDIN"
            ) as copy:
                copy.write(writer.epcs.getvalue())
            count = writer.count
        cursor.execute(
            "CREATE INDEX ix_epcis_event_epc_trace ON epcis_event_epc (epc, role, org_id,"
            " event_row_id)"
        )
        cursor.execute("CREATE INDEX ix_epcis_event_epc_org_epc ON epcis_event_epc (org_id, epc)")
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return time.perf_counter() - start, count


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
