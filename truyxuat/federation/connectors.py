"""Outbound connectors: how a node pushes to other systems.

A connector has a `name` and `push(factory, settings) -> Report`. `EpcisUpstream` is the
truyxuat-to-truyxuat push (EPCIS events with their ledger proofs, master data, checkpoints).
`PortalRegistration` registers organizations and products with the national portal's
registration API, authorized by OAuth2 client credentials (RFC 6749 section 4.4); the field
mapping is `portal_organization` / `portal_product` (documented in docs/deployment.md).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from truyxuat.config import Settings
from truyxuat.db import session_scope
from truyxuat.federation import records as master
from truyxuat.federation import sender
from truyxuat.federation.models import SyncSent


class Connector(Protocol):
    """Something a sync run pushes this node's data to."""

    @property
    def name(self) -> str:
        """What the connector pushes to, for reports and logs."""
        ...

    def push(self, factory: sessionmaker[Session], settings: Settings) -> sender.Report:
        """Pushes what changed since the last acknowledged push; never raises for the
        other system's failures (they are in the report's errors)."""
        ...


@dataclass
class EpcisUpstream:
    """Another truyxuat node: the ledger's leaves with events, master data, checkpoints."""

    url: str
    http: httpx.Client | None = None

    @property
    def name(self) -> str:
        return self.url

    def push(self, factory: sessionmaker[Session], settings: Settings) -> sender.Report:
        (report,) = sender.run(factory, settings, upstreams=[self.url], http=self.http)
        return report


def _business_code(org: Mapping[str, Any]) -> str:
    return str(org.get("tax_code") or org["code"])


def portal_organization(org: Mapping[str, Any]) -> dict[str, Any]:
    """An organization's public record as a portal registration."""
    return {
        "maDoanhNghiep": _business_code(org),
        "tenDoanhNghiep": org["name"],
        "tenTiengAnh": org.get("name_en") or "",
        "maTinh": org.get("province_code") or "",
        "maXa": org.get("commune_code") or "",
        "diaChi": org.get("address") or "",
        "gln": org.get("gln") or "",
        "tienToMaDoanhNghiep": org.get("gs1_company_prefix") or "",
        "loaiHinh": org["kind"],
        "trangThai": org["status"],
        "website": org.get("website") or "",
    }


def portal_product(product: Mapping[str, Any], owner: Mapping[str, Any]) -> dict[str, Any]:
    """A product's public record as a portal registration (its owner's business code)."""
    names = product.get("names") or {}
    return {
        "gtin": str(product["gtin"]).zfill(14),
        "tenSanPham": names.get("vi", ""),
        "tenTiengAnh": names.get("en", ""),
        "tenTiengTrung": names.get("zh", ""),
        "maDoanhNghiep": _business_code(owner),
        "nhomHangBCT": product.get("moit_group") or "",
        "saoOCOP": product.get("ocop_stars"),
        "namOCOP": product.get("ocop_year"),
        "quyCach": product.get("net_content") or "",
        "xuatXuTinh": product.get("origin_province_code") or "",
        "dangKinhDoanh": bool(product.get("is_active", True)),
    }


@dataclass
class PortalRegistration:
    """The national portal's organization/product registration API (OAuth2 client
    credentials). Registrations are PUT by business code / GTIN, so repeating one is harmless;
    each record's digest is remembered, so only changed records are sent again."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    http: httpx.Client | None = None
    name: str = "national-portal"
    _token: tuple[str, float] | None = field(default=None, repr=False)

    def _bearer(self, http: httpx.Client) -> str:
        if self._token is not None and self._token[1] > time.monotonic() + 30:
            return self._token[0]
        response = http.post(
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
        )
        if response.status_code != 200:
            raise sender.SyncError(f"the portal refused the client credentials: {response.text}")
        body = response.json()
        self._token = (
            str(body["access_token"]),
            time.monotonic() + float(body.get("expires_in", 300)),
        )
        return self._token[0]

    def push(self, factory: sessionmaker[Session], settings: Settings) -> sender.Report:
        report = sender.Report(self.base_url)
        key = f"portal:{self.base_url}"
        with session_scope(factory) as db:
            sent = {
                (entity, entity_id): digest
                for entity, entity_id, digest in db.execute(
                    select(SyncSent.entity, SyncSent.entity_id, SyncSent.digest).where(
                        SyncSent.upstream == key
                    )
                )
            }
            orgs = {r["id"]: r for r in master.public_records(db, "organization")}
            products = list(master.public_records(db, "product"))
        changes: list[tuple[str, str, str, dict[str, Any], str]] = []
        for org in orgs.values():
            body = portal_organization(org)
            digest = master.digest(body)
            if sent.get(("organization", uuid.UUID(org["id"]))) != digest:
                path = f"/organizations/{body['maDoanhNghiep']}"
                changes.append(("organization", org["id"], path, body, digest))
        for product in products:
            body = portal_product(product, orgs[product["org_id"]])
            digest = master.digest(body)
            if sent.get(("product", uuid.UUID(product["id"]))) != digest:
                changes.append(
                    ("product", product["id"], f"/products/{body['gtin']}", body, digest)
                )
        client = self.http or httpx.Client(timeout=settings.sync_timeout_seconds)
        try:
            for entity, entity_id, path, body, digest in changes:
                response = client.put(
                    self.base_url.rstrip("/") + path,
                    content=json.dumps(body, ensure_ascii=False).encode(),
                    headers={
                        "Authorization": f"Bearer {self._bearer(client)}",
                        "Content-Type": "application/json",
                    },
                )
                if response.status_code not in (200, 201, 204):
                    raise sender.SyncError(
                        f"the portal refused {entity} {entity_id} ({response.status_code})"
                    )
                with session_scope(factory) as db:
                    db.merge(
                        SyncSent(
                            upstream=key,
                            entity=entity,
                            entity_id=uuid.UUID(entity_id),
                            digest=digest,
                        )
                    )
                report.records += 1
        except (sender.SyncError, httpx.HTTPError) as exc:
            report.errors.append(str(exc))
        finally:
            if self.http is None:
                client.close()
        return report


def configured(settings: Settings, upstreams: list[str] | None = None) -> list[Connector]:
    """The connectors a sync run pushes to: each upstream node, then the portal if set up."""
    found: list[Connector] = [
        EpcisUpstream(url) for url in (upstreams or settings.node_upstream_urls)
    ]
    if settings.portal_url and not upstreams:
        found.append(
            PortalRegistration(
                settings.portal_url,
                settings.portal_token_url,
                settings.portal_client_id,
                settings.portal_client_secret,
            )
        )
    return found
