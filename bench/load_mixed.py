"""Mixed load on a multi-process server over PostgreSQL: 90 % consumer scans, 8 % API reads,
2 % single-event captures, for 60 s per phase (TRUYXUAT_BENCH_LOAD_SECONDS to change it).

The node runs `truyxuat serve --workers 2` on the demo data; wrk (64 connections) sends the mix
from a Lua script that gives every capture its own eventID, and counts answers by kind. Two
phases: saturated (each connection sends its next request as soon as it has the answer: the
node's capacity, and the latency of a queue 64 deep), then paced at half that capacity (each
connection waits an exponentially distributed pause between requests, as people scanning
do: the latency a consumer sees on a busy but not overrun node). The ceiling is /healthz
under the same server and load generator, in the same run. Targets (issue 10), for the
paced phase: no errors, p99 under 100 ms; the saturated phase is reported beside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import fresh_database
from bench.resolver import _seconds, _wrk
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.demo import load as load_demo
from truyxuat.demo.journeys import DEMO_STAMPS
from truyxuat.registry.models import Organization

SECONDS = int(os.environ.get("TRUYXUAT_BENCH_LOAD_SECONDS", "60"))
CONNECTIONS = 64
WORKERS = 2  # as passed to `truyxuat serve --workers` below
PACED_SHARE = 0.5  # of the saturated rate, offered in the paced phase
_PACING = """
local think_ms = %.1f
function delay()
  return -math.log(1 - math.random()) * think_ms
end
"""
SCHEMA = (
    Path(
        os.environ.get(
            "TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    / "epcis"
    / "EPCIS-JSON-Schema-2.0.1.json"
)

_SCRIPT = """
local scans = {%(scans)s}
local reads = {%(reads)s}
local key = "%(key)s"
local gtin = "%(gtin)s"
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  kinds = {scan = 0, read = 0, capture = 0}
end

function request()
  counter = counter + 1
  local roll = math.random(100)
  if roll <= 90 then
    kinds.scan = kinds.scan + 1
    return wrk.format("GET", scans[math.random(#scans)], {["Accept"] = "text/html"})
  elseif roll <= 98 then
    kinds.read = kinds.read + 1
    return wrk.format("GET", reads[math.random(#reads)], {["Authorization"] = key})
  end
  kinds.capture = kinds.capture + 1
  local body = string.format(
    '{"type":"ObjectEvent","eventID":"urn:uuid:0c0ffee0-0000-4000-8000-%%02d%%010d",' ..
    '"eventTime":"2026-11-23T08:00:00+07:00","eventTimeZoneOffset":"+07:00",' ..
    '"epcList":["https://id.gs1.org/01/' .. gtin .. '/21/LOAD%%d-%%d"],' ..
    '"action":"OBSERVE","bizStep":"inspecting"}', id, counter, id, counter)
  return wrk.format("POST", "/epcis/events",
    {["Authorization"] = key, ["Content-Type"] = "application/ld+json"}, body)
end

%(pacing)s
function response(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total_bad, scans, reads, captures = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    local k = t:get("kinds")
    scans = scans + k.scan
    reads = reads + k.read
    captures = captures + k.capture
  end
  io.write(string.format("MIX bad=%%d scans=%%d reads=%%d captures=%%d\\n",
    total_bad, scans, reads, captures))
end
"""


def _run_wrk(wrk: str, base: str, seconds: int, script: str | None, path: str = "/") -> str:
    command = [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        if script:
            file.write(script)
            command += ["-s", file.name]
    try:
        done = subprocess.run([*command, base + path], check=True, capture_output=True, text=True)
    finally:
        os.unlink(file.name)
    return done.stdout


def _figures(out: str) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 (s), and socket errors + non-2xx/3xx answers, from wrk."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p50, p99, errors + (int(non_ok.group(1)) if non_ok else 0)


def main() -> None:
    """Loads the demo node and measures the mix against its hello-world ceiling."""
    wrk = _wrk()
    with fresh_database("postgresql") as url, tempfile.TemporaryDirectory() as data_dir:
        factory = make_sessionmaker(make_engine(url))
        os.environ["TRUYXUAT_EPCIS_SCHEMA"] = str(SCHEMA)
        with session_scope(factory) as session:
            load_demo(session)
        with session_scope(factory) as session:
            run = DEMO_STAMPS[0]
            org = session.query(Organization).filter_by(code=run.org_code).one()
            _, key = auth_service.create_api_key(session, org=org, role=Role.org_staff)
        scans = [run.path(s) for run in DEMO_STAMPS for s in run.serials]
        reads = ["/api/v1/products?limit=20", "/epcis/events?perPage=20", "/api/v1/facilities"]
        port = 18000 + os.getpid() % 1000
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "truyxuat", "serve", "--port", str(port), "--workers", "2"],
            env={
                "TRUYXUAT_DATABASE_URL": url,
                "TRUYXUAT_SECRET_KEY": "bench",
                # All the load comes from one address: the per-address scan limit would refuse it.
                "TRUYXUAT_SCAN_RATE_PER_SECOND": "0",
                "TRUYXUAT_PUBLIC_FORM_RATE_PER_MINUTE": "0",
                "TRUYXUAT_DATA_DIR": data_dir,
                "TRUYXUAT_EPCIS_SCHEMA": str(SCHEMA),
                "TRUYXUAT_RESOLVER_BASE": base,
                "PATH": "/usr/bin:/bin",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            hello = _figures(_run_wrk(wrk, base, max(10, SECONDS // 4), None, "/healthz"))
            fill = {
                "scans": ", ".join(f'"{p}"' for p in scans),
                "reads": ", ".join(f'"{p}"' for p in reads),
                "key": f"Bearer {key}",
                "gtin": run.gtin,
            }
            saturated = _run_wrk(wrk, base, SECONDS, _SCRIPT % {**fill, "pacing": ""})
            offered = PACED_SHARE * _figures(saturated)[0]
            time.sleep(3)  # answers to requests wrk gave up on are still being sent
            think_ms = CONNECTIONS / offered * 1000
            paced = _run_wrk(wrk, base, SECONDS, _SCRIPT % {**fill, "pacing": _PACING % think_ms})
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    for phase, out, targeted in (("saturated", saturated, False), ("paced", paced, True)):
        rate, p50, p99, errors = _figures(out)
        mix = re.search(r"MIX bad=(\d+) scans=(\d+) reads=(\d+) captures=(\d+)", out)
        bad, n_scans, n_reads, n_captures = (int(g) for g in mix.groups()) if mix else (0, 0, 0, 0)
        verdict = "ok" if errors == 0 and bad == 0 and p99 < 0.1 else "BELOW TARGET"
        load = f"offered {offered:,.0f} req/s" if targeted else "no pause"
        print(
            f"mixed load {phase} [postgresql, {WORKERS} workers, {CONNECTIONS} connections, "
            f"{load}, {SECONDS} s]: {rate:,.0f} req/s  | ceiling (/healthz): {hello[0]:,.0f} "
            f"req/s  | ratio {rate / hello[0]:.2f}  | p50 {p50 * 1000:.1f} ms, p99 "
            f"{p99 * 1000:.1f} ms{' (target < 100)' if targeted else ''}  | errors "
            f"{errors + bad}  | {n_scans} scans, {n_reads} reads, {n_captures} captures"
            + (f"  | {verdict}" if targeted else "")
        )


if __name__ == "__main__":
    main()
