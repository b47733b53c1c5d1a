"""Trace over HTTP: the API (problem+json on bad input) and the page drawing the graph."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_user
from tests.trace.chain import build_chain
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.epcis.epc_format import to_epc_urn

PROBLEM = "application/problem+json"


def test_api_backward_and_forward(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    authority = make_authority(db, province_code=None)
    headers = api_headers(db, authority, Role.authority)
    response = client.get(
        f"/api/v1/trace/backward?epc={quote(to_epc_urn(chain.s1))}", headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["start"] == chain.s1 and body["truncated"] is False
    kinds = {n["id"]: n["kind"] for n in body["nodes"]}
    assert {i for i, k in kinds.items() if k in ("lot", "sscc")} == {
        chain.s1,
        chain.p1,
        chain.h1,
        chain.h2,
    }
    assert {n["data"]["code"] for n in body["nodes"] if n["kind"] == "growing_area"} == {
        chain.area_small.code,
        chain.area_large.code,
    }
    assert any(e["relation"] == "transformation" for e in body["edges"])
    forward = client.get(
        f"/api/v1/trace/forward?epc={quote(chain.h2)}&depth=5", headers=headers
    ).json()
    assert chain.importer.name in {n["label"] for n in forward["nodes"]}


def test_api_tenancy_and_problems(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    packer = api_headers(db, chain.packer)
    body = client.get(f"/api/v1/trace/backward?epc={quote(chain.s1)}", headers=packer).json()
    # The packer sees its own events (harvest lots as inputs) but not the farm's harvests.
    assert "growing_area" not in {n["kind"] for n in body["nodes"]}
    bad = client.get("/api/v1/trace/backward?epc=not-a-lot", headers=packer)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    deep = client.get(f"/api/v1/trace/backward?epc={quote(chain.s1)}&depth=999", headers=packer)
    assert deep.status_code == 422 and deep.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"/api/v1/trace/backward?epc={quote(chain.s1)}").status_code == 401


def test_page_draws_the_graph(client: TestClient, db: Session) -> None:
    chain = build_chain(db)
    browser = Browser(client, db).login(make_user(db, chain.packer, Role.org_admin), "en")
    response = browser.get(f"/trace?epc={quote(chain.s1)}&direction=backward")
    assert response.status_code == 200
    assert 'id="trace-svg"' in response.text
    assert f'data-id="{chain.p1}"' in response.text
    links = re.findall(r'href="(/api/v1/reports/[^"]+)"', response.text)
    assert len(links) == 3
    for link in links:
        download = browser.get(link.replace("&amp;", "&"))
        assert download.status_code == 200, link
    vi = Browser(client, db).login(make_user(db, chain.packer, Role.org_admin), "vi")
    bad = vi.get("/trace?epc=xyz")
    assert bad.status_code == 422 and 'id="trace-error"' in bad.text
