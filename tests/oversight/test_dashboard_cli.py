"""`truyxuat oversight report monthly` on a real migrated SQLite file."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.oversight.test_dashboard_service import build_world
from truyxuat.cli import app
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade
from truyxuat.registry.schemas.certifications import vietnam_today

RUNNER = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def cli_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated SQLite file that the CLI's settings point at."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("TRUYXUAT_DATABASE_URL", url)
    monkeypatch.setenv("TRUYXUAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TRUYXUAT_DEFAULT_LOCALE", "en")
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_monthly_report_of_one_province(cli_engine: Engine, tmp_path: Path) -> None:
    with Session(cli_engine, expire_on_commit=False) as session:
        world = build_world(session, get_settings())
        session.commit()
    month = vietnam_today().strftime("%Y-%m")
    out = tmp_path / "report.pdf"
    args = ["oversight", "report", "monthly", "--month", month, "--out", str(out)]
    result = RUNNER.invoke(app, [*args, "--org", world.authority_a.code, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and f"report for {month}" in result.output
    subprocess.run(["pdftotext", str(out), str(tmp_path / "r.txt")], check=True)
    text = (tmp_path / "r.txt").read_text()
    assert "VG-SOON" in text and "VG-B-SOON" not in text
    bad = RUNNER.invoke(
        app, ["oversight", "report", "monthly", "--month", "2026-13", "--out", str(out)]
    )
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    national = RUNNER.invoke(
        app, [*args, "--org", world.national.code, "--province", "22", "--lang", "en"]
    )
    assert national.exit_code == 0, national.output
    subprocess.run(["pdftotext", str(out), str(tmp_path / "n.txt")], check=True)
    text = (tmp_path / "n.txt").read_text()
    assert "VG-B-SOON" in text and "VG-SOON" not in text and world.a1.name not in text
    refused = RUNNER.invoke(app, [*args, "--org", world.authority_a.code, "--province", "22"])
    assert refused.exit_code == 2 and "oversee" in refused.output
    unknown = RUNNER.invoke(app, [*args, "--org", "NO-SUCH-ORG"])
    assert unknown.exit_code == 2 and "unknown organization code" in unknown.output
