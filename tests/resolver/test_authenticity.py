"""Authenticity on both stores: copied-stamp signs from consented scan places, scratch-off PIN
checks (first, again, wrong, rate-limited), reports of fakes for producer and authority, and
a photo of a stamp decoded with zxing-cpp."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org
from tests.resolver import chain as lychee
from truyxuat.auth.models import Role
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.resolver.models import FakeReport, PinVerification, Scan

HTML = {"Accept": "text/html", "Accept-Language": "en"}
HANOI = {"latitude": 21.0285, "longitude": 105.8542}
SAIGON = {"latitude": 10.7769, "longitude": 106.7009}


@pytest.fixture
def chain(db: Session, settings: Settings) -> lychee.Chain:
    return lychee.build(db, settings)


def scan_id(html: str) -> str:
    match = re.search(r'data-scan="([0-9a-f-]+)"', html)
    assert match
    return match.group(1)


def test_scans_far_apart_warn_of_a_copied_stamp(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    path = f"/01/{chain.gtin}/21/{chain.activated[0]}"
    first = scan_id(client.get(path, headers=HTML).text)
    answer = client.post(f"/passport/scans/{first}/place", json=HANOI)
    assert answer.status_code == 200
    assert answer.json() == {"latitude": 21.0, "longitude": 105.9, "warnings": []}
    # The place is kept coarse, never the precise position.
    stored = db.scalar(select(Scan).where(Scan.id == uuid.UUID(first)))
    assert stored is not None and (stored.latitude, stored.longitude) == (21.0, 105.9)
    second = scan_id(client.get(path, headers=HTML).text)
    warnings = client.post(
        f"/passport/scans/{second}/place", json=SAIGON, headers={"Accept-Language": "en"}
    ).json()["warnings"]
    assert [w["kind"] for w in warnings] == ["far_apart"]
    assert "km apart" in warnings[0]["message"]
    # A third scan shows the warning on the page itself.
    assert 'data-warning="far_apart"' in client.get(path, headers=HTML).text
    # A place is given once, and only to a recent scan.
    client.post(f"/passport/scans/{first}/place", json=SAIGON)
    db.refresh(stored)
    assert stored.latitude == 21.0
    db.execute(
        update(Scan)
        .where(Scan.id == uuid.UUID(second))
        .values(scanned_at=utcnow() - timedelta(hours=2))
    )
    late = client.post(f"/passport/scans/{second}/place", json=HANOI)
    assert late.status_code == 422


def test_a_serial_scanned_long_ago_warns(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    path = f"/01/{chain.gtin}/21/{chain.activated[1]}"
    old = scan_id(client.get(path, headers=HTML).text)
    db.execute(
        update(Scan)
        .where(Scan.id == uuid.UUID(old))
        .values(scanned_at=utcnow() - timedelta(days=200))
    )
    assert 'data-warning="long_ago"' in client.get(path, headers=HTML).text


def _pin(client: TestClient, chain: lychee.Chain, serial: str, pin: str) -> tuple[int, str]:
    response = client.post(
        "/passport/pin",
        data={"gtin": chain.gtin, "serial": serial, "pin": pin},
        headers={"Accept-Language": "en"},
    )
    match = re.search(r'data-outcome="(\w+)"', response.text)
    assert match, response.text[:500]
    return response.status_code, match.group(1)


def test_pin_first_then_already_verified(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    serial = chain.activated[0]
    page = client.get(f"/01/{chain.gtin}/21/{serial}", headers=HTML).text
    assert 'id="pin-form"' in page
    assert _pin(client, chain, serial, chain.pins[serial]) == (200, "first")
    status, outcome = _pin(client, chain, serial, chain.pins[serial])
    assert (status, outcome) == (200, "again")
    seen = db.scalar(select(PinVerification).where(PinVerification.serial == serial))
    assert seen is not None and seen.count == 2


def test_wrong_pins_are_limited(client: TestClient, chain: lychee.Chain) -> None:
    serial = chain.activated[1]
    right = chain.pins[serial]
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    outcomes = [_pin(client, chain, serial, wrong) for _ in range(5)]
    assert outcomes[0] == (200, "wrong")
    assert all(o == (200, "wrong") for o in outcomes)
    # The client has spent its hourly allowance: even the right PIN is refused for now.
    assert _pin(client, chain, serial, right) == (429, "limited")


def test_voided_stamp_pin_is_not_genuine(client: TestClient, chain: lychee.Chain) -> None:
    serial = chain.voided
    assert _pin(client, chain, serial, chain.pins[serial]) == (200, "voided")


def test_report_reaches_producer_and_authority_only(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    path = f"/01/{chain.gtin}/21/{chain.activated[0]}"
    scan = scan_id(client.get(path, headers=HTML).text)
    empty = client.post(
        "/passport/report", data={"gtin": chain.gtin, "serial": chain.activated[0]}, headers=HTML
    )
    assert empty.status_code == 422 and "Tell us what looks wrong" in empty.text
    sent = client.post(
        "/passport/report",
        data={
            "gtin": chain.gtin,
            "serial": chain.activated[0],
            "reasons": ["packaging", "price"],
            "where_bought": "Chợ Long Biên",
            "message": "Tem mờ, giá rẻ bất thường",
            "scan_id": scan,
        },
        headers=HTML,
    )
    assert sent.status_code == 200 and 'id="report-sent"' in sent.text
    report = db.scalar(select(FakeReport))
    assert report is not None and report.org_id == chain.producer.id
    assert report.reasons == "packaging,price" and report.lot == lychee.LOT
    assert str(report.scan_id) == scan
    for org, sees in (
        (chain.producer, True),
        (chain.authority, True),
        (make_authority(db, province_code="96"), False),
        (make_org(db), False),
    ):
        role = Role.authority if org.kind.value == "authority" else Role.org_admin
        page = client.get("/resolver/reports", headers=api_headers(db, org, role))
        assert page.status_code == 200
        assert ("Chợ Long Biên" in page.text) is sees, org.name
    listed = client.get("/api/v1/fake-reports", headers=api_headers(db, chain.producer)).json()
    assert [(r["where_bought"], r["reasons"]) for r in listed] == [
        ("Chợ Long Biên", ["packaging", "price"])
    ]
    stranger = api_headers(db, make_org(db))
    assert client.get("/api/v1/fake-reports", headers=stranger).json() == []
    assert client.get("/api/v1/fake-reports").status_code == 401
    anonymous = client.get("/resolver/reports", follow_redirects=False)
    assert anonymous.status_code in (303, 401) and "Chợ Long Biên" not in anonymous.text


def _qr_png(text: str) -> bytes:
    matrix = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    image = Image.fromarray(zxingcpp.write_barcode_to_image(matrix, scale=8))  # type: ignore[attr-defined]
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_photo_of_a_stamp_opens_its_passport(client: TestClient, chain: lychee.Chain) -> None:
    serial = chain.activated[0]
    uri = f"https://tem.example.vn/01/{chain.gtin}/10/{lychee.LOT}/21/{serial}"
    response = client.post(
        "/passport/photo",
        files={"photo": ("tem.jpg", _qr_png(uri), "image/jpeg")},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/01/{chain.gtin}/10/{lychee.LOT}/21/{serial}")
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    refused = client.post(
        "/passport/photo", files={"photo": ("x.png", blank.getvalue(), "image/png")}, headers=HTML
    )
    assert refused.status_code == 422 and 'id="photo-error"' in refused.text
    junk = client.post(
        "/passport/photo", files={"photo": ("x.png", b"not an image", "image/png")}, headers=HTML
    )
    assert junk.status_code == 422


def test_forms_sent_from_another_site_are_refused(client: TestClient, chain: lychee.Chain) -> None:
    serial = chain.activated[0]
    response = client.post(
        "/passport/pin",
        data={"gtin": chain.gtin, "serial": serial, "pin": "00000000"},
        headers={"Sec-Fetch-Site": "cross-site", "Accept": "text/html"},
    )
    assert response.status_code == 403
    # The refused guess was not counted: the right PIN is still a first verification.
    assert _pin(client, chain, serial, chain.pins[serial]) == (200, "first")
