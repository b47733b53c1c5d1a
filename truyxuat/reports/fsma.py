"""FSMA 204 electronic sortable spreadsheet: one row per Critical Tracking Event (CTE) of the
traceability lots around a lot, with its Key Data Elements (KDEs), and a glossary sheet.

CTEs are read from the events: a commissioning with a harvest date is a harvest; a
transformation whose inputs were all harvested is the initial packing (the traceability lot
code is assigned there), any other transformation is a transformation; shipping and
receiving are themselves; a receiving step `arriving` is a first land-based receiving; a
`cooling` step (our vocabulary, or the CBV extension) is cooling. A shipment of a pallet
lists the lots packed on it, with their packed quantities.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.db import utcnow
from truyxuat.reports.common import Names, chain_of, dl_pairs, lot_identifier
from truyxuat.trace.graph import TraceEvent, canonical

HARVESTING = "Harvesting"
COOLING = "Cooling"
INITIAL_PACKING = "Initial packing"
FIRST_RECEIVING = "First land-based receiving"
SHIPPING = "Shipping"
RECEIVING = "Receiving"
TRANSFORMATION = "Transformation"

CTE_DEFINITIONS = {
    HARVESTING: "Harvesting of a raw agricultural commodity from a growing area (21 CFR 1.1325).",
    COOLING: "Active temperature reduction of a raw agricultural commodity before initial "
    "packing (21 CFR 1.1330).",
    INITIAL_PACKING: "First packing of a raw agricultural commodity; the traceability lot code "
    "is assigned here (21 CFR 1.1330).",
    FIRST_RECEIVING: "First receiving on land of food caught at sea (21 CFR 1.1335).",
    SHIPPING: "Arranging the transport of food from one location to another (21 CFR 1.1340).",
    RECEIVING: "Receipt of food at a location after transport (21 CFR 1.1345).",
    TRANSFORMATION: "Manufacturing, processing, commingling or repacking that creates a new "
    "traceability lot (21 CFR 1.1350).",
}

# Columns: (KDE header, definition). COMMON columns are filled in every row; the others where
# the CTE carries them (see APPLICABLE).
COLUMNS: list[tuple[str, str]] = [
    ("CTE", "Critical Tracking Event type (see the CTE codes below)."),
    ("Traceability Lot Code", "The lot (GS1 Digital Link of GTIN + lot number)."),
    ("Lot number", "The lot number alone (GS1 AI 10)."),
    ("GTIN", "Global Trade Item Number of the product (GS1 AI 01)."),
    ("Product description", "The product's registered name."),
    ("Quantity", "How much of the lot the event concerns."),
    ("Unit of measure", "UN/CEFACT Rec. 20 code (KGM kilogram, LTR litre, EA each...)."),
    ("Event date", "Date of the event (local date at the event's time zone)."),
    ("Event time", "Time of the event with its UTC offset (ISO 8601)."),
    ("Location description", "Name of the place where the event happened."),
    ("Location GLN", "GLN of that place (with its GLN extension, AI 254, when given)."),
    ("TLC source description", "Name of the place where the traceability lot code was assigned."),
    ("TLC source GLN", "GLN of the place where the traceability lot code was assigned."),
    ("Harvest date", "Date the commodity was harvested (harvesting only)."),
    ("Growing area", "The growing area (field) harvested (harvesting only)."),
    ("Input traceability lot codes", "Lots consumed (initial packing, transformation)."),
    ("Ship-from location", "Where the food was shipped from (shipping, receiving)."),
    ("Ship-to location", "Where the food was shipped to (shipping, receiving)."),
    ("Immediate previous source", "Who shipped the food received (receiving)."),
    ("Reference document type", "Type of the business document (po, desadv, inv...)."),
    ("Reference document number", "Number of the business document."),
    ("Event ID", "The EPCIS eventID (or its canonical hash) the row was read from."),
    ("Recorded by", "The organization that captured the event."),
]
HEADERS = [name for name, _ in COLUMNS]
COMMON = [*HEADERS[:13], "Event ID", "Recorded by"]
APPLICABLE: dict[str, list[str]] = {
    HARVESTING: ["Harvest date", "Growing area"],
    COOLING: [],
    INITIAL_PACKING: ["Input traceability lot codes"],
    TRANSFORMATION: ["Input traceability lot codes"],
    FIRST_RECEIVING: ["Ship-from location", "Reference document type", "Reference document number"],
    SHIPPING: [
        "Ship-from location",
        "Ship-to location",
        "Reference document type",
        "Reference document number",
    ],
    RECEIVING: [
        "Ship-from location",
        "Ship-to location",
        "Immediate previous source",
        "Reference document type",
        "Reference document number",
    ],
}
UNITS = {
    "KGM": "kilogram",
    "GRM": "gram",
    "TNE": "tonne",
    "LTR": "litre",
    "MLT": "millilitre",
    "EA": "each (counted instances)",
}


@dataclass
class FsmaReport:
    """The rows (header → value) and what the glossary explains."""

    lot: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as the API returns it."""
        return {
            "lot": self.lot,
            "columns": HEADERS,
            "rows": self.rows,
            "glossary": {
                "cte": CTE_DEFINITIONS,
                "columns": dict(COLUMNS),
                "units": UNITS,
                "locations": self.locations,
            },
        }


def _quantities(event: TraceEvent) -> dict[str, tuple[float, str]]:
    """Identifier → (quantity, unit) named by an event's quantity lists and EPC lists."""
    found: dict[str, tuple[float, str]] = {}
    for name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        for element in event.event.get(name) or []:
            if isinstance(element, Mapping) and isinstance(element.get("epcClass"), str):
                try:
                    amount = float(element.get("quantity", 0))
                except (TypeError, ValueError):
                    continue
                found[canonical(element["epcClass"])] = (amount, str(element.get("uom") or "EA"))
    return found


def _inputs(event: TraceEvent) -> set[str]:
    """Every input of a transformation, from the event itself (a walk fetches only the
    identifiers it follows)."""
    found = {canonical(e) for e in event.event.get("inputEPCList") or [] if isinstance(e, str)}
    for element in event.event.get("inputQuantityList") or []:
        if isinstance(element, Mapping) and isinstance(element.get("epcClass"), str):
            found.add(canonical(element["epcClass"]))
    return found | event.named(("input", "input_quantity"))


def _references(event: TraceEvent) -> tuple[str, str]:
    """The first business transaction: (type, number)."""
    for element in event.event.get("bizTransactionList") or []:
        if isinstance(element, Mapping) and element.get("bizTransaction"):
            kind = str(element.get("type") or "")
            kind = kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1].removeprefix("BizTransactionType-")
            number = str(element["bizTransaction"])
            number = number.rsplit(":", 1)[-1] if number.startswith("urn:") else number
            return kind, number
    return "", ""


def _ilmd(event: TraceEvent) -> Mapping[str, Any]:
    ilmd = event.event.get("ilmd")
    return ilmd if isinstance(ilmd, Mapping) else {}


def _is_harvest(event: TraceEvent) -> bool:
    ilmd = _ilmd(event)
    return (
        event.event_type == "ObjectEvent"
        and bool(ilmd.get("cbvmda:harvestStartDate") or ilmd.get("tx:growingAreaCode"))
        and (event.action or "") == "ADD"
    )


def _cte(event: TraceEvent, harvested: set[str]) -> str | None:
    """The CTE an event records, or None when it records none (packing onto a pallet...)."""
    step = event.step
    if _is_harvest(event):
        return HARVESTING
    if event.event_type == "TransformationEvent":
        inputs = _inputs(event)
        return INITIAL_PACKING if inputs and inputs <= harvested else TRANSFORMATION
    if step == "cooling" or event.event.get("tx:activity") == "cooling":
        return COOLING
    if step == "shipping":
        return SHIPPING
    if step == "arriving":
        return FIRST_RECEIVING
    if step in ("receiving", "accepting"):
        return RECEIVING
    return None


def _local(moment: datetime, offset: str) -> datetime:
    """The event time at its own UTC offset (+07:00 for Vietnam)."""
    try:
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = offset[1:].split(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
        return moment.astimezone(zone)
    except (ValueError, IndexError):
        return moment


def build(
    db: Session,
    principal: Principal | None,
    lot: str,
    *,
    gtin: str | None = None,
    start: date | None = None,
    end: date | None = None,
    locale: str = "en",
) -> FsmaReport:
    """The sortable spreadsheet rows for a lot's chain, optionally one product and a date range."""
    epc = lot_identifier(lot, gtin)
    chain = chain_of(db, principal, epc)
    events = chain.events
    names = Names(db, events, locale)
    lots = chain.lots()
    harvested: set[str] = set()
    creators: dict[str, TraceEvent] = {}
    contents: dict[str, dict[str, tuple[float, str]]] = {}
    ordered = sorted(events.values(), key=lambda e: (e.event_time, e.event_id))
    for event in ordered:
        if _is_harvest(event):
            harvested |= event.all_named()
        if event.event_type == "ObjectEvent" and (event.action or "") == "ADD":
            # A lot comes into being (harvest, collection, production): its TLC source.
            for ident in event.all_named():
                creators.setdefault(ident, event)
        if event.event_type == "TransformationEvent":
            for ident in event.named(("output", "output_quantity")):
                creators.setdefault(ident, event)
        if event.event_type == "AggregationEvent" and (event.action or "ADD") == "ADD":
            quantities = _quantities(event)
            for parent in event.named(("parent",)):
                packed = contents.setdefault(parent, {})
                for child in event.named(("child", "child_quantity")):
                    packed[child] = quantities.get(child, (1.0, "EA"))
    report = FsmaReport(lot=epc)
    for event in ordered:
        cte = _cte(event, harvested)
        if cte is None:
            continue
        if start and event.event_time.date() < start:
            continue
        if end and event.event_time.date() > end:
            continue
        quantities = _quantities(event)
        subjects: dict[str, tuple[float, str]] = {}
        if cte in (INITIAL_PACKING, TRANSFORMATION):
            named = event.named(("output", "output_quantity"))
        else:
            named = event.all_named()
        for ident in named:
            if ident in lots:
                subjects[ident] = quantities.get(ident, (1.0, "EA"))
            for child, share in contents.get(ident, {}).items():
                if child in lots:
                    subjects.setdefault(child, share)
        inputs = sorted(_inputs(event))
        kind, number = _references(event)
        sources = event.parties("source")
        destinations = event.parties("destination")
        place = event.place()
        local = _local(event.event_time, event.event.get("eventTimeZoneOffset") or "+00:00")
        for tlc, (amount, unit) in sorted(subjects.items()):
            pairs = dl_pairs(tlc)
            if gtin and pairs.get("01") != gtin.zfill(14):
                continue
            creator = creators.get(tlc)
            creator_place = creator.place() if creator else None
            ilmd = _ilmd(event)
            area_code = ilmd.get("tx:growingAreaCode") or dl_pairs(place or "").get("254")
            area = names.area(area_code if isinstance(area_code, str) else None)
            row: dict[str, Any] = dict.fromkeys(HEADERS, "")
            row.update(
                {
                    "CTE": cte,
                    "Traceability Lot Code": tlc,
                    "Lot number": pairs.get("10") or pairs.get("21", ""),
                    "GTIN": pairs.get("01", ""),
                    "Product description": names.product(pairs.get("01")),
                    "Quantity": amount,
                    "Unit of measure": unit,
                    "Event date": local.date().isoformat(),
                    "Event time": local.isoformat(),
                    "Location description": names.place(place),
                    "Location GLN": names.gln_of(place),
                    "TLC source description": names.place(creator_place),
                    "TLC source GLN": names.gln_of(creator_place),
                    "Event ID": event.event_id,
                    "Recorded by": names.org_name(event.org_id),
                }
            )
            if cte == HARVESTING:
                row["Harvest date"] = str(ilmd.get("cbvmda:harvestStartDate") or local.date())
                # Without a registered growing area, the harvest location stands for the field.
                row["Growing area"] = (
                    f"{area.code} — {area.name}".strip(" —")
                    if area
                    else str(area_code or names.place(place))
                )
            if cte in (INITIAL_PACKING, TRANSFORMATION):
                row["Input traceability lot codes"] = " ".join(inputs)
            if cte in (SHIPPING, RECEIVING, FIRST_RECEIVING):
                row["Ship-from location"] = " ".join(names.place(s) for s in sources)
                row["Ship-to location"] = " ".join(names.place(d) for d in destinations)
                row["Reference document type"] = kind
                row["Reference document number"] = number
            if cte == RECEIVING:
                row["Immediate previous source"] = " ".join(names.place(s) for s in sources)
            report.rows.append(row)
            for value in [place, creator_place, *sources, *destinations]:
                if value:
                    report.locations[names.gln_of(value) or value] = names.place(value)
    return report


def to_csv(report: FsmaReport) -> str:
    """The rows as CSV (UTF-8, header row first)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(report.rows)
    return buffer.getvalue()


def to_xlsx(report: FsmaReport) -> bytes:
    """The sortable spreadsheet: a filterable table of the CTEs and a glossary sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "FSMA 204"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    for row in report.rows:
        sheet.append([row[h] for h in HEADERS])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{max(len(report.rows) + 1, 1)}"
    for index, header in enumerate(HEADERS, start=1):
        width = max([len(header)] + [len(str(r[header])) for r in report.rows[:200]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 10), 60)
    glossary = book.create_sheet("Glossary")
    glossary.append(["Section", "Code", "Meaning"])
    for cell in glossary[1]:
        cell.font = bold
        cell.fill = fill
    for code, meaning in CTE_DEFINITIONS.items():
        glossary.append(["CTE", code, meaning])
    for code, meaning in COLUMNS:
        glossary.append(["KDE column", code, meaning])
    for code, meaning in UNITS.items():
        glossary.append(["Unit of measure", code, meaning])
    for code, meaning in sorted(report.locations.items()):
        glossary.append(["Location", code, meaning])
    glossary.append(["Report", "Traceability lot", report.lot])
    glossary.append(["Report", "Generated", utcnow().isoformat()])
    for letter, width in (("A", 18), ("B", 34), ("C", 90)):
        glossary.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
