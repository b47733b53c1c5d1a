"""`truyxuat stamps`: issue, print, activate and void on a real migrated SQLite database."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import make_org, make_product
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade
from truyxuat.stamps.cli import stamps_app
from truyxuat.stamps.models import RunState, Stamp, StampRun, StampState

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


def _product(engine: Engine) -> tuple[str, str]:
    with Session(engine) as session:
        org = make_org(session)
        product = make_product(session, org)
        session.commit()
        return org.code, product.gtin


def _run(engine: Engine) -> tuple[StampRun, list[str]]:
    with Session(engine) as session:
        run = session.scalars(select(StampRun)).one()
        serials = list(
            session.scalars(select(Stamp.serial).where(Stamp.run_id == run.id).order_by(Stamp.seq))
        )
        return run, serials


def test_issue_prints_the_run_id_and_activate_binds_a_range(cli_engine: Engine) -> None:
    org, gtin = _product(cli_engine)
    result = RUNNER.invoke(stamps_app, ["issue", "--org", org, "--gtin", gtin, "--count", "6"])
    assert result.exit_code == 0, result.output
    run, serials = _run(cli_engine)
    assert result.output.strip() == str(run.id) and len(serials) == 6
    args = ["activate", str(run.id), "--lot", "L1", "--from", serials[1], "--to", serials[3]]
    result = RUNNER.invoke(stamps_app, args)
    assert result.exit_code == 0, result.output
    assert "activated 3" in result.output
    with Session(cli_engine) as session:
        active = session.scalar(
            select(func.count()).where(Stamp.state == StampState.activated, Stamp.lot == "L1")
        )
        assert active == 3


def test_anticounterfeit_issue_writes_pins_file_and_print_uses_it(
    cli_engine: Engine, tmp_path: Path
) -> None:
    org, gtin = _product(cli_engine)
    pins = tmp_path / "pins.csv"
    result = RUNNER.invoke(
        stamps_app,
        ["issue", "--org", org, "--gtin", gtin, "--count", "3", "--kind", "anticounterfeit",
         "--lot", "L2", "--pins-out", str(pins)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with pins.open() as handle:
        rows = list(csv.DictReader(handle))
    run, serials = _run(cli_engine)
    assert sorted(r["serial"] for r in rows) == sorted(serials)
    assert all(len(r["pin"]) == 8 for r in rows)
    codes = tmp_path / "codes.csv"
    result = RUNNER.invoke(
        stamps_app, ["print", str(run.id), "--format", "csv", "--out", str(codes)]
    )
    assert result.exit_code == 0, result.output
    text = codes.read_text()
    assert all(s in text for s in serials) and all(r["pin"] not in text for r in rows)
    pdf = tmp_path / "run.pdf"
    args = ["print", str(run.id), "--out", str(pdf), "--pins", str(pins), "--layout", "roll"]
    result = RUNNER.invoke(stamps_app, args)
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert _run(cli_engine)[0].state is RunState.printed


def test_bad_input_exits_2_and_changes_nothing(cli_engine: Engine) -> None:
    org, gtin = _product(cli_engine)
    for args in (
        ["issue", "--org", org, "--gtin", gtin, "--count", "0"],
        ["issue", "--org", org, "--gtin", "8930000000019", "--count", "1"],
        ["issue", "--org", "NOPE", "--gtin", gtin, "--count", "1"],
        ["issue", "--org", org, "--gtin", gtin, "--count", "1", "--kind", "anticounterfeit"],
    ):
        assert RUNNER.invoke(stamps_app, args).exit_code == 2, args
    with Session(cli_engine) as session:
        assert session.scalar(select(func.count()).select_from(StampRun)) == 0
    RUNNER.invoke(stamps_app, ["issue", "--org", org, "--gtin", gtin, "--count", "2"])
    run, _ = _run(cli_engine)
    result = RUNNER.invoke(
        stamps_app, ["activate", str(run.id), "--lot", "L", "--from", "NOPE", "--to", "NOPE"]
    )
    assert result.exit_code == 2 and "not issued" in result.output
    assert RUNNER.invoke(stamps_app, ["activate", "nonsense", "--lot", "L"]).exit_code == 2


def test_void_withdraws_the_whole_run(cli_engine: Engine) -> None:
    org, gtin = _product(cli_engine)
    RUNNER.invoke(stamps_app, ["issue", "--org", org, "--gtin", gtin, "--count", "2"])
    run, _ = _run(cli_engine)
    result = RUNNER.invoke(stamps_app, ["void", str(run.id), "--reason", "misprint"])
    assert result.exit_code == 0 and "voided 2" in result.output
    assert _run(cli_engine)[0].state is RunState.voided
