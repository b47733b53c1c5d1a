"""Acceptance: a province node and the national node as two real server processes on separate
PostgreSQL databases, talking HTTP on loopback through a faulty link.

Events are captured at the province over HTTP and registry records written there; `truyxuat
sync run` (its own process) pushes them. Along the way the link answers 500s, the national
node's answers are lost to timeouts after it committed, the national node is down for a while,
the sender is killed with SIGKILL in the middle of a run, and a batch is sent twice. After
recovery both nodes hold the same events — counted and hashed — and the national resolver
answers for the province's product and sends the province's stamp to the province.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import STORES
from tests.federation import nodes
from tests.federation.nodes import Node
from tests.ops.conftest import free_port, run_cli, start_server
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import session_scope
from truyxuat.federation.models import SyncCursor, SyncNode
from truyxuat.ledger.keys import witness_signer
from truyxuat.registry.models import Organization, Product

pytestmark = pytest.mark.skipif("postgresql" not in STORES, reason="PostgreSQL is not tested")

Plan = Callable[[str, str], str]
"""Decides what the link does with a request (method, path): pass, fail, lose or drop."""


class FaultyLink:
    """A loopback HTTP relay to the national node that can fail on purpose.

    "fail" answers 500 without forwarding; "lose" forwards (the national node commits) and
    then holds the answer longer than the sender waits, so the sender retries a batch the
    national node already has; "slow" forwards and answers after a short delay.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.plan: Plan = lambda method, path: "pass"
        self.seen: list[tuple[str, str, int]] = []
        link = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = link.plan(self.command, self.path)
                if action == "fail":
                    link.seen.append((self.command, self.path, 500))
                    self._answer(500, {"Content-Type": "text/plain"}, b"link failure")
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                try:
                    with httpx.Client(timeout=120) as http:
                        answer = http.request(
                            self.command, link.target + self.path, content=body, headers=headers
                        )
                except httpx.HTTPError:
                    link.seen.append((self.command, self.path, 502))
                    self._answer(502, {"Content-Type": "text/plain"}, b"national node down")
                    return
                link.seen.append((self.command, self.path, answer.status_code))
                if action == "lose":
                    time.sleep(3)
                elif action == "slow":
                    time.sleep(0.4)
                kept = {
                    k: v
                    for k, v in answer.headers.items()
                    if k.lower()
                    in ("content-type", "location", "sync-next-index", "ledger-tree-size")
                }
                self._answer(answer.status_code, kept, answer.content)

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender gave up waiting

            do_GET = do_POST = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _faults(actions: list[str], path: str = "/federation/v1/events") -> Plan:
    """A plan doing `actions` in turn to the requests to `path`, then passing everything."""
    left = list(actions)

    def plan(method: str, request_path: str) -> str:
        if request_path.startswith(path) and left:
            return left.pop(0)
        return "pass"

    return plan


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    values = {
        "TRUYXUAT_DATABASE_URL": settings.database_url,
        "TRUYXUAT_DATA_DIR": str(settings.data_dir),
        "TRUYXUAT_SECRET_KEY": settings.secret_key,
        "TRUYXUAT_DEFAULT_LOCALE": "en",
        "TRUYXUAT_EPCIS_SCHEMA": str(nodes.SCHEMA),
        "TRUYXUAT_LEDGER_ORIGIN": settings.ledger_origin,
        "TRUYXUAT_LEDGER_KEY": settings.ledger_key,
        "TRUYXUAT_LEDGER_WITNESS_KEY": settings.ledger_witness_key,
        "TRUYXUAT_LEDGER_WITNESS_NAME": settings.ledger_witness_name,
        "TRUYXUAT_LEDGER_WITNESS_LOGS": json.dumps(settings.ledger_witness_logs),
        "TRUYXUAT_NODE_ROLE": settings.node_role,
        "TRUYXUAT_NODE_NAME": settings.node_name,
        "TRUYXUAT_LEDGER_INTEGRATE_INTERVAL": "0.5",
    }
    return {**os.environ, **values, **extra}


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[dict[str, Any]]:
    p_url, p_name = nodes.database("postgresql", tmp_path, "province")
    n_url, n_name = nodes.database("postgresql", tmp_path, "national")
    national_settings = nodes.national_settings(
        n_url,
        tmp_path,
        ledger_witness_key=nodes.seed(3),
        ledger_witness_name="national.example/witness",
    )
    national = Node.open(national_settings)
    key = nodes.upstream_key(national)
    witness_vkey = witness_signer(national_settings).verifier.vkey()
    n_env = _env(national_settings)
    n_server, n_base = start_server(n_env)
    link = FaultyLink(n_base)
    p_port = free_port()
    province_settings = nodes.province_settings(
        p_url, tmp_path, node_base_url=f"http://127.0.0.1:{p_port}"
    )
    p_env = _env(
        province_settings,
        TRUYXUAT_NODE_BASE_URL=province_settings.node_base_url,
        TRUYXUAT_NODE_UPSTREAM_URLS=json.dumps([link.url]),
        TRUYXUAT_NODE_UPSTREAM_API_KEY=key,
        TRUYXUAT_SYNC_BATCH_SIZE="500",
        TRUYXUAT_SYNC_BACKOFF_SECONDS="0.05",
        TRUYXUAT_SYNC_MAX_ATTEMPTS="6",
        TRUYXUAT_SYNC_TIMEOUT_SECONDS="1.5",
        TRUYXUAT_LEDGER_WITNESS_URLS=json.dumps([link.url]),
        TRUYXUAT_LEDGER_WITNESSES=json.dumps([witness_vkey]),
    )
    province = Node.open(province_settings)
    p_server = subprocess.Popen(
        [sys.executable, "-m", "truyxuat", "serve", "--port", str(p_port)],
        env=p_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    p_base = f"http://127.0.0.1:{p_port}"
    for _ in range(200):
        try:
            httpx.get(f"{p_base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    state = {
        "province": province,
        "national": national,
        "p_env": p_env,
        "n_env": n_env,
        "p_base": p_base,
        "servers": {"national": n_server, "province": p_server},
        "n_base": n_base,
        "link": link,
    }
    try:
        yield state
    finally:
        for server in state["servers"].values():
            server.send_signal(signal.SIGKILL)
            server.wait(10)
        link.close()
        province.engine.dispose()
        national.engine.dispose()
        nodes.drop(p_name)
        nodes.drop(n_name)


def _capture(base: str, key: str, tag: str, count: int) -> None:
    response = httpx.post(
        f"{base}/epcis/capture",
        content=nodes.document(tag, count),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/ld+json"},
        timeout=120,
    )
    assert response.status_code == 202, response.text


def _same(state: dict[str, Any]) -> tuple[int, str]:
    held = nodes.fingerprint(state["province"].factory)
    assert nodes.fingerprint(state["national"].factory) == held
    return held


def _sync(state: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return run_cli(["sync", "run"], state["p_env"])


def test_two_nodes_converge_through_faults(federation: dict[str, Any]) -> None:
    state = federation
    province: Node = state["province"]
    link: FaultyLink = state["link"]
    data = nodes.populate(province)
    with session_scope(province.factory) as db:
        org = db.get(Organization, data.org_id)
        assert org is not None
        _, org_key = auth_service.create_api_key(db, org=org, role=Role.org_staff)
    for n in range(3):
        _capture(state["p_base"], org_key, f"A{n}", 400)

    # The link answers 500 twice, then loses two answers after the national node committed.
    link.plan = _faults(["fail", "fail", "pass", "lose", "lose"])
    done = _sync(state)
    assert done.returncode == 0, done.stderr
    assert any(status == 500 for _, _, status in link.seen)
    count, _ = _same(state)
    assert count == 1200

    # The national node is down: the run fails and says so; after a restart the next run
    # brings it up to date.
    link.plan = lambda method, path: "pass"
    state["servers"]["national"].send_signal(signal.SIGKILL)
    state["servers"]["national"].wait(10)
    _capture(state["p_base"], org_key, "B", 300)
    down = _sync(state)
    assert down.returncode == 1
    status = run_cli(["sync", "status", "--json"], state["p_env"])
    (upstream,) = json.loads(status.stdout)["upstreams"]
    assert upstream["last_error"] and upstream["pending"] >= 300
    server, base = start_server(state["n_env"])
    state["servers"]["national"] = server
    link.target = base
    assert _sync(state).returncode == 0
    assert _same(state)[0] == 1500

    # kill -9 of the sender in the middle of a run (each answer is slowed down so the run
    # takes a few seconds): some batches were acknowledged, one may have been stored upstream
    # without the sender knowing.
    for n in range(4):
        _capture(state["p_base"], org_key, f"C{n}", 1000)
    link.plan = lambda method, path: "slow" if path.startswith("/federation/v1/events") else "pass"
    sender = subprocess.Popen(
        [sys.executable, "-m", "truyxuat", "sync", "run"],
        env=state["p_env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    national: Node = state["national"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope(national.factory) as db:
            node = db.get(SyncNode, nodes.PROVINCE_ORIGIN)
            if node is not None and node.next_index > 2500:
                break
        time.sleep(0.05)
    sender.send_signal(signal.SIGKILL)
    sender.wait(10)
    with session_scope(province.factory) as db:
        acknowledged = db.scalar(select(SyncCursor.position))
    with session_scope(national.factory) as db:
        held = db.scalar(select(SyncNode.next_index))
    assert acknowledged is not None and held is not None
    assert acknowledged <= held < 5500 + 100  # cut short, and never ahead of the national node
    assert nodes.fingerprint(national.factory)[0] < 5500
    link.plan = lambda method, path: "pass"
    assert _sync(state).returncode == 0
    count, digest = _same(state)
    assert count == 5500

    # A batch sent twice is acknowledged without storing anything again.
    with session_scope(province.factory) as db:
        from truyxuat.federation import sender as sync_sender
        from truyxuat.ledger import service as ledger

        checkpoint = ledger.latest_checkpoint(db)
        assert checkpoint is not None
        batch = sync_sender.build_batch(db, province.settings, checkpoint, 0, 500)
    for attempt in range(2):
        answer = httpx.post(
            f"{link.target}/federation/v1/events",
            content=json.dumps(batch).encode(),
            headers={
                "Authorization": f"Bearer {state['p_env']['TRUYXUAT_NODE_UPSTREAM_API_KEY']}",
                "Idempotency-Key": f"twice-{attempt}",
                "Content-Type": "application/json",
            },
            timeout=60,
        )
        assert answer.status_code == 200 and answer.json()["duplicate"] is True
    assert _same(state) == (count, digest)

    # A registry change at the province (over its API) reaches the national node.
    with session_scope(province.factory) as db:
        product_id = db.scalar(select(Product.id).where(Product.gtin == data.gtin))
        owner = db.get(Organization, data.org_id)
        assert owner is not None
        _, admin_key = auth_service.create_api_key(db, org=owner, role=Role.org_admin)
    names = {"vi": "Vải thiều Lục Ngạn loại 1", "en": "Luc Ngan lychee, grade 1"}
    changed = httpx.patch(
        f"{state['p_base']}/api/v1/products/{product_id}",
        json={"names": names},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert changed.status_code == 200, changed.text
    assert _sync(state).returncode == 0
    with session_scope(national.factory) as db:
        synced = db.get(Product, product_id)
        assert synced is not None and synced.names == names

    # The national resolver: the product's passport from the synced data, the stamp (held
    # only by the province) sent to the province, which resolves it.
    gtin = data.gtin.zfill(14)
    passport = httpx.get(f"{link.target}/01/{gtin}", headers={"Accept": "text/html"})
    assert passport.status_code == 200
    stamp = httpx.get(f"{link.target}/01/{gtin}/21/{data.serial}", follow_redirects=False)
    assert stamp.status_code == 307
    assert stamp.headers["location"] == f"{state['p_base']}/01/{gtin}/21/{data.serial}"
    assert httpx.get(stamp.headers["location"], headers={"Accept": "text/html"}).status_code == 200

    # The national node witnessed the province's log: its checkpoint carries the cosignature.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        note = httpx.get(f"{state['p_base']}/ledger/checkpoint").text
        if "national.example/witness" in note:
            break
        time.sleep(0.2)
    assert "national.example/witness" in note
