"""What every report needs: the lot asked about, the trace around it, and names for places."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE
from truyxuat.errors import N_, invalid
from truyxuat.registry.models import Facility, GrowingArea, Organization, Product
from truyxuat.trace.graph import (
    MAX_DEPTH,
    Direction,
    TraceEvent,
    TraceGraph,
    canonical,
    identifier_kind,
    trace,
)

# Reports follow the whole chain; a chain beyond this many nodes is refused (trace-too-large).
REPORT_MAX_NODES = 20_000


def lot_identifier(lot: str, gtin: str | None = None) -> str:
    """The Digital Link of a lot given as a Digital Link, an EPC URN, or a lot number + GTIN."""
    value = lot.strip()
    if gtin and "/" not in value and ":" not in value:
        value = f"{DIGITAL_LINK_BASE}/01/{gtin.zfill(14)}/10/{quote(value, safe='')}"
    value = canonical(value)
    if identifier_kind(value) not in ("lot", "item", "sscc"):
        raise invalid(
            ["lot"], N_("Give the lot as a Digital Link, an EPC URN, or a lot number with its GTIN")
        )
    return value


@dataclass
class Chain:
    """The backward and forward graphs around one lot, and their events together."""

    start: str
    backward: TraceGraph
    forward: TraceGraph

    @property
    def events(self) -> dict[tuple[uuid.UUID, uuid.UUID], TraceEvent]:
        """Every event of both graphs (an event in both carries the identifiers each walk
        fetched of it)."""
        merged = dict(self.backward.events)
        for key, event in self.forward.events.items():
            seen = merged.get(key)
            if seen is None:
                merged[key] = event
                continue
            roles = {role: set(ids) for role, ids in seen.roles.items()}
            for role, ids in event.roles.items():
                roles.setdefault(role, set()).update(ids)
            merged[key] = replace(seen, roles=roles)
        return merged

    def lots(self) -> set[str]:
        """Lots and items of both graphs."""
        return {
            n.id
            for g in (self.backward, self.forward)
            for n in g.nodes.values()
            if n.kind in ("lot", "item")
        }


def chain_of(
    db: Session, principal: Principal | None, epc: str, *, depth: int = MAX_DEPTH
) -> Chain:
    """The trace both ways from a lot (the caller's view; None is the platform's whole view)."""
    backward = trace(
        db,
        epc,
        Direction.backward,
        principal=principal,
        max_depth=depth,
        max_nodes=REPORT_MAX_NODES,
    )
    forward = trace(
        db,
        epc,
        Direction.forward,
        principal=principal,
        max_depth=depth,
        max_nodes=REPORT_MAX_NODES,
    )
    return Chain(backward.start, backward, forward)


def dl_pairs(value: str) -> dict[str, str]:
    """AI → value of a Digital Link (empty when it is not one)."""
    if not value.startswith(DIGITAL_LINK_BASE + "/"):
        return {}
    parts = value[len(DIGITAL_LINK_BASE) + 1 :].split("?", 1)[0].split("/")
    if len(parts) % 2:
        return {}
    return {ai: unquote(v) for ai, v in zip(parts[::2], parts[1::2], strict=True)}


class Names:
    """Names of the products, places and parties the events refer to, looked up in batches."""

    def __init__(self, db: Session, events: Mapping[Any, TraceEvent], locale: str) -> None:
        """Collects every GTIN, GLN and growing-area code of the events and looks them up."""
        gtins: set[str] = set()
        glns: set[str] = set()
        codes: set[str] = set()
        for event in events.values():
            for ident in event.all_named():
                gtin = dl_pairs(ident).get("01")
                if gtin:
                    gtins.add(gtin)
            values = [event.place() or ""]
            values += event.parties("source") + event.parties("destination")
            for value in values:
                pairs = dl_pairs(value)
                gln = pairs.get("414") or pairs.get("417")
                if gln:
                    glns.add(gln)
                if "254" in pairs:
                    codes.add(pairs["254"])
            ilmd = event.event.get("ilmd")
            if isinstance(ilmd, Mapping) and isinstance(ilmd.get("tx:growingAreaCode"), str):
                codes.add(ilmd["tx:growingAreaCode"])
        self.locale = locale
        self.products = {
            p.gtin: p for p in db.scalars(select(Product).where(Product.gtin.in_(gtins)))
        }
        self.orgs = {
            o.gln: o for o in db.scalars(select(Organization).where(Organization.gln.in_(glns)))
        }
        self.facilities = {
            f.gln: f for f in db.scalars(select(Facility).where(Facility.gln.in_(glns)))
        }
        self.areas = {
            a.code: a for a in db.scalars(select(GrowingArea).where(GrowingArea.code.in_(codes)))
        }
        org_ids = {a.org_id for a in self.areas.values()} | {e.org_id for e in events.values()}
        org_ids |= {f.org_id for f in self.facilities.values()}
        self.orgs_by_id = {
            o.id: o for o in db.scalars(select(Organization).where(Organization.id.in_(org_ids)))
        }

    def product(self, gtin: str | None) -> str:
        """A product's name in the report's language (else Vietnamese, else any)."""
        product = self.products.get(gtin or "")
        if product is None:
            return ""
        names = product.names or {}
        return str(names.get(self.locale) or names.get("vi") or next(iter(names.values()), ""))

    def gln_of(self, value: str | None) -> str:
        """The GLN (with its extension, if any) of a location or party identifier."""
        pairs = dl_pairs(value or "")
        gln = pairs.get("414") or pairs.get("417") or ""
        return f"{gln}/{pairs['254']}" if gln and "254" in pairs else gln

    def place(self, value: str | None) -> str:
        """A readable name for a location or party identifier (the identifier when unknown)."""
        if not value:
            return ""
        pairs = dl_pairs(value)
        if "254" in pairs and pairs["254"] in self.areas:
            area = self.areas[pairs["254"]]
            return area.name or area.code
        gln = pairs.get("414") or pairs.get("417")
        if gln in self.facilities:
            return self.facilities[gln].name
        if gln in self.orgs:
            return self.orgs[gln].name
        return value

    def org_name(self, org_id: uuid.UUID) -> str:
        """The name of an organization that captured an event."""
        org = self.orgs_by_id.get(org_id)
        return org.name if org else str(org_id)

    def area(self, code: str | None) -> GrowingArea | None:
        """A growing area by code."""
        return self.areas.get(code or "")


def table_xlsx(title: str, headers: list[str], rows: list[dict[str, Any]]) -> bytes:
    """A one-sheet workbook: a bold header row, filters, frozen header."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table_csv(headers: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header row."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
