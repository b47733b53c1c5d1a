"""`truyxuat oversight forecast show|backtest|risk` on a real migrated SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import make_facility, make_org, make_product
from tests.oversight.test_forecast_service import WEEKS, ship_weekly
from truyxuat.cli import app
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade
from truyxuat.gs1 import make_gln
from truyxuat.registry.models import OrgKind

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


@pytest.fixture
def seeded(cli_engine: Engine) -> tuple[str, str]:
    """A platform organization and forty weeks of a producer's shipments; (gtin, org code)."""
    with Session(cli_engine, expire_on_commit=False) as db:
        make_org(db, kind=OrgKind.platform, province_code=None)
        producer = make_org(db, province_code="24")
        product = make_product(db, producer, names={"vi": "Vải thiều", "en": "Lychee"})
        buyer = make_org(db, province_code="96")
        assert buyer.gs1_company_prefix
        gln = make_gln(buyer.gs1_company_prefix, 2)
        make_facility(db, buyer, province_code="96", gln=gln)
        ship_weekly(db, producer, product.gtin, gln)
        db.commit()
        return product.gtin, producer.code


def test_show_prints_twelve_weeks_with_intervals(seeded: tuple[str, str]) -> None:
    gtin, _ = seeded

    result = RUNNER.invoke(app, ["oversight", "forecast", "show", "--gtin", gtin])

    assert result.exit_code == 0, result.output
    assert "Lychee" in result.output and "model: ETS(" in result.output
    assert f"history: {WEEKS} weeks" in result.output
    lines = [line for line in result.output.splitlines() if line[:4].isdigit() and line[4] == "-"]
    assert len(lines) == 12


def test_show_json_matches_the_api_shape(seeded: tuple[str, str]) -> None:
    gtin, org = seeded

    result = RUNNER.invoke(
        app,
        ["oversight", "forecast", "show", "--gtin", gtin, "--weeks", "16", "--org", org, "--json"],
    )

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert len(body["forecast"]) == 16 and len(body["history"]) == WEEKS


def test_backtest_reports_mape_for_model_and_naive(seeded: tuple[str, str]) -> None:
    gtin, _ = seeded

    result = RUNNER.invoke(app, ["oversight", "forecast", "backtest", "--gtin", gtin])

    assert result.exit_code == 0, result.output
    assert "MAPE" in result.output
    assert "model " in result.output and "naive " in result.output
    assert "the model beats naive" in result.output


def test_risk_lists_the_product(seeded: tuple[str, str]) -> None:
    gtin, _ = seeded

    result = RUNNER.invoke(app, ["oversight", "forecast", "risk"])

    assert result.exit_code == 0, result.output
    assert gtin in result.output


def test_bad_input_is_a_clear_error(seeded: tuple[str, str]) -> None:
    gtin, _ = seeded

    bad_gtin = RUNNER.invoke(app, ["oversight", "forecast", "show", "--gtin", "123"])
    assert bad_gtin.exit_code == 2 and "GTIN" in bad_gtin.output
    bad_province = RUNNER.invoke(
        app, ["oversight", "forecast", "show", "--gtin", gtin, "--province", "nowhere"]
    )
    assert bad_province.exit_code == 2 and "province" in bad_province.output
    unknown_org = RUNNER.invoke(
        app, ["oversight", "forecast", "backtest", "--gtin", gtin, "--org", "NOPE"]
    )
    assert unknown_org.exit_code == 2
