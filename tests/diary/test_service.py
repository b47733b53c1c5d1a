"""Recording diary activities on both stores: the event is captured for the right organization,
bad input and other organizations' growing areas are refused with nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.factories import api_headers, gtin_for, make_growing_area, make_org, make_product
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.diary import service
from truyxuat.epcis.models import EpcisEvent
from truyxuat.epcis.validation import SCHEMA_ENV, EpcisValidator, load_schema
from truyxuat.errors import NotFound, ValidationFailed
from truyxuat.registry.models import GrowingAreaOwner, Organization, OrgKind

SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
SPRAYING = {"product_name": "Regent 800WG", "dose": "1.5", "dose_uom": "LTR", "phi_days": "7"}


@pytest.fixture(autouse=True)
def _schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points capture at the ratified GS1 schema in the shared data."""
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


@pytest.fixture(scope="module")
def validator() -> EpcisValidator:
    """The validator of the ratified GS1 schema."""
    return EpcisValidator(load_schema(SCHEMA_PATH))


def staff(org: Organization) -> Principal:
    """A staff member of one organization."""
    return Principal(
        label="staff", grants=(Grant(org.id, Role.org_staff, org.province_code),), csrf_token="t"
    )


def _count(db: Session) -> int:
    """How many events are stored."""
    return int(db.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def test_household_records_spraying_visible_in_its_epcis_events(
    db: Session, client: TestClient, validator: EpcisValidator
) -> None:
    household = make_org(db, kind=OrgKind.household)
    area = make_growing_area(db, household)
    row = service.record_activity(
        db,
        staff(household),
        growing_area_id=area.id,
        activity="spraying",
        values=SPRAYING,
        validator=validator,
    )
    assert row.org_id == household.id and row.biz_step.endswith("bizStep/spraying")
    response = client.get("/epcis/events", headers=api_headers(db, household, Role.org_staff))
    assert response.status_code == 200
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in events] == [row.event_id]
    assert events[0]["tx:productName"] == "Regent 800WG"
    entries = service.timeline(db, service.get_diary_area(db, staff(household), area.id))
    assert [e["eventID"] for e in entries] == [row.event_id]


@pytest.mark.parametrize(
    ("activity", "values", "field"),
    [
        ("spraying", {"product_name": "Regent", "dose_uom": "LTR"}, "dose"),
        ("harvest", {"lot": "L1", "quantity": "-3", "uom": "KGM"}, "quantity"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    db: Session, validator: EpcisValidator, activity: str, values: dict[str, str], field: str
) -> None:
    household = make_org(db, kind=OrgKind.household)
    area = make_growing_area(db, household)
    values = {**values, "gtin": gtin_for(household, 7)} if activity == "harvest" else values
    before = _count(db)
    with pytest.raises(ValidationFailed) as caught:
        service.record_activity(
            db,
            staff(household),
            growing_area_id=area.id,
            activity=activity,
            values=values,
            validator=validator,
        )
    assert field in {str(e.loc[0]) for e in caught.value.errors}
    assert _count(db) == before


def test_another_organizations_growing_area_is_not_found(
    db: Session, validator: EpcisValidator
) -> None:
    household, stranger = make_org(db, kind=OrgKind.household), make_org(db)
    area = make_growing_area(db, household)
    with pytest.raises(NotFound):
        service.record_activity(
            db,
            staff(stranger),
            growing_area_id=area.id,
            activity="irrigation",
            values={},
            validator=validator,
        )
    assert service.diary_areas(db, staff(stranger)) == []


def test_a_cooperative_records_for_its_member_household(
    db: Session, validator: EpcisValidator
) -> None:
    cooperative = make_org(db, kind=OrgKind.cooperative)
    household = make_org(db, kind=OrgKind.household)
    shared = make_growing_area(db, cooperative)
    db.add(
        GrowingAreaOwner(
            org_id=cooperative.id,
            growing_area_id=shared.id,
            name="Hộ ông Nguyễn Văn A",
            household_org_id=household.id,
        )
    )
    own = make_growing_area(db, household)
    db.flush()
    areas = {a.area.id: a.org_id for a in service.diary_areas(db, staff(cooperative))}
    assert areas == {shared.id: cooperative.id, own.id: household.id}
    product = make_product(db, household)
    row = service.record_activity(
        db,
        staff(cooperative),
        growing_area_id=own.id,
        activity="harvest",
        values={"gtin": product.gtin, "lot": "L2026", "quantity": "850", "uom": "KGM"},
        validator=validator,
    )
    assert row.org_id == household.id and row.biz_step.endswith("commissioning")
    # The household sees the plot it owns in the cooperative's area too.
    mine = {a.area.id: a.org_id for a in service.diary_areas(db, staff(household))}
    assert mine == {shared.id: household.id, own.id: household.id}


def test_diary_import_records_every_row_or_none(db: Session, validator: EpcisValidator) -> None:
    from truyxuat.diary.imports import import_diary

    household = make_org(db, kind=OrgKind.household)
    area = make_growing_area(db, household)
    product = make_product(db, household)
    good = (
        "Vùng trồng,Hoạt động,Thời gian,Tên thuốc,Liều lượng,Đơn vị liều,GTIN,Lô,Số lượng,Đơn vị\n"
        f'{area.code},Phun thuốc,2026-07-01 07:00,Regent,"1,5",LTR,,,,\n'
        f"{area.code},harvest,2026-07-20 06:00,,,,{product.gtin},L0720,900,KGM\n"
    )
    bad = good + f"{area.code},Thu hoạch,2026-07-21 06:00,,,,{product.gtin},L0721,-4,KGM\n"
    bad += "VN-NOWHERE,harvest,,,,,,,,\n"
    before = _count(db)
    with pytest.raises(ValidationFailed) as caught:
        import_diary(
            db, staff(household), data=bad.encode(), filename="nk.csv", validator=validator
        )
    locs = {tuple(e.loc) for e in caught.value.errors}
    assert ("row 4", "quantity") in locs and ("row 5", "growing_area") in locs
    assert _count(db) == before
    result = import_diary(
        db, staff(household), data=good.encode(), filename="nk.csv", validator=validator
    )
    assert (result.rows, result.created) == (2, 2)
    assert _count(db) == before + 2
    entries = service.timeline(db, service.get_diary_area(db, staff(household), area.id))
    assert [e["tx:activity"] for e in entries] == ["harvest", "spraying"]
    assert entries[1]["eventTime"] == "2026-07-01T07:00:00+07:00"
