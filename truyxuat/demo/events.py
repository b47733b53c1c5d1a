"""The demo journeys as EPCIS 2.0 events, grouped by the organization that records them.

Pure data: `journal()` returns, per organization code, the events that organization captures
(the loader sends each organization's list as one EPCISDocument through the capture service).
Identifiers come from `truyxuat.demo.journeys`; times are fixed (2026 seasons, Viet Nam time
+07:00, the EU importer's receipts in Rotterdam time) and event ids are name-based UUIDs, so
every load writes the same events. Farm activities are written the way the diary writes them
(`truyxuat.diary.activities`): our own cultivation business steps, harvest as commissioning
with the growing-area code, growing areas as GLN + AI 254 extension.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from truyxuat.demo import journeys as j
from truyxuat.diary.activities import CONTEXT, CULTIVATION_STEPS, Activity

VN = "+07:00"
NL_SUMMER = "+02:00"
_ID_SPACE = uuid.UUID("3f0c1a52-6d1b-4f0e-9a57-7d2c5e8b9a10")

Event = dict[str, Any]


def event_id(key: str) -> str:
    """The fixed eventID of a demo event, from its name."""
    return f"urn:uuid:{uuid.uuid5(_ID_SPACE, key)}"


def document(events: Sequence[Event]) -> dict[str, Any]:
    """An EPCISDocument holding `events`, with the `tx:` namespace the diary uses."""
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-01T00:00:00+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def qty(epc_class: str, quantity: float, uom: str) -> dict[str, Any]:
    """A quantityList element with a UN/CEFACT unit."""
    return {"epcClass": epc_class, "quantity": quantity, "uom": uom}


def place(org: str, ref: int) -> dict[str, str]:
    """A readPoint / bizLocation at an organization's GLN (ref 1) or one of its facilities."""
    return {"id": j.location_link(j.gln(org, ref))}


def _parties(kind: str, org: str, ref: int) -> list[dict[str, str]]:
    """A source or destination: the owning party and the location."""
    return [
        {"type": "owning_party", kind: j.party_link(j.gln(org, 1))},
        {"type": "location", kind: j.location_link(j.gln(org, ref))},
    ]


def biz_tx(kind: str, org: str, reference: str) -> dict[str, str]:
    """A business transaction (po, desadv, inv, bol, prodorder) issued by an organization."""
    return {"type": kind, "bizTransaction": f"urn:epcglobal:cbv:bt:{j.gln(org, 1)}:{reference}"}


def _when(time: str, offset: str) -> dict[str, str]:
    return {"eventTime": f"{time}{offset}", "eventTimeZoneOffset": offset}


def _what(epcs: Sequence[str] = (), quantities: Sequence[dict[str, Any]] = ()) -> Event:
    what: Event = {"epcList": list(epcs)}
    if quantities:
        what["quantityList"] = list(quantities)
    return what


class Journal:
    """Collects events per recording organization."""

    def __init__(self) -> None:
        """Starts empty."""
        self.by_org: dict[str, list[Event]] = {}

    def add(self, org: str, key: str, event: Event, *, eid: str | None = None) -> Event:
        """Records `event` for `org` under the fixed id of `key` (or `eid`)."""
        full = {"type": event.pop("type"), "eventID": eid or event_id(key), **event}
        self.by_org.setdefault(org, []).append(full)
        return full

    def cultivate(
        self, org: str, area: str, activity: Activity, time: str, details: dict[str, Any]
    ) -> None:
        """A diary-style cultivation activity at a growing area (ObjectEvent OBSERVE)."""
        where = {"id": j.growing_area_link(org, area)}
        self.add(
            org,
            f"{area}/{activity.value}/{time}",
            {
                "type": "ObjectEvent",
                **_when(time, VN),
                "epcList": [],
                "action": "OBSERVE",
                "bizStep": CULTIVATION_STEPS[activity],
                "readPoint": where,
                "bizLocation": where,
                "tx:activity": activity.value,
                "tx:growingAreaCode": area,
                **details,
            },
        )

    def commission(
        self,
        org: str,
        key: str,
        time: str,
        where: dict[str, str],
        lot: tuple[str, str],
        quantity: tuple[float, str],
        ilmd: dict[str, Any],
        *,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A new lot comes into being (harvest, collection, production): ObjectEvent ADD."""
        gtin, number = lot
        self.add(
            org,
            key,
            {
                "type": "ObjectEvent",
                **_when(time, VN),
                "epcList": [],
                "action": "ADD",
                "bizStep": "commissioning",
                "disposition": "active",
                "readPoint": where,
                "bizLocation": where,
                "quantityList": [qty(j.lot_link(gtin, number), *quantity)],
                "ilmd": {"cbvmda:lotNumber": number, **ilmd},
                **(extra or {}),
            },
        )

    def transform(
        self,
        org: str,
        key: str,
        time: str,
        where: dict[str, str],
        inputs: Sequence[dict[str, Any]],
        outputs: Sequence[dict[str, Any]],
        ilmd: dict[str, Any],
        *,
        biz_step: str = "commissioning",
        order: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Input lots become output lots (packing, processing, brewing)."""
        event: Event = {
            "type": "TransformationEvent",
            **_when(time, VN),
            "inputQuantityList": list(inputs),
            "outputQuantityList": list(outputs),
            "bizStep": biz_step,
            "disposition": "active",
            "readPoint": where,
            "bizLocation": where,
        }
        if order:
            event["bizTransactionList"] = [biz_tx("prodorder", org, order)]
        event["ilmd"] = ilmd
        self.add(org, key, {**event, **(extra or {})})

    def palletize(
        self,
        org: str,
        key: str,
        time: str,
        where: dict[str, str],
        pallet: str,
        children: Sequence[dict[str, Any]],
        *,
        action: str = "ADD",
    ) -> None:
        """Cases of a lot packed onto (ADD) or taken off (DELETE) a pallet SSCC."""
        self.add(
            org,
            key,
            {
                "type": "AggregationEvent",
                **_when(time, VN),
                "parentID": pallet,
                "childEPCs": [],
                "childQuantityList": list(children),
                "action": action,
                "bizStep": "packing" if action == "ADD" else "unpacking",
                "disposition": "in_progress",
                "readPoint": where,
                "bizLocation": where,
            },
        )

    def move(
        self,
        recorder: str,
        key: str,
        time: str,
        *,
        shipping: bool,
        source: tuple[str, int],
        destination: tuple[str, int],
        epcs: Sequence[str] = (),
        quantities: Sequence[dict[str, Any]] = (),
        transactions: Sequence[dict[str, str]] = (),
        offset: str = VN,
        disposition: str | None = None,
    ) -> None:
        """Shipping (recorded by the sender) or receiving (by the recipient) between places."""
        here = source if shipping else destination
        event: Event = {
            "type": "ObjectEvent",
            **_when(time, offset),
            **_what(epcs, quantities),
            "action": "OBSERVE",
            "bizStep": "shipping" if shipping else "receiving",
            "disposition": disposition or ("in_transit" if shipping else "in_progress"),
            "readPoint": place(*here),
        }
        if not shipping:
            event["bizLocation"] = place(*here)
        if transactions:
            event["bizTransactionList"] = list(transactions)
        event["sourceList"] = _parties("source", *source)
        event["destinationList"] = _parties("destination", *destination)
        self.add(recorder, key, event)

    def observe(
        self,
        org: str,
        key: str,
        time: str,
        where: dict[str, str] | None,
        epcs: Sequence[str],
        biz_step: str,
        disposition: str,
        *,
        extra: dict[str, Any] | None = None,
        eid: str | None = None,
    ) -> None:
        """Objects seen somewhere (storing, transporting) without changing hands."""
        event: Event = {
            "type": "ObjectEvent",
            **_when(time, VN),
            "epcList": list(epcs),
            "action": "OBSERVE",
            "bizStep": biz_step,
            "disposition": disposition,
        }
        if where is not None:
            event["readPoint"] = where
            event["bizLocation"] = where
        self.add(org, key, {**event, **(extra or {})}, eid=eid)


# --- chains ----------------------------------------------------------------------------------

KIENLAO, NAMDUONG, LUCNGAN = "HTX-VT-KIENLAO", "HTX-VT-NAMDUONG", "LUCNGAN-EXPORT"
IMPORTER = j.LYCHEE_IMPORTER
HONGHA = "HONGHA-MART"


def _lot(product: str, number: str) -> tuple[str, str]:
    return j.GTIN[product], number


def lychee(book: Journal) -> None:
    """Growing areas → harvest lots → packing house → export pallets → EU; a domestic lot."""
    areas = (
        (KIENLAO, "VN-BNOR-0101", "LYCHEE-FRESH-KIENLAO", "KL260608-0101", 2400, "2026-06-08"),
        (KIENLAO, "VN-BNOR-0102", "LYCHEE-FRESH-KIENLAO", "KL260608-0102", 1800, "2026-06-08"),
        (NAMDUONG, "VN-BNOR-0103", "LYCHEE-FRESH-NAMDUONG", "ND260607-0103", 1500, "2026-06-07"),
    )
    for org, area, product, number, kilos, day in areas:
        book.cultivate(
            org,
            area,
            Activity.fertilizing,
            "2026-02-20T07:30:00",
            {
                "tx:productName": "Phân hữu cơ vi sinh Sông Gianh",
                "tx:dose": 400,
                "tx:doseUom": "KGM",
            },
        )
        book.cultivate(
            org,
            area,
            Activity.spraying,
            "2026-05-12T06:00:00",
            {
                "tx:productName": "Radiant 60SC",
                "tx:activeIngredient": "Spinetoram",
                "tx:dose": 2,
                "tx:doseUom": "LTR",
                "tx:preHarvestIntervalDays": 14,
                "tx:safeToHarvestFrom": "2026-05-26",
            },
        )
        book.cultivate(
            org,
            area,
            Activity.irrigation,
            "2026-05-25T17:00:00",
            {"tx:waterQuantity": 120, "tx:uom": "MTQ"},
        )
        where = {"id": j.growing_area_link(org, area)}
        book.commission(
            org,
            f"{area}/harvest",
            f"{day}T05:30:00",
            where,
            _lot(product, number),
            (kilos, "KGM"),
            {
                "cbvmda:harvestStartDate": day,
                "cbvmda:harvestEndDate": day,
                "cbvmda:countryOfOrigin": "VN",
                "tx:growingAreaCode": area,
            },
            extra={"tx:activity": Activity.harvest.value, "tx:growingAreaCode": area},
        )
    kl1, kl2, nd3 = (
        j.LYCHEE_HARVEST_LOTS[a] for a in ("VN-BNOR-0101", "VN-BNOR-0102", "VN-BNOR-0103")
    )
    packing, cold = (LUCNGAN, 2), (LUCNGAN, 3)
    # The cooperatives deliver their harvest lots to the exporter's packing house.
    deliveries = (
        (KIENLAO, "kienlao", "2026-06-08", ((kl1, 2400), (kl2, 1800)), "PO-LN-26061"),
        (NAMDUONG, "namduong", "2026-06-07", ((nd3, 1500),), "PO-LN-26058"),
    )
    for org, key, day, lots, po in deliveries:
        quantities = [qty(lot, kilos, "KGM") for lot, kilos in lots]
        transactions = [biz_tx("po", LUCNGAN, po), biz_tx("desadv", org, f"PX-{po[3:]}")]
        for shipping, time in ((True, f"{day}T10:00:00"), (False, f"{day}T12:40:00")):
            book.move(
                org if shipping else LUCNGAN,
                f"lychee/{key}/{'ship' if shipping else 'receive'}",
                time,
                shipping=shipping,
                source=(org, 2),
                destination=packing,
                quantities=quantities,
                transactions=transactions,
            )
    pack_where = place(*packing)
    book.transform(
        LUCNGAN,
        "lychee/pack/export",
        "2026-06-09T07:00:00",
        pack_where,
        [qty(kl1, 2400, "KGM"), qty(kl2, 1800, "KGM")],
        [qty(j.LYCHEE_EXPORT_LOT, 4000, "KGM")],
        {
            "cbvmda:lotNumber": "LN260609-EU01",
            "cbvmda:bestBeforeDate": "2026-06-30",
            "cbvmda:countryOfOrigin": "VN",
            "tx:packingHouseCode": "VN-BNPH-0012",
        },
        biz_step="packing",
        order="LSX-260609-01",
    )
    book.transform(
        LUCNGAN,
        "lychee/pack/domestic",
        "2026-06-09T09:30:00",
        pack_where,
        [qty(nd3, 1500, "KGM")],
        [qty(j.LYCHEE_DOMESTIC_LOT, 1400, "KGM")],
        {
            "cbvmda:lotNumber": "LN260609-VN01",
            "cbvmda:bestBeforeDate": "2026-06-19",
            "cbvmda:countryOfOrigin": "VN",
            "tx:packingHouseCode": "VN-BNPH-0012",
        },
        biz_step="packing",
        order="LSX-260609-02",
    )
    for i, pallet in enumerate(j.LYCHEE_EXPORT_PALLETS, start=1):
        book.palletize(
            LUCNGAN,
            f"lychee/pallet/{i}",
            f"2026-06-09T1{i}:00:00",
            pack_where,
            pallet,
            [qty(j.LYCHEE_EXPORT_LOT, 2000, "KGM")],
        )
    book.observe(
        LUCNGAN,
        "lychee/cold-store",
        "2026-06-09T16:00:00",
        place(*cold),
        j.LYCHEE_EXPORT_PALLETS,
        "storing",
        "sellable_not_accessible",
    )
    export_tx = [
        biz_tx("po", IMPORTER, "HF-PO-2026-0412"),
        biz_tx("inv", LUCNGAN, "HD-XK-260610-01"),
        biz_tx("desadv", LUCNGAN, "ASN-260610-01"),
        biz_tx("bol", LUCNGAN, "AWB-738-2606-1001"),
    ]
    rotterdam = (IMPORTER, 2)
    book.move(
        LUCNGAN,
        "lychee/export/ship",
        "2026-06-10T20:00:00",
        shipping=True,
        source=cold,
        destination=rotterdam,
        epcs=j.LYCHEE_EXPORT_PALLETS,
        transactions=export_tx,
    )
    book.move(
        IMPORTER,
        "lychee/export/receive",
        "2026-06-11T10:15:00",
        shipping=False,
        source=cold,
        destination=rotterdam,
        epcs=j.LYCHEE_EXPORT_PALLETS,
        transactions=export_tx,
        offset=NL_SUMMER,
    )
    domestic_tx = [
        biz_tx("po", HONGHA, "HH-PO-26-0877"),
        biz_tx("desadv", LUCNGAN, "ASN-260610-02"),
    ]
    for shipping, time in ((True, "2026-06-10T04:30:00"), (False, "2026-06-10T09:45:00")):
        book.move(
            LUCNGAN if shipping else HONGHA,
            f"lychee/domestic/{'ship' if shipping else 'receive'}",
            time,
            shipping=shipping,
            source=cold,
            destination=(HONGHA, 3),
            quantities=[qty(j.LYCHEE_DOMESTIC_LOT, 1400, "KGM")],
            transactions=domestic_tx,
            disposition=None if shipping else "sellable_accessible",
        )


def ocop(book: Journal) -> None:
    """Quảng Ninh OCOP production lots; the squid cake moves to the producer's own shop."""
    factory = place("HALONG-FOOD", 2)
    for key, product, number, count in (
        ("500g", "SQUID-CAKE-500G", "CM260915-01", 1200),
        ("1kg", "SQUID-CAKE-1KG", "CM260915-02", 400),
    ):
        book.commission(
            "HALONG-FOOD",
            f"ocop/squid/{key}",
            "2026-09-15T14:00:00",
            factory,
            _lot(product, number),
            (count, "H87"),
            {
                "cbvmda:itemExpirationDate": "2027-03-15",
                "cbvmda:countryOfOrigin": "VN",
                "tx:productionDate": "2026-09-15",
                "tx:storage": "−18 °C",
            },
        )
    book.commission(
        "HTX-MIEN-LUCHON",
        "ocop/vermicelli",
        "2026-10-20T16:00:00",
        place("HTX-MIEN-LUCHON", 2),
        _lot("CANNA-VERMICELLI", "MD261020-01"),
        (800, "H87"),
        {
            "cbvmda:itemExpirationDate": "2027-10-20",
            "cbvmda:bestBeforeDate": "2027-10-20",
            "cbvmda:countryOfOrigin": "VN",
            "tx:productionDate": "2026-10-20",
        },
    )
    shop = ("HALONG-FOOD", 3)
    moved = [qty(j.OCOP_SQUID_LOT, 300, "H87")]
    for shipping, time in ((True, "2026-09-16T07:00:00"), (False, "2026-09-16T08:10:00")):
        book.move(
            "HALONG-FOOD",
            f"ocop/shop/{'ship' if shipping else 'receive'}",
            time,
            shipping=shipping,
            source=("HALONG-FOOD", 2),
            destination=shop,
            quantities=moved,
            disposition=None if shipping else "sellable_accessible",
        )


TAMGIANG, DATMUI, PHUONGNAM = "HTX-TOM-TAMGIANG", "DATMUI-SEAFOOD", "PHUONGNAM-EXIM"


def _temperature(time: str, value: float) -> dict[str, Any]:
    return {"type": "Temperature", "value": value, "uom": "CEL", "time": f"{time}{VN}"}


def shrimp(book: Journal) -> None:
    """Pond harvest → processing plant → reefer truck (one excursion) → exporter → EU."""
    lots = []
    for ref, pond, kilos in ((2, "TAMGIANG-POND-1", 850), (3, "TAMGIANG-POND-2", 620)):
        lot = j.SHRIMP_POND_LOTS[pond]
        lots.append((lot, kilos))
        book.commission(
            TAMGIANG,
            f"shrimp/harvest/{pond}",
            "2026-09-14T04:30:00",
            place(TAMGIANG, ref),
            _lot("RAW-BLACK-TIGER", lot.rsplit("/", 1)[1]),
            (kilos, "KGM"),
            {
                "cbvmda:harvestStartDate": "2026-09-14",
                "cbvmda:countryOfOrigin": "VN",
                "cbvmda:productionMethodForFishAndSeafoodCode": "AQUACULTURE",
                "tx:species": "Penaeus monodon",
            },
            extra={"tx:activity": Activity.harvest.value},
        )
    raw = [qty(lot, kilos, "KGM") for lot, kilos in lots]
    plant, cold, cat_lai = (DATMUI, 2), (DATMUI, 3), (PHUONGNAM, 3)
    delivery = [biz_tx("po", DATMUI, "DM-PO-2609-031")]
    book.move(
        TAMGIANG,
        "shrimp/ponds/ship",
        "2026-09-14T07:00:00",
        shipping=True,
        source=(TAMGIANG, 2),
        destination=plant,
        quantities=raw,
        transactions=delivery,
    )
    book.move(
        DATMUI,
        "shrimp/ponds/receive",
        "2026-09-14T10:20:00",
        shipping=False,
        source=(TAMGIANG, 2),
        destination=plant,
        quantities=raw,
        transactions=delivery,
    )
    book.transform(
        DATMUI,
        "shrimp/process",
        "2026-09-15T06:00:00",
        place(*plant),
        raw,
        [qty(j.SHRIMP_EXPORT_LOT, 1100, "KGM")],
        {
            "cbvmda:lotNumber": "DM260915-HS01",
            "cbvmda:firstFreezeDate": "2026-09-15",
            "cbvmda:itemExpirationDate": "2028-09-14",
            "cbvmda:countryOfOrigin": "VN",
        },
        order="LSX-DM-260915",
    )
    for i, pallet in enumerate(j.SHRIMP_PALLETS, start=1):
        book.palletize(
            DATMUI,
            f"shrimp/pallet/{i}",
            f"2026-09-15T1{i + 3}:00:00",
            place(*plant),
            pallet,
            [qty(j.SHRIMP_EXPORT_LOT, 550, "KGM")],
        )
    book.observe(
        DATMUI,
        "shrimp/cold-store",
        "2026-09-16T08:00:00",
        place(*cold),
        j.SHRIMP_PALLETS,
        "storing",
        "sellable_not_accessible",
        extra={
            "sensorElementList": [
                {
                    "sensorMetadata": {"time": f"2026-09-16T08:00:00{VN}"},
                    "sensorReport": [_temperature("2026-09-16T08:00:00", -24.5)],
                }
            ]
        },
    )
    sale = [
        biz_tx("po", PHUONGNAM, "PN-PO-2609-118"),
        biz_tx("inv", DATMUI, "HD-DM-260917-07"),
        biz_tx("desadv", DATMUI, "ASN-DM-260917-07"),
    ]
    book.move(
        DATMUI,
        "shrimp/truck/ship",
        "2026-09-17T05:00:00",
        shipping=True,
        source=cold,
        destination=cat_lai,
        epcs=j.SHRIMP_PALLETS,
        transactions=sale,
    )
    readings = (
        ("2026-09-17T07:00:00", -21.0),
        ("2026-09-17T09:00:00", -20.4),
        ("2026-09-17T11:00:00", -19.6),
        ("2026-09-17T13:00:00", j.SHRIMP_EXCURSION_MAX_CEL),
        ("2026-09-17T15:00:00", -19.1),
        ("2026-09-17T17:00:00", -20.2),
    )
    book.observe(
        DATMUI,
        "shrimp/truck/transport",
        "2026-09-17T17:00:00",
        None,
        j.SHRIMP_PALLETS,
        "transporting",
        "in_transit",
        eid=j.SHRIMP_EXCURSION_EVENT_ID,
        extra={
            "sensorElementList": [
                {
                    "sensorMetadata": {
                        "startTime": f"2026-09-17T07:00:00{VN}",
                        "endTime": f"2026-09-17T17:00:00{VN}",
                        "deviceID": "urn:epc:id:giai:893614310.REEFER69C0415",
                    },
                    "sensorReport": [_temperature(t, v) for t, v in readings],
                }
            ],
            "tx:temperatureLimitCel": j.SHRIMP_TEMPERATURE_LIMIT_CEL,
        },
    )
    book.move(
        PHUONGNAM,
        "shrimp/truck/receive",
        "2026-09-17T19:30:00",
        shipping=False,
        source=cold,
        destination=cat_lai,
        epcs=j.SHRIMP_PALLETS,
        transactions=sale,
    )
    export = [
        biz_tx("po", IMPORTER, "HF-PO-2026-0977"),
        biz_tx("inv", PHUONGNAM, "HD-PN-260918-02"),
        biz_tx("bol", PHUONGNAM, "BL-SGN-RTM-260918-3"),
    ]
    book.move(
        PHUONGNAM,
        "shrimp/export/ship",
        "2026-09-18T16:00:00",
        shipping=True,
        source=cat_lai,
        destination=(IMPORTER, 2),
        epcs=j.SHRIMP_PALLETS,
        transactions=export,
    )
    book.move(
        IMPORTER,
        "shrimp/export/receive",
        "2026-10-21T09:00:00",
        shipping=False,
        source=cat_lai,
        destination=(IMPORTER, 2),
        epcs=j.SHRIMP_PALLETS,
        transactions=export,
        offset=NL_SUMMER,
    )


BAVI, PHOHIEN, THANGLONG = "HTX-BOSUA-BAVI", "PHOHIEN-MILK", "THANGLONG-DIST"


def milk(book: Journal) -> None:
    """Raw milk lots → UHT factory → pallets → distributor → two supermarkets."""
    raw_s, raw_c = j.MILK_RAW_LOTS
    sweet, plain = j.MILK_FINISHED_LOTS
    for key, time, lot, litres in (
        ("S", "2026-09-15T06:30:00", raw_s, 12000),
        ("C", "2026-09-15T16:30:00", raw_c, 9000),
    ):
        book.commission(
            BAVI,
            f"milk/collect/{key}",
            time,
            place(BAVI, 3),
            _lot("RAW-MILK", lot.rsplit("/", 1)[1]),
            (litres, "LTR"),
            {"cbvmda:bestBeforeDate": "2026-09-17", "cbvmda:countryOfOrigin": "VN"},
            extra={"tx:activity": "collecting"},
        )
    raw = [qty(raw_s, 12000, "LTR"), qty(raw_c, 9000, "LTR")]
    tanker = [biz_tx("po", PHOHIEN, "PH-PO-2609-15"), biz_tx("desadv", BAVI, "BV-GH-260915")]
    for shipping, time in ((True, "2026-09-15T18:00:00"), (False, "2026-09-15T20:30:00")):
        book.move(
            BAVI if shipping else PHOHIEN,
            f"milk/tanker/{'ship' if shipping else 'receive'}",
            time,
            shipping=shipping,
            source=(BAVI, 3),
            destination=(PHOHIEN, 2),
            quantities=raw,
            transactions=tanker,
        )
    book.transform(
        PHOHIEN,
        "milk/uht",
        "2026-09-16T08:00:00",
        place(PHOHIEN, 2),
        raw,
        [qty(sweet, 10800, "LTR"), qty(plain, 8000, "LTR")],
        {
            "cbvmda:itemExpirationDate": "2027-03-16",
            "cbvmda:bestBeforeDate": "2027-03-16",
            "cbvmda:countryOfOrigin": "VN",
        },
        order="LSX-PH-260916",
    )
    warehouse = place(PHOHIEN, 3)
    loads = ((j.MILK_PALLETS[0], sweet, 864), (j.MILK_PALLETS[1], plain, 960))
    for i, (pallet, lot, litres) in enumerate(loads, start=1):
        book.palletize(
            PHOHIEN,
            f"milk/pallet/{i}",
            f"2026-09-16T1{i + 4}:00:00",
            warehouse,
            pallet,
            [qty(lot, litres, "LTR")],
        )
    order = [
        biz_tx("po", THANGLONG, "TL-PO-260917-4"),
        biz_tx("inv", PHOHIEN, "HD-PH-260917-22"),
        biz_tx("desadv", PHOHIEN, "ASN-PH-260917-22"),
    ]
    for shipping, time in ((True, "2026-09-17T06:00:00"), (False, "2026-09-17T09:30:00")):
        book.move(
            PHOHIEN if shipping else THANGLONG,
            f"milk/dc/{'ship' if shipping else 'receive'}",
            time,
            shipping=shipping,
            source=(PHOHIEN, 3),
            destination=(THANGLONG, 2),
            epcs=j.MILK_PALLETS,
            transactions=order,
        )
    dc = place(THANGLONG, 2)
    for i, (pallet, lot, litres) in enumerate(loads, start=1):
        book.palletize(
            THANGLONG,
            f"milk/unpack/{i}",
            f"2026-09-18T0{i + 5}:00:00",
            dc,
            pallet,
            [qty(lot, litres, "LTR")],
            action="DELETE",
        )
    for ref, store in ((2, "caugiay"), (3, "longbien")):
        delivered = [qty(sweet, 432, "LTR"), qty(plain, 480, "LTR")]
        transactions = [
            biz_tx("po", HONGHA, f"HH-PO-260918-{ref}"),
            biz_tx("desadv", THANGLONG, f"TL-GH-260918-{ref}"),
        ]
        for shipping, time in ((True, "2026-09-18T10:00:00"), (False, "2026-09-18T13:00:00")):
            book.move(
                THANGLONG if shipping else HONGHA,
                f"milk/{store}/{'ship' if shipping else 'receive'}",
                time,
                shipping=shipping,
                source=(THANGLONG, 2),
                destination=(HONGHA, ref),
                quantities=delivered,
                transactions=transactions,
                disposition=None if shipping else "sellable_accessible",
            )


BREWERY, MALTSTER, HOPS, RICE = "SONGHONG-BREWERY", "VIETUC-MALT", "PHUONGBAC-HOPS", "HTX-GAO-YENMY"
BEV_DIST, PHOXANH = "HANOI-BEV-DIST", "PHOXANH-MART"


def beer(book: Journal) -> None:
    """Malt, hops and rice lots → three brews → pallets → distributor → retail stores.

    Malt lot A goes into beer lots 1 and 2 only, malt lot B into lot 3 only; hops and rice
    go into all three. Each pallet travels in its own shipment, so a recall of one malt lot
    reaches exactly its own beer lots, pallets and stores.
    """
    malt_a, malt_b = j.BEER_MALT_LOT_A, j.BEER_MALT_LOT_B
    supplies = (
        (
            MALTSTER,
            "malt-a",
            "2026-02-20T15:00:00",
            malt_a,
            12000,
            {"cbvmda:countryOfOrigin": "AU", "cbvmda:itemExpirationDate": "2027-02-20"},
        ),
        (
            MALTSTER,
            "malt-b",
            "2026-02-27T15:00:00",
            malt_b,
            9000,
            {"cbvmda:countryOfOrigin": "AU", "cbvmda:itemExpirationDate": "2027-02-27"},
        ),
        (
            HOPS,
            "hops",
            "2026-01-15T10:00:00",
            j.BEER_HOPS_LOT,
            200,
            {"cbvmda:countryOfOrigin": "CZ", "cbvmda:itemExpirationDate": "2028-01-15"},
        ),
        (
            RICE,
            "rice",
            "2026-02-10T09:00:00",
            j.BEER_RICE_LOT,
            8000,
            {
                "cbvmda:countryOfOrigin": "VN",
                "cbvmda:harvestStartDate": "2025-10-05",
                "cbvmda:bestBeforeDate": "2026-08-10",
            },
        ),
    )
    product_of = {MALTSTER: "MALT-PILSNER", HOPS: "HOPS-SAAZ", RICE: "RICE-BREWING"}
    for org, key, time, lot, kilos, ilmd in supplies:
        book.commission(
            org,
            f"beer/{key}/make",
            time,
            place(org, 2),
            _lot(product_of[org], lot.rsplit("/", 1)[1]),
            (kilos, "KGM"),
            ilmd,
        )
    deliveries = (
        (MALTSTER, "malt-a", "2026-03-02", malt_a, 12000, "SH-PO-2602-11"),
        (MALTSTER, "malt-b", "2026-03-09", malt_b, 9000, "SH-PO-2603-02"),
        (HOPS, "hops", "2026-03-03", j.BEER_HOPS_LOT, 150, "SH-PO-2602-14"),
        (RICE, "rice", "2026-03-04", j.BEER_RICE_LOT, 6000, "SH-PO-2602-19"),
    )
    brewhouse = (BREWERY, 2)
    for org, key, day, lot, kilos, po in deliveries:
        transactions = [biz_tx("po", BREWERY, po), biz_tx("desadv", org, f"GH-{po[6:]}")]
        for shipping, at in ((True, f"{day}T07:30:00"), (False, f"{day}T14:00:00")):
            book.move(
                org if shipping else BREWERY,
                f"beer/{key}/{'ship' if shipping else 'receive'}",
                at,
                shipping=shipping,
                source=(org, 2),
                destination=brewhouse,
                quantities=[qty(lot, kilos, "KGM")],
                transactions=transactions,
            )
    brews = (
        ("L01", "2026-04-10", "2026-03-10", malt_a, 4000, 40, 2000, 0, "BEER-LAGER-330", 90000),
        ("L02", "2026-04-12", "2026-03-12", malt_a, 4000, 40, 2000, 1, "BEER-LAGER-330", 90000),
        ("P03", "2026-04-16", "2026-03-16", malt_b, 4000, 45, 1800, 2, "BEER-PREMIUM-450", 60000),
    )
    for name, day, brewed, malt, malt_kg, hops_kg, rice_kg, i, product, units in brews:
        beer_lot = j.BEER_LOTS[i]
        number = beer_lot.rsplit("/", 1)[1]
        book.transform(
            BREWERY,
            f"beer/brew/{name}",
            f"{day}T06:00:00",
            place(*brewhouse),
            [
                qty(malt, malt_kg, "KGM"),
                qty(j.BEER_HOPS_LOT, hops_kg, "KGM"),
                qty(j.BEER_RICE_LOT, rice_kg, "KGM"),
            ],
            [qty(beer_lot, units, "H87")],
            {
                "cbvmda:lotNumber": number,
                "cbvmda:bestBeforeDate": f"2027{day[4:]}",
                "cbvmda:itemExpirationDate": f"2027{day[4:]}",
                "cbvmda:countryOfOrigin": "VN",
                "tx:brewStartDate": brewed,
            },
            order=f"LSX-{number}",
        )
        pallet = j.BEER_PALLETS[i]
        book.palletize(
            BREWERY,
            f"beer/pallet/{name}",
            f"{day}T15:00:00",
            place(BREWERY, 3),
            pallet,
            [qty(beer_lot, 2400 if product == "BEER-LAGER-330" else 1200, "H87")],
        )
        ship_tx = [
            biz_tx("po", BEV_DIST, "HBD-PO-260418"),
            biz_tx("desadv", BREWERY, f"ASN-SH-2604-{i + 1}"),
            biz_tx("inv", BREWERY, f"HD-SH-2604-{i + 1}"),
        ]
        for shipping, time in ((True, "2026-04-20T07:00:00"), (False, "2026-04-20T09:00:00")):
            book.move(
                BREWERY if shipping else BEV_DIST,
                f"beer/{name}/dc/{'ship' if shipping else 'receive'}",
                time,
                shipping=shipping,
                source=(BREWERY, 3),
                destination=(BEV_DIST, 2),
                epcs=[pallet],
                transactions=ship_tx,
            )
        retailer, store_key = j.BEER_STORES[beer_lot]
        store_ref = {"PHOXANH-CAUGIAY": 2, "PHOXANH-LONGBIEN": 3, "HONGHA-CAUGIAY": 2}[store_key]
        store_tx = [
            biz_tx("po", retailer, f"PO-BIA-2604-{i + 1}"),
            biz_tx("desadv", BEV_DIST, f"HBD-GH-2604-{i + 1}"),
        ]
        for shipping, time in ((True, "2026-04-22T06:00:00"), (False, "2026-04-22T08:30:00")):
            book.move(
                BEV_DIST if shipping else retailer,
                f"beer/{name}/store/{'ship' if shipping else 'receive'}",
                time,
                shipping=shipping,
                source=(BEV_DIST, 2),
                destination=(retailer, store_ref),
                epcs=[pallet],
                transactions=store_tx,
                disposition=None if shipping else "sellable_accessible",
            )


CHAINS = (lychee, ocop, shrimp, milk, beer)


def journal() -> dict[str, list[Event]]:
    """Every demo event, per recording organization code."""
    book = Journal()
    for chain in CHAINS:
        chain(book)
    return book.by_org
