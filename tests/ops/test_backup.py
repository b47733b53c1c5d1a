"""`truyxuat backup` / `truyxuat restore`, run as real processes on both stores."""

from __future__ import annotations

import tarfile
from pathlib import Path

from sqlalchemy import select, text

from tests.factories import make_org, make_product
from tests.ops.conftest import run_cli as _run
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.registry.models import Organization, Product


def _codes(url: str) -> tuple[list[str], list[str]]:
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            orgs = sorted(session.scalars(select(Organization.code)))
            gtins = sorted(session.scalars(select(Product.gtin)))
        return orgs, gtins
    finally:
        engine.dispose()


def test_restore_brings_back_exactly_what_was_backed_up(
    node: dict[str, str], tmp_path: Path
) -> None:
    url = node["TRUYXUAT_DATABASE_URL"]
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        org = make_org(session)
        make_product(session, org)
    engine.dispose()
    upload = Path(node["TRUYXUAT_DATA_DIR"]) / "files" / "ab" / "ab12"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"certificate scan")
    before = _codes(url)

    archive = tmp_path / "node.backup"
    done = _run(["backup", str(archive)], node)
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()

    # Life goes on after the backup, then a disaster: an extra org and a lost file.
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        make_org(session)
    engine.dispose()
    upload.unlink()
    assert _codes(url) != before

    done = _run(["restore", str(archive), "--yes"], node)
    assert done.returncode == 0, done.stderr
    assert _codes(url) == before
    assert upload.read_bytes() == b"certificate scan"


def test_restore_refuses_a_file_that_is_not_a_backup(node: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    done = _run(["restore", str(bogus), "--yes"], node)
    assert done.returncode != 0
    assert "not a truyxuat backup" in done.stderr


def test_restore_refuses_a_backup_of_another_store(node: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "node.backup"
    assert _run(["backup", str(archive)], node).returncode == 0
    other = {**node, "TRUYXUAT_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    if node["TRUYXUAT_DATABASE_URL"].startswith("sqlite"):
        return  # the same kind: nothing to refuse; the PostgreSQL run checks the refusal
    done = _run(["restore", str(archive), "--yes"], other)
    assert done.returncode != 0
    assert "cannot be restored into sqlite" in done.stderr


def test_a_restored_node_passes_ledger_verify(node: dict[str, str], tmp_path: Path) -> None:
    """The demo's events and registry changes are logged; a row deleted behind the app's back
    fails `ledger verify`, and restoring the backup makes the node whole again, keys included."""
    for command in (["demo", "load"], ["ledger", "integrate"], ["ledger", "verify"]):
        done = _run(command, node)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    archive = tmp_path / "node.backup"
    assert _run(["backup", str(archive)], node).returncode == 0

    engine = make_engine(node["TRUYXUAT_DATABASE_URL"])
    with engine.begin() as conn:
        victim = conn.execute(text("SELECT id FROM epcis_event LIMIT 1")).scalar_one()
        for table in ("epcis_event_epc", "epcis_event_party", "epcis_event_field"):
            conn.execute(text(f"DELETE FROM {table} WHERE event_row_id = :id"), {"id": victim})
        conn.execute(
            text("DELETE FROM epcis_sensor_reading WHERE event_row_id = :id"), {"id": victim}
        )
        conn.execute(text("DELETE FROM epcis_event WHERE id = :id"), {"id": victim})
    engine.dispose()
    tampered = _run(["ledger", "verify"], node)
    assert tampered.returncode != 0, tampered.stdout

    key = Path(node["TRUYXUAT_DATA_DIR"]) / "ledger_key"
    signing_key = key.read_bytes()
    key.unlink()
    assert _run(["restore", str(archive), "--yes"], node).returncode == 0
    assert key.read_bytes() == signing_key
    restored = _run(["ledger", "verify"], node)
    assert restored.returncode == 0, restored.stdout + restored.stderr
