"""Diary pages over HTTP on both stores: pick an area, record an activity, see it listed;
bad input re-renders the form with readable errors and stores nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.diary.test_service import SCHEMA_PATH
from tests.factories import api_headers, make_growing_area, make_org, make_product, make_user
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.registry.models import OrgKind


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture
def browser(client: TestClient, db: Session) -> Browser:
    """A page client; call .login(user) first."""
    return Browser(client, db)


def _count(db: Session) -> int:
    """How many events are stored."""
    return int(db.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def test_diary_needs_a_login(client: TestClient) -> None:
    response = client.get("/diary", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("vi", ("Nhật ký điện tử", "Phun thuốc", "Thu hoạch", "Hoạt động gần đây")),
        ("en", ("Electronic diary", "Spraying", "Harvest", "Recent activities")),
    ],
)
def test_household_records_harvest_and_sees_it_in_the_timeline(
    browser: Browser, db: Session, client: TestClient, lang: str, words: tuple[str, ...]
) -> None:
    household = make_org(db, kind=OrgKind.household)
    area = make_growing_area(db, household, name="Vườn vải nhà ông Ba")
    product = make_product(db, household)
    browser.login(make_user(db, household, Role.org_staff), lang)
    home = browser.get("/diary")
    assert words[0] in home.text and f"/diary/areas/{area.id}" in home.text
    page = browser.get(f"/diary/areas/{area.id}")
    assert words[1] in page.text and words[2] in page.text and words[3] in page.text
    form = browser.get(f"/diary/areas/{area.id}/harvest")
    assert form.status_code == 200 and product.gtin in form.text
    response = browser.post(
        f"/diary/areas/{area.id}/harvest",
        {"gtin": product.gtin, "lot": "L20260722", "quantity": "1200", "uom": "KGM"},
        files={"photo": ("vai.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png")},
    )
    assert response.status_code == 303, response.text
    shown = browser.get(response.headers["location"])
    assert "L20260722" in shown.text and ("1.200" if lang == "vi" else "1,200") in shown.text
    events = client.get(
        "/epcis/events?EQ_bizStep=commissioning", headers=api_headers(db, household)
    ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == 1 and events[0]["ilmd"]["cbvmda:lotNumber"] == "L20260722"
    assert events[0]["tx:photo"].startswith("urn:uuid:")


@pytest.mark.parametrize(
    ("activity", "data", "field", "message"),
    [
        ("spraying", {"product_name": "Regent", "dose_uom": "LTR"}, "dose", "bắt buộc"),
        ("harvest", {"lot": "L1", "quantity": "-2", "uom": "KGM"}, "quantity", "lớn hơn 0"),
    ],
)
def test_bad_input_rerenders_the_form_and_stores_nothing(
    browser: Browser, db: Session, activity: str, data: dict[str, str], field: str, message: str
) -> None:
    household = make_org(db, kind=OrgKind.household)
    area = make_growing_area(db, household)
    product = make_product(db, household)
    browser.login(make_user(db, household, Role.org_staff), "vi")
    before = _count(db)
    data = {**data, "gtin": product.gtin} if activity == "harvest" else data
    response = browser.post(f"/diary/areas/{area.id}/{activity}", data)
    assert response.status_code == 422
    assert f'id="err-{field}"' in response.text and message in response.text
    assert _count(db) == before


def test_another_organizations_growing_area_is_not_found(browser: Browser, db: Session) -> None:
    household, stranger = make_org(db, kind=OrgKind.household), make_org(db)
    area = make_growing_area(db, household)
    browser.login(make_user(db, stranger, Role.org_admin), "en")
    assert browser.get(f"/diary/areas/{area.id}").status_code == 404
    before = _count(db)
    response = browser.post(f"/diary/areas/{area.id}/irrigation", {"quantity": "3", "uom": "MTQ"})
    assert response.status_code == 404 and _count(db) == before
    assert browser.get("/diary/areas/not-a-uuid").status_code == 404
    assert browser.get(f"/diary/areas/{area.id}/dancing").status_code == 404
