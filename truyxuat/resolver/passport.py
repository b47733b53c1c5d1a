"""The product passport: what a consumer sees for a product, a lot or one stamped item.

Everything is read in a handful of indexed queries: the product with its producer, the stamp,
the events naming the item or its lot (through the identifier index, by value, as a trace
does), one hop upstream through the transformation that made the lot (the harvest), the
cultivation events at the growing area before harvest, the places and organizations named,
and the certificates. The journey is built from those events; the lot's dates from their ILMD.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import unquote

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from truyxuat.epcis.epc_format import to_digital_link, to_epc_urn
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc
from truyxuat.errors import N_, NotFound
from truyxuat.registry.models import (
    Certification,
    CertScope,
    CodeStatus,
    Facility,
    GrowingArea,
    Organization,
    PackingHouse,
    Product,
    ProductImage,
)
from truyxuat.resolver.items import ItemRead, StampSeen, read_in
from truyxuat.resolver.linkset import ItemKey
from truyxuat.stamps.models import Stamp

MAX_EVENTS = 60
MAX_CULTIVATION = 20
_GLN_DL = re.compile(r"/414/(\d{13})(?:/254/([^/?#]+))?")
_AREA_URI = re.compile(r"/growing-area/([^/?#]+)$")
# Journey labels by CBV business step (the tail of its URI) and our diary's own steps.
STEP_LABELS = {
    "commissioning": N_("Produced"),
    "harvest": N_("Harvest"),
    "packing": N_("Packed"),
    "transforming": N_("Processed"),
    "creating_class_instance": N_("Processed"),
    "shipping": N_("Shipped"),
    "departing": N_("Shipped"),
    "receiving": N_("Received"),
    "arriving": N_("Received"),
    "accepting": N_("Received"),
    "storing": N_("Stored"),
    "inspecting": N_("Inspected"),
    "stocking": N_("In store"),
    "retail_selling": N_("Sold in store"),
    "sowing": N_("Sowing / planting"),
    "fertilizing": N_("Fertilizing"),
    "spraying": N_("Spraying"),
    "irrigation": N_("Irrigation"),
}
DATE_FIELDS = {
    "harvestStartDate": "harvest",
    "harvestEndDate": "harvest_end",
    "productionDate": "production",
    "itemExpirationDate": "expiry",
    "bestBeforeDate": "best_before",
    "sellByDate": "sell_by",
}


@dataclass(frozen=True)
class Certificate:
    """A certificate shown on the passport with its validity today."""

    id: uuid.UUID
    scheme: str
    name: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date
    status: str  # valid | expired | revoked | suspended | not_yet
    scope: str


@dataclass(frozen=True)
class Step:
    """One stop of the item's journey."""

    at: datetime
    offset: str
    term: str
    label: str
    place: str
    org: str
    quantity: str
    event_hash: str


@dataclass(frozen=True)
class AreaMap:
    """A growing area with its outline drawn as inline SVG (no map tiles)."""

    code: str
    name: str
    crop: str
    variety: str
    area_ha: float
    latitude: float
    longitude: float
    svg_path: str
    svg_point: tuple[float, float] | None
    status: str


@dataclass(frozen=True)
class PackingHouseCode:
    """A packing-house code of a facility the lot passed through, with its status."""

    code: str
    name: str
    status: str


@dataclass
class LotPart:
    """The part of a passport shared by every item of a lot (what the cache keeps)."""

    image_id: uuid.UUID | None = None
    facilities: list[Facility] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    area: AreaMap | None = None
    packing_houses: list[PackingHouseCode] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)
    last_event_hash: str | None = None


class Cache(Protocol):
    """Where `load` keeps products and lot parts between requests."""

    def get(self, key: tuple[Any, ...]) -> Any: ...

    def put(self, key: tuple[Any, ...], value: Any, seconds: float | None = None) -> None: ...

    def __bool__(self) -> bool: ...


@dataclass
class Passport:
    """Everything the passport page, the linkset and the embed need about one key."""

    key: ItemKey
    product: Product
    producer: Organization
    stamp: StampSeen | None
    image_id: uuid.UUID | None = None
    facilities: list[Facility] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    area: AreaMap | None = None
    packing_houses: list[PackingHouseCode] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)
    last_event_hash: str | None = None
    # True when the journey is the lot's (shared by its items), False for an item's own.
    shared: bool = True
    # The serial's scans (count, first, located), read with the stamp in one query.
    scan_counts: tuple[int, datetime | None, int] | None = None

    @property
    def lot(self) -> str | None:
        """The lot asked for, else the lot printed on the stamp."""
        return self.key.lot or (self.stamp.lot if self.stamp else None)

    def name(self, locale: str) -> str:
        """The product's name in `locale`, else Vietnamese, else any."""
        names = self.product.names or {}
        return str(names.get(locale) or names.get("vi") or next(iter(names.values()), ""))

    def description(self, locale: str) -> str:
        """The product's description in `locale`, else Vietnamese."""
        texts = self.product.descriptions or {}
        return str(texts.get(locale) or texts.get("vi") or "")


def load_product(db: Session, gtin: str) -> tuple[Product, Organization]:
    """The product of a GTIN with its producer; NotFound when nobody registered it."""
    row = db.execute(
        select(Product, Organization)
        .join(Organization, Organization.id == Product.org_id)
        .where(Product.gtin == gtin)
    ).first()
    if row is None:
        raise NotFound(N_("No product is registered under GTIN {gtin}"), gtin=gtin)
    return row[0], row[1]


def cached_product(
    session: Callable[[], Session], gtin: str, cache: Cache | None = None
) -> tuple[Product, Organization]:
    """`load_product` through the cache (`session` is called on a miss only)."""
    found = cache.get(("product", gtin)) if cache else None
    if found is None:
        db = session()
        found = load_product(db, gtin)
        if cache:
            # Detached, so no other request's rollback can expire what the cache holds.
            db.expunge(found[0])
            db.expunge(found[1])
            cache.put(("product", gtin), found)
    return found


def load_stamp(db: Session, key: ItemKey) -> StampSeen | None:
    """The stamp printed with this GTIN and serial (unique per GTIN), if it was issued."""
    if not key.serial:
        return None
    stamp = db.scalar(select(Stamp).where(Stamp.gtin == key.gtin, Stamp.serial == key.serial))
    return StampSeen.of(stamp) if stamp is not None else None


def identifiers(key: ItemKey, lot: str | None, prefix: str | None) -> list[str]:
    """The forms an event may name the item or its lot by: Digital Link and EPC URN."""
    found: list[str] = []
    prefixes = [prefix] if prefix else []
    if key.serial:
        item = ItemKey(key.gtin, None, key.serial).uri()
        found += [item, to_epc_urn(item, prefixes)]
    if lot:
        lot_uri = ItemKey(key.gtin, lot).uri()
        found += [lot_uri, to_epc_urn(lot_uri, prefixes)]
    return list(dict.fromkeys(found))


def _events(db: Session, epcs: Iterable[str], roles: tuple[str, ...] = ()) -> list[EpcisEvent]:
    """The events naming any of `epcs` (any role unless told), oldest first."""
    rows = select(EpcisEventEpc.org_id, EpcisEventEpc.event_row_id).where(
        EpcisEventEpc.epc.in_(list(epcs))
    )
    if roles:
        rows = rows.where(EpcisEventEpc.role.in_(roles))
    return list(
        db.scalars(
            select(EpcisEvent)
            .where(
                tuple_(EpcisEvent.org_id, EpcisEvent.id).in_(rows),
                EpcisEvent.error_declared.is_(False),
            )
            .order_by(EpcisEvent.event_time)
            .limit(MAX_EVENTS)
        )
    )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _inputs_of_making(event: Mapping[str, Any], made: set[str]) -> list[str]:
    """The inputs of a transformation that output one of `made` (the lot's upstream)."""
    outputs = set(_list(event.get("outputEPCList")))
    outputs.update(
        q.get("epcClass") for q in _list(event.get("outputQuantityList")) if isinstance(q, dict)
    )
    if not outputs & made:
        return []
    inputs = [e for e in _list(event.get("inputEPCList")) if isinstance(e, str)]
    inputs += [
        q["epcClass"]
        for q in _list(event.get("inputQuantityList"))
        if isinstance(q, dict) and isinstance(q.get("epcClass"), str)
    ]
    return inputs


def term(value: str | None) -> str:
    """The short name of a CBV or custom vocabulary term (`…BizStep-packing` → packing)."""
    if not value:
        return ""
    for sep in ("BizStep-", "bizstep:"):
        if sep in value:
            return value.rsplit(sep, 1)[1]
    return re.split(r"[/:#]", value)[-1]


def _place_keys(uri: str | None) -> tuple[str | None, str | None]:
    """(GLN, growing-area code) named by a readPoint/bizLocation URI."""
    if not uri:
        return None, None
    if uri.startswith("urn:epc:id:sgln:"):
        uri = to_digital_link(uri)
    match = _GLN_DL.search(uri)
    if match:
        return match.group(1), unquote(match.group(2)) if match.group(2) else None
    area = _AREA_URI.search(uri)
    return None, unquote(area.group(1)) if area else None


def _quantity(event: Mapping[str, Any]) -> str:
    for name in ("quantityList", "outputQuantityList", "inputQuantityList"):
        for element in _list(event.get(name)):
            if isinstance(element, dict) and element.get("quantity") is not None:
                amount = element["quantity"]
                text = f"{amount:g}" if isinstance(amount, int | float) else str(amount)
                return f"{text} {element.get('uom', '')}".strip()
    return ""


def _ilmd(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's ILMD with namespace prefixes dropped (`cbvmda:lotNumber` → lotNumber)."""
    ilmd = event.get("ilmd")
    if not isinstance(ilmd, dict):
        return {}
    return {k.rsplit(":", 1)[-1]: v for k, v in ilmd.items()}


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def area_map(area: GrowingArea) -> AreaMap:
    """Projects the area's GeoJSON to a 100×100 SVG viewBox (equirectangular, true aspect)."""
    geometry = area.geometry or {}
    kind = geometry.get("type")
    rings: list[list[list[float]]] = []
    if kind == "Polygon":
        rings = geometry.get("coordinates", [])
    elif kind == "MultiPolygon":
        rings = [ring for polygon in geometry.get("coordinates", []) for ring in polygon]
    points = [p for ring in rings for p in ring]
    if not points:
        return AreaMap(
            area.code,
            area.name,
            area.crop,
            area.variety,
            area.area_ha,
            area.centroid_lat,
            area.centroid_lon,
            "",
            (50.0, 50.0),
            area.status.value,
        )
    scale_x = math.cos(math.radians(area.centroid_lat))
    xs = [p[0] * scale_x for p in points]
    ys = [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-6
    # 8 units of margin on each side of an 84-unit square, the shape centred in it.
    unit = 84 / span
    dx = 8 + (84 - (max(xs) - min(xs)) * unit) / 2
    dy = 8 + (84 - (max(ys) - min(ys)) * unit) / 2

    def xy(p: list[float]) -> str:
        x = dx + (p[0] * scale_x - min(xs)) * unit
        y = dy + (max(ys) - p[1]) * unit
        return f"{x:.1f} {y:.1f}"

    path = " ".join("M" + " L".join(xy(p) for p in ring) + " Z" for ring in rings)
    return AreaMap(
        area.code,
        area.name,
        area.crop,
        area.variety,
        area.area_ha,
        area.centroid_lat,
        area.centroid_lon,
        path,
        None,
        area.status.value,
    )


def _certificates(
    db: Session, scopes: list[tuple[CertScope, uuid.UUID]], today: date
) -> list[Certificate]:
    if not scopes:
        return []
    clauses = [
        and_(Certification.scope_type == kind, Certification.scope_id == scope_id)
        for kind, scope_id in scopes
    ]
    rows = db.scalars(select(Certification).where(or_(*clauses)).order_by(Certification.valid_to))
    found: list[Certificate] = []
    for cert in rows:
        if cert.revoked_at is not None:
            status = "revoked"
        elif cert.suspended_at is not None:
            # Suspended by an inspection's violation until its remedy is verified.
            status = "suspended"
        elif cert.valid_to < today:
            status = "expired"
        elif cert.valid_from > today:
            status = "not_yet"
        else:
            status = "valid"
        found.append(
            Certificate(
                cert.id,
                cert.scheme.value,
                cert.scheme_name or cert.scheme.value.upper(),
                cert.issuer,
                cert.number,
                cert.valid_from,
                cert.valid_to,
                status,
                cert.scope_type.value,
            )
        )
    # Valid ones first, then the rest; newest validity first inside each group.
    found.sort(key=lambda c: (c.status != "valid", -c.valid_to.toordinal()))
    return found


def _packing_houses(db: Session, facility_ids: list[uuid.UUID]) -> list[PackingHouseCode]:
    """The granted (or suspended) packing-house codes of the facilities on the journey."""
    if not facility_ids:
        return []
    rows = db.scalars(
        select(PackingHouse)
        .where(
            PackingHouse.facility_id.in_(facility_ids),
            PackingHouse.status.in_((CodeStatus.approved, CodeStatus.suspended)),
        )
        .order_by(PackingHouse.code)
    )
    return [PackingHouseCode(h.code, h.name, h.status.value) for h in rows]


def _lot_part(
    db: Session,
    key: ItemKey,
    lot: str | None,
    product: Product,
    producer: Organization,
    today: date,
) -> LotPart:
    """Everything about the lot (and the item, for a serial key) that is the same for all."""
    passport = LotPart()
    passport.image_id = db.scalar(
        select(ProductImage.id)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position)
        .limit(1)
    )
    events: list[EpcisEvent] = []
    ids = identifiers(key, lot, producer.gs1_company_prefix)
    if ids:
        events = _events(db, ids)
        made = set(ids)
        upstream = [i for e in events for i in _inputs_of_making(e.event, made) if i not in made]
        if upstream:
            seen = {e.id for e in events}
            events += [e for e in _events(db, upstream) if e.id not in seen]
            events.sort(key=lambda e: e.event_time)
    area_codes: set[str] = set()
    glns: set[str] = set()
    for event in events:
        for uri in (event.read_point, event.biz_location):
            gln, code = _place_keys(uri)
            if gln:
                glns.add(gln)
            if code:
                area_codes.add(code)
        code = _ilmd(event.event).get("growingAreaCode")
        if isinstance(code, str):
            area_codes.add(code)
        for name, kind in DATE_FIELDS.items():
            value = _date(_ilmd(event.event).get(name))
            if value and kind not in passport.dates:
                passport.dates[kind] = value
    area = (
        db.scalar(select(GrowingArea).where(GrowingArea.code.in_(sorted(area_codes))).limit(1))
        if area_codes
        else None
    )
    if area is not None:
        passport.area = area_map(area)
        harvest = next((e for e in events if area.code in _event_area_codes(e)), None)
        if harvest is not None:
            cultivation = db.scalars(
                select(EpcisEvent)
                .where(
                    EpcisEvent.org_id == harvest.org_id,
                    EpcisEvent.biz_location == harvest.biz_location,
                    EpcisEvent.event_time < harvest.event_time,
                    EpcisEvent.event_time > harvest.event_time - timedelta(days=365),
                    EpcisEvent.error_declared.is_(False),
                )
                .order_by(EpcisEvent.event_time.desc())
                .limit(MAX_CULTIVATION)
            )
            known = {e.id for e in events}
            events = sorted(
                [*events, *(e for e in cultivation if e.id not in known)],
                key=lambda e: e.event_time,
            )
    org_ids = {e.org_id for e in events}
    orgs = (
        {
            o.id: o
            for o in db.scalars(
                select(Organization).where(
                    or_(Organization.id.in_(org_ids), Organization.gln.in_(glns))
                )
            )
        }
        if events
        else {producer.id: producer}
    )
    orgs_by_gln = {o.gln: o for o in orgs.values() if o.gln}
    facilities = list(db.scalars(select(Facility).where(Facility.gln.in_(glns)))) if glns else []
    if not facilities:
        facilities = list(
            db.scalars(
                select(Facility).where(Facility.org_id == producer.id).order_by(Facility.name)
            ).all()[:1]
        )
    passport.facilities = facilities
    passport.packing_houses = _packing_houses(db, [f.id for f in facilities])
    by_gln = {f.gln: f for f in facilities if f.gln}
    for event in events:
        body = event.event
        step = term(event.biz_step)
        if step == "commissioning" and "harvestStartDate" in _ilmd(body):
            step = "harvest"
        place = ""
        for uri in (event.biz_location, event.read_point):
            gln, code = _place_keys(uri)
            if code and area is not None and code == area.code:
                place = area.name or area.code
            elif gln and gln in by_gln:
                place = by_gln[gln].name
            elif gln and gln in orgs_by_gln:
                place = orgs_by_gln[gln].name
            if place:
                break
        owner = orgs.get(event.org_id)
        passport.steps.append(
            Step(
                at=event.event_time,
                offset=event.event_time_zone_offset,
                term=step,
                label=STEP_LABELS.get(step, step.replace("_", " ")),
                place=place,
                org=owner.name if owner else "",
                quantity=_quantity(body),
                event_hash=event.event_hash,
            )
        )
    if events:
        passport.last_event_hash = events[-1].event_hash
    scopes: list[tuple[CertScope, uuid.UUID]] = [
        (CertScope.product, product.id),
        (CertScope.organization, producer.id),
    ]
    if area is not None:
        scopes.append((CertScope.growing_area, area.id))
    scopes += [(CertScope.facility, f.id) for f in facilities]
    passport.certificates = _certificates(db, scopes, today)
    return passport


def load(
    session: Callable[[], Session],
    key: ItemKey,
    *,
    today: date | None = None,
    cache: Cache | None = None,
    item: ItemRead | None = None,
) -> Passport:
    """Gathers the passport of a key (NotFound for an unregistered GTIN).

    The product and the lot's part are taken from `cache` when fresh: they are the same for
    every item of the lot, and then `session` is not even called. The stamp is always read
    afresh (`item`, when the caller read it already), and for a serial the events naming that
    very item are looked for (rare: stamps are usually followed at lot level).
    """
    today = today or datetime.now(UTC).date()
    product, producer = cached_product(session, key.gtin, cache)
    if item is None:
        item = read_in(session(), key)
    stamp = item.stamp
    lot = key.lot or (stamp.lot if stamp else None)
    part = cache.get(("lot", key.gtin, lot)) if cache else None
    if part is None:
        db = session()
        part = _lot_part(db, ItemKey(key.gtin, lot), lot, product, producer, today)
        if cache:
            for facility in part.facilities:
                if facility in db:
                    db.expunge(facility)
            cache.put(("lot", key.gtin, lot), part)
    shared = True
    if key.serial and _item_has_events(session, key, producer.gs1_company_prefix, cache):
        part = _lot_part(session(), key, lot, product, producer, today)
        shared = False
    return Passport(
        key=key,
        product=product,
        producer=producer,
        stamp=stamp,
        image_id=part.image_id,
        facilities=part.facilities,
        certificates=part.certificates,
        area=part.area,
        packing_houses=part.packing_houses,
        steps=part.steps,
        dates=dict(part.dates),
        last_event_hash=part.last_event_hash,
        shared=shared,
        scan_counts=item.counts,
    )


def _item_has_events(
    session: Callable[[], Session], key: ItemKey, prefix: str | None, cache: Cache | None
) -> bool:
    """Whether any event names this very item (its serial), not only its lot."""
    found = cache.get(("item-events", key.gtin, key.serial)) if cache else None
    if found is None:
        item_ids = identifiers(ItemKey(key.gtin, None, key.serial), None, prefix)
        found = bool(
            session().scalar(
                select(EpcisEventEpc.epc).where(EpcisEventEpc.epc.in_(item_ids)).limit(1)
            )
        )
        if cache:
            cache.put(("item-events", key.gtin, key.serial), found)
    return bool(found)


def _event_area_codes(event: EpcisEvent) -> set[str]:
    codes = {
        code for code in (_place_keys(event.biz_location)[1], _place_keys(event.read_point)[1])
    }
    ilmd_code = _ilmd(event.event).get("growingAreaCode")
    if isinstance(ilmd_code, str):
        codes.add(ilmd_code)
    return {c for c in codes if c}


def at_offset(moment: datetime, offset: str = "+07:00") -> datetime:
    """A UTC instant as wall-clock time at an offset like `+07:00` (Viet Nam by default)."""
    sign = -1 if offset.startswith("-") else 1
    try:
        hours, minutes = offset.lstrip("+-").split(":")
        delta = timedelta(hours=int(hours), minutes=int(minutes)) * sign
    except ValueError:
        delta = timedelta(hours=7)
    return (moment + delta).replace(tzinfo=None)


def local_time(step: Step) -> datetime:
    """A step's time in the offset it was recorded in (the place's local time)."""
    return at_offset(step.at, step.offset)
