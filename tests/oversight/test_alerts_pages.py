"""Alert pages over HTTP on both stores: the list with filters, badges and age, the detail in
the reader's language with linked evidence, acknowledge and resolve from the forms (a missing
note shown on the form), running the rules, and another province seeing nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_authority, make_org, make_user
from tests.oversight.test_alerts_api import copied_stamp
from tests.oversight.test_alerts_rules import HANOI, HO_CHI_MINH, issue, scan
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.oversight.models import Alert, AlertState


def test_the_list_and_detail_show_the_alert_in_vietnamese_and_english(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = make_org(db, province_code="24")
    alert = copied_stamp(db, settings, org)
    authority = make_authority(db, province_code="24")
    vi = Browser(client, db).login(make_user(db, authority, Role.authority), "vi")
    listing = vi.get("/oversight/alerts")
    assert listing.status_code == 200
    assert f'data-id="{alert.id}"' in listing.text and "Tem bị sao chép" in listing.text
    assert "Rất nghiêm trọng" in listing.text and 'id="run-rules"' in listing.text
    detail = vi.get(f"/oversight/alerts/{alert.id}")
    assert "nhiều khả năng tem đã bị sao chép" in detail.text
    assert f'href="/01/{alert.gtin}/21/' in detail.text and 'id="resolve-form"' in detail.text
    en = Browser(client, db).login(make_user(db, org, Role.org_staff), "en")
    detail = en.get(f"/oversight/alerts/{alert.id}")
    assert "it has probably been copied" in detail.text and "Consumer scan" in detail.text
    assert 'id="run-rules"' not in en.get("/oversight/alerts").text
    filtered = en.get("/oversight/alerts?state=resolved")
    assert f'data-id="{alert.id}"' not in filtered.text


def test_acknowledge_then_resolve_from_the_forms(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = make_org(db)
    alert = copied_stamp(db, settings, org)
    staff = Browser(client, db).login(make_user(db, org, Role.org_staff), "en")
    assert 'id="ack-form"' in staff.get(f"/oversight/alerts/{alert.id}").text
    acked = staff.post(f"/oversight/alerts/{alert.id}/acknowledge", {"note": "Calling the shop"})
    assert acked.status_code == 303
    missing = staff.post(f"/oversight/alerts/{alert.id}/resolve", {"note": ""})
    assert missing.status_code == 422 and "Say how the alert was resolved" in missing.text
    done = staff.post(f"/oversight/alerts/{alert.id}/resolve", {"note": "Fakes withdrawn"})
    assert done.status_code == 303
    db.refresh(alert)
    assert alert.state is AlertState.resolved
    page = staff.get(f"/oversight/alerts/{alert.id}").text
    assert 'id="resolve-form"' not in page and "Fakes withdrawn" in page


def test_another_province_sees_no_alert_and_gets_404(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = make_org(db, province_code="24")
    alert = copied_stamp(db, settings, org)
    other = Browser(client, db).login(
        make_user(db, make_authority(db, province_code="01"), Role.authority), "en"
    )
    assert f'data-id="{alert.id}"' not in other.get("/oversight/alerts").text
    assert other.get(f"/oversight/alerts/{alert.id}").status_code == 404
    assert other.post(f"/oversight/alerts/{alert.id}/resolve", {"note": "x"}).status_code == 404


def test_an_authority_runs_the_rules_from_the_page(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = make_org(db, province_code="24")
    issued = issue(db, settings, org)
    serial = sorted(issued.pins)[0]
    scan(db, issued.run.gtin, serial, HANOI)
    scan(db, issued.run.gtin, serial, HO_CHI_MINH)
    authority = Browser(client, db).login(
        make_user(db, make_authority(db, province_code="24"), Role.authority), "en"
    )
    assert authority.post("/oversight/alerts/run", {}).status_code == 303
    assert db.scalar(select(Alert.id).where(Alert.org_id == org.id)) is not None
    staff = Browser(client, db).login(make_user(db, org, Role.org_staff), "en")
    assert staff.post("/oversight/alerts/run", {}).status_code == 403
