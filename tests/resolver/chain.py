"""A lychee chain built through the real services: registry rows, a stamp run issued and
activated by the stamps service, diary activities and a retailer's receiving event captured
by the EPCIS service. Shared by the resolver's HTTP and browser tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.factories import (
    make_authority,
    make_certification,
    make_facility,
    make_growing_area,
    make_org,
    make_product,
)
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.diary import service as diary_service
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.validation import EpcisValidator, load_schema
from truyxuat.gs1 import make_gln
from truyxuat.registry.models import CertScheme, CertScope, CodeStatus, FacilityKind, Organization
from truyxuat.stamps import service as stamps_service
from truyxuat.stamps.models import Stamp, StampKind
from truyxuat.stamps.schemas import StampRunIn

SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
LOT = "LOT-2406"
HARVEST_LOT = "H-2406"
NAMES = {"vi": "Vải thiều Lục Ngạn", "en": "Luc Ngan lychee", "zh": "陆岸荔枝"}


@dataclass
class Chain:
    """The organizations, product and stamps of one lychee lot, and its stamps' PINs."""

    producer: Organization
    retailer: Organization
    authority: Organization
    gtin: str
    area_code: str
    activated: list[str] = field(default_factory=list)
    voided: str = ""
    unactivated: str = ""
    pins: dict[str, str] = field(default_factory=dict)
    other_gtin: str = ""


def admin(org: Organization) -> Principal:
    """An administrator of one organization."""
    return Principal(
        label="admin", grants=(Grant(org.id, Role.org_admin, org.province_code),), csrf_token="t"
    )


_validator: EpcisValidator | None = None


def validator() -> EpcisValidator:
    """The validator of the ratified GS1 EPCIS 2.0 schema (read once)."""
    global _validator
    if _validator is None:
        _validator = EpcisValidator(load_schema(SCHEMA_PATH))
    return _validator


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def build(db: Session, settings: Settings, *, now: datetime | None = None) -> Chain:
    """Registers the chain, issues and activates its stamps and records its journey."""
    now = now or datetime.now(UTC)
    producer = make_org(db, province_code="24", name="Hợp tác xã Vải thiều Phượng Sơn")
    retailer = make_org(db, province_code="01", name="Siêu thị Xanh Hà Nội")
    authority = make_authority(db, province_code="24")
    product = make_product(db, producer, names=NAMES, ocop_stars=4, ocop_year=2025)
    other = make_product(db, producer, names={"vi": "Vải sấy"})
    area = make_growing_area(
        db, producer, name="Vườn vải đồi Phượng Sơn", status=CodeStatus.approved
    )
    store = make_facility(
        db,
        retailer,
        kind=FacilityKind.store,
        name="Cửa hàng Xanh Cầu Giấy",
        gln=make_gln(retailer.gs1_company_prefix or "", 7),
        province_code="01",
    )
    make_certification(
        db,
        producer,
        scope_type=CertScope.growing_area,
        scope_id=area.id,
        scheme=CertScheme.vietgap,
        number="VG-24-0001",
    )
    make_certification(
        db,
        producer,
        scope_type=CertScope.organization,
        scope_id=producer.id,
        scheme=CertScheme.globalgap,
        number="GG-2023-77",
        valid_from=date.today() - timedelta(days=800),
        valid_to=date.today() - timedelta(days=30),
    )
    chain = Chain(producer, retailer, authority, product.gtin, area.code, other_gtin=other.gtin)

    issued = stamps_service.issue_run(
        db,
        admin(producer),
        StampRunIn(product_id=product.id, lot=LOT, count=5, kind=StampKind.anticounterfeit),
        settings,
    )
    serials = list(
        db.scalars(select(Stamp.serial).where(Stamp.run_id == issued.run.id).order_by(Stamp.seq))
    )
    chain.pins = dict(issued.pins)
    stamps_service.activate(
        db, admin(producer), issued.run.id, lot=LOT, from_serial=serials[0], to_serial=serials[2]
    )
    stamps_service.void(
        db,
        admin(producer),
        issued.run.id,
        reason="Tem in lỗi",
        from_serial=serials[2],
        to_serial=serials[2],
    )
    chain.activated, chain.voided, chain.unactivated = serials[:2], serials[2], serials[3]

    diary = {
        "spraying": (40, {"product_name": "Regent 800WG", "dose": "1.5", "dose_uom": "LTR"}),
        "harvest": (
            10,
            {"gtin": product.gtin, "lot": HARVEST_LOT, "quantity": "500", "uom": "KGM"},
        ),
        "packing": (
            9,
            {
                "gtin": product.gtin,
                "lot": HARVEST_LOT,
                "quantity": "480",
                "uom": "KGM",
                "output_lot": LOT,
            },
        ),
        "shipping": (
            8,
            {
                "gtin": product.gtin,
                "lot": LOT,
                "quantity": "480",
                "uom": "KGM",
                "partner_gln": retailer.gln,
            },
        ),
    }
    for activity, (days, values) in diary.items():
        diary_service.record_activity(
            db,
            admin(producer),
            growing_area_id=area.id,
            activity=activity,
            values={**values, "event_time": _local(now - timedelta(days=days))},
            validator=validator(),
            now=now,
        )
    receiving: dict[str, Any] = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "ObjectEvent",
        "eventTime": (now - timedelta(days=7)).replace(microsecond=0).isoformat(),
        "eventTimeZoneOffset": "+07:00",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "epcList": [],
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "readPoint": {"id": f"https://id.gs1.org/414/{store.gln}"},
        "bizLocation": {"id": f"https://id.gs1.org/414/{store.gln}"},
        "quantityList": [
            {
                "epcClass": f"https://id.gs1.org/01/{product.gtin}/10/{LOT}",
                "quantity": 480,
                "uom": "KGM",
            }
        ],
    }
    epcis_service.capture_event(db, admin(retailer), event=receiving, validator=validator())
    db.flush()
    return chain


def recall(db: Session, chain: Chain, lot: str = LOT) -> None:
    """Opens a recall of the lot (rows of the recall module, as its service writes them)."""
    from truyxuat.recall.models import (
        Recall,
        RecallItem,
        RecallItemKind,
        RecallSeverity,
        RecallState,
    )

    uri = f"https://id.gs1.org/01/{chain.gtin}/10/{lot}"
    row = Recall(
        org_id=chain.authority.id,
        epc=uri,
        gtin=chain.gtin,
        lot=lot,
        reason="Dư lượng thuốc bảo vệ thực vật vượt mức cho phép",
        severity=RecallSeverity.class_ii,
        state=RecallState.open,
    )
    db.add(row)
    db.flush()
    db.add(
        RecallItem(
            recall_id=row.id,
            kind=RecallItemKind.lot,
            ref=uri,
            gtin=chain.gtin,
            lot=lot,
            org_id=chain.producer.id,
        )
    )
    db.flush()
