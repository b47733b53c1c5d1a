"""Stamp issue: one print run of 1,000,000 stamps through the service on PostgreSQL (serials,
PIN hashes, COPY in chunks, collision checks), against the ceiling of a raw COPY of the same
rows into an equivalent table (same columns and indexes) in the same run."""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine

from bench.common import fresh_database, report
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.gs1 import make_gtin13
from truyxuat.registry.models import Organization, OrgKind, Product
from truyxuat.stamps import service
from truyxuat.stamps.models import StampKind
from truyxuat.stamps.schemas import StampRunIn

N = int(os.environ.get("BENCH_STAMPS", "1000000"))
TARGET_SECONDS = 30.0


def main() -> None:
    """Issues N qr stamps and N anti-counterfeit stamps and prints both next to raw COPY."""
    with fresh_database("postgresql") as url, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        settings = Settings(database_url=url, secret_key="bench", data_dir=Path(tmp))
        with session_scope(factory) as session:
            org = Organization(
                code="BENCH", kind=OrgKind.enterprise, name="Bench", gs1_company_prefix="893000001"
            )
            session.add(org)
            session.flush()
            products = [
                Product(
                    org_id=org.id, gtin=make_gtin13("893000001", i).zfill(14), names={"vi": "x"}
                )
                for i in (1, 2)
            ]
            session.add_all(products)
        principal = Principal(label="bench", grants=(Grant(org.id, Role.org_admin, None),))
        for product, kind in zip(products, (StampKind.qr, StampKind.anticounterfeit), strict=True):
            start = time.perf_counter()
            with session_scope(factory) as session:
                body = StampRunIn(gtin=product.gtin, count=N, kind=kind)
                run_id = service.issue_run(session, principal, body, settings).run.id
            seconds = time.perf_counter() - start
            ceiling = _raw_copy_rate(engine, str(run_id))
            verdict = "ok" if seconds < TARGET_SECONDS else "SLOWER THAN TARGET"
            print(f"stamps issue {kind.value}: {N:,} stamps in {seconds:.1f} s ({verdict})")
            report(
                f"stamps issue {kind.value} [postgresql]",
                N / seconds,
                "stamps/s",
                ceiling,
                "raw COPY",
            )
        engine.dispose()


def _raw_copy_rate(engine: Engine, run_id: str) -> float:
    """COPYs the run's rows (read back as text) into a table like `stamp`; returns rows/s."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        buffer = io.BytesIO()
        with driver.cursor() as cursor:
            with cursor.copy(
                f"COPY (SELECT * FROM stamp WHERE run_id = '{run_id}') TO STDOUT"
            ) as copy:
                for block in copy:
                    buffer.write(block)
            cursor.execute("CREATE TEMP TABLE stamp_raw (LIKE stamp INCLUDING ALL)")
            start = time.perf_counter()
            with cursor.copy("COPY stamp_raw FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            driver.commit()
            seconds = time.perf_counter() - start
            cursor.execute("DROP TABLE stamp_raw")
            driver.commit()
    finally:
        raw.close()
    return N / seconds


if __name__ == "__main__":
    main()
