"""`truyxuat oversight inspections ...` run as real processes against a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from tests.factories import make_authority, make_growing_area, make_org
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.db import make_engine, make_sessionmaker, session_scope, upgrade
from truyxuat.oversight.models import InspectionResult, SuspensionTarget, ViolationSeverity
from truyxuat.oversight.service import inspections as service
from truyxuat.registry.models import CodeStatus
from truyxuat.registry.schemas.certifications import vietnam_today


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs the CLI."""
    return subprocess.run(
        [sys.executable, "-m", "truyxuat", "oversight", "inspections", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_lists_inspections_and_violations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'oversight.db'}"
    upgrade(url)
    env = {
        **os.environ,
        "TRUYXUAT_DATABASE_URL": url,
        "TRUYXUAT_DATA_DIR": str(tmp_path / "data"),
        "TRUYXUAT_SECRET_KEY": "inspections-cli",
        "TRUYXUAT_DEFAULT_LOCALE": "en",
    }
    with session_scope(make_sessionmaker(make_engine(url))) as db:
        producer = make_org(db, code="HTX-CLI", name="HTX Vải CLI")
        calm = make_org(db, code="HTX-CALM", name="HTX Yên ổn")
        area = make_growing_area(db, producer, code="VN-BNOR-9001", status=CodeStatus.approved)
        authority = make_authority(db, province_code="24")
        inspector = Principal("inspector", (Grant(authority.id, Role.inspector, "24"),))
        today = vietnam_today()
        first = service.record_inspection(
            db,
            inspector,
            service.InspectionRequest(producer.id, today, InspectionResult.violations),
        )
        service.record_violation(
            db,
            inspector,
            first.id,
            service.ViolationRequest(
                "Thông tư 02/2024/TT-BKHCN Điều 5",
                ViolationSeverity.major,
                deadline=today,
                suspends_type=SuspensionTarget.growing_area,
                suspends_id=area.id,
            ),
        )
        service.record_inspection(
            db,
            inspector,
            service.InspectionRequest(
                calm.id, today - timedelta(days=3), InspectionResult.compliant
            ),
        )
    listed = run(["list"], env)
    assert listed.returncode == 0, listed.stderr
    assert "HTX Vải CLI — 1 open violation(s)" in listed.stdout
    assert "2 of 2 inspections" in listed.stdout
    opened = run(["list", "--open"], env)
    assert "HTX Yên ổn" not in opened.stdout and "HTX Vải CLI" in opened.stdout
    only = run(["list", "--org", "HTX-CALM"], env)
    assert "1 of 1 inspections" in only.stdout and "HTX Vải CLI" not in only.stdout
    violations = run(["violations", "--state", "open"], env)
    assert violations.returncode == 0, violations.stderr
    assert "suspends growing_area VN-BNOR-9001" in violations.stdout
    assert "1 of 1 violations" in violations.stdout
    assert "0 of 0 violations" in run(["violations", "--overdue"], env).stdout
    unknown = run(["list", "--org", "NOPE"], env)
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr
