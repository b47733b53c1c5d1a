"""Helpers for federation tests: nodes with their own databases, data at a province, and a
fingerprint of the events a node holds (count and hash)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import SHARED_DATA, _drop_postgres_database, _postgres_database
from tests.factories import (
    make_certification,
    make_facility,
    make_growing_area,
    make_org,
    make_product,
)
from truyxuat.app import create_app
from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope, upgrade, utcnow
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.models import EpcisEvent
from truyxuat.ledger.keys import log_signer
from truyxuat.registry.models import CertScope, CodeStatus, Organization, OrgKind
from truyxuat.stamps import service as stamps_service
from truyxuat.stamps.models import Stamp
from truyxuat.stamps.schemas import StampRunIn

SCHEMA = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
PROVINCE_ORIGIN = "bacninh.example/ledger"
NATIONAL_ORIGIN = "national.example/ledger"


def seed(n: int) -> str:
    return base64.b64encode(hashlib.sha256(f"seed-{n}".encode()).digest()).decode()


PROVINCE_KEY = seed(1)
NATIONAL_KEY = seed(2)


def province_vkey() -> str:
    settings = Settings(ledger_origin=PROVINCE_ORIGIN, ledger_key=PROVINCE_KEY)
    return log_signer(settings).verifier.vkey()


def database(store: str, tmp_path: Path, name: str) -> tuple[str, str | None]:
    """A fresh migrated database: (URL, PostgreSQL database name to drop or None)."""
    if store == "sqlite":
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
        pg_name = None
    else:
        pg_name = f"truyxuat_fed_{name}_{uuid.uuid4().hex[:8]}"
        url = _postgres_database(pg_name)
    upgrade(url)
    return url, pg_name


def drop(pg_name: str | None) -> None:
    if pg_name is not None:
        _drop_postgres_database(pg_name)


def province_settings(url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=url,
        secret_key="province",
        data_dir=tmp_path / "province",
        default_locale="en",
        epcis_schema=SCHEMA,
        ledger_origin=PROVINCE_ORIGIN,
        ledger_key=PROVINCE_KEY,
        ledger_integrate_interval=0,
        node_role="province",
        node_name="Bắc Ninh",
        **{
            "node_base_url": "http://province.example",
            "sync_backoff_seconds": 0.01,
            "sync_max_attempts": 3,
            **extra,
        },
    )


def national_settings(url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=url,
        secret_key="national",
        data_dir=tmp_path / "national",
        default_locale="en",
        epcis_schema=SCHEMA,
        ledger_origin=NATIONAL_ORIGIN,
        ledger_key=NATIONAL_KEY,
        ledger_integrate_interval=0,
        ledger_witness_logs=[province_vkey()],
        node_role="national",
        node_name="Cổng quốc gia",
        **extra,
    )


@dataclass
class Node:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]

    @classmethod
    def open(cls, settings: Settings) -> Node:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_sessionmaker(engine))

    def app(self) -> FastAPI:
        return create_app(self.settings, self.factory)


def upstream_key(national: Node, province_code: str = "24") -> str:
    """An authority API key for the province, created on the national node."""
    with session_scope(national.factory) as db:
        authority = make_org(db, kind=OrgKind.authority, province_code=province_code)
        _, key = auth_service.create_api_key(db, org=authority, role=Role.authority)
    return key


def writer(org: Organization) -> Principal:
    return Principal(label="test", grants=(Grant(org.id, Role.org_admin, org.province_code),))


@dataclass
class ProvinceData:
    org_id: uuid.UUID
    gtin: str
    serial: str


def populate(province: Node) -> ProvinceData:
    """An enterprise of the province with a facility, a product and a run of stamps."""
    with session_scope(province.factory) as db:
        org = make_org(db, province_code="24", phone="0912345678", contact_name="Chị Lan")
        make_facility(db, org)
        area = make_growing_area(db, org, status=CodeStatus.approved, decided_at=utcnow())
        product = make_product(db, org)
        make_certification(db, org, scope_type=CertScope.growing_area, scope_id=area.id)
        issued = stamps_service.issue_run(
            db, writer(org), StampRunIn(product_id=product.id, count=3), province.settings
        )
        serial = db.scalar(select(Stamp.serial).where(Stamp.run_id == issued.run.id))
        assert serial is not None
        return ProvinceData(org.id, product.gtin, serial)


def document(tag: str, count: int, gtin: str = "08935001234562") -> bytes:
    events = [
        {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{tag}-{n}')}",
            "eventTime": f"2026-11-20T08:{n // 60 % 60:02d}:{n % 60:02d}.000+07:00",
            "eventTimeZoneOffset": "+07:00",
            "epcList": [f"https://id.gs1.org/01/{gtin.zfill(14)}/21/{tag}-{n}"],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
        }
        for n in range(count)
    ]
    return json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-23T08:00:00+07:00",
            "epcisBody": {"eventList": events},
        }
    ).encode()


def capture(province: Node, org_id: uuid.UUID, tag: str, count: int) -> None:
    """Captures `count` new events for the organization at the province."""
    with session_scope(province.factory) as db:
        org = db.get(Organization, org_id)
        assert org is not None
        epcis_service.capture_document(
            db,
            writer(org),
            data=document(tag, count),
            content_type="application/ld+json",
            validator=epcis_service.validator_for(SCHEMA),
        )


def fingerprint(factory: sessionmaker[Session]) -> tuple[int, str]:
    """How many events a node holds and a hash over (org, event hash, error declared)."""
    with session_scope(factory) as db:
        rows = sorted(
            f"{org_id}|{digest}|{declared}"
            for org_id, digest, declared in db.execute(
                select(EpcisEvent.org_id, EpcisEvent.event_hash, EpcisEvent.error_declared)
            )
        )
    return len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()
