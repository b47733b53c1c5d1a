"""The authorization matrix: every API operation has a rule, and the rule holds.

`RULES` names, for each operation of the OpenAPI document, who may call it. A new endpoint
without a rule fails `test_every_operation_has_a_rule`, so nobody can add one without deciding
its access. Then, on both stores:
- anonymous callers get 401 on everything that is not public;
- an organization's staff get 403 on what only its admins, authorities or the platform may do;
- another organization's admin never reaches an object it does not own: every operation with
  an object in its path answers 403 or 404 for a stranger's object, and the object is unchanged.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.factories import (
    api_headers,
    make_authority,
    make_certification,
    make_facility,
    make_growing_area,
    make_org,
    make_packing_house,
    make_product,
)
from truyxuat.app import create_app
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.epcis.validation import SCHEMA_ENV
from truyxuat.oversight.models import Alert, AlertSeverity
from truyxuat.webhooks import service as webhooks

PUBLIC = "public"  # anyone, no credentials (consumers, witnesses, the resolver's helpers)
MEMBER = "member"  # any signed-in member; results and objects limited to what it may see
ADMIN = "admin"  # an organization's admin (or the platform)
DECIDER = "decider"  # authorities and the platform (approvals, decisions)
PLATFORM = "platform"  # the platform administrator only


@dataclass(frozen=True)
class Rule:
    access: str
    owned: str | None = None
    """The path parameter naming another tenant's object, checked for object-level access."""


R = Rule
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): R(PUBLIC),
    ("GET", "/api/v1/admin-units"): R(PUBLIC),
    ("GET", "/api/v1/me"): R(MEMBER),
    # Lists only the keys of organizations the caller administers: staff get an empty list.
    ("GET", "/api/v1/api-keys"): R(MEMBER),
    ("POST", "/api/v1/api-keys"): R(ADMIN),
    ("DELETE", "/api/v1/api-keys/{key_id}"): R(ADMIN, "key_id"),
    ("GET", "/api/v1/approvals"): R(DECIDER),
    ("GET", "/api/v1/audit"): R(MEMBER),  # entries of what the caller may read
    ("POST", "/api/v1/certifications"): R(MEMBER),
    ("GET", "/api/v1/certifications"): R(MEMBER),
    ("GET", "/api/v1/certifications/{cert_id}"): R(MEMBER, "cert_id"),
    ("PATCH", "/api/v1/certifications/{cert_id}"): R(MEMBER, "cert_id"),
    ("DELETE", "/api/v1/certifications/{cert_id}"): R(MEMBER, "cert_id"),
    ("POST", "/api/v1/certifications/{cert_id}/document"): R(MEMBER, "cert_id"),
    ("POST", "/api/v1/certifications/{cert_id}/revoke"): R(MEMBER, "cert_id"),
    ("POST", "/api/v1/facilities"): R(MEMBER),
    ("GET", "/api/v1/facilities"): R(MEMBER),
    ("GET", "/api/v1/facilities/{facility_id}"): R(MEMBER, "facility_id"),
    ("PATCH", "/api/v1/facilities/{facility_id}"): R(MEMBER, "facility_id"),
    ("DELETE", "/api/v1/facilities/{facility_id}"): R(MEMBER, "facility_id"),
    ("GET", "/api/v1/files/{file_id}"): R(MEMBER, "file_id"),
    ("POST", "/api/v1/growing-areas"): R(MEMBER),
    ("GET", "/api/v1/growing-areas"): R(MEMBER),
    ("GET", "/api/v1/growing-areas/{area_id}"): R(MEMBER, "area_id"),
    ("PATCH", "/api/v1/growing-areas/{area_id}"): R(MEMBER, "area_id"),
    ("POST", "/api/v1/growing-areas/{area_id}/decision"): R(DECIDER, "area_id"),
    ("GET", "/api/v1/growing-areas/{area_id}/geojson"): R(MEMBER, "area_id"),
    ("POST", "/api/v1/imports/{kind}"): R(MEMBER),
    ("GET", "/api/v1/imports/{kind}/template"): R(PUBLIC),
    ("POST", "/api/v1/organizations"): R(PLATFORM),
    ("GET", "/api/v1/organizations"): R(MEMBER),
    ("GET", "/api/v1/organizations/{org_id}"): R(MEMBER, "org_id"),
    ("PATCH", "/api/v1/organizations/{org_id}"): R(ADMIN, "org_id"),
    ("POST", "/api/v1/organizations/{org_id}/decision"): R(DECIDER, "org_id"),
    ("POST", "/api/v1/packing-houses"): R(MEMBER),
    ("GET", "/api/v1/packing-houses"): R(MEMBER),
    ("GET", "/api/v1/packing-houses/{house_id}"): R(MEMBER, "house_id"),
    ("PATCH", "/api/v1/packing-houses/{house_id}"): R(MEMBER, "house_id"),
    ("POST", "/api/v1/packing-houses/{house_id}/decision"): R(DECIDER, "house_id"),
    ("POST", "/api/v1/products"): R(MEMBER),
    ("GET", "/api/v1/products"): R(MEMBER),
    ("GET", "/api/v1/products/{product_id}"): R(MEMBER, "product_id"),
    ("PATCH", "/api/v1/products/{product_id}"): R(MEMBER, "product_id"),
    ("DELETE", "/api/v1/products/{product_id}"): R(MEMBER, "product_id"),
    ("POST", "/api/v1/products/{product_id}/images"): R(MEMBER, "product_id"),
    ("DELETE", "/api/v1/products/{product_id}/images/{image_id}"): R(MEMBER, "product_id"),
    ("POST", "/api/v1/registrations"): R(PUBLIC),
    ("POST", "/api/v1/stamp-runs"): R(MEMBER),
    ("GET", "/api/v1/stamp-runs"): R(MEMBER),
    ("GET", "/api/v1/stamp-runs/{run_id}"): R(MEMBER, "run_id"),
    ("POST", "/api/v1/stamp-runs/{run_id}/activate"): R(MEMBER, "run_id"),
    ("POST", "/api/v1/stamp-runs/{run_id}/printed"): R(MEMBER, "run_id"),
    ("GET", "/api/v1/stamp-runs/{run_id}/stamps"): R(MEMBER, "run_id"),
    ("POST", "/api/v1/stamp-runs/{run_id}/void"): R(MEMBER, "run_id"),
    ("GET", "/api/v1/stamps/public-key"): R(PUBLIC),
    ("POST", "/api/v1/stamps/verify"): R(PUBLIC),
    ("GET", "/epcis/bizLocations"): R(MEMBER),
    ("GET", "/epcis/bizLocations/{value}/events"): R(MEMBER),
    ("GET", "/epcis/bizSteps"): R(MEMBER),
    ("GET", "/epcis/bizSteps/{value}/events"): R(MEMBER),
    ("POST", "/epcis/capture"): R(MEMBER),
    ("GET", "/epcis/capture/{capture_id}"): R(MEMBER, "capture_id"),
    ("GET", "/epcis/dispositions"): R(MEMBER),
    ("GET", "/epcis/dispositions/{value}/events"): R(MEMBER),
    ("GET", "/epcis/epcs"): R(MEMBER),
    ("GET", "/epcis/epcs/{value}/events"): R(MEMBER),
    ("GET", "/epcis/eventTypes"): R(MEMBER),
    ("GET", "/epcis/eventTypes/{value}/events"): R(MEMBER),
    ("GET", "/epcis/events"): R(MEMBER),
    ("POST", "/epcis/events"): R(MEMBER),
    ("GET", "/epcis/events/{event_id}"): R(MEMBER, "event_id"),
    ("GET", "/epcis/queries"): R(MEMBER),
    ("POST", "/epcis/queries"): R(MEMBER),
    ("GET", "/epcis/queries/{name}"): R(MEMBER, "name"),
    ("DELETE", "/epcis/queries/{name}"): R(MEMBER, "name"),
    ("GET", "/epcis/queries/{name}/events"): R(MEMBER, "name"),
    ("POST", "/epcis/queries/{name}/subscriptions"): R(MEMBER, "name"),
    ("GET", "/epcis/queries/{name}/subscriptions"): R(MEMBER, "name"),
    ("GET", "/epcis/queries/{name}/subscriptions/{subscription_id}"): R(MEMBER, "name"),
    ("DELETE", "/epcis/queries/{name}/subscriptions/{subscription_id}"): R(MEMBER, "name"),
    ("GET", "/epcis/readPoints"): R(MEMBER),
    ("GET", "/epcis/readPoints/{value}/events"): R(MEMBER),
    # Suspected fakes reported by consumers: the producer's and its province authority's.
    ("GET", "/api/v1/fake-reports"): R(MEMBER),
    # Recalls: opened by a holder of the lot or an authority; recipients see their part.
    ("POST", "/api/v1/recalls"): R(MEMBER),
    ("GET", "/api/v1/recalls"): R(MEMBER),
    ("GET", "/api/v1/recalls/{recall_id}"): R(MEMBER, "recall_id"),
    ("POST", "/api/v1/recalls/{recall_id}/acknowledge"): R(MEMBER, "recall_id"),
    ("POST", "/api/v1/recalls/{recall_id}/close"): R(MEMBER, "recall_id"),
    # Inspections and violations: authorities and inspectors of the jurisdiction record and
    # verify; the inspected organization reads its own and records the remedy.
    ("POST", "/api/v1/oversight/inspections"): R(DECIDER),
    ("GET", "/api/v1/oversight/inspections"): R(MEMBER),
    ("GET", "/api/v1/oversight/inspections/{inspection_id}"): R(MEMBER, "inspection_id"),
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/photos"): R(MEMBER, "inspection_id"),
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/violations"): R(
        DECIDER, "inspection_id"
    ),
    ("GET", "/api/v1/oversight/violations"): R(MEMBER),
    ("GET", "/api/v1/oversight/violations/{violation_id}"): R(MEMBER, "violation_id"),
    ("POST", "/api/v1/oversight/violations/{violation_id}/remedy"): R(MEMBER, "violation_id"),
    ("POST", "/api/v1/oversight/violations/{violation_id}/verify"): R(DECIDER, "violation_id"),
    # Early-warning alerts: the organization concerned and the authorities over its province
    # read, acknowledge and resolve them; authorities and the platform run the rules.
    ("GET", "/api/v1/oversight/alerts"): R(MEMBER),
    ("POST", "/api/v1/oversight/alerts/run"): R(DECIDER),
    ("GET", "/api/v1/oversight/alerts/{alert_id}"): R(MEMBER, "alert_id"),
    ("POST", "/api/v1/oversight/alerts/{alert_id}/acknowledge"): R(MEMBER, "alert_id"),
    ("POST", "/api/v1/oversight/alerts/{alert_id}/resolve"): R(MEMBER, "alert_id"),
    # The dashboard, its chart tables and the monthly report, of what the caller may read.
    ("GET", "/api/v1/oversight/dashboard"): R(MEMBER),
    ("GET", "/api/v1/oversight/dashboard/charts/{chart}"): R(MEMBER),
    ("GET", "/api/v1/oversight/report"): R(MEMBER),
    # Forecasts and supply risk of the products the caller may read (a hidden GTIN is a 404).
    ("GET", "/api/v1/oversight/forecast"): R(MEMBER),
    ("GET", "/api/v1/oversight/risk"): R(MEMBER),
    # An organization's own webhook log (authorities' jurisdiction does not reach it).
    ("GET", "/api/v1/webhooks/deliveries"): R(MEMBER),
    ("GET", "/api/v1/webhooks/deliveries/{delivery_id}"): R(MEMBER, "delivery_id"),
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/replay"): R(ADMIN, "delivery_id"),
    # Traces and reports cover only the events the caller may see.
    ("GET", "/api/v1/trace/{direction}"): R(MEMBER),
    ("GET", "/api/v1/reports/compliance/{gtin}"): R(MEMBER),
    ("GET", "/api/v1/reports/eudr"): R(MEMBER),
    ("GET", "/api/v1/reports/fsma204"): R(MEMBER),
    ("GET", "/api/v1/reports/one-up-one-down"): R(MEMBER),
    # The transparency log is for everyone to check; witnesses cosign without an account (the
    # checkpoint's signature and the consistency proof are the credentials).
    ("GET", "/ledger/bundle"): R(PUBLIC),
    ("GET", "/ledger/checkpoint"): R(PUBLIC),
    ("GET", "/ledger/proof/consistency"): R(PUBLIC),
    ("GET", "/ledger/proof/inclusion"): R(PUBLIC),
    ("GET", "/ledger/tile/entries/{path}"): R(PUBLIC),
    ("GET", "/ledger/tile/{path}"): R(PUBLIC),
    ("POST", "/ledger/cosign"): R(PUBLIC),
    # Downstream nodes push with an authority key of their province (or the platform's).
    ("POST", "/federation/v1/events"): R(DECIDER),
    ("POST", "/federation/v1/records"): R(DECIDER),
    ("GET", "/federation/v1/status"): R(DECIDER),
}
# Operations of issues still being built join the table as they land.
PENDING_PREFIXES = ("/api/v1/sync", "/federation")

_DOCUMENT = create_app(Settings(database_url="sqlite://", secret_key="authz")).openapi()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in _DOCUMENT["paths"].items()
    for method in operations
)


def test_every_operation_has_a_rule() -> None:
    missing = [
        f"{m} {p}"
        for m, p in OPERATIONS
        if (m, p) not in RULES and not p.startswith(PENDING_PREFIXES)
    ]
    stale = [f"{m} {p}" for m, p in RULES if (m, p) not in OPERATIONS]
    assert not missing, f"add an access rule for: {missing}"
    assert not stale, f"rules for operations that no longer exist: {stale}"


def test_every_protected_operation_declares_its_security() -> None:
    for method, path in OPERATIONS:
        rule = RULES.get((method, path))
        if rule is not None and rule.access != PUBLIC:
            operation = _DOCUMENT["paths"][path][method.lower()]
            assert operation.get("security"), f"{method} {path} documents no security scheme"


def _url(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: values.get(m.group(1), "x"), path)


# Bodies that would be accepted from an authorized caller, so a refusal is the rule's doing
# and not a validation error; `{org_id}` is replaced by the target organization.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/api-keys"): {"org_id": "{org_id}", "role": "org_staff"},
    ("POST", "/api/v1/organizations"): {
        "code": "CTY-MOI",
        "kind": "enterprise",
        "name": "Công ty Mới",
        "province_code": "24",
    },
    ("POST", "/api/v1/organizations/{org_id}/decision"): {"status": "approved"},
    ("POST", "/api/v1/growing-areas/{area_id}/decision"): {"status": "approved"},
    ("POST", "/api/v1/packing-houses/{house_id}/decision"): {"status": "approved"},
    ("POST", "/api/v1/stamp-runs/{run_id}/activate"): {"lot": "L1"},
    ("POST", "/api/v1/stamp-runs/{run_id}/void"): {"reason": "damaged roll"},
    ("POST", "/api/v1/oversight/inspections"): {
        "org_id": "{org_id}",
        "inspected_on": "2026-01-01",
        "result": "compliant",
    },
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/violations"): {
        "rule": "Thông tư 02/2024/TT-BKHCN Điều 5",
        "severity": "minor",
    },
    ("POST", "/api/v1/oversight/violations/{violation_id}/remedy"): {"remedy": "Đã khắc phục"},
    ("POST", "/api/v1/oversight/alerts/{alert_id}/acknowledge"): {"note": "Đang kiểm tra"},
    ("POST", "/api/v1/oversight/alerts/{alert_id}/resolve"): {"note": "Đã xử lý"},
    ("POST", "/api/v1/oversight/violations/{violation_id}/verify"): {"accept": True},
    ("POST", "/epcis/queries/{name}/subscriptions"): {
        "dest": "https://erp.example/hook",
        "signatureToken": "shared-secret",
    },
}
UPLOADS = {
    ("POST", "/api/v1/certifications/{cert_id}/document"): (
        "cert.pdf",
        b"%PDF-1.4\n%%EOF\n",
        "application/pdf",
    ),
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/photos"): (
        "site.png",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "image/png",
    ),
    ("POST", "/api/v1/products/{product_id}/images"): (
        "photo.png",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "image/png",
    ),
}


def _call(
    client: TestClient,
    method: str,
    path: str,
    url: str,
    headers: dict[str, str] | None = None,
    org_id: str = "",
) -> Any:
    if (method, path) in UPLOADS:
        return client.request(
            method, url, files={"file": UPLOADS[(method, path)]}, headers=headers or {}
        )
    body = BODIES.get((method, path), {}) if method in ("POST", "PATCH", "PUT") else None
    content = None if body is None else json.dumps(body).replace("{org_id}", org_id)
    return client.request(
        method,
        url,
        content=content,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


PLACEHOLDERS = {
    "kind": "facilities",
    "value": "x",
    "name": "q",
    "direction": "backward",
    "gtin": "08935001234562",
    "path": "0/000",
}


# One test per store walks every operation (a client per operation would spend most of the
# time starting apps); a failure lists every operation that broke its rule.


def test_anonymous_callers_are_refused_unless_public(client: TestClient) -> None:
    broken = []
    for method, path in sorted(RULES):
        params = re.findall(r"\{(\w+)", path)
        url = _url(path, {k: PLACEHOLDERS.get(k, str(uuid.uuid4())) for k in params})
        response = _call(client, method, path, url)
        if RULES[(method, path)].access == PUBLIC:
            if response.status_code == 401:
                broken.append(f"{method} {path} wants credentials")
        elif response.status_code != 401 or not response.headers["content-type"].startswith(
            "application/problem+json"
        ):
            broken.append(f"{method} {path} answered {response.status_code}")
    assert not broken, broken


def test_staff_cannot_do_what_admins_authorities_or_the_platform_do(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    headers = api_headers(db, org, Role.org_staff)
    broken = []
    for method, path in sorted(
        k for k, r in RULES.items() if r.access in (ADMIN, DECIDER, PLATFORM)
    ):
        url = _url(path, {k: str(org.id) for k in re.findall(r"\{(\w+)", path)})
        response = _call(client, method, path, url, headers, str(org.id))
        if response.status_code not in (403, 404):
            broken.append(f"{method} {path}: {response.status_code}")
    assert not broken, broken


def test_staff_see_no_api_keys(client: TestClient, db: Session) -> None:
    org = make_org(db)
    api_headers(db, org, Role.org_admin)
    staff = api_headers(db, org, Role.org_staff)
    assert client.get("/api/v1/api-keys", headers=staff).json() == []


@pytest.fixture
def strangers_objects(client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Organization A with one object of every kind, and B's admin headers."""
    monkeypatch.setenv(SCHEMA_ENV, str(SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"))
    a, b = make_org(db), make_org(db)
    product = make_product(db, a)
    ids: dict[str, str] = {
        "org_id": str(a.id),
        "facility_id": str(make_facility(db, a).id),
        "product_id": str(product.id),
        "cert_id": str(make_certification(db, a).id),
        "area_id": str(make_growing_area(db, a).id),
        "house_id": str(make_packing_house(db, a).id),
    }
    a_headers = api_headers(db, a)
    db.flush()
    run = client.post(
        "/api/v1/stamp-runs", json={"product_id": ids["product_id"], "count": 3}, headers=a_headers
    )
    assert run.status_code == 201, run.text
    ids["run_id"] = run.json()["id"]
    keys = client.get("/api/v1/api-keys", headers=a_headers).json()
    ids["key_id"] = str((keys["items"] if isinstance(keys, dict) else keys)[0]["id"])
    upload = client.post(
        f"/api/v1/certifications/{ids['cert_id']}/document",
        files={"file": ("cert.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        headers=a_headers,
    )
    assert upload.status_code in (200, 201), upload.text
    ids["file_id"] = str(upload.json()["document_file_id"])
    event_id = f"urn:uuid:{uuid.uuid4()}"
    capture = client.post(
        "/epcis/capture",
        json={
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-23T08:00:00+07:00",
            "epcisBody": {
                "eventList": [
                    {
                        "type": "ObjectEvent",
                        "eventID": event_id,
                        "eventTime": "2026-11-20T08:00:00+07:00",
                        "eventTimeZoneOffset": "+07:00",
                        "epcList": [f"https://id.gs1.org/01/{product.gtin}/21/A1"],
                        "action": "OBSERVE",
                    }
                ]
            },
        },
        headers={**a_headers, "Content-Type": "application/ld+json"},
    )
    assert capture.status_code == 202, capture.text
    ids["capture_id"] = capture.headers["location"].rsplit("/", 1)[-1]
    ids["event_id"] = event_id
    query = client.post("/epcis/queries", json={"name": "a-only", "query": {}}, headers=a_headers)
    assert query.status_code == 201, query.text
    ids["name"] = "a-only"
    recall = client.post(
        "/api/v1/recalls",
        json={"epc": f"https://id.gs1.org/01/{product.gtin}/21/A1", "reason": "test recall"},
        headers=a_headers,
    )
    assert recall.status_code == 201, recall.text
    ids["recall_id"] = recall.json()["id"]
    delivery = webhooks.send(
        db,
        org_id=a.id,
        source="recall",
        source_id=uuid.UUID(ids["recall_id"]),
        url="https://erp.example/hook",
        body=b"{}",
        headers={"Content-Type": "application/json"},
        post=lambda url, body, headers: 200,  # the receiver is outside the machine
    )
    ids["delivery_id"] = str(delivery.delivery.id)
    inspector = api_headers(db, make_authority(db, province_code=a.province_code), Role.inspector)
    inspection = client.post(
        "/api/v1/oversight/inspections",
        json={"org_id": str(a.id), "inspected_on": "2026-11-20", "result": "violations"},
        headers=inspector,
    )
    assert inspection.status_code == 201, inspection.text
    ids["inspection_id"] = inspection.json()["id"]
    violation = client.post(
        f"/api/v1/oversight/inspections/{ids['inspection_id']}/violations",
        json={"rule": "Thông tư 02/2024/TT-BKHCN Điều 5", "severity": "minor"},
        headers=inspector,
    )
    assert violation.status_code == 201, violation.text
    ids["violation_id"] = violation.json()["id"]
    alert = Alert(
        rule="copied_stamp",
        dedup_key=f"{product.gtin}/A1:travel",
        severity=AlertSeverity.critical,
        org_id=a.id,
        province_code=a.province_code,
        title="Copied stamp",
        params={},
        evidence=[],
    )
    db.add(alert)
    db.flush()
    ids["alert_id"] = str(alert.id)
    ids.update({k: v for k, v in PLACEHOLDERS.items() if k not in ids})
    return ids, a_headers, api_headers(db, b)


def test_another_organization_never_reaches_a_strangers_object(
    client: TestClient, strangers_objects: Any
) -> None:
    ids, owner_headers, stranger_headers = strangers_objects
    broken = []
    for method, path in sorted(k for k, r in RULES.items() if r.owned is not None):
        params = re.findall(r"\{(\w+)", path)
        url = _url(path, {k: ids.get(k, str(uuid.uuid4())) for k in params})
        key = "{" + str(RULES[(method, path)].owned) + "}"
        readers = [p for (m, p) in RULES if m == "GET" and p.endswith(key) and "/files/" not in p]
        owned = _url(readers[0] if readers else path, ids)
        before = client.get(owned, headers=owner_headers)
        response = _call(client, method, path, url, stranger_headers, ids["org_id"])
        if response.status_code not in (403, 404):
            broken.append(f"{method} {path} let a stranger in: {response.status_code}")
        after = client.get(owned, headers=owner_headers)
        if (after.status_code, after.content) != (before.status_code, before.content):
            broken.append(f"{method} {path} changed a stranger's object")
    assert not broken, broken
