"""Forecasts from captured shipping events over HTTP, their tenancy, and the supply-risk ranking
(real database on both stores, events captured through the EPCIS capture service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_facility, make_org, make_product
from tests.trace.chain import SCHEMA_PATH, capture, event, lot
from truyxuat.auth.models import Role
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.gs1 import make_gln
from truyxuat.oversight.models import Alert, AlertSeverity
from truyxuat.recall.models import Recall, RecallItem, RecallItemKind, RecallSeverity
from truyxuat.registry.models import Facility, Organization, Product
from truyxuat.resolver.models import Scan

DL = "https://id.gs1.org"
WEEKS = 40


@pytest.fixture(autouse=True)
def _epcis_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))


def _when(weeks_ago: int) -> str:
    """A Wednesday noon (Viet Nam) `weeks_ago` complete weeks before this one."""
    now = datetime.now(UTC) + timedelta(hours=7)
    monday = (now - timedelta(days=now.weekday())).replace(hour=12, minute=0, second=0)
    moment = monday - timedelta(weeks=weeks_ago) + timedelta(days=2)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+07:00")


def ship_weekly(db: Session, shipper: Organization, gtin: str, receiver_gln: str) -> None:
    """Forty weeks of shipments of one product (a 4-week pattern on a rising level),
    captured through the EPCIS capture service, plus a harvest each week."""
    events: list[dict[str, Any]] = []
    for weeks_ago in range(WEEKS, 0, -1):
        t = WEEKS - weeks_ago
        amount = 100 + t + (30, 0, -30, 0)[t % 4]
        element = {"epcClass": lot(gtin, f"L{t}"), "quantity": amount, "uom": "KGM"}
        events.append(
            event(
                "ObjectEvent",
                _when(weeks_ago),
                action="ADD",
                bizStep="commissioning",
                epcList=[],
                quantityList=[{**element, "quantity": 10}],
            )
        )
        events.append(
            event(
                "ObjectEvent",
                _when(weeks_ago),
                action="OBSERVE",
                bizStep="shipping",
                epcList=[],
                quantityList=[element],
                sourceList=[{"type": "owning_party", "source": f"{DL}/417/{shipper.gln}"}],
                destinationList=[{"type": "location", "destination": f"{DL}/414/{receiver_gln}"}],
            )
        )
    capture(db, shipper, events)


@pytest.fixture
def shipped(db: Session) -> tuple[Organization, Product, str]:
    """A producer of province 24 shipping to a warehouse in province 96."""
    producer = make_org(db, province_code="24")
    product = make_product(db, producer)
    buyer = make_org(db, province_code="96")
    assert buyer.gs1_company_prefix
    warehouse = make_facility(
        db, buyer, province_code="96", gln=make_gln(buyer.gs1_company_prefix, 2)
    )
    assert warehouse.gln is not None
    ship_weekly(db, producer, product.gtin, warehouse.gln)
    db.flush()
    return producer, product, warehouse.province_code or ""


def test_forecast_over_http_has_twelve_weeks_with_intervals(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    producer, product, province = shipped
    headers = api_headers(db, producer)

    answer = client.get(f"/api/v1/oversight/forecast?gtin={product.gtin}", headers=headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["unit"] == "kg" and body["provinces"] == [province]
    assert len(body["history"]) == WEEKS
    assert body["history"][0]["value"] == 130 and body["history"][1]["value"] == 101
    assert len(body["forecast"]) == 12
    for point in body["forecast"]:
        assert point["lower95"] <= point["lower80"] <= point["mean"] <= point["upper80"]
        assert point["upper80"] <= point["upper95"]
    assert body["model"]["kind"] != "naive"
    assert body["backtest"]["model"]["mape"] is not None
    assert body["backtest"]["naive"]["mape"] is not None

    by_province = client.get(
        f"/api/v1/oversight/forecast?gtin={product.gtin}&province={province}&weeks=20",
        headers=headers,
    ).json()
    assert len(by_province["forecast"]) == 20
    assert by_province["history"] == body["history"]
    elsewhere = client.get(
        f"/api/v1/oversight/forecast?gtin={product.gtin}&province=24", headers=headers
    ).json()
    assert elsewhere["history"] == [] and elsewhere["model"]["fallback"] == "short"

    csv = client.get(f"/api/v1/oversight/forecast?gtin={product.gtin}&format=csv", headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 1 + WEEKS + 12


def test_forecast_rejects_bad_parameters(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    producer, product, _ = shipped
    headers = api_headers(db, producer)

    for query in (
        "gtin=123",
        f"gtin={product.gtin}&weeks=0",
        f"gtin={product.gtin}&weeks=53",
        f"gtin={product.gtin}&province=nowhere",
        f"gtin={product.gtin}&signal=rumours",
    ):
        answer = client.get(f"/api/v1/oversight/forecast?{query}", headers=headers)
        assert answer.status_code == 422, query
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_other_province_authority_sees_nothing_of_the_product(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    _, product, _ = shipped
    outsider = api_headers(db, make_authority(db, province_code="01"), Role.authority)
    own = api_headers(db, make_authority(db, province_code="24"), Role.authority)

    hidden = client.get(f"/api/v1/oversight/forecast?gtin={product.gtin}", headers=outsider)
    assert hidden.status_code == 404
    ranked = client.get("/api/v1/oversight/risk", headers=outsider).json()["items"]
    assert product.gtin not in [r["gtin"] for r in ranked]

    seen = client.get(f"/api/v1/oversight/forecast?gtin={product.gtin}", headers=own)
    assert seen.status_code == 200 and len(seen.json()["history"]) == WEEKS
    assert product.gtin in [
        r["gtin"] for r in client.get("/api/v1/oversight/risk", headers=own).json()["items"]
    ]


def test_unknown_gtin_is_not_found(client: TestClient, db: Session) -> None:
    headers = api_headers(db, make_org(db))

    answer = client.get("/api/v1/oversight/forecast?gtin=8930000000019", headers=headers)

    assert answer.status_code == 404


def test_alerted_and_recalled_product_ranks_above_a_clean_one(
    client: TestClient, db: Session
) -> None:
    producer = make_org(db, province_code="24")
    clean = make_product(db, producer)
    risky = make_product(db, producer)
    db.add(
        Alert(
            rule="test",
            dedup_key=f"risk-{risky.gtin}",
            severity=AlertSeverity.critical,
            org_id=producer.id,
            province_code="24",
            gtin=risky.gtin,
            title="Cold chain broken",
        )
    )
    recall = Recall(
        org_id=producer.id,
        epc=lot(risky.gtin, "R1"),
        gtin=risky.gtin,
        lot="R1",
        reason="test",
        severity=RecallSeverity.class_i,
    )
    db.add(recall)
    db.flush()
    db.add(
        RecallItem(
            recall_id=recall.id,
            kind=RecallItemKind.lot,
            ref=recall.epc,
            gtin=risky.gtin,
            lot="R1",
            org_id=producer.id,
        )
    )
    db.flush()

    items = client.get("/api/v1/oversight/risk", headers=api_headers(db, producer)).json()["items"]

    ranked = [r["gtin"] for r in items]
    assert ranked.index(risky.gtin) < ranked.index(clean.gtin)
    top = items[ranked.index(risky.gtin)]
    assert top["alertPoints"] == 20 and top["recallPoints"] == 40 and top["score"] == 60
    assert top["alerts"] == 1 and top["openRecalls"] == 1
    assert items[ranked.index(clean.gtin)]["score"] == 0


def test_forecast_and_risk_pages_render(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    producer, product, _ = shipped
    headers = api_headers(db, producer)

    html = client.get(f"/oversight/forecast?gtin={product.gtin}", headers=headers)
    assert html.status_code == 200, html.text
    assert "<svg" in html.text and "forecast-backtest" in html.text and "MAPE" in html.text
    bad = client.get("/oversight/forecast?gtin=12", headers=headers)
    assert bad.status_code == 422 and 'id="error-gtin"' in bad.text
    xlsx = client.get(f"/oversight/forecast?gtin={product.gtin}&format=xlsx", headers=headers)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    risk = client.get("/oversight/risk", headers=headers)
    assert risk.status_code == 200 and product.gtin in risk.text


def test_trading_partner_sees_what_was_shipped_to_it(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    _, product, province = shipped
    warehouse = db.scalar(select(Facility).where(Facility.province_code == province))
    assert warehouse is not None
    buyer = db.get(Organization, warehouse.org_id)
    assert buyer is not None

    answer = client.get(
        f"/api/v1/oversight/forecast?gtin={product.gtin}", headers=api_headers(db, buyer)
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["history"]) == WEEKS and body["productName"] == product.names["en"]


def test_receiving_and_scans_are_their_own_series(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    producer, product, province = shipped
    warehouse = db.scalar(select(Facility).where(Facility.province_code == province))
    assert warehouse is not None and warehouse.gln is not None
    buyer = db.get(Organization, warehouse.org_id)
    assert buyer is not None
    received = [
        event(
            "ObjectEvent",
            _when(weeks_ago),
            action="OBSERVE",
            bizStep="receiving",
            epcList=[],
            quantityList=[{"epcClass": lot(product.gtin, "R"), "quantity": 5, "uom": "TNE"}],
            bizLocation={"id": f"{DL}/414/{warehouse.gln}"},
        )
        for weeks_ago in (3, 2)
    ]
    capture(db, buyer, received)
    now = datetime.now(UTC)
    db.add_all(Scan(gtin=product.gtin, scanned_at=now - timedelta(weeks=w)) for w in (1, 1, 2))
    db.flush()
    headers = api_headers(db, producer)

    receiving = client.get(
        f"/api/v1/oversight/forecast?gtin={product.gtin}&signal=receiving&province={province}",
        headers=api_headers(db, buyer),
    ).json()
    scans = client.get(
        f"/api/v1/oversight/forecast?gtin={product.gtin}&signal=scans", headers=headers
    ).json()

    assert [p["value"] for p in receiving["history"]] == [5000.0, 5000.0, 0.0]
    assert receiving["unit"] == "kg" and receiving["model"]["fallback"] == "short"
    assert scans["unit"] == "scans" and sum(p["value"] for p in scans["history"]) == 3


def test_forecast_gap_scores_demand_that_supply_does_not_cover(
    client: TestClient, db: Session, shipped: tuple[Organization, Product, str]
) -> None:
    producer, product, _ = shipped

    items = client.get("/api/v1/oversight/risk", headers=api_headers(db, producer)).json()["items"]

    mine = next(r for r in items if r["gtin"] == product.gtin)
    # About 140 kg a week shipped against 10 kg a week harvested: most of the demand is a gap.
    assert mine["recentSupply"] == pytest.approx(40.0)
    assert mine["forecastDemand"] > 400
    assert 15 < mine["gapPoints"] <= 20 and mine["score"] == mine["gapPoints"]
