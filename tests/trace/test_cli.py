"""`truyxuat trace`, `truyxuat recall` and `truyxuat export` on a real migrated SQLite file."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import make_product
from tests.trace.chain import Chain, build_chain
from truyxuat.cli import app
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade
from truyxuat.epcis.epc_format import to_epc_urn
from truyxuat.recall.models import Recall

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
def chain(cli_engine: Engine) -> Chain:
    with Session(cli_engine, expire_on_commit=False) as session:
        built = build_chain(session)
        make_product(session, built.farm, gtin=built.fruit_gtin, names={"vi": "Vải tươi"})
        make_product(session, built.packer, gtin=built.packed_gtin, names={"vi": "Vải đóng hộp"})
        session.commit()
        return built


def test_trace_backward_and_forward(chain: Chain) -> None:
    result = RUNNER.invoke(app, ["trace", "backward", to_epc_urn(chain.s1)])
    assert result.exit_code == 0, result.output
    assert chain.p1 in result.output and chain.h2 in result.output
    assert chain.area_large.code in result.output
    result = RUNNER.invoke(app, ["trace", "forward", chain.h1, "--json", "--depth", "1"])
    body = json.loads(result.output)
    assert body["truncated"] is True and {n["id"] for n in body["nodes"]} >= {chain.p1}
    bad = RUNNER.invoke(app, ["trace", "forward", "nonsense"])
    assert bad.exit_code == 2 and "Digital Link" in bad.output


def test_recall_open_and_list(chain: Chain, cli_engine: Engine) -> None:
    result = RUNNER.invoke(
        app,
        [
            "recall",
            "open",
            "H1",
            "--gtin",
            chain.fruit_gtin,
            "--reason",
            "Pesticide residue",
            "--org",
            chain.farm.code,
            "--severity",
            "class_i",
        ],
    )
    assert result.exit_code == 0, result.output
    assert chain.s1 in result.output and chain.importer.name in result.output
    with Session(cli_engine) as session:
        recall = session.scalars(select(Recall)).one()
        assert recall.reason == "Pesticide residue" and recall.summary["sscc"] == 1
    listed = RUNNER.invoke(app, ["recall", "list"])
    assert str(recall.id) in listed.output
    assert RUNNER.invoke(app, ["recall", "deliver"]).exit_code == 0
    missing = RUNNER.invoke(app, ["recall", "open", chain.h1, "--reason", "x"])
    assert missing.exit_code == 2 and "platform organization" in missing.output


def test_export_fsma_eudr_steps_and_compliance(chain: Chain, tmp_path: Path) -> None:
    out = tmp_path / "fsma.xlsx"
    result = RUNNER.invoke(app, ["export", "fsma204", "--lot", chain.p1, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(io.BytesIO(out.read_bytes()))["FSMA 204"].iter_rows(values_only=True))
    assert len(rows) == 1 + 9
    geo = tmp_path / "plots.geojson"
    result = RUNNER.invoke(app, ["export", "eudr", "--lot", chain.s1, "--out", str(geo)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(geo.read_text())["features"]) == 2
    steps = tmp_path / "steps.csv"
    result = RUNNER.invoke(
        app, ["export", "one-up-one-down", "--lot", chain.p1, "--out", str(steps)]
    )
    assert result.exit_code == 0 and chain.importer.name in steps.read_text()
    result = RUNNER.invoke(app, ["export", "compliance", chain.packed_gtin])
    assert result.exit_code == 1 and "MISSING" in result.output
