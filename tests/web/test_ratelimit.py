"""Rate limits on the public endpoints, over HTTP on both stores: a scan storm from one
address is refused with 429 problems while other consumers and signed-in tenants carry on."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import _session
from tests.factories import api_headers, make_org, make_product
from truyxuat.app import create_app
from truyxuat.config import Settings
from truyxuat.web.ratelimit import Bucket, Limiter, rule_of

STORM = ("203.0.113.9", 40000)
NEIGHBOUR = ("198.51.100.7", 40001)


def _app(db: Session, settings: Settings, **limits: float) -> FastAPI:
    tuned = settings.model_copy(update=limits)
    connection = db.connection()
    return create_app(tuned, session_factory=lambda: _session(connection))  # type: ignore[arg-type]


def test_a_scan_storm_from_one_address_is_refused_while_others_carry_on(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    product = make_product(db, org)
    headers = api_headers(db, org)
    db.flush()
    app = _app(db, settings, scan_rate_per_second=0.5, scan_rate_burst=5)
    scan = f"/01/{product.gtin}"
    accept = {"Accept": "application/linkset+json"}
    with TestClient(app, client=STORM) as storm, TestClient(app, client=NEIGHBOUR) as other:
        answers = [storm.get(scan, headers=accept).status_code for _ in range(12)]
        assert answers[:5] == [200] * 5 and set(answers[5:]) == {429}
        refused = storm.get(scan, headers=accept)
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["status"] == 429
        # Another consumer, and the tenant's own API, are not held up by the storm.
        assert other.get(scan, headers=accept).status_code == 200
        assert storm.get("/api/v1/me", headers=headers).status_code == 200
        assert storm.get("/healthz").status_code == 200


def test_passport_forms_have_their_own_limit_and_zero_turns_limits_off(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    product = make_product(db, org)
    db.flush()
    limited = _app(db, settings, public_form_rate_per_minute=1, public_form_rate_burst=2)
    form = {"gtin": product.gtin, "serial": "X1", "pin": "0000"}
    with TestClient(limited, client=STORM) as storm:
        codes = [storm.post("/passport/pin", data=form).status_code for _ in range(4)]
        assert 429 not in codes[:2] and codes[2:] == [429, 429]
    unlimited = _app(db, settings, scan_rate_per_second=0, public_form_rate_per_minute=0)
    with TestClient(unlimited, client=STORM) as storm:
        scans = [storm.get(f"/01/{product.gtin}").status_code for _ in range(80)]
        assert 429 not in scans


def test_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = Bucket(rate=2.0, burst=3.0, tokens=3.0, updated=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == 0.5  # one token comes back every half second
    assert bucket.take(0.5) == 0.0
    assert [bucket.take(100.0) for _ in range(4)][-1] > 0  # never more than the burst
    clock = iter([0.0, 0.0, 1000.0])
    limiter = Limiter(rate=1.0, burst=1.0, clock=lambda: next(clock))
    assert limiter.wait("a") == 0 and limiter.wait("a") > 0 and limiter.wait("a") == 0


def test_only_public_endpoints_are_limited() -> None:
    assert rule_of("GET", "/01/08935001234562/21/A1") == "scan"
    assert rule_of("HEAD", "/AQnYUc1gsJOdzuiPnZmI") == "scan"
    assert rule_of("POST", "/passport/pin") == "form"
    assert rule_of("POST", "/passport/scans/1b2c/place") == "form"
    for method, path in (
        ("GET", "/api/v1/products"),
        ("POST", "/epcis/capture"),
        ("GET", "/registry/products"),
        ("GET", "/passport/images/1"),
        ("POST", "/login"),
    ):
        assert rule_of(method, path) is None, path
