"""The ledger over HTTP: checkpoint, tiles, proofs, bundle, verification page, witness."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from truyxuat.app import create_app
from truyxuat.config import Settings
from truyxuat.db import make_engine, upgrade
from truyxuat.ledger import merkle, service
from truyxuat.ledger.api import parse_tile_path
from truyxuat.ledger.notes import parse_checkpoint, split_note
from truyxuat.ledger.tiles import TileReader

EVENT_HASH = "ni:///sha-256;" + "cd" * 32 + "?ver=CBV2.0"


def grow(db: Session, settings: Settings, count: int) -> None:
    """Appends `count` entries (the first logging EVENT_HASH), integrates and signs."""
    service.append(db, service.EVENT, EVENT_HASH)
    for n in range(count - 1):
        service.append(db, "test.entry", f"api {n}")
    service.integrate(db)
    service.sign_checkpoint(db, settings)
    db.flush()


def test_tile_paths_follow_tlog_tiles() -> None:
    """N is written in groups of three digits with an x before all but the last."""
    assert parse_tile_path("0/000") == (0, 0, None)
    assert parse_tile_path("1/x001/x234/067.p/8") == (1, 1234067, 8)


def test_checkpoint_tiles_and_proofs_are_public(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Anyone reads the checkpoint, rebuilds the root from tiles and checks the proofs."""
    assert client.get("/ledger/checkpoint").status_code in (200, 404)
    grow(db, settings, 300)
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    body, signatures = split_note(response.text)
    checkpoint = parse_checkpoint(body)
    assert signatures[0].name == settings.ledger_origin
    size = checkpoint.size
    full = client.get("/ledger/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    width = size % 256
    if width:
        part = client.get(f"/ledger/tile/0/{size // 256:03d}.p/{width}")
        assert part.status_code == 200 and len(part.content) == width * 32
    assert client.get("/ledger/tile/0/999").status_code == 404
    entries = client.get("/ledger/tile/entries/000")
    assert entries.status_code == 200 and len(entries.content) == 256 * 34
    data = [entries.content[i + 2 : i + 34] for i in range(0, len(entries.content), 34)]
    assert [merkle.leaf_hash(d) for d in data] == [
        full.content[i : i + 32] for i in range(0, len(full.content), 32)
    ]
    if width:
        assert client.get(f"/ledger/tile/entries/{size // 256:03d}.p/{width}").status_code == 200
        assert client.get(f"/ledger/tile/entries/{size // 256:03d}").status_code == 404
    assert (
        client.get("/ledger/tile/nonsense")
        .headers["content-type"]
        .startswith("application/problem+json")
    )
    proof = client.get("/ledger/proof/inclusion", params={"event_hash": EVENT_HASH}).json()
    index = proof["leaf_index"]
    leaf = TileReader(db, size).node(0, index)
    merkle.verify_inclusion(
        leaf, index, size, [base64.b64decode(p) for p in proof["inclusion_proof"]], checkpoint.root
    )
    first = max(1, size - 299)
    consistency = client.get("/ledger/proof/consistency", params={"first": first, "second": size})
    assert consistency.status_code == 200
    bad = client.get("/ledger/proof/inclusion", params={"leaf_index": size, "tree_size": size})
    assert bad.status_code == 404
    assert bad.headers["content-type"].startswith("application/problem+json")
    bundle = client.get("/ledger/bundle", params={"event_hash": EVENT_HASH}).json()
    assert service.verify_bundle(bundle, event_hash=EVENT_HASH)


def test_the_verification_page_carries_the_badge_and_script(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The page embeds the bundle as JSON data and loads the checking script (no inline JS)."""
    grow(db, settings, 3)
    page = client.get("/ledger/verify", params={"event_hash": EVENT_HASH, "lang": "en"})
    assert page.status_code == 200
    assert 'type="application/json" data-ledger-bundle' in page.text
    assert '<script src="/static/ledger-verify.js" defer></script>' in page.text
    assert "Verified at checkpoint {size}" in page.text
    vi = client.get("/ledger/verify", params={"event_hash": EVENT_HASH, "lang": "vi"})
    assert "Verified at checkpoint" not in vi.text
    missing = client.get("/ledger/verify", params={"event_hash": "nope"})
    assert missing.status_code == 404
    assert client.get("/static/ledger-verify.js").status_code == 200


def test_the_app_integrates_and_signs_in_the_background(tmp_path: Path) -> None:
    """Served on a real store, the app gives new entries their leaves within a second."""
    url = f"sqlite:///{tmp_path / 'background.db'}"
    upgrade(url)
    settings = Settings(
        database_url=url, secret_key="bg", data_dir=tmp_path, ledger_integrate_interval=0.1
    )
    engine = make_engine(url)
    with TestClient(create_app(settings)) as client:
        with Session(engine) as db:
            service.append(db, "test.entry", "background")
            db.commit()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = client.get("/ledger/checkpoint")
            if response.status_code == 200 and response.text.split("\n")[1] == "1":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the entry was not integrated and signed")
    engine.dispose()
