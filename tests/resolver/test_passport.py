"""The passport over HTTP on both stores: content in vi/en/zh, journey, map, certificates,
JSON-LD, recall banner, and the shop widget's framing rules and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.resolver import chain as lychee
from truyxuat.config import Settings

HTML = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "vi-VN,vi;q=0.9"}


@pytest.fixture
def chain(db: Session, settings: Settings) -> lychee.Chain:
    return lychee.build(db, settings)


def json_ld(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_lot_passport_in_vietnamese(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(f"/01/{chain.gtin}/10/{lychee.LOT}?17=270630", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-language"] == "vi"
    html = response.text
    assert len(response.content) < 100_000
    assert "htmx" not in html
    assert "Vải thiều Lục Ngạn" in html and "Hành trình" in html
    steps = re.findall(r'data-step="([^"]+)"', html)
    assert steps == ["spraying", "harvest", "packing", "shipping", "receiving"]
    assert "Cửa hàng Xanh Cầu Giấy" in html
    assert chain.area_code in html and "<svg" in html and 'class="pp-map-shape"' in html
    assert 'data-status="valid"' in html and "VG-24-0001" in html
    assert 'data-status="expired"' in html and "GG-2023-77" in html
    assert "★★★★☆" in html
    assert "30/06/2027" in html  # the AI 17 expiry date from the query string
    link = response.headers["link"]
    assert 'rel="https://ref.gs1.org/voc/traceability"' in link
    data = json_ld(html)
    assert "Product" in data["@type"] and data["gtin"] == chain.gtin
    assert data["@context"]["gs1"] == "https://ref.gs1.org/voc/"
    assert data["gs1:hasBatchLotNumber"] == lychee.LOT
    assert {c["gs1:certificationStatus"] for c in data["gs1:certification"]} == {
        "valid",
        "expired",
    }


@pytest.mark.parametrize(
    ("language", "name", "journey"),
    [("en", "Luc Ngan lychee", "Journey"), ("zh", "陆岸荔枝", "流通历程")],
)
def test_passport_follows_accept_language(
    client: TestClient, chain: lychee.Chain, language: str, name: str, journey: str
) -> None:
    response = client.get(
        f"/01/{chain.gtin}/10/{lychee.LOT}",
        headers={"Accept": "text/html", "Accept-Language": f"{language},vi;q=0.5"},
    )
    assert response.status_code == 200
    assert response.headers["content-language"] == language
    assert name in response.text and journey in response.text
    # The switch offers the other languages.
    assert 'hreflang="vi"' in response.text


def test_serialized_item_counts_its_scans(client: TestClient, chain: lychee.Chain) -> None:
    path = f"/01/{chain.gtin}/21/{chain.activated[0]}"
    first = client.get(path, headers=HTML)
    assert first.status_code == 200
    assert "data-warning=" not in first.text
    assert "Chưa từng được quét" not in first.text  # this scan itself counts
    second = client.get(path, headers=HTML).text
    assert re.search(r'data-fact="scans">2 lần', second)
    assert 'data-fact="exists">Có' in second
    assert "data-step" in second  # the stamp's lot gives the journey


def test_items_of_a_lot_share_its_page_but_not_their_holes(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    """The lot's page is rendered once and kept; each item fills its own holes."""
    first, second = chain.activated
    pages = {
        serial: client.get(f"/01/{chain.gtin}/21/{serial}", headers=HTML).text
        for serial in (first, second, first)
    }
    again = client.get(f"/01/{chain.gtin}/21/{first}", headers=HTML).text
    for serial, other in ((first, second), (second, first)):
        html = pages[serial]
        assert f'<dd class="pp-code">{serial}</dd>' in html and other not in html
        assert f'name="serial" value="{serial}"' in html
        data = json_ld(html)
        assert data["serialNumber"] == serial and data["@id"].endswith(f"/21/{serial}")
        assert data["gs1:hasBatchLotNumber"] == lychee.LOT and data["gtin"] == chain.gtin
    assert re.search(r'data-fact="scans">3 lần', again)
    # Each visit names its own scan, for the place it may share and the report it may send.
    ids = [re.findall(r'name="scan_id" value="([^"]+)"', html) for html in (pages[first], again)]
    assert ids[0] and ids[1] and ids[0] != ids[1]
    assert 'data-scan="' + ids[1][0] + '"' in again

    def lot_part(html: str) -> str:
        return html[
            html.index('<section class="pp-card pp-hero">') : html.index('id="authenticity"')
        ]

    assert lot_part(pages[second]).replace(second, first) == lot_part(pages[first])
    assert 'id="pin-form"' in pages[first]  # anti-counterfeit stamps: each its own PIN form
    # A never-issued serial of the same lot fills the same page with its warning, no PIN form.
    unknown = client.get(f"/01/{chain.gtin}/10/{lychee.LOT}/21/NEVERISSUED2", headers=HTML)
    assert 'data-warning="never_issued"' in unknown.text and 'id="pin-form"' not in unknown.text
    assert lot_part(unknown.text).replace("NEVERISSUED2", first) == lot_part(pages[first])


def test_never_issued_serial_warns_with_404(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(f"/01/{chain.gtin}/21/NEVERISSUED1", headers=HTML)
    assert response.status_code == 404
    assert 'data-warning="never_issued"' in response.text


@pytest.mark.parametrize(
    ("which", "warning"), [("voided", "voided"), ("unactivated", "not_activated")]
)
def test_voided_and_unactivated_stamps_warn(
    client: TestClient, chain: lychee.Chain, which: str, warning: str
) -> None:
    serial = getattr(chain, which)
    response = client.get(f"/01/{chain.gtin}/21/{serial}", headers=HTML)
    assert response.status_code == 200
    assert f'data-warning="{warning}"' in response.text


def test_recalled_lot_shows_the_banner(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    lychee.recall(db, chain)
    db.flush()
    response = client.get(f"/01/{chain.gtin}/21/{chain.activated[0]}", headers=HTML)
    assert 'id="recall"' in response.text and 'data-warning="recalled"' in response.text
    assert "Dư lượng thuốc bảo vệ thực vật" in response.text
    other = client.get(f"/01/{chain.other_gtin}", headers=HTML)
    assert 'id="recall"' not in other.text
    widget = client.get(f"/embed/01/{chain.gtin}/10/{lychee.LOT}?format=json").json()
    assert widget["recall"]["severity"] == "class_ii"


def test_product_without_events_says_so(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(
        f"/01/{chain.other_gtin}", headers={"Accept": "text/html", "Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert "No journey has been recorded" in response.text


def test_embed_may_be_framed_but_the_passport_may_not(
    client: TestClient, chain: lychee.Chain
) -> None:
    widget = client.get(f"/embed/01/{chain.gtin}/10/{lychee.LOT}", headers=HTML)
    assert widget.status_code == 200
    assert "frame-ancestors *" in widget.headers["content-security-policy"]
    assert "x-frame-options" not in widget.headers
    assert "Vải thiều Lục Ngạn" in widget.text and "data-step" in widget.text
    page = client.get(f"/01/{chain.gtin}/10/{lychee.LOT}", headers=HTML)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_embed_json(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(
        f"/embed/01/{chain.gtin}/10/{lychee.LOT}?format=json", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["name"] == "Luc Ngan lychee" and body["lot"] == lychee.LOT
    assert [s["step"] for s in body["journey"]][-1] == "receiving"
    assert {c["status"] for c in body["certificates"]} == {"valid", "expired"}
    assert body["recall"] is None
    assert body["passport"].endswith(f"/01/{chain.gtin}/10/{lychee.LOT}")


def test_passport_weighs_under_100_kb_before_images(
    client: TestClient, chain: lychee.Chain
) -> None:
    page = client.get(f"/01/{chain.gtin}/21/{chain.activated[0]}", headers=HTML)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert "/static/htmx.min.js" not in assets
    total = len(page.content) + sum(len(client.get(a).content) for a in set(assets))
    assert total < 100_000, total


def test_every_passport_message_has_chinese() -> None:
    from babel.messages.extract import extract_from_dir

    from truyxuat.resolver.languages import zh_messages

    root = Path(__file__).resolve().parents[2] / "truyxuat"
    found = {
        m if isinstance(m, str) else m[0]
        for folder in ("resolver", "ledger")
        for _f, _l, m, _c, _x in extract_from_dir(
            str(root / folder),
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        )
        if folder == "resolver" or _f.endswith("_badge.html")
    }
    missing = sorted(found - set(zh_messages()))
    assert not missing, missing


def test_events_naming_the_lot_by_epc_urn_join_the_journey(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    import uuid
    from datetime import UTC, datetime, timedelta

    from truyxuat.epcis import service as epcis_service
    from truyxuat.epcis.epc_format import to_epc_urn

    lot_urn = to_epc_urn(
        f"https://id.gs1.org/01/{chain.gtin}/10/{lychee.LOT}",
        [chain.producer.gs1_company_prefix or ""],
    )
    assert lot_urn.startswith("urn:epc:class:lgtin:")
    selling = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "ObjectEvent",
        "eventTime": (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat(),
        "eventTimeZoneOffset": "+07:00",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "epcList": [],
        "action": "OBSERVE",
        "bizStep": "retail_selling",
        "disposition": "retail_sold",
        "quantityList": [{"epcClass": lot_urn, "quantity": 2, "uom": "KGM"}],
    }
    epcis_service.capture_event(
        db, lychee.admin(chain.retailer), event=selling, validator=lychee.validator()
    )
    db.flush()
    html = client.get(f"/01/{chain.gtin}/10/{lychee.LOT}", headers=HTML).text
    assert re.findall(r'data-step="([^"]+)"', html)[-1] == "retail_selling"
