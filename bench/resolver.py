"""Resolver throughput under load: the linkset JSON and the HTML passport of stamped items,
each beside a hello-world endpoint served by the same server in the same run.

The load comes from wrk (installed with apt when missing and running as root), 64 keep-alive
connections for 20 s per endpoint (`TRUYXUAT_BENCH_RESOLVER_SECONDS` shortens it) after a short
warm-up, cycling over the serials of an activated run so every passport request logs a scan
of a different item.
Targets: linkset ≥ 0.5 and passport ≥ 0.25 of hello-world, p99 under 50 ms.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from bench.common import fresh_database
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.epcis import service as epcis_service
from truyxuat.gs1 import make_gln, make_gtin13
from truyxuat.registry.geometry import check_geometry
from truyxuat.registry.models import (
    Certification,
    CertScheme,
    CertScope,
    CodeStatus,
    Facility,
    FacilityKind,
    GrowingArea,
    Organization,
    OrgKind,
    OrgStatus,
    Product,
)
from truyxuat.stamps import service as stamps_service
from truyxuat.stamps.models import Stamp, StampKind
from truyxuat.stamps.schemas import StampRunIn

SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SCHEMA = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
SECONDS = int(os.environ.get("TRUYXUAT_BENCH_RESOLVER_SECONDS", "20"))
WARM_SECONDS = 2
CONNECTIONS = 64
SERIALS = 200
LOT = "BENCH-LOT-01"
PREFIX = "893123456"
ORCHARD: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [106.5480, 21.3790],
            [106.5499, 21.3787],
            [106.5507, 21.3800],
            [106.5494, 21.3810],
            [106.5479, 21.3805],
            [106.5480, 21.3790],
        ]
    ],
}


def bench_app() -> FastAPI:
    """The platform's app (settings from the environment) plus a hello-world route.

    The hello-world route is a coroutine matched first, as the resolver's route is, behind
    the same middleware: the ceiling is the cost of the server and the framework alone.
    """
    from truyxuat.app import create_app, prepare_served_process

    app = create_app()

    async def hello() -> PlainTextResponse:
        return PlainTextResponse("Hello, world!")

    app.add_api_route("/bench/hello", hello, methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())
    prepare_served_process()  # as `truyxuat serve` does
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench/resolver.py needs wrk (apt-get install wrk)")
    return found


def _event(kind: str, when: datetime, gtin: str, place: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": kind,
        "eventTime": when.replace(microsecond=0).isoformat(),
        "eventTimeZoneOffset": "+07:00",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "readPoint": {"id": place},
        "bizLocation": {"id": place},
    }
    event.update(extra)
    return event


def _seed(url: str, settings: Settings) -> tuple[str, list[str]]:
    """A producer with a product, orchard, certificates, an activated run and its journey."""
    factory = make_sessionmaker(make_engine(url))
    validator = epcis_service.validator_for(SCHEMA)
    now = datetime.now(UTC)
    with session_scope(factory) as db:
        org = Organization(
            code="BENCH-HTX",
            kind=OrgKind.enterprise,
            name="Hợp tác xã Vải thiều Bench",
            province_code="24",
            gs1_company_prefix=PREFIX,
            gln=make_gln(PREFIX, 1),
            status=OrgStatus.approved,
        )
        db.add(org)
        db.flush()
        principal = Principal(
            label="bench", grants=(Grant(org.id, Role.org_admin, "24"),), csrf_token="t"
        )
        gtin = make_gtin13(PREFIX, 42).zfill(14)
        product = Product(
            org_id=org.id,
            gtin=gtin,
            names={"vi": "Vải thiều Lục Ngạn", "en": "Luc Ngan lychee", "zh": "陆岸荔枝"},
            ocop_stars=4,
        )
        checked = check_geometry(ORCHARD, declared_area_ha=5.17)
        area = GrowingArea(
            org_id=org.id,
            code="VN-BN-LN-0042",
            name="Vườn vải đồi",
            crop="Vải thiều",
            area_ha=5.17,
            computed_area_ha=checked.area_ha,
            geometry=checked.geojson,
            centroid_lon=checked.centroid[0],
            centroid_lat=checked.centroid[1],
            province_code="24",
            status=CodeStatus.approved,
        )
        house = Facility(
            org_id=org.id,
            kind=FacilityKind.packing_house,
            name="Nhà đóng gói Phượng Sơn",
            gln=make_gln(PREFIX, 2),
            province_code="24",
        )
        db.add_all([product, area, house])
        db.flush()
        today = now.date()
        for scope, scope_id, number, start, end in (
            (
                CertScope.growing_area,
                area.id,
                "VG-1",
                today - timedelta(days=30),
                today + timedelta(days=300),
            ),
            (
                CertScope.organization,
                org.id,
                "GG-1",
                today - timedelta(days=900),
                today - timedelta(days=10),
            ),
        ):
            db.add(
                Certification(
                    org_id=org.id,
                    scheme=CertScheme.vietgap,
                    issuer="Trung tâm Chứng nhận",
                    number=number,
                    scope_type=scope,
                    scope_id=scope_id,
                    valid_from=start,
                    valid_to=end,
                )
            )
        issued = stamps_service.issue_run(
            db,
            principal,
            StampRunIn(product_id=product.id, lot=LOT, count=SERIALS, kind=StampKind.qr),
            settings,
        )
        stamps_service.activate(db, principal, issued.run.id, lot=LOT)
        serials = list(db.scalars(select(Stamp.serial).where(Stamp.run_id == issued.run.id)))
        area_place = f"https://id.gs1.org/414/{org.gln}/254/{area.code}"
        house_place = f"https://id.gs1.org/414/{house.gln}"
        harvest_lot = f"https://id.gs1.org/01/{gtin}/10/H-{LOT}"
        lot_uri = f"https://id.gs1.org/01/{gtin}/10/{LOT}"
        events = [
            _event(
                "ObjectEvent",
                now - timedelta(days=10),
                gtin,
                area_place,
                epcList=[],
                action="ADD",
                bizStep="commissioning",
                disposition="active",
                quantityList=[{"epcClass": harvest_lot, "quantity": 500, "uom": "KGM"}],
                ilmd={
                    "cbvmda:harvestStartDate": (now - timedelta(days=10)).date().isoformat(),
                    "cbvmda:lotNumber": f"H-{LOT}",
                },
            ),
            _event(
                "TransformationEvent",
                now - timedelta(days=9),
                gtin,
                house_place,
                bizStep="packing",
                disposition="active",
                inputQuantityList=[{"epcClass": harvest_lot, "quantity": 500, "uom": "KGM"}],
                outputQuantityList=[{"epcClass": lot_uri, "quantity": 480, "uom": "KGM"}],
                ilmd={
                    "cbvmda:lotNumber": LOT,
                    "cbvmda:itemExpirationDate": (now + timedelta(days=20)).date().isoformat(),
                },
            ),
            _event(
                "ObjectEvent",
                now - timedelta(days=8),
                gtin,
                house_place,
                epcList=[],
                action="OBSERVE",
                bizStep="shipping",
                disposition="in_transit",
                quantityList=[{"epcClass": lot_uri, "quantity": 480, "uom": "KGM"}],
            ),
        ]
        for event in events:
            epcis_service.capture_event(db, principal, event=event, validator=validator)
    return gtin, serials


def _seconds(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def _load(
    wrk: str, base: str, paths: list[str], headers: dict[str, str], seconds: int
) -> tuple[float, float]:
    """Requests/s and p99 latency (s) of wrk cycling over `paths`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        listed = ", ".join(f'"{p}"' for p in paths)
        script.write(
            f"local paths = {{{listed}}}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n"
            "  return wrk.format(nil, paths[i])\nend\n"
        )
    try:
        command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run([*command, base], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed responses:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    return rate, p99


def _measure(kind: str, wrk: str) -> None:
    with fresh_database(kind) as url, tempfile.TemporaryDirectory() as data_dir:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "TRUYXUAT_DATABASE_URL": url,
            "TRUYXUAT_SECRET_KEY": "bench",
            # All the load comes from one address: the per-address scan limit would refuse it.
            "TRUYXUAT_SCAN_RATE_PER_SECOND": "0",
            "TRUYXUAT_PUBLIC_FORM_RATE_PER_MINUTE": "0",
            "TRUYXUAT_DATA_DIR": data_dir,
            "TRUYXUAT_RESOLVER_BASE": base,
            "TRUYXUAT_PUBLIC_BASE_URL": base,
        }
        settings = Settings(database_url=url, secret_key="bench", data_dir=Path(data_dir))
        gtin, serials = _seed(url, settings)
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import uvicorn; uvicorn.run('bench.resolver:bench_app', factory=True, "
                f"host='127.0.0.1', port={port}, proxy_headers=True, log_level='warning', "
                "loop='asyncio')",  # as `truyxuat serve` runs it
            ],
            env={**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/bench/hello", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            items = [f"/01/{gtin}/10/{LOT}/21/{s}" for s in serials]
            loads = {
                "hello": (["/bench/hello"], {}),
                "linkset": (items, {"Accept": "application/linkset+json"}),
                "passport": (items, {"Accept": "text/html", "Accept-Language": "vi"}),
            }
            # Each endpoint is warmed (templates compiled, caches filled), then loaded for
            # the whole run; hello-world is measured before and after the other two, and its
            # mean is the ceiling, so a change in the machine's load weighs on both sides.
            for paths, headers in loads.values():
                _load(wrk, base, paths, headers, WARM_SECONDS)
            measured = {name: _load(wrk, base, *loads[name], SECONDS) for name in loads}
            hello_again = _load(wrk, base, *loads["hello"], SECONDS)
            hello_rate = (measured["hello"][0] + hello_again[0]) / 2
            hello_p99 = max(measured["hello"][1], hello_again[1])
            link_rate, link_p99 = measured["linkset"]
            page_rate, page_p99 = measured["passport"]
            size = len(httpx.get(base + items[0], headers={"Accept": "text/html"}).content)
        finally:
            server.terminate()
            server.wait(10)
    print(f"resolver hello-world [{kind}]: {hello_rate:,.0f} req/s, p99 {hello_p99 * 1000:.1f} ms")
    for name, figure, p99, target in (
        ("linkset JSON", link_rate, link_p99, 0.5),
        ("HTML passport", page_rate, page_p99, 0.25),
    ):
        ratio = figure / hello_rate
        verdict = "ratio met" if ratio >= target else "ratio BELOW target"
        verdict += ", p99 met" if p99 < 0.05 else ", p99 over 50 ms"
        print(
            f"resolver {name} [{kind}]: {figure:,.0f} req/s  | ceiling (hello-world): "
            f"{hello_rate:,.0f} req/s  | ratio {ratio:.2f} (target {target})"
            f"  | p99 {p99 * 1000:.1f} ms (target < 50)  | {verdict}"
        )
    print(f"resolver passport page size: {size / 1024:.1f} KiB before images")


def main() -> None:
    """Measures the resolver on SQLite and PostgreSQL."""
    wrk = _wrk()
    print(
        f"resolver: wrk -t1 -c{CONNECTIONS}, {SECONDS} s per endpoint after a "
        f"{WARM_SECONDS} s warm-up, one uvicorn worker"
    )
    for kind in ("sqlite", "postgresql"):
        _measure(kind, wrk)


if __name__ == "__main__":
    main()
