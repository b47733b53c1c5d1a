"""Stamp API over HTTP on both stores: runs, tenant isolation, ranges and the public PIN check."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org, make_product
from truyxuat.auth.models import Role
from truyxuat.stamps import pins
from truyxuat.stamps.models import Stamp, StampRun

PROBLEM = "application/problem+json"


def _issue(client: TestClient, headers: dict[str, str], gtin: str, **body: object) -> dict:
    response = client.post(
        "/api/v1/stamp-runs", json={"gtin": gtin, "count": 4, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_issue_list_get_and_page_stamps_with_digital_links(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    product = make_product(db, org)
    run = _issue(client, headers, product.gtin, lot="L1")
    assert run["state"] == "generated" and run["pins"] is None and run["count"] == 4
    listed = client.get("/api/v1/stamp-runs", headers=headers).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]] and listed["total"] == 1
    assert client.get(f"/api/v1/stamp-runs/{run['id']}", headers=headers).json()["id"] == run["id"]
    page = client.get(f"/api/v1/stamp-runs/{run['id']}/stamps?limit=3", headers=headers).json()
    assert page["total"] == 4 and [s["seq"] for s in page["items"]] == [1, 2, 3]
    first = page["items"][0]
    assert first["uri"].endswith(f"/01/{product.gtin}/10/L1/21/{first['serial']}")


def test_issue_refuses_bad_input_with_problem_json(client: TestClient, db: Session) -> None:
    org, other = make_org(db), make_org(db)
    headers = api_headers(db, org)
    mine, theirs = make_product(db, org), make_product(db, other)
    cases = [
        {"gtin": "8930000000019", "count": 1},
        {"gtin": theirs.gtin, "count": 1},
        {"product_id": str(theirs.id), "count": 1},
        {"gtin": mine.gtin, "count": 0},
        {"gtin": mine.gtin, "count": 1_000_001},
        {"gtin": mine.gtin, "count": 1, "kind": "sticker"},
    ]
    for body in cases:
        response = client.post("/api/v1/stamp-runs", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
    assert db.scalar(select(func.count()).select_from(StampRun)) == 0
    assert (
        client.post("/api/v1/stamp-runs", json={"gtin": mine.gtin, "count": 1}).status_code == 401
    )


def test_every_run_endpoint_hides_other_organizations_runs(client: TestClient, db: Session) -> None:
    org = make_org(db)
    run = _issue(client, api_headers(db, org), make_product(db, org).gtin)
    stranger = api_headers(db, make_org(db))
    base = f"/api/v1/stamp-runs/{run['id']}"
    assert client.get("/api/v1/stamp-runs", headers=stranger).json()["total"] == 0
    for method, path, body in [
        ("get", base, None),
        ("get", f"{base}/stamps", None),
        ("post", f"{base}/printed", None),
        ("post", f"{base}/activate", {"lot": "L1"}),
        ("post", f"{base}/void", {"reason": "x"}),
    ]:
        response = client.request(method, path, json=body, headers=stranger)
        assert response.status_code == 404, path


def test_authority_sees_its_province_runs_read_only(client: TestClient, db: Session) -> None:
    org = make_org(db, province_code="24")
    run = _issue(client, api_headers(db, org), make_product(db, org).gtin)
    local = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    distant = api_headers(db, make_authority(db, province_code="22"), Role.authority)
    assert client.get("/api/v1/stamp-runs", headers=local).json()["total"] == 1
    assert client.get(f"/api/v1/stamp-runs/{run['id']}", headers=local).status_code == 200
    assert client.get(f"/api/v1/stamp-runs/{run['id']}", headers=distant).status_code == 404
    activate = client.post(
        f"/api/v1/stamp-runs/{run['id']}/activate", json={"lot": "L"}, headers=local
    )
    assert activate.status_code == 403


def test_activate_range_void_and_state_conflicts(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    run = _issue(client, headers, make_product(db, org).gtin)
    base = f"/api/v1/stamp-runs/{run['id']}"
    serials = [s["serial"] for s in client.get(f"{base}/stamps", headers=headers).json()["items"]]
    bad = client.post(
        f"{base}/activate",
        json={"lot": "L1", "from_serial": serials[0], "to_serial": "ZZZ"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to_serial"
    ok = client.post(
        f"{base}/activate",
        json={"lot": "L1", "from_serial": serials[0], "to_serial": serials[1]},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["changed"] == 2
    assert ok.json()["run"]["state"] == "activated"
    again = client.post(f"{base}/activate", json={"lot": "L1"}, headers=headers)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    voided = client.post(f"{base}/void", json={"reason": "thu hồi"}, headers=headers)
    assert voided.status_code == 200 and voided.json()["run"]["state"] == "voided"
    assert client.post(f"{base}/printed", headers=headers).status_code == 409
    assert db.scalar(select(func.count()).where(Stamp.run_id == StampRun.id)) == 4


def test_verify_is_public_and_locks_after_five_wrong_pins(client: TestClient, db: Session) -> None:
    org = make_org(db)
    run = _issue(
        client, api_headers(db, org), make_product(db, org).gtin, count=2, kind="anticounterfeit"
    )
    (first, second) = run["pins"]
    uri = client.get(f"/api/v1/stamp-runs/{run['id']}/stamps", headers=api_headers(db, org)).json()[
        "items"
    ]
    by_serial = {s["serial"]: s["uri"] for s in uri}
    ok = client.post(
        "/api/v1/stamps/verify", json={"uri": by_serial[first["serial"]], "pin": first["pin"]}
    )
    assert ok.status_code == 200 and ok.json()["genuine"] is True
    wrong = f"{(int(first['pin']) + 1) % 10**8:08d}"
    for left in (4, 3, 2, 1, 0):
        response = client.post(
            "/api/v1/stamps/verify", json={"uri": by_serial[first["serial"]], "pin": wrong}
        )
        assert response.json() == {**response.json(), "result": "wrong_pin", "attempts_left": left}
    locked = client.post(
        "/api/v1/stamps/verify", json={"uri": by_serial[first["serial"]], "pin": first["pin"]}
    )
    assert locked.status_code == 429 and locked.headers["content-type"] == PROBLEM
    # The same client has spent its five wrong guesses for the hour: refused on any stamp.
    limited = client.post(
        "/api/v1/stamps/verify",
        json={"gtin": run["gtin"], "serial": second["serial"], "pin": second["pin"]},
    )
    assert limited.status_code == 429


def test_verify_reports_unknown_stamps_and_needs_a_code(client: TestClient, db: Session) -> None:
    org = make_org(db)
    gtin = make_product(db, org).gtin
    unknown = client.post(
        "/api/v1/stamps/verify", json={"gtin": gtin, "serial": "NOPE", "pin": "1"}
    )
    assert unknown.status_code == 200 and unknown.json()["result"] == "unknown"
    assert client.post("/api/v1/stamps/verify", json={"pin": "1"}).status_code == 422


def test_stamps_carry_a_short_code_signed_by_the_published_key(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    run = _issue(client, headers, make_product(db, org).gtin, count=2)
    key = client.get("/api/v1/stamps/public-key").json()
    assert key["algorithm"] == "Ed25519"
    raw = base64.urlsafe_b64decode(key["public_key"] + "=" * (-len(key["public_key"]) % 4))
    stamps = client.get(f"/api/v1/stamp-runs/{run['id']}/stamps", headers=headers).json()["items"]
    for stamp in stamps:
        assert pins.verify_stamp(raw, run["gtin"], stamp["serial"], stamp["signature"])
    assert not pins.verify_stamp(raw, run["gtin"], stamps[0]["serial"], stamps[1]["signature"])
