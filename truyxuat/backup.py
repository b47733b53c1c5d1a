"""Backup and restore of a node: its database and its uploaded files in one archive.

The archive is a tar file holding `manifest.json` (store kind, schema revision, row counts, time),
the database (`database.sqlite`, made with SQLite's online backup API, or `database.pgdump`, a
`pg_dump --format=custom` of PostgreSQL) and `data/`: everything in the data folder but the
database itself — uploaded images and documents, and the node's keys (session secret, ledger
signing key), without which a restored node could not continue its own signed log. Keep
backups as secret as the node. A backup
is taken while the node serves: SQLite's backup API and pg_dump both read one consistent
snapshot. Restore replaces the whole database in one transaction (pg_restore
`--single-transaction`, or SQLite's backup API the other way), so a failed restore leaves the
node as it was; the store kinds must match (a SQLite backup cannot be restored into PostgreSQL).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from truyxuat.db import make_engine
from truyxuat.errors import N_, invalid

MANIFEST = "manifest.json"
FORMAT = "truyxuat-backup/1"


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore handled."""

    store: str
    revision: str | None
    tables: int
    rows: int
    files: int


def _store(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise invalid("database_url", N_("Unsupported database: {backend}"), backend=backend)
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise invalid("database_url", N_("An in-memory database cannot be backed up"))
    return Path(database)


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore understand it (no +driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _counts(url: str) -> tuple[str | None, dict[str, int]]:
    """The schema revision and the row count of every table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            revision = None
            if "alembic_version" in names:
                versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                revision = ",".join(sorted(versions)) or None
            counts = {
                name: int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
                for name in names
            }
        return revision, counts
    finally:
        engine.dispose()


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise invalid(
            "database",
            N_("{tool} failed: {reason}"),
            tool=command[0],
            reason=done.stderr.strip()[-500:],
        )


def backup(url: str, data_dir: Path, archive: Path) -> BackupSummary:
    """Writes the database and uploaded files of a node to `archive` (a tar file)."""
    store = _store(url)
    revision, counts = _counts(url)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        if store == "sqlite":
            dump = folder / "database.sqlite"
            source = sqlite3.connect(_sqlite_path(url))
            target = sqlite3.connect(dump)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            dump = folder / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq_url(url)])
        files = _data_files(Path(data_dir), url)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "store": store,
            "revision": revision,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": counts,
            "files": len(files),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(folder / MANIFEST, arcname=MANIFEST)
            tar.add(dump, arcname=dump.name)
            for path in files:
                tar.add(path, arcname=f"data/{path.relative_to(data_dir).as_posix()}")
        partial.replace(archive)  # a half-written archive never takes the final name
    return BackupSummary(store, revision, len(counts), sum(counts.values()), len(files))


def _data_files(data_dir: Path, url: str) -> list[Path]:
    """Every file of the data folder except the SQLite database and its journal files."""
    if not data_dir.is_dir():
        return []
    database = _sqlite_path(url).resolve() if _store(url) == "sqlite" else None
    skipped = (
        set()
        if database is None
        else {database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))}
    )
    return sorted(p for p in data_dir.rglob("*") if p.is_file() and p.resolve() not in skipped)


def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest of a backup archive, or a validation error saying why it is not one."""
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError):
        raise invalid("archive", N_("This file is not a truyxuat backup")) from None
    if manifest.get("format") != FORMAT:
        raise invalid("archive", N_("This file is not a truyxuat backup"))
    return manifest


def restore(url: str, data_dir: Path, archive: Path) -> BackupSummary:
    """Replaces the node's database and uploaded files with those of a backup archive."""
    store = _store(url)
    manifest = read_manifest(archive)
    if manifest["store"] != store:
        raise invalid(
            "archive",
            N_("This backup is of a {backup} database and cannot be restored into {target}"),
            backup=manifest["store"],
            target=store,
        )
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        with tarfile.open(archive, "r") as tar:
            tar.extractall(folder, filter="data")  # "data" refuses absolute paths and links
        if store == "sqlite":
            source = sqlite3.connect(folder / "database.sqlite")
            path = _sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={_libpq_url(url)}",
                    str(folder / "database.pgdump"),
                ]
            )
        restored = folder / "data"
        count = 0
        if restored.is_dir():
            for path in restored.rglob("*"):
                if path.is_file():
                    # Uploads are named by their SHA-256 and keys are the node's own: copying
                    # over is idempotent.
                    destination = Path(data_dir) / path.relative_to(restored)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, destination)
                    count += 1
    revision, counts = _counts(url)
    if counts != manifest["rows"]:
        raise invalid("archive", N_("The restored database does not match the backup's row counts"))
    return BackupSummary(store, revision, len(counts), sum(counts.values()), count)
