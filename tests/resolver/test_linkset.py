"""Digital Link resolution over HTTP on both stores: GS1 syntax, linksets (RFC 9264 and the
GS1 model linkset), link-type redirects, the resolver description, CORS."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.resolver import chain as lychee
from truyxuat.config import Settings

MODEL = json.loads((SHARED_DATA / "resolver" / "modelLinkset.json").read_text())
LINKSET = "application/linkset+json"


@pytest.fixture
def chain(db: Session, settings: Settings) -> lychee.Chain:
    return lychee.build(db, settings)


def check_rfc9264(body: dict[str, Any]) -> None:
    """RFC 9264 section 4.2: {"linkset": [context objects]}; each has an anchor and relation
    members whose values are arrays of target objects with an href (and optional strings)."""
    assert set(body) <= {"linkset", "@context"}
    assert isinstance(body["linkset"], list) and body["linkset"]
    for context in body["linkset"]:
        assert isinstance(context["anchor"], str) and context["anchor"].startswith("https://")
        for rel, targets in context.items():
            if rel in ("anchor", "itemDescription"):
                continue
            assert rel.startswith("https://ref.gs1.org/voc/"), rel
            assert isinstance(targets, list) and targets
            for target in targets:
                assert isinstance(target["href"], str) and target["href"]
                assert isinstance(target["title"], str) and target["title"]
                for name, value in target.items():
                    # RFC 9264 4.2.4: hreflang and extension attributes are arrays of strings.
                    if name in ("href", "type", "title"):
                        assert isinstance(value, str), name
                    else:
                        assert isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_like_model(body: dict[str, Any]) -> None:
    """The same member names and value shapes as GS1's model linkset."""
    model_context = MODEL["linkset"][0]
    model_target_keys = {
        k
        for targets in model_context.values()
        if isinstance(targets, list)
        for t in targets
        for k in t
    }
    for context in body["linkset"]:
        assert set(context) & {"anchor", "itemDescription"} == {"anchor", "itemDescription"}
        for rel, targets in context.items():
            if isinstance(targets, list):
                assert rel.startswith("https://ref.gs1.org/voc/")
                for target in targets:
                    assert set(target) <= model_target_keys


def test_the_model_linkset_passes_our_own_shape_checks() -> None:
    check_rfc9264(MODEL)


def test_linkset_of_a_serialized_item_lists_every_level(
    client: TestClient, chain: lychee.Chain
) -> None:
    serial = chain.activated[0]
    path = f"/01/{chain.gtin}/10/{lychee.LOT}/21/{serial}"
    response = client.get(path, headers={"Accept": LINKSET})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(LINKSET)
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    check_rfc9264(body)
    check_like_model(body)
    anchors = [c["anchor"] for c in body["linkset"]]
    assert anchors == [
        f"https://id.gs1.org/01/{chain.gtin}/10/{lychee.LOT}/21/{serial}",
        f"https://id.gs1.org/01/{chain.gtin}/10/{lychee.LOT}",
        f"https://id.gs1.org/01/{chain.gtin}",
    ]
    item = body["linkset"][0]
    for term in (
        "pip",
        "traceability",
        "epcis",
        "certificationInfo",
        "recallStatus",
        "defaultLink",
        "verificationService",
    ):
        assert f"https://ref.gs1.org/voc/{term}" in item, term
    assert "https://ref.gs1.org/voc/masterData" in body["linkset"][2]
    epcis = item["https://ref.gs1.org/voc/epcis"][0]["href"]
    assert "MATCH_anyEPC=" in epcis and quote(anchors[0], safe="") in epcis
    # ?linkType=all gives the same linkset to a client that cannot set Accept.
    assert client.get(path + "?linkType=all").json() == body


def test_json_ld_linkset_has_a_context(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(f"/01/{chain.gtin}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "@context" in response.json()


def test_short_gtins_are_padded_and_trailing_slashes_tolerated(
    client: TestClient, chain: lychee.Chain
) -> None:
    gtin13 = chain.gtin[1:]
    response = client.get(f"/01/{gtin13}/10/{lychee.LOT}/?linkType=all")
    assert response.status_code == 200
    assert response.json()["linkset"][0]["anchor"] == (
        f"https://id.gs1.org/01/{chain.gtin}/10/{lychee.LOT}"
    )


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/01/08935001234560", "gtin"),  # wrong check digit
        ("/01/0893500123456", "gtin"),  # 13 digits, wrong check digit
        ("/01/12345", "gtin"),
        ("/01/089350012345AB", "gtin"),
        ("/01/{gtin}/10/" + "L" * 21, "lot"),
        ("/01/{gtin}/99/X", "99"),
        ("/01/{gtin}/21/S1/10/L1", "path"),
    ],
)
def test_syntax_errors_are_400_problems(
    client: TestClient, chain: lychee.Chain, path: str, field: str
) -> None:
    response = client.get(path.format(gtin=chain.gtin), headers={"Accept": LINKSET})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/invalid-digital-link"
    assert problem["errors"][0]["field"] == field


def test_syntax_errors_read_as_a_page_in_a_browser(client: TestClient) -> None:
    response = client.get("/01/08935001234560", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]


def test_unknown_gtin_is_404(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get("/01/08930000000002", headers={"Accept": LINKSET})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_link_type_redirects_pass_the_query_on(client: TestClient, chain: lychee.Chain) -> None:
    path = f"/01/{chain.gtin}/10/{lychee.LOT}"
    response = client.get(path + "?linkType=gs1:epcis&17=261231", follow_redirects=False)
    assert response.status_code == 307
    location = response.headers["location"]
    assert "/epcis/events?MATCH_anyEPCClass=" in location and location.endswith("&17=261231")
    # The full list of links travels in the Link header of the redirect.
    link = response.headers["link"]
    assert 'rel="https://ref.gs1.org/voc/pip"' in link and 'rel="linkset"' in link
    full = client.get(
        path + "?linkType=https://ref.gs1.org/voc/recallStatus", follow_redirects=False
    )
    assert full.status_code == 307 and "/embed/01/" in full.headers["location"]


def test_the_epcis_redirect_leads_to_the_lots_events(
    client: TestClient, db: Session, chain: lychee.Chain
) -> None:
    from tests.factories import api_headers

    response = client.get(
        f"/01/{chain.gtin}/10/{lychee.LOT}?linkType=gs1:epcis", follow_redirects=False
    )
    target = response.headers["location"].split("/epcis/", 1)[1]
    events = client.get("/epcis/" + target, headers=api_headers(db, chain.producer))
    assert events.status_code == 200
    steps = [
        e["bizStep"] for e in events.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    ]
    assert "shipping" in " ".join(steps)


def test_bad_date_qualifier_is_400(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(f"/01/{chain.gtin}?17=261340", headers={"Accept": LINKSET})
    assert response.status_code == 400


def test_head_and_options_and_description(client: TestClient, chain: lychee.Chain) -> None:
    head = client.head(f"/01/{chain.gtin}", headers={"Accept": "text/html"})
    assert head.status_code == 200 and 'rel="linkset"' in head.headers["link"]
    options = client.options(f"/01/{chain.gtin}")
    assert options.status_code == 204
    assert "GET" in options.headers["access-control-allow-methods"]
    description = client.get("/.well-known/gs1resolver")
    assert description.status_code == 200
    body = description.json()
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"][0]["namespace"] == "https://ref.gs1.org/voc/"
    assert "gs1:epcis" in body["linkTypes"]


# Vectors of GS1's compression prototype (GTIN 05412345000013, lot ABC123, serial 72292641703).
COMPRESSED = {
    "/AQnYUc1gmg": "https://id.gs1.org/01/05412345000013",
    "/AQnYUc1gmiCNV4JG": "https://id.gs1.org/01/05412345000013/10/ABC123",
    "/AQnYUc1gmiCNV4JGQhcNT6K6c": "https://id.gs1.org/01/05412345000013/10/ABC123/21/72292641703",
    "/AQnYUc1gmkIXDU-iun": "https://id.gs1.org/01/05412345000013/21/72292641703",
    "/01/05412345000013/EEarwSM": "https://id.gs1.org/01/05412345000013/10/ABC123",
    "/01/5412345000013/EEarwSMhC4an0V04": (
        "https://id.gs1.org/01/05412345000013/10/ABC123/21/72292641703"
    ),
}


@pytest.mark.parametrize(("path", "uncompressed"), list(COMPRESSED.items()))
def test_compressed_links_resolve_in_place(
    client: TestClient, db: Session, path: str, uncompressed: str
) -> None:
    from tests.factories import make_org, make_product

    make_product(db, make_org(db), gtin="05412345000013", names={"vi": "Hàng mẫu GS1"})
    db.flush()
    response = client.get(path, headers={"Accept": LINKSET})
    assert response.status_code == 200
    assert f'<{uncompressed}>; rel="owl:sameAs"' in response.headers["link"]
    assert response.json()["linkset"][0]["anchor"] == uncompressed
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code in (200, 404)  # 404: the sample serial was never issued here
    assert "Hàng mẫu GS1" in page.text


def test_unreadable_compressed_links_are_400(client: TestClient, chain: lychee.Chain) -> None:
    response = client.get(f"/01/{chain.gtin}/ZZZZZZZZ", headers={"Accept": LINKSET})
    assert response.status_code == 400
    # An unsupported AI inside the compressed part (here AI 253) is refused too.
    refused = client.get("/01/05412345000013/I1j3FSNWcOGeFywaR5CZm", headers={"Accept": LINKSET})
    assert refused.status_code == 400
