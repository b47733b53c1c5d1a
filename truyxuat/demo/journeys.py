"""The well-known identifiers of the demo journeys, for tests and walkthroughs to import.

`truyxuat demo load` captures EPCIS events that move these lots and pallets along the five
example chains; the names here stay stable so other tests can assert exact trace and recall
results. Identifiers are GS1 Digital Links on https://id.gs1.org (lots `/01/{gtin14}/10/{lot}`,
pallets `/00/{sscc}`, locations `/414/{gln}`, parties `/417/{gln}`), built from the demo
organizations' made-up GS1 Company Prefixes with valid check digits.

`DEMO_TRACE` sums the journeys up (see its docstring); `DEMO_STAMPS` lists the stamp runs the
demo issues, with their serials (and PINs for anti-counterfeit stamps), known in advance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from truyxuat.gs1 import gs1_check_digit, make_gln, make_gtin13

DIGITAL_LINK = "https://id.gs1.org"

# --- GS1 Company Prefixes of the demo organizations (same values as the chain modules) ------

PREFIX = {
    "HTX-VT-KIENLAO": "893605412",
    "HTX-VT-NAMDUONG": "893605417",
    "LUCNGAN-EXPORT": "893538621",
    "HOLLANDIA-IMPORT": "8719874",
    "HALONG-FOOD": "893612730",
    "HTX-MIEN-LUCHON": "893612918",
    "HTX-TOM-TAMGIANG": "893614205",
    "DATMUI-SEAFOOD": "893614310",
    "PHUONGNAM-EXIM": "893614488",
    "HTX-BOSUA-BAVI": "893609802",
    "PHOHIEN-MILK": "893609711",
    "THANGLONG-DIST": "893609915",
    "HONGHA-MART": "893609988",
    "SONGHONG-BREWERY": "893610204",
    "VIETUC-MALT": "893610317",
    "PHUONGBAC-HOPS": "893610425",
    "HTX-GAO-YENMY": "893610533",
    "HANOI-BEV-DIST": "893610641",
    "PHOXANH-MART": "893610759",
}
"""Organization code → GS1 Company Prefix."""


def gtin14(org_code: str, item_ref: int) -> str:
    """The 14-digit GTIN of a demo product (as the registry stores it)."""
    return make_gtin13(PREFIX[org_code], item_ref).zfill(14)


def gln(org_code: str, location_ref: int) -> str:
    """The GLN of a demo organization (ref 1) or one of its facilities / places."""
    return make_gln(PREFIX[org_code], location_ref)


def sscc(org_code: str, serial_ref: int, extension: int = 3) -> str:
    """An 18-digit SSCC under a demo organization's prefix, with its check digit."""
    prefix = PREFIX[org_code]
    body = f"{extension}{prefix}{serial_ref:0{16 - len(prefix)}d}"
    return body + str(gs1_check_digit(body))


def lot_link(gtin: str, lot: str) -> str:
    """A lot as a GS1 Digital Link (AI 01 + AI 10)."""
    return f"{DIGITAL_LINK}/01/{gtin}/10/{quote(lot, safe='')}"


def sscc_link(code: str) -> str:
    """A logistic unit (pallet) as a GS1 Digital Link (AI 00)."""
    return f"{DIGITAL_LINK}/00/{code}"


def location_link(code: str) -> str:
    """A physical location as a GS1 Digital Link (AI 414)."""
    return f"{DIGITAL_LINK}/414/{code}"


def party_link(code: str) -> str:
    """A party (organization) as a GS1 Digital Link (AI 417), for owning_party entries."""
    return f"{DIGITAL_LINK}/417/{code}"


def growing_area_link(org_code: str, area_code: str) -> str:
    """A growing area: its owner's GLN with the area code as GLN extension (AI 254).

    The same form the diary writes (`truyxuat.diary.activities.growing_area_place`).
    """
    return f"{location_link(gln(org_code, 1))}/254/{quote(area_code, safe='')}"


# --- products --------------------------------------------------------------------------------

GTIN = {
    "LYCHEE-FRESH-KIENLAO": gtin14("HTX-VT-KIENLAO", 1),
    "LYCHEE-FRESH-NAMDUONG": gtin14("HTX-VT-NAMDUONG", 1),
    "LYCHEE-5KG": gtin14("LUCNGAN-EXPORT", 101),
    "LYCHEE-1KG": gtin14("LUCNGAN-EXPORT", 102),
    "SQUID-CAKE-500G": gtin14("HALONG-FOOD", 1),
    "SQUID-CAKE-1KG": gtin14("HALONG-FOOD", 2),
    "CANNA-VERMICELLI": gtin14("HTX-MIEN-LUCHON", 1),
    "RAW-BLACK-TIGER": gtin14("HTX-TOM-TAMGIANG", 2),
    "BLACK-TIGER-HOSO": gtin14("DATMUI-SEAFOOD", 1),
    "RAW-MILK": gtin14("HTX-BOSUA-BAVI", 1),
    "UHT-SWEET-180": gtin14("PHOHIEN-MILK", 1),
    "UHT-PLAIN-1L": gtin14("PHOHIEN-MILK", 2),
    "BEER-LAGER-330": gtin14("SONGHONG-BREWERY", 1),
    "BEER-PREMIUM-450": gtin14("SONGHONG-BREWERY", 2),
    "MALT-PILSNER": gtin14("VIETUC-MALT", 1),
    "HOPS-SAAZ": gtin14("PHUONGBAC-HOPS", 1),
    "RICE-BREWING": gtin14("HTX-GAO-YENMY", 1),
}
"""Demo product key → GTIN-14 of the products the journeys move."""

# --- lychee (Bắc Ninh → EU) ------------------------------------------------------------------

LYCHEE_HARVEST_LOTS = {
    "VN-BNOR-0101": lot_link(GTIN["LYCHEE-FRESH-KIENLAO"], "KL260608-0101"),
    "VN-BNOR-0102": lot_link(GTIN["LYCHEE-FRESH-KIENLAO"], "KL260608-0102"),
    "VN-BNOR-0103": lot_link(GTIN["LYCHEE-FRESH-NAMDUONG"], "ND260607-0103"),
}
"""Growing-area code → the harvest lot picked there (June 2026)."""
LYCHEE_EXPORT_LOT = lot_link(GTIN["LYCHEE-5KG"], "LN260609-EU01")
"""Packed export lot (5 kg cartons) made from the harvest lots of VN-BNOR-0101 and -0102."""
LYCHEE_DOMESTIC_LOT = lot_link(GTIN["LYCHEE-1KG"], "LN260609-VN01")
"""Packed domestic lot (1 kg punnets) made from the harvest lot of VN-BNOR-0103."""
LYCHEE_EXPORT_PALLETS = (
    sscc_link(sscc("LUCNGAN-EXPORT", 2606001)),
    sscc_link(sscc("LUCNGAN-EXPORT", 2606002)),
)
"""The two pallets the export lot is packed onto, flown to the EU importer."""
LYCHEE_EXPORT_PALLET = LYCHEE_EXPORT_PALLETS[0]
LYCHEE_IMPORTER = "HOLLANDIA-IMPORT"
"""Organization code of the EU (Rotterdam) importer receiving the export pallets."""

# --- Quảng Ninh OCOP -------------------------------------------------------------------------

OCOP_SQUID_LOT = lot_link(GTIN["SQUID-CAKE-500G"], "CM260915-01")
"""Squid-cake lot (500 g boxes) carrying anti-counterfeit stamps with PINs."""
OCOP_SQUID_1KG_LOT = lot_link(GTIN["SQUID-CAKE-1KG"], "CM260915-02")
OCOP_VERMICELLI_LOT = lot_link(GTIN["CANNA-VERMICELLI"], "MD261020-01")
"""Canna vermicelli lot carrying QR stamps (some activated, some voided, some not yet)."""

# --- Cà Mau shrimp ---------------------------------------------------------------------------

SHRIMP_POND_LOTS = {
    "TAMGIANG-POND-1": lot_link(GTIN["RAW-BLACK-TIGER"], "TG260914-AO1"),
    "TAMGIANG-POND-2": lot_link(GTIN["RAW-BLACK-TIGER"], "TG260914-AO2"),
}
"""Pond facility key → the raw shrimp lot harvested there."""
SHRIMP_EXPORT_LOT = lot_link(GTIN["BLACK-TIGER-HOSO"], "DM260915-HS01")
"""Frozen HOSO lot processed from both pond lots."""
SHRIMP_PALLETS = (
    sscc_link(sscc("DATMUI-SEAFOOD", 2609001)),
    sscc_link(sscc("DATMUI-SEAFOOD", 2609002)),
)
SHRIMP_EXCURSION_EVENT_ID = "urn:uuid:5b0f9f64-1d6e-5c55-9b7a-0a3e2c260917"
"""The reefer-truck event whose temperature readings rise above the −18 °C limit once."""
SHRIMP_TEMPERATURE_LIMIT_CEL = -18.0
SHRIMP_EXCURSION_MAX_CEL = -14.5

# --- processed milk --------------------------------------------------------------------------

MILK_RAW_LOTS = (
    lot_link(GTIN["RAW-MILK"], "BV260915-S"),
    lot_link(GTIN["RAW-MILK"], "BV260915-C"),
)
"""Morning and afternoon raw milk collection lots from Ba Vì."""
MILK_FINISHED_LOTS = (
    lot_link(GTIN["UHT-SWEET-180"], "PH260916-S180"),
    lot_link(GTIN["UHT-PLAIN-1L"], "PH260916-K1L"),
)
"""UHT lots made from both raw lots in one transformation."""
MILK_PALLETS = (
    sscc_link(sscc("PHOHIEN-MILK", 2609161)),
    sscc_link(sscc("PHOHIEN-MILK", 2609162)),
)
"""Pallet 1 holds the 180 ml lot, pallet 2 the 1 L lot."""

# --- beer (MOIT mandatory group) -------------------------------------------------------------

BEER_MALT_LOT_A = lot_link(GTIN["MALT-PILSNER"], "MA2602-A01")
BEER_MALT_LOT_B = lot_link(GTIN["MALT-PILSNER"], "MA2602-B02")
BEER_HOPS_LOT = lot_link(GTIN["HOPS-SAAZ"], "HP2601-S01")
BEER_RICE_LOT = lot_link(GTIN["RICE-BREWING"], "GR2602-T01")
BEER_LOTS = (
    lot_link(GTIN["BEER-LAGER-330"], "SH260410-L01"),
    lot_link(GTIN["BEER-LAGER-330"], "SH260412-L02"),
    lot_link(GTIN["BEER-PREMIUM-450"], "SH260416-P03"),
)
"""Beer lots 1 and 2 are brewed with malt lot A, lot 3 with malt lot B; all use the hops and
rice lots."""
BEER_INPUTS = {
    BEER_LOTS[0]: (BEER_MALT_LOT_A, BEER_HOPS_LOT, BEER_RICE_LOT),
    BEER_LOTS[1]: (BEER_MALT_LOT_A, BEER_HOPS_LOT, BEER_RICE_LOT),
    BEER_LOTS[2]: (BEER_MALT_LOT_B, BEER_HOPS_LOT, BEER_RICE_LOT),
}
"""Beer lot → the ingredient lots its brewing TransformationEvent consumed."""
BEER_PALLETS = (
    sscc_link(sscc("SONGHONG-BREWERY", 2604101)),
    sscc_link(sscc("SONGHONG-BREWERY", 2604121)),
    sscc_link(sscc("SONGHONG-BREWERY", 2604161)),
)
"""One pallet per beer lot, in the order of `BEER_LOTS`."""
BEER_STORES = {
    BEER_LOTS[0]: ("PHOXANH-MART", "PHOXANH-CAUGIAY"),
    BEER_LOTS[1]: ("HONGHA-MART", "HONGHA-CAUGIAY"),
    BEER_LOTS[2]: ("PHOXANH-MART", "PHOXANH-LONGBIEN"),
}
"""Beer lot → (retail organization code, store facility key) that received its pallet."""


# --- stamps ----------------------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _serial(seed: str, n: int) -> str:
    """A demo serial: 12 Crockford base32 characters derived from the run and position."""
    digest = hashlib.sha256(f"truyxuat-demo|{seed}|{n}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    return "".join(CROCKFORD[(number >> (5 * i)) & 31] for i in range(12))


def _pin(seed: str, n: int) -> str:
    """A demo PIN: 8 digits derived from the run and position (demo data only)."""
    digest = hashlib.sha256(f"truyxuat-demo-pin|{seed}|{n}".encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**8:08d}"


@dataclass(frozen=True)
class DemoStampRun:
    """A stamp run the demo issues: serials in issue order, which are activated or voided.

    `activated` and `voided` are 1-based inclusive seq ranges (or None); a voided stamp may
    have been activated first. Stamps in neither range stay generated (never activated).
    """

    key: str
    org_code: str
    product_key: str
    lot: str
    kind: str
    count: int
    activated: tuple[int, int] | None
    voided: tuple[int, int] | None
    void_reason: str = ""

    @property
    def gtin(self) -> str:
        """The run's GTIN-14."""
        return GTIN[self.product_key]

    @property
    def serials(self) -> tuple[str, ...]:
        """The serials, in issue order (seq 1 first)."""
        return tuple(_serial(self.key, n) for n in range(1, self.count + 1))

    @property
    def pins(self) -> dict[str, str]:
        """Serial → PIN for anti-counterfeit runs (empty for QR runs)."""
        if self.kind != "anticounterfeit":
            return {}
        return {s: _pin(self.key, n) for n, s in enumerate(self.serials, start=1)}

    def _in(self, bounds: tuple[int, int] | None) -> tuple[str, ...]:
        if bounds is None:
            return ()
        return self.serials[bounds[0] - 1 : bounds[1]]

    @property
    def voided_serials(self) -> tuple[str, ...]:
        """Serials voided after issue."""
        return self._in(self.voided)

    @property
    def active_serials(self) -> tuple[str, ...]:
        """Serials activated and not voided (what a consumer scan finds genuine)."""
        voided = set(self.voided_serials)
        return tuple(s for s in self._in(self.activated) if s not in voided)

    @property
    def unactivated_serials(self) -> tuple[str, ...]:
        """Serials issued but never activated nor voided."""
        used = set(self._in(self.activated)) | set(self.voided_serials)
        return tuple(s for s in self.serials if s not in used)

    @property
    def lot_link(self) -> str:
        """The lot the stamps are bound to."""
        return lot_link(self.gtin, self.lot)

    def path(self, serial: str) -> str:
        """The resolver path a stamp's QR code carries: /01/{gtin}/10/{lot}/21/{serial}."""
        return f"/01/{self.gtin}/10/{quote(self.lot, safe='')}/21/{quote(serial, safe='')}"


DEMO_STAMPS: tuple[DemoStampRun, ...] = (
    DemoStampRun(
        key="ocop-squid-ac",
        org_code="HALONG-FOOD",
        product_key="SQUID-CAKE-500G",
        lot="CM260915-01",
        kind="anticounterfeit",
        count=20,
        activated=(1, 20),
        voided=(19, 20),
        void_reason="Tem rách khi dán / damaged while applying",
    ),
    DemoStampRun(
        key="ocop-vermicelli-qr",
        org_code="HTX-MIEN-LUCHON",
        product_key="CANNA-VERMICELLI",
        lot="MD261020-01",
        kind="qr",
        count=20,
        activated=(1, 16),
        voided=(17, 18),
        void_reason="Tem in lỗi / misprinted",
    ),
    DemoStampRun(
        key="milk-uht-1l-qr",
        org_code="PHOHIEN-MILK",
        product_key="UHT-PLAIN-1L",
        lot="PH260916-K1L",
        kind="qr",
        count=12,
        activated=(1, 12),
        voided=None,
    ),
    DemoStampRun(
        key="beer-l01-qr",
        org_code="SONGHONG-BREWERY",
        product_key="BEER-LAGER-330",
        lot="SH260410-L01",
        kind="qr",
        count=12,
        activated=(1, 12),
        voided=None,
    ),
    DemoStampRun(
        key="beer-l02-qr",
        org_code="SONGHONG-BREWERY",
        product_key="BEER-LAGER-330",
        lot="SH260412-L02",
        kind="qr",
        count=12,
        activated=(1, 10),
        voided=None,
    ),
    DemoStampRun(
        key="beer-p03-qr",
        org_code="SONGHONG-BREWERY",
        product_key="BEER-PREMIUM-450",
        lot="SH260416-P03",
        kind="qr",
        count=12,
        activated=(1, 12),
        voided=(12, 12),
        void_reason="Chai vỡ / broken bottle",
    ),
)
"""Every stamp run the demo issues, with serials and PINs known in advance."""

STAMP_RUNS = {run.key: run for run in DEMO_STAMPS}
OCOP_SQUID_STAMPS = STAMP_RUNS["ocop-squid-ac"]
OCOP_VERMICELLI_STAMPS = STAMP_RUNS["ocop-vermicelli-qr"]
BEER_STAMPS = (STAMP_RUNS["beer-l01-qr"], STAMP_RUNS["beer-l02-qr"], STAMP_RUNS["beer-p03-qr"])
"""Stamp runs of the beer lots, in the order of `BEER_LOTS`."""
NEVER_ISSUED_SERIAL = "ZZZZZZZZZZZZ"
"""A serial no demo run issued (the resolver must call it unknown)."""


def _active(run: DemoStampRun) -> tuple[str, ...]:
    return run.active_serials


DEMO_TRACE: dict[str, Any] = {
    "lychee": {
        "export_pallet": LYCHEE_EXPORT_PALLET,
        "export_pallets": LYCHEE_EXPORT_PALLETS,
        "export_lot": LYCHEE_EXPORT_LOT,
        "export_growing_areas": ("VN-BNOR-0101", "VN-BNOR-0102"),
        "export_harvest_lots": (
            LYCHEE_HARVEST_LOTS["VN-BNOR-0101"],
            LYCHEE_HARVEST_LOTS["VN-BNOR-0102"],
        ),
        "importer": LYCHEE_IMPORTER,
        "importer_gln": gln(LYCHEE_IMPORTER, 1),
        "domestic_lot": LYCHEE_DOMESTIC_LOT,
        "domestic_growing_areas": ("VN-BNOR-0103",),
        "domestic_store": ("HONGHA-MART", "HONGHA-LONGBIEN"),
    },
    "ocop": {
        "squid_lot": OCOP_SQUID_LOT,
        "squid_1kg_lot": OCOP_SQUID_1KG_LOT,
        "vermicelli_lot": OCOP_VERMICELLI_LOT,
        "squid_stamps": OCOP_SQUID_STAMPS,
        "vermicelli_stamps": OCOP_VERMICELLI_STAMPS,
    },
    "shrimp": {
        "pond_lots": SHRIMP_POND_LOTS,
        "export_lot": SHRIMP_EXPORT_LOT,
        "pallets": SHRIMP_PALLETS,
        "excursion_event_id": SHRIMP_EXCURSION_EVENT_ID,
        "limit_cel": SHRIMP_TEMPERATURE_LIMIT_CEL,
        "excursion_max_cel": SHRIMP_EXCURSION_MAX_CEL,
        "importer": LYCHEE_IMPORTER,
    },
    "milk": {
        "raw_lots": MILK_RAW_LOTS,
        "finished_lots": MILK_FINISHED_LOTS,
        "pallets": MILK_PALLETS,
        "distributor": "THANGLONG-DIST",
        "stores": ("HONGHA-CAUGIAY", "HONGHA-LONGBIEN"),
    },
    "beer": {
        "malt_lots": (BEER_MALT_LOT_A, BEER_MALT_LOT_B),
        "hops_lot": BEER_HOPS_LOT,
        "rice_lot": BEER_RICE_LOT,
        "beer_lots": BEER_LOTS,
        "inputs": BEER_INPUTS,
        "pallets": BEER_PALLETS,
        "stores": BEER_STORES,
        "distributor": "HANOI-BEV-DIST",
        # A recall of malt lot A reaches exactly these lots, pallets, recipients and stamps.
        "recall_malt_a": {
            "lots": (BEER_LOTS[0], BEER_LOTS[1]),
            "pallets": (BEER_PALLETS[0], BEER_PALLETS[1]),
            "recipients": ("SONGHONG-BREWERY", "HANOI-BEV-DIST", "PHOXANH-MART", "HONGHA-MART"),
            "active_serials": (*_active(BEER_STAMPS[0]), *_active(BEER_STAMPS[1])),
        },
        "recall_malt_b": {
            "lots": (BEER_LOTS[2],),
            "pallets": (BEER_PALLETS[2],),
            "recipients": ("SONGHONG-BREWERY", "HANOI-BEV-DIST", "PHOXANH-MART"),
            "active_serials": _active(BEER_STAMPS[2]),
        },
    },
}
"""The demo journeys in one mapping, chain → facts a trace or recall must find:

- lychee: `export_pallet` traces back to `export_lot`, `export_harvest_lots` and the growing
  areas `export_growing_areas` (never VN-BNOR-0103), and forward to the `importer`
  organization (receiving at its Rotterdam GLN); the domestic lot goes to a Hồng Hà store.
- ocop: the squid-cake and vermicelli lots and their stamp runs (`DemoStampRun`).
- shrimp: two pond lots → `export_lot` → two pallets → exporter → `importer`; the event
  `excursion_event_id` holds one reading above `limit_cel` (max `excursion_max_cel`).
- milk: both raw lots → both finished lots → pallets → distributor → two stores.
- beer: `inputs` maps each beer lot to its ingredient lots; `recall_malt_a` / `recall_malt_b`
  list exactly what a recall of that malt lot reaches downstream (lots, pallets, recipient
  organizations, activated and not voided stamp serials).
"""


def scan_lines(base: str) -> list[str]:
    """Demo scan addresses on the resolver at `base`, one per line with what each shows."""
    base = base.rstrip("/")
    squid, vermicelli, beer_1 = OCOP_SQUID_STAMPS, OCOP_VERMICELLI_STAMPS, BEER_STAMPS[0]
    good, voided = squid.active_serials[0], squid.voided_serials[0]
    resolver = DIGITAL_LINK
    lines = [
        f"genuine anti-counterfeit stamp (PIN {squid.pins[good]}): {base}{squid.path(good)}",
        f"voided stamp: {base}{squid.path(voided)}",
        f"never activated stamp: {base}{vermicelli.path(vermicelli.unactivated_serials[0])}",
        f"never issued serial: {base}{squid.path(NEVER_ISSUED_SERIAL)}",
        f"beer lot 1 (malt lot A) stamp: {base}{beer_1.path(beer_1.active_serials[0])}",
    ]
    lots = {
        "lychee export lot": LYCHEE_EXPORT_LOT,
        "lychee domestic lot": LYCHEE_DOMESTIC_LOT,
        "shrimp export lot": SHRIMP_EXPORT_LOT,
        "UHT milk 1 L lot": MILK_FINISHED_LOTS[1],
        "beer lot 3 (malt lot B)": BEER_LOTS[2],
    }
    lines.extend(f"{name}: {base}{link.removeprefix(resolver)}" for name, link in lots.items())
    return lines
