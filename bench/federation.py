"""Federation sync: 100,000 events pushed from a province node to a national node, two real
server processes on PostgreSQL talking HTTP on loopback, in events/s (batches verified against
the province's signed checkpoint and stored upstream), beside the ceiling of the same events
captured locally at the province over HTTP in the same run (`POST /epcis/capture`)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import fresh_database, report
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.federation import sender
from truyxuat.ledger.api import run_once
from truyxuat.ledger.keys import log_signer
from truyxuat.registry.models import Organization, OrgKind

EVENTS = 100_000
PER_DOCUMENT = 10_000
TARGET = 5_000
SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SCHEMA = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
PROVINCE_KEY = base64.b64encode(b"p" * 32).decode()


def _event(n: int) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:7a1c2e4d-3b0e-4c37-8a7a-{n:012d}",
        "eventTime": (
            f"2026-11-20T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}+07:00"
        ),
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"https://id.gs1.org/01/08935001234562/21/F{n}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": f"urn:epc:id:sgln:0614141.07346.{n % 50}"},
    }


def _document(first: int, count: int) -> bytes:
    return json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-23T08:00:00+07:00",
            "epcisBody": {"eventList": [_event(n) for n in range(first, first + count)]},
        }
    ).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "truyxuat", "serve", "--port", str(port)],
        env={**env, "PATH": "/usr/bin:/bin", "TRUYXUAT_LEDGER_INTEGRATE_INTERVAL": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def _key(url: str, kind: OrgKind, role: Role) -> str:
    factory = make_sessionmaker(make_engine(url))
    with session_scope(factory) as session:
        org = Organization(code=f"B-{kind.value}", kind=kind, name="Bench", province_code="24")
        session.add(org)
        session.flush()
        _, key = auth_service.create_api_key(session, org=org, role=role)
    return key


def main(events: int = EVENTS) -> None:
    """Captures `events` at a province over HTTP (the ceiling), then times their sync."""
    province_settings = Settings(ledger_origin="province.bench/ledger", ledger_key=PROVINCE_KEY)
    vkey = log_signer(province_settings).verifier.vkey()
    with fresh_database("postgresql") as p_url, fresh_database("postgresql") as n_url:
        province_env = {
            "TRUYXUAT_DATABASE_URL": p_url,
            "TRUYXUAT_SECRET_KEY": "bench",
            "TRUYXUAT_EPCIS_SCHEMA": str(SCHEMA),
            "TRUYXUAT_LEDGER_ORIGIN": province_settings.ledger_origin,
            "TRUYXUAT_LEDGER_KEY": PROVINCE_KEY,
        }
        national_env = {
            "TRUYXUAT_DATABASE_URL": n_url,
            "TRUYXUAT_SECRET_KEY": "bench",
            "TRUYXUAT_NODE_ROLE": "national",
            "TRUYXUAT_LEDGER_WITNESS_LOGS": json.dumps([vkey]),
        }
        org_key = _key(p_url, OrgKind.enterprise, Role.org_staff)
        upstream_key = _key(n_url, OrgKind.authority, Role.authority)
        p_server, p_base = _serve(province_env)
        n_server, n_base = _serve(national_env)
        try:
            documents = [_document(n, PER_DOCUMENT) for n in range(0, events, PER_DOCUMENT)]
            headers = {"Authorization": f"Bearer {org_key}", "Content-Type": "application/ld+json"}
            with httpx.Client(base_url=p_base, headers=headers, timeout=600) as client:
                start = time.perf_counter()
                for document in documents:
                    client.post("/epcis/capture", content=document).raise_for_status()
                capture = events / (time.perf_counter() - start)
            settings = province_settings.model_copy(
                update={
                    "database_url": p_url,
                    "node_role": "province",
                    "node_upstream_urls": [n_base],
                    "node_upstream_api_key": upstream_key,
                }
            )
            factory = make_sessionmaker(make_engine(p_url))
            run_once(factory, settings)  # the leaves and checkpoint exist before the timing
            start = time.perf_counter()
            (result,) = sender.run(factory, settings)
            elapsed = time.perf_counter() - start
            assert not result.errors, result.errors
            assert result.stored == events, f"stored {result.stored} of {events}"
        finally:
            for server in (p_server, n_server):
                server.terminate()
                server.wait(10)
        report(
            f"Federation sync of {events:,} events province → national "
            f"[postgresql, loopback HTTP, target {TARGET:,}]",
            events / elapsed,
            "events/s",
            capture,
            "local HTTP capture of the same events at the province",
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS)
