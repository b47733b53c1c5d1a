"""Inspection pages over HTTP on both stores: the inspector records an inspection with a photo
through the form, adds a suspending violation, the organization remedies it, the inspector
verifies it; readable field errors in vi and en; other provinces get 404."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_authority, make_growing_area, make_org, make_user
from tests.oversight.test_inspections_api import PNG
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.oversight.models import Inspection, Violation, ViolationState
from truyxuat.registry.models import CodeStatus, GrowingArea


def test_inspector_records_through_the_forms_and_the_org_remedies(
    client: TestClient, db: Session
) -> None:
    producer = make_org(db, province_code="24", name="Hợp tác xã Vải Thanh Hà")
    area = make_growing_area(db, producer, status=CodeStatus.approved)
    authority = make_authority(db, province_code="24")
    inspector = Browser(client, db).login(make_user(db, authority, Role.inspector), "vi")

    listing = inspector.get("/oversight/inspections")
    assert listing.status_code == 200 and 'id="inspection-form"' in listing.text
    assert "Hợp tác xã Vải Thanh Hà" in listing.text
    future = (date.today() + timedelta(days=3)).isoformat()
    bad = inspector.post(
        "/oversight/inspections",
        {"org_id": str(producer.id), "inspected_on": future, "result": "violations"},
    )
    assert bad.status_code == 422
    assert "Ngày kiểm tra không thể ở tương lai" in bad.text and 'id="err-inspected_on"' in bad.text
    made = inspector.post(
        "/oversight/inspections",
        {
            "org_id": str(producer.id),
            "place": f"growing_area:{area.id}",
            "inspected_on": date.today().isoformat(),
            "result": "violations",
            "findings": "Kho thuốc BVTV không có khóa.",
        },
        files={"photo": ("kho.png", PNG, "image/png")},
    )
    assert made.status_code == 303, made.text
    inspection = db.scalars(select(Inspection)).one()
    assert len(inspection.photo_file_ids) == 1 and inspection.growing_area_id == area.id
    detail = inspector.get(made.headers["location"])
    assert f"/api/v1/files/{inspection.photo_file_ids[0]}" in detail.text
    assert 'id="violation-form"' in detail.text and area.code in detail.text

    missing_rule = inspector.post(
        f"/oversight/inspections/{inspection.id}/violations", {"rule": "", "severity": "major"}
    )
    assert missing_rule.status_code == 422 and 'id="err-rule"' in missing_rule.text
    added = inspector.post(
        f"/oversight/inspections/{inspection.id}/violations",
        {
            "rule": "Thông tư 02/2024/TT-BKHCN Điều 5",
            "description": "Kho thuốc không khóa",
            "severity": "major",
            "deadline": (date.today() + timedelta(days=10)).isoformat(),
            "suspends": f"growing_area:{area.id}",
        },
    )
    assert added.status_code == 303, added.text
    db.expire_all()
    assert db.get(GrowingArea, area.id).status is CodeStatus.suspended  # type: ignore[union-attr]
    violation = db.scalars(select(Violation)).one()

    staff = Browser(client, db).login(make_user(db, producer, Role.org_staff), "en")
    page = staff.get(f"/oversight/inspections/{inspection.id}")
    assert "remedy-form" in page.text and "violation-form" not in page.text
    empty = staff.post(f"/oversight/violations/{violation.id}/remedy", {"remedy": ""})
    assert empty.status_code == 422 and "This field is required" in empty.text
    done = staff.post(
        f"/oversight/violations/{violation.id}/remedy", {"remedy": "Đã lắp khóa kho thuốc"}
    )
    assert done.status_code == 303
    assert (
        staff.post(
            f"/oversight/violations/{violation.id}/verify", {"decision": "accept"}
        ).status_code
        == 403
    )

    inspector = Browser(client, db).login(make_user(db, authority, Role.inspector), "en")
    page = inspector.get(f"/oversight/inspections/{inspection.id}")
    assert "verify-form" in page.text and "Đã lắp khóa kho thuốc" in page.text
    reject = inspector.post(f"/oversight/violations/{violation.id}/verify", {"decision": "reject"})
    assert reject.status_code == 422 and "This field is required" in reject.text
    accepted = inspector.post(
        f"/oversight/violations/{violation.id}/verify", {"decision": "accept", "note": "OK"}
    )
    assert accepted.status_code == 303
    db.expire_all()
    assert db.get(Violation, violation.id).state is ViolationState.verified  # type: ignore[union-attr]
    assert db.get(GrowingArea, area.id).status is CodeStatus.approved  # type: ignore[union-attr]

    far = Browser(client, db).login(
        make_user(db, make_authority(db, province_code="96"), Role.inspector)
    )
    assert far.get(f"/oversight/inspections/{inspection.id}").status_code == 404
    listing = far.get("/oversight/inspections")
    assert str(inspection.id) not in listing.text and "Hợp tác xã Vải Thanh Hà" not in listing.text
    assert (
        far.post(
            "/oversight/inspections",
            {
                "org_id": str(producer.id),
                "inspected_on": date.today().isoformat(),
                "result": "compliant",
            },
        ).status_code
        == 404
    )
    assert far.get(f"/oversight/inspections/{uuid.uuid4()}").status_code == 404
