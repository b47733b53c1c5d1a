"""`truyxuat ledger ...` run as real processes against a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tests.factories import make_org
from tests.ledger.conftest import make_event
from truyxuat.db import make_engine, make_sessionmaker, session_scope, upgrade, utcnow
from truyxuat.epcis.service import store_events
from truyxuat.ledger import service


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs the CLI."""
    return subprocess.run(
        [sys.executable, "-m", "truyxuat", "ledger", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_integrate_verify_tamper_and_verify_a_bundle(tmp_path: Path) -> None:
    """The CLI integrates, verifies clean, names a tampered event, and checks bundles."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    env = {
        **os.environ,
        "TRUYXUAT_DATABASE_URL": url,
        "TRUYXUAT_DATA_DIR": str(tmp_path / "data"),
        "TRUYXUAT_SECRET_KEY": "ledger-cli",
    }
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as db:
        org = make_org(db)
        store_events(
            db, org.id, [make_event(n) for n in range(4)], record_time=utcnow(), capture_id=None
        )
    integrated = run(["integrate"], env)
    assert integrated.returncode == 0, integrated.stderr
    assert "integrated 4 entries; tree size 4" in integrated.stdout
    keys = run(["keys"], env)
    log_key = keys.stdout.split()[1]
    checkpoint = run(["checkpoint"], env)
    assert checkpoint.stdout.startswith("truyxuat.example/ledger\n4\n")
    clean = run(["verify"], env)
    assert clean.returncode == 0, clean.stdout
    assert "4 events, 4 leaves, 1 checkpoints: ok" in clean.stdout

    with session_scope(make_sessionmaker(engine)) as db:
        digest = db.execute(text("SELECT event_hash FROM epcis_event LIMIT 1")).scalar_one()
        bundle = service.proof_bundle(db, digest)
    assert bundle is not None
    good = tmp_path / "bundle.json"
    good.write_text(json.dumps(bundle))
    checked = run(["verify-bundle", str(good), "--log-key", log_key, "--event-hash", digest], env)
    assert checked.returncode == 0, checked.stderr
    assert "verified at checkpoint 4" in checked.stdout
    bad = tmp_path / "altered.json"
    bad.write_text(json.dumps({**bundle, "leaf_index": (bundle["leaf_index"] + 1) % 4}))
    refused = run(["verify-bundle", str(bad)], env)
    assert refused.returncode == 1
    assert "does not verify" in refused.stderr
    pinned = run(["verify-bundle", str(good), "--log-key", "other+00000000+AA=="], env)
    assert pinned.returncode == 1

    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE epcis_event SET event = json_set(event, '$.action', 'ADD') "
                "WHERE event_hash = :h"
            ),
            {"h": digest},
        )
    tampered = run(["verify"], env)
    assert tampered.returncode == 1
    assert "hashes to" in tampered.stdout and digest in tampered.stdout
    engine.dispose()
