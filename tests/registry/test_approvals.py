"""The authority's decisions on growing-area and packing-house codes, and the approval queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    CA_MAU_POINT,
    api_headers,
    make_authority,
    make_growing_area,
    make_org,
    make_packing_house,
    make_user,
)
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.auth.principal import Principal
from truyxuat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from truyxuat.registry.models import CodeStatus, GrowingArea, OrgKind
from truyxuat.registry.service import approvals

AREAS = "/api/v1/growing-areas"
HOUSES = "/api/v1/packing-houses"
QUEUE = "/api/v1/approvals"


def user_principal(db: Session, org: Any, role: Role) -> Principal:
    """A logged-in user's principal holding `role` in `org`."""
    user = make_user(db, org, role)
    return Principal(
        label=user.email, grants=auth_service.grants_for_user(db, user.id), user_id=user.id
    )


def decide(
    client: TestClient, headers: dict[str, str], url: str, status: str, reason: str = ""
) -> Any:
    """Posts a decision and returns the response."""
    return client.post(
        f"{url}/decision", json={"status": status, "reason": reason}, headers=headers
    )


def test_authority_approves_a_growing_area_in_its_province(client: TestClient, db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    response = decide(client, headers, f"{AREAS}/{area.id}", "approved", "Đạt yêu cầu")
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["status"], data["status_reason"]) == ("approved", "Đạt yêu cầu")
    assert data["decided_at"] is not None
    assert data["decided_by"] is None  # an API key is not a user
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(area.id), AuditEntry.action == "decide"
        )
    )
    assert entry is not None
    assert entry.changes == {"status": ["pending", "approved"], "reason": "Đạt yêu cầu"}


def test_decision_by_a_user_records_who_decided(db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    principal = user_principal(db, make_authority(db, province_code="24"), Role.authority)
    decided = approvals.decide_growing_area(db, principal, area.id, "approved")
    assert decided.decided_by == principal.user_id
    assert decided.decided_at is not None


def test_authority_of_another_province_gets_404_and_cannot_approve(
    client: TestClient, db: Session
) -> None:
    ca_mau = make_growing_area(
        db, make_org(db, province_code="96"), geometry=CA_MAU_POINT, province_code="96"
    )
    bac_ninh = make_growing_area(db, make_org(db, province_code="24"))
    bn_authority = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    cm_authority = api_headers(db, make_authority(db, province_code="96"), Role.authority)
    assert decide(client, bn_authority, f"{AREAS}/{ca_mau.id}", "approved").status_code == 404
    assert decide(client, cm_authority, f"{AREAS}/{bac_ninh.id}", "approved").status_code == 404
    db.expire_all()
    assert db.get(GrowingArea, ca_mau.id).status is CodeStatus.pending  # type: ignore[union-attr]
    assert db.get(GrowingArea, bac_ninh.id).status is CodeStatus.pending  # type: ignore[union-attr]


def test_authority_of_the_owners_province_reads_but_cannot_decide_elsewhere(
    client: TestClient, db: Session
) -> None:
    # A Cà Mau company's growing area in Bắc Ninh: Cà Mau may read it, only Bắc Ninh decides.
    area = make_growing_area(db, make_org(db, province_code="96"), province_code="24")
    headers = api_headers(db, make_authority(db, province_code="96"), Role.authority)
    assert client.get(f"{AREAS}/{area.id}", headers=headers).status_code == 200
    assert decide(client, headers, f"{AREAS}/{area.id}", "approved").status_code == 403


def test_org_staff_and_admin_cannot_approve_their_own_area(client: TestClient, db: Session) -> None:
    org = make_org(db)
    area = make_growing_area(db, org)
    for role in (Role.org_staff, Role.org_admin):
        response = decide(client, api_headers(db, org, role), f"{AREAS}/{area.id}", "approved")
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")


def test_inspector_reads_but_cannot_decide(client: TestClient, db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    headers = api_headers(db, make_authority(db, province_code="24"), Role.inspector)
    assert client.get(f"{AREAS}/{area.id}", headers=headers).status_code == 200
    assert client.get(f"{AREAS}/{area.id}/geojson", headers=headers).status_code == 200
    assert decide(client, headers, f"{AREAS}/{area.id}", "approved").status_code == 403


def test_national_authority_and_platform_admin_decide_anywhere(db: Session) -> None:
    area = make_growing_area(
        db, make_org(db, province_code="96"), geometry=CA_MAU_POINT, province_code="96"
    )
    national = user_principal(db, make_authority(db, province_code=None), Role.authority)
    approvals.decide_growing_area(db, national, area.id, "approved")
    platform = make_org(db, kind=OrgKind.platform, province_code=None)
    admin = user_principal(db, platform, Role.platform_admin)
    assert approvals.decide_growing_area(
        db, admin, area.id, "suspended", "Kiểm tra lại"
    ).status is (CodeStatus.suspended)


def test_code_lifecycle_follows_the_allowed_transitions(client: TestClient, db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    headers = api_headers(db, make_authority(db), Role.authority)
    url = f"{AREAS}/{area.id}"
    assert decide(client, headers, url, "suspended", "x").status_code == 409
    assert decide(client, headers, url, "approved").json()["status"] == "approved"
    assert decide(client, headers, url, "approved").status_code == 409
    assert decide(client, headers, url, "suspended", "Dư lượng thuốc BVTV").status_code == 200
    assert decide(client, headers, url, "approved").json()["status"] == "approved"
    assert decide(client, headers, url, "revoked", "Vi phạm").json()["status"] == "revoked"
    final = decide(client, headers, url, "approved")
    assert final.status_code == 409
    assert final.headers["content-type"].startswith("application/problem+json")
    actions = db.scalars(
        select(AuditEntry.changes).where(
            AuditEntry.entity_id == str(area.id), AuditEntry.action == "decide"
        )
    ).all()
    assert len(actions) == 4


def test_pending_code_can_be_rejected(db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    principal = user_principal(db, make_authority(db), Role.authority)
    rejected = approvals.decide_growing_area(db, principal, area.id, "revoked", "Hồ sơ thiếu")
    assert (rejected.status, rejected.status_reason) == (CodeStatus.revoked, "Hồ sơ thiếu")


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_suspending_or_revoking_needs_a_reason(
    client: TestClient, db: Session, status: str
) -> None:
    area = make_growing_area(db, make_org(db), status=CodeStatus.approved)
    headers = api_headers(db, make_authority(db), Role.authority)
    response = decide(client, headers, f"{AREAS}/{area.id}", status, "   ")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]


def test_unknown_decision_status_is_422(client: TestClient, db: Session) -> None:
    area = make_growing_area(db, make_org(db))
    headers = api_headers(db, make_authority(db), Role.authority)
    response = decide(client, headers, f"{AREAS}/{area.id}", "blessed")
    assert [e["field"] for e in response.json()["errors"]] == ["status"]


def test_decisions_on_packing_houses_follow_the_same_rules(db: Session) -> None:
    house = make_packing_house(db, make_org(db))
    authority = user_principal(db, make_authority(db), Role.authority)
    inspector = user_principal(db, make_authority(db), Role.inspector)
    stranger = user_principal(db, make_org(db), Role.org_admin)
    with pytest.raises(Forbidden):
        approvals.decide_packing_house(db, inspector, house.id, "approved")
    with pytest.raises(NotFound):
        approvals.decide_packing_house(db, stranger, house.id, "approved")
    approved = approvals.decide_packing_house(db, authority, house.id, "approved")
    assert (approved.status, approved.decided_by) == (CodeStatus.approved, authority.user_id)
    with pytest.raises(ValidationFailed):
        approvals.decide_packing_house(db, authority, house.id, "revoked")
    approvals.decide_packing_house(db, authority, house.id, "revoked", "Đóng cửa")
    with pytest.raises(Conflict):
        approvals.decide_packing_house(db, authority, house.id, "approved")


def test_queue_lists_pending_codes_of_both_kinds_in_the_authoritys_province(
    client: TestClient, db: Session
) -> None:
    producer = make_org(db, name="HTX Vải thiều Lục Ngạn")
    area = make_growing_area(db, producer)
    house = make_packing_house(db, producer)
    make_growing_area(db, producer, status=CodeStatus.approved)
    make_growing_area(
        db, make_org(db, province_code="96"), geometry=CA_MAU_POINT, province_code="96"
    )
    make_packing_house(db, make_org(db, province_code="96"), province_code="96")
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    page = client.get(QUEUE, headers=headers).json()
    assert page["total"] == 2
    items = {(i["kind"], i["id"]) for i in page["items"]}
    assert items == {("growing_area", str(area.id)), ("packing_house", str(house.id))}
    assert {i["org_name"] for i in page["items"]} == {"HTX Vải thiều Lục Ngạn"}
    only_houses = client.get(QUEUE, params={"kind": "packing_house"}, headers=headers).json()
    assert [i["id"] for i in only_houses["items"]] == [str(house.id)]
    bad = client.get(QUEUE, params={"kind": "stamp"}, headers=headers)
    assert bad.status_code == 422


def test_queue_pages_through_both_kinds_oldest_first(db: Session) -> None:
    producer = make_org(db)
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    made: list[Any] = []
    for n in range(3):
        made.append(make_growing_area(db, producer, updated_at=start + timedelta(hours=2 * n)))
        made.append(make_packing_house(db, producer, updated_at=start + timedelta(hours=2 * n + 1)))
    platform = make_org(db, kind=OrgKind.platform, province_code=None)
    admin = user_principal(db, platform, Role.platform_admin)
    first, total = approvals.approval_queue(db, admin, offset=0, limit=4)
    rest, _ = approvals.approval_queue(db, admin, offset=4, limit=4)
    assert total == 6
    assert [i.id for i in first + rest] == [m.id for m in made]


def test_queue_is_for_authorities_only(client: TestClient, db: Session) -> None:
    org = make_org(db)
    make_growing_area(db, org)
    assert client.get(QUEUE, headers=api_headers(db, org)).status_code == 403
    inspector = api_headers(db, make_authority(db), Role.inspector)
    assert client.get(QUEUE, headers=inspector).status_code == 403
