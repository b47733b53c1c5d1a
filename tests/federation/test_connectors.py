"""The portal connector registers organizations and products with a registration API behind
OAuth2 client credentials (a small HTTP server on loopback stands in for the ministry's portal,
an external system), once per change, with the documented field mapping."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STORES
from tests.federation import nodes
from tests.federation.nodes import Node
from truyxuat.db import session_scope
from truyxuat.federation import connectors
from truyxuat.registry.models import Product


class Portal:
    """Issues a token for the right client credentials and records registrations."""

    def __init__(self) -> None:
        self.registrations: list[tuple[str, str, dict[str, Any]]] = []
        self.tokens = 0
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                form = self._body().decode()
                credentials = base64.b64encode(b"province-bn:s3cret").decode()
                if (
                    self.path != "/oauth/token"
                    or "grant_type=client_credentials" not in form
                    or self.headers.get("Authorization") != f"Basic {credentials}"
                ):
                    self._reply(401, {"error": "invalid_client"})
                    return
                portal.tokens += 1
                self._reply(200, {"access_token": "tok-1", "expires_in": 3600})

            def do_PUT(self) -> None:
                if self.headers.get("Authorization") != "Bearer tok-1":
                    self._reply(401, {"error": "invalid_token"})
                    return
                kind, _, key = self.path.strip("/").partition("/")
                portal.registrations.append((kind, key, json.loads(self._body())))
                self._reply(200, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=STORES)
def province(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Node]:
    url, name = nodes.database(request.param, tmp_path, "province")
    node = Node.open(nodes.province_settings(url, tmp_path))
    yield node
    node.engine.dispose()
    nodes.drop(name)


@pytest.fixture
def portal() -> Iterator[Portal]:
    server = Portal()
    yield server
    server.close()


def test_the_portal_gets_each_change_once_with_the_mapping(province: Node, portal: Portal) -> None:
    data = nodes.populate(province)
    settings = province.settings.model_copy(
        update={
            "portal_url": portal.url,
            "portal_token_url": f"{portal.url}/oauth/token",
            "portal_client_id": "province-bn",
            "portal_client_secret": "s3cret",
        }
    )
    (_, connector) = connectors.configured(
        settings.model_copy(update={"node_upstream_urls": ["http://national.example"]})
    )
    assert connector.name == "national-portal"

    report = connector.push(province.factory, settings)
    assert not report.errors and report.records == 2 and portal.tokens == 1
    (org_kind, code, org), (product_kind, gtin, product) = portal.registrations
    assert (org_kind, product_kind) == ("organizations", "products")
    assert org["maTinh"] == "24" and org["maDoanhNghiep"] == code and "phone" not in org
    assert gtin == data.gtin.zfill(14) == product["gtin"]
    assert product["maDoanhNghiep"] == code and product["tenSanPham"]

    assert connector.push(province.factory, settings).records == 0
    with session_scope(province.factory) as db:
        row = db.get(Product, db.query(Product.id).scalar())
        assert row is not None
        row.net_content = "500 g"
    again = connector.push(province.factory, settings)
    assert again.records == 1 and portal.registrations[-1][2]["quyCach"] == "500 g"


def test_wrong_client_credentials_are_reported(province: Node, portal: Portal) -> None:
    nodes.populate(province)
    connector = connectors.PortalRegistration(
        portal.url, f"{portal.url}/oauth/token", "province-bn", "wrong"
    )
    report = connector.push(province.factory, province.settings)
    assert report.errors and "client credentials" in report.errors[0]
    assert portal.registrations == []
