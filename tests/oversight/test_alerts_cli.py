"""`truyxuat oversight alerts`: run, list and deliver on a real migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import make_org
from tests.oversight.test_alerts_rules import HANOI, HO_CHI_MINH, issue, scan
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade
from truyxuat.oversight.cli import oversight_app
from truyxuat.oversight.models import Alert

RUNNER = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def cli_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated SQLite file that the CLI's settings point at."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("TRUYXUAT_DATABASE_URL", url)
    monkeypatch.setenv("TRUYXUAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TRUYXUAT_DEFAULT_LOCALE", "en")
    monkeypatch.setenv("TRUYXUAT_SECRET_KEY", "cli-secret")
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_run_list_and_deliver(cli_engine: Engine) -> None:
    with Session(cli_engine) as session:
        issued = issue(session, get_settings(), make_org(session))
        serial = sorted(issued.pins)[0]
        scan(session, issued.run.gtin, serial, HANOI)
        scan(session, issued.run.gtin, serial, HO_CHI_MINH)
        session.commit()
    first = RUNNER.invoke(oversight_app, ["alerts", "run"])
    assert first.exit_code == 0, first.output
    assert "copied_stamp: 1 situations" in first.output and "1 new alerts" in first.output
    again = RUNNER.invoke(oversight_app, ["alerts", "run", "--rule", "copied_stamp"])
    assert "0 new alerts, 1 refreshed" in again.output
    with Session(cli_engine) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
    listed = RUNNER.invoke(oversight_app, ["alerts", "list", "--state", "open"])
    assert listed.exit_code == 0 and "copied_stamp" in listed.output and "km apart" in listed.output
    sent = RUNNER.invoke(oversight_app, ["alerts", "deliver"])
    assert sent.exit_code == 0 and "0 webhook notifications delivered" in sent.output


def test_run_refuses_an_unknown_rule_with_a_clear_line(cli_engine: Engine) -> None:
    result = RUNNER.invoke(oversight_app, ["alerts", "run", "--rule", "nope"])
    assert result.exit_code == 2 and "Unknown rule: nope" in result.output
