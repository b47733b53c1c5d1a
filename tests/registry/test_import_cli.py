"""`truyxuat registry import`: the CLI imports a file into a real migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import make_authority, make_org
from truyxuat.config import get_settings
from truyxuat.db import make_engine, upgrade
from truyxuat.gs1 import make_gln
from truyxuat.registry.cli import registry_app
from truyxuat.registry.imports import translate
from truyxuat.registry.models import Facility, Organization

# A wide terminal so Rich does not wrap the report's messages.
RUNNER = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def cli_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated SQLite file that the CLI's settings point at."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("TRUYXUAT_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _org(engine: Engine) -> tuple[str, str]:
    """Creates an enterprise; returns its code and GS1 company prefix."""
    with Session(engine) as session:
        org = make_org(session)
        session.commit()
        assert org.gs1_company_prefix
        return org.code, org.gs1_company_prefix


def _facility_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Facility)) or 0


def _facilities_csv(tmp_path: Path, prefix: str, *, bad_row: bool = False) -> Path:
    last_gln = make_gln(prefix, 4)
    if bad_row:
        last_gln = last_gln[:-1] + str((int(last_gln[-1]) + 1) % 10)
    lines = [
        "Loại cơ sở,Tên cơ sở,GLN,Mã tỉnh",
        f"trang trại,Vườn vải số 1,{make_gln(prefix, 2)},24",
        f"kho,Kho lạnh Lục Ngạn,{make_gln(prefix, 3)},24",
        f"nhà máy,Xưởng sấy vải,{last_gln},24",
    ]
    path = tmp_path / "co-so.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_cli_imports_facilities_for_the_organization(cli_engine: Engine, tmp_path: Path) -> None:
    code, prefix = _org(cli_engine)
    path = _facilities_csv(tmp_path, prefix)
    result = RUNNER.invoke(registry_app, ["import", "facilities", str(path), "--org", code])
    assert result.exit_code == 0, result.output
    assert translate("vi", "Imported {count} rows", count=3) in result.output
    assert _facility_count(cli_engine) == 3


def test_cli_rejects_a_file_with_a_bad_row_and_prints_the_report(
    cli_engine: Engine, tmp_path: Path
) -> None:
    code, prefix = _org(cli_engine)
    path = _facilities_csv(tmp_path, prefix, bad_row=True)
    args = ["import", "facilities", str(path), "--org", code, "--lang", "en"]
    result = RUNNER.invoke(registry_app, args)
    assert result.exit_code == 2
    assert "Invalid GLN check digit" in result.output
    report_line = next(line for line in result.output.splitlines() if "check digit" in line)
    assert "4" in report_line and "GLN" in report_line
    assert "nothing was imported" in result.output
    assert _facility_count(cli_engine) == 0


def test_cli_dry_run_writes_nothing(cli_engine: Engine, tmp_path: Path) -> None:
    code, prefix = _org(cli_engine)
    path = _facilities_csv(tmp_path, prefix)
    args = ["import", "facilities", str(path), "--org", code, "--dry-run", "--lang", "en"]
    result = RUNNER.invoke(registry_app, args)
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output
    assert _facility_count(cli_engine) == 0


def test_cli_rejects_a_windows_1258_file_with_the_encoding_message(
    cli_engine: Engine, tmp_path: Path
) -> None:
    code, _ = _org(cli_engine)
    path = tmp_path / "ansi.csv"
    path.write_bytes("kind,name\nfarm,Vu\xf2on\n".encode("latin-1"))
    result = RUNNER.invoke(
        registry_app, ["import", "facilities", str(path), "--org", code, "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "UTF-8" in result.output


def test_cli_as_an_authority_imports_organizations(cli_engine: Engine, tmp_path: Path) -> None:
    with Session(cli_engine) as session:
        authority = make_authority(session, province_code="24")
        session.commit()
        code = authority.code
    path = tmp_path / "htx.csv"
    path.write_text(
        "code;kind;name;province_code\nHTX-CLI-1;htx;Hợp tác xã Lục Ngạn;24\n", encoding="utf-8"
    )
    result = RUNNER.invoke(registry_app, ["import", "organizations", str(path), "--org", code])
    assert result.exit_code == 0, result.output
    with Session(cli_engine) as session:
        assert session.scalar(select(Organization).where(Organization.code == "HTX-CLI-1"))


def test_cli_unknown_organization_exits_2(cli_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("kind,name\nfarm,Vườn\n", encoding="utf-8")
    result = RUNNER.invoke(registry_app, ["import", "facilities", str(path), "--org", "NOPE"])
    assert result.exit_code == 2
