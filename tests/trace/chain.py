"""A small export chain captured through the real EPCIS capture service, for trace, recall and
report tests.

Farm (two growing areas) → harvest lots H1, H2 → packing house transforms them into packed
lot P1 → pallet S1 → shipped to the importer, who receives it. A decoy harvest H3 → packed lot
P2 → pallet S2 goes to another buyer; it must never show up in a trace of S1 or P1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.factories import CA_MAU_POINT, make_growing_area, make_org
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.epcis.service import capture_document, validator_for
from truyxuat.registry.models import GrowingArea, Organization

SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"tx": "https://truyxuat.example/ns/"},
]
DL = "https://id.gs1.org"


def admin(org: Organization) -> Principal:
    """An org_admin principal of one organization."""
    return Principal(
        label=org.name, grants=(Grant(org.id, Role.org_admin, org.province_code),), locale="en"
    )


def lot(gtin: str, number: str) -> str:
    """A lot as a Digital Link."""
    return f"{DL}/01/{gtin}/10/{number}"


def capture(db: Session, org: Organization, events: list[dict[str, Any]]) -> None:
    """Captures events for an organization through the EPCIS capture service."""
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-06-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    }
    capture_document(
        db,
        admin(org),
        data=json.dumps(document).encode(),
        content_type="application/ld+json",
        validator=validator_for(Path(SCHEMA_PATH)),
    )


def event(kind: str, time: str, **fields: Any) -> dict[str, Any]:
    """An event of a type at a time (Vietnam offset)."""
    return {
        "type": kind,
        "eventTime": time,
        "eventTimeZoneOffset": "+07:00",
        **fields,
    }


def place(gln: str, extension: str | None = None) -> dict[str, str]:
    """A readPoint/bizLocation value."""
    return {"id": f"{DL}/414/{gln}" + (f"/254/{extension}" if extension else "")}


@dataclass
class Chain:
    """The organizations, areas and identifiers of the synthetic chain."""

    farm: Organization
    packer: Organization
    importer: Organization
    buyer: Organization
    area_small: GrowingArea
    area_large: GrowingArea
    area_decoy: GrowingArea
    fruit_gtin: str
    packed_gtin: str
    h1: str
    h2: str
    h3: str
    p1: str
    p2: str
    s1: str
    s2: str


def build_chain(db: Session, *, imbalance: bool = False, receipt: bool = True) -> Chain:
    """Captures the chain; `imbalance` makes the packing output more than its input,
    `receipt=False` leaves the importer's receipt out."""
    farm = make_org(db, name="HTX Vải thiều Lục Ngạn")
    packer = make_org(db, name="Nhà đóng gói Bắc Giang", email="qa@packer.example")
    importer = make_org(db, name="Tokyo Fruit Import", province_code="01")
    buyer = make_org(db, name="Người mua khác")
    assert farm.gln and packer.gln and importer.gln and buyer.gln
    small = make_growing_area(
        db,
        farm,
        code="VN-BG-001",
        area_ha=1.5,
        geometry=dict(CA_MAU_POINT, coordinates=[106.5412345678, 21.3712345678]),
    )
    large = make_growing_area(db, farm, code="VN-BG-002")
    decoy = make_growing_area(db, farm, code="VN-BG-003", area_ha=2.0, geometry=CA_MAU_POINT)
    prefix = farm.gs1_company_prefix or "893000001"
    fruit = _gtin(prefix, 1)
    packed = _gtin(packer.gs1_company_prefix or "893000002", 2)
    h1, h2, h3 = lot(fruit, "H1"), lot(fruit, "H2"), lot(fruit, "H3")
    p1, p2 = lot(packed, "P1"), lot(packed, "P2")
    s1 = f"{DL}/00/{_sscc(packer.gs1_company_prefix or '893000002', 1)}"
    s2 = f"{DL}/00/{_sscc(packer.gs1_company_prefix or '893000002', 2)}"

    def harvest(identifier: str, area: GrowingArea, time: str, kg: float) -> dict[str, Any]:
        return event(
            "ObjectEvent",
            time,
            action="ADD",
            bizStep="commissioning",
            disposition="active",
            epcList=[],
            quantityList=[{"epcClass": identifier, "quantity": kg, "uom": "KGM"}],
            readPoint=place(farm.gln or "", area.code),
            bizLocation=place(farm.gln or "", area.code),
            ilmd={
                "cbvmda:harvestStartDate": time[:10],
                "tx:growingAreaCode": area.code,
                "cbvmda:countryOfOrigin": "VN",
            },
        )

    def ship(
        identifiers: list[str], time: str, src: Organization, dst: Organization, po: str
    ) -> dict[str, Any]:
        return event(
            "ObjectEvent",
            time,
            action="OBSERVE",
            bizStep="shipping",
            disposition="in_transit",
            epcList=[i for i in identifiers if "/00/" in i],
            quantityList=[
                {"epcClass": i, "quantity": 100, "uom": "KGM"} for i in identifiers if "/10/" in i
            ],
            readPoint=place(src.gln or ""),
            bizTransactionList=[{"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:{po}"}],
            sourceList=[{"type": "owning_party", "source": f"{DL}/417/{src.gln}"}],
            destinationList=[{"type": "owning_party", "destination": f"{DL}/417/{dst.gln}"}],
        )

    def receive(
        identifiers: list[str], time: str, src: Organization, dst: Organization, po: str
    ) -> dict[str, Any]:
        shipped = ship(identifiers, time, src, dst, po)
        shipped.update(
            bizStep="receiving",
            disposition="in_progress",
            readPoint=place(dst.gln or ""),
            bizLocation=place(dst.gln or ""),
        )
        return shipped

    capture(
        db,
        farm,
        [
            harvest(h1, small, "2026-06-01T06:00:00+07:00", 100),
            harvest(h2, large, "2026-06-01T07:00:00+07:00", 80),
            harvest(h3, decoy, "2026-06-01T08:00:00+07:00", 50),
            ship([h1, h2, h3], "2026-06-01T10:00:00+07:00", farm, packer, "PO-F1"),
        ],
    )
    output_kg = 400 if imbalance else 170
    packer_events = [
        receive([h1, h2, h3], "2026-06-01T12:00:00+07:00", farm, packer, "PO-F1"),
        event(
            "TransformationEvent",
            "2026-06-01T14:00:00+07:00",
            bizStep="commissioning",
            disposition="active",
            inputQuantityList=[
                {"epcClass": h1, "quantity": 100, "uom": "KGM"},
                {"epcClass": h2, "quantity": 80, "uom": "KGM"},
            ],
            outputQuantityList=[{"epcClass": p1, "quantity": output_kg, "uom": "KGM"}],
            readPoint=place(packer.gln or ""),
            bizLocation=place(packer.gln or ""),
            ilmd={"cbvmda:lotNumber": "P1", "cbvmda:bestBeforeDate": "2026-07-01"},
        ),
        event(
            "TransformationEvent",
            "2026-06-01T14:30:00+07:00",
            bizStep="commissioning",
            disposition="active",
            inputQuantityList=[{"epcClass": h3, "quantity": 50, "uom": "KGM"}],
            outputQuantityList=[{"epcClass": p2, "quantity": 48, "uom": "KGM"}],
            readPoint=place(packer.gln or ""),
            bizLocation=place(packer.gln or ""),
        ),
        event(
            "AggregationEvent",
            "2026-06-01T15:00:00+07:00",
            action="ADD",
            bizStep="packing",
            disposition="in_progress",
            parentID=s1,
            childEPCs=[],
            childQuantityList=[{"epcClass": p1, "quantity": output_kg, "uom": "KGM"}],
            readPoint=place(packer.gln or ""),
        ),
        event(
            "AggregationEvent",
            "2026-06-01T15:10:00+07:00",
            action="ADD",
            bizStep="packing",
            disposition="in_progress",
            parentID=s2,
            childEPCs=[],
            childQuantityList=[{"epcClass": p2, "quantity": 48, "uom": "KGM"}],
            readPoint=place(packer.gln or ""),
        ),
        ship([s1], "2026-06-02T08:00:00+07:00", packer, importer, "PO-X1"),
        ship([s2], "2026-06-02T09:00:00+07:00", packer, buyer, "PO-X2"),
    ]
    capture(db, packer, packer_events)
    if receipt:
        capture(
            db, importer, [receive([s1], "2026-06-05T08:00:00+07:00", packer, importer, "PO-X1")]
        )
    capture(db, buyer, [receive([s2], "2026-06-03T08:00:00+07:00", packer, buyer, "PO-X2")])
    return Chain(
        farm,
        packer,
        importer,
        buyer,
        small,
        large,
        decoy,
        fruit,
        packed,
        h1,
        h2,
        h3,
        p1,
        p2,
        s1,
        s2,
    )


def _check(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _gtin(prefix: str, item: int) -> str:
    body = ("0" + prefix + str(item).zfill(12 - len(prefix)))[:13]
    return _check(body)


def _sscc(prefix: str, serial: int) -> str:
    body = "0" + prefix + str(serial).zfill(16 - len(prefix))
    return _check(body)
