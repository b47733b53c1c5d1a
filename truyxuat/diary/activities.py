"""Diary activities as EPCIS 2.0 events: one activity and its form values give one event.

Pure and database-free. CBV 2.0 has no business steps for cultivation, so sowing, fertilizing,
spraying and irrigation use our own absolute URIs (CBV 2.0 section 6 allows user vocabulary
outside the GS1 namespace); their details go in user extension fields of the `tx:` namespace
declared in the event's @context. Harvest, packing, shipping and receiving use the standard
CBV 2.0 business steps and dispositions. Bad input raises ValidationFailed naming the form field.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from truyxuat import gs1
from truyxuat.errors import N_, FieldError, ValidationFailed

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "https://truyxuat.example/ns/"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {"tx": NAMESPACE}]
VIETNAM = timezone(timedelta(hours=7))
VIETNAM_OFFSET = "+07:00"
DIGITAL_LINK = "https://id.gs1.org"

# UN/CEFACT Recommendation 20 codes offered in the forms.
MASS_UNITS = ("KGM", "TNE", "GRM")
DOSE_UNITS = ("LTR", "MLT", "KGM", "GRM")
WATER_UNITS = ("MTQ", "LTR")
SEED_UNITS = ("KGM", "GRM", "H87")
UNIT_LABELS: dict[str, str] = {
    "KGM": N_("kg"),
    "TNE": N_("tonnes"),
    "GRM": N_("g"),
    "LTR": N_("litres"),
    "MLT": N_("ml"),
    "MTQ": N_("m³"),
    "H87": N_("pieces"),
}


class Activity(enum.StrEnum):
    """What a person records in the diary."""

    sowing = "sowing"
    fertilizing = "fertilizing"
    spraying = "spraying"
    irrigation = "irrigation"
    harvest = "harvest"
    packing = "packing"
    shipping = "shipping"
    receiving = "receiving"


ACTIVITY_LABELS: dict[Activity, str] = {
    Activity.sowing: N_("Sowing / planting"),
    Activity.fertilizing: N_("Fertilizing"),
    Activity.spraying: N_("Spraying"),
    Activity.irrigation: N_("Irrigation"),
    Activity.harvest: N_("Harvest"),
    Activity.packing: N_("Packing"),
    Activity.shipping: N_("Shipping"),
    Activity.receiving: N_("Receiving"),
}
CULTIVATION = (Activity.sowing, Activity.fertilizing, Activity.spraying, Activity.irrigation)
# Our own business steps for cultivation (CBV 2.0 defines none).
CULTIVATION_STEPS: dict[Activity, str] = {
    activity: f"{NAMESPACE}bizStep/{activity.value}" for activity in CULTIVATION
}

# Form fields of each activity (besides event_time, latitude, longitude and note).
FIELDS: dict[Activity, tuple[str, ...]] = {
    Activity.sowing: ("crop", "variety", "quantity", "uom"),
    Activity.fertilizing: ("product_name", "dose", "dose_uom"),
    Activity.spraying: ("product_name", "active_ingredient", "dose", "dose_uom", "phi_days"),
    Activity.irrigation: ("quantity", "uom"),
    Activity.harvest: ("gtin", "lot", "quantity", "uom"),
    Activity.packing: ("gtin", "lot", "quantity", "uom", "output_gtin", "output_lot"),
    Activity.shipping: ("gtin", "lot", "quantity", "uom", "partner_gln"),
    Activity.receiving: ("gtin", "lot", "quantity", "uom", "partner_gln"),
}
COMMON_FIELDS = ("event_time", "latitude", "longitude", "note")
UNITS: dict[Activity, tuple[str, ...]] = {
    Activity.sowing: SEED_UNITS,
    Activity.fertilizing: DOSE_UNITS,
    Activity.spraying: DOSE_UNITS,
    Activity.irrigation: WATER_UNITS,
    Activity.harvest: MASS_UNITS,
    Activity.packing: MASS_UNITS,
    Activity.shipping: MASS_UNITS,
    Activity.receiving: MASS_UNITS,
}
NOTE_MAX = 500
TEXT_MAX = 200


@dataclass(frozen=True)
class Place:
    """Where an activity happens: the readPoint/bizLocation URI and the growing-area code."""

    uri: str
    growing_area_code: str | None = None


@dataclass(frozen=True)
class Photo:
    """A photo already kept in the file store, referred to by the event."""

    file_id: str
    sha256: str
    content_type: str


def gln_uri(gln: str) -> str:
    """A GLN as a GS1 Digital Link (AI 414)."""
    return f"{DIGITAL_LINK}/414/{gln}"


def growing_area_place(code: str, gln: str | None) -> Place:
    """The place of a growing area: its owner's GLN with the code as GLN extension (AI 254).

    Without a GLN, or when the code is no valid extension, our own URI for the code is used.
    """
    if gln:
        try:
            extension = gs1.validate_serial(code, field="code")
        except ValidationFailed:
            extension = ""
        if extension:
            return Place(f"{gln_uri(gln)}/254/{quote(extension, safe='')}", code)
    return Place(f"https://truyxuat.example/growing-area/{quote(code, safe='')}", code)


def lot_uri(gtin: str, lot: str) -> str:
    """A lot as an LGTIN Digital Link (AI 01 + AI 10)."""
    return f"{DIGITAL_LINK}/01/{gtin}/10/{quote(lot, safe='')}"


# --- reading form values ----------------------------------------------------------------------


class _Reader:
    """Reads form strings into typed values, collecting one error per field."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        """Keeps the stripped values (blank counts as absent)."""
        self.values = {k: str(v).strip() for k, v in values.items() if v is not None}
        self.errors: list[FieldError] = []

    def _fail(self, name: str, message: str, **params: Any) -> None:
        """Records an error on a field."""
        self.errors.append(FieldError([name], message, params))

    def text(self, name: str, *, required: bool = False, limit: int = TEXT_MAX) -> str | None:
        """A free text field."""
        value = self.values.get(name) or None
        if value is None:
            if required:
                self._fail(name, N_("This field is required"))
            return None
        if len(value) > limit:
            self._fail(name, N_("Too long: at most {max_length} characters"), max_length=limit)
            return None
        return value

    def number(
        self, name: str, *, required: bool = False, positive: bool = True
    ) -> float | int | None:
        """A decimal number (comma or point as separator); must be above zero by default."""
        value = self.values.get(name)
        if not value:
            if required:
                self._fail(name, N_("This field is required"))
            return None
        try:
            number = float(value.replace(",", ".").replace(" ", ""))
        except ValueError:
            self._fail(name, N_("Enter a number"))
            return None
        if not math.isfinite(number):
            self._fail(name, N_("Enter a number"))
            return None
        if number < 0 or (positive and number == 0):
            self._fail(name, N_("Must be greater than {gt}"), gt=0)
            return None
        return int(number) if number.is_integer() else number

    def whole(self, name: str) -> int | None:
        """A whole number of zero or more (e.g. days)."""
        value = self.values.get(name)
        if not value:
            return None
        if not value.isdigit():
            self._fail(name, N_("Enter a whole number"))
            return None
        return int(value)

    def unit(self, name: str, allowed: tuple[str, ...], *, required: bool) -> str | None:
        """A UN/CEFACT unit code among those offered."""
        value = (self.values.get(name) or "").upper()
        if not value:
            if required:
                self._fail(name, N_("This field is required"))
            return None
        if value not in allowed:
            self._fail(name, N_("Choose one of the listed values"))
            return None
        return value

    def key(self, name: str, kind: str, *, required: bool) -> str | None:
        """A GS1 key (gtin, gln) or lot checked with the gs1 module."""
        value = self.values.get(name)
        if not value:
            if required:
                self._fail(name, N_("This field is required"))
            return None
        checks = {
            "gtin": gs1.normalize_gtin,
            "gln": gs1.normalize_gln,
            "lot": gs1.validate_lot,
        }
        try:
            return checks[kind](value, field=name)
        except ValidationFailed as exc:
            self.errors.extend(exc.errors)
            return None

    def coordinate(self, name: str, limit: float) -> float | None:
        """A latitude or longitude in decimal degrees."""
        value = self.values.get(name)
        if not value:
            return None
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            self._fail(name, N_("Enter a number"))
            return None
        if not -limit <= number <= limit:
            self._fail(name, N_("Must be between -{limit} and {limit}"), limit=int(limit))
            return None
        return number

    def when(self, name: str, now: datetime) -> datetime:
        """A local date-time in Viet Nam (datetime-local field); now when left blank."""
        value = self.values.get(name)
        if not value:
            return now.astimezone(VIETNAM)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self._fail(name, N_("Enter a date and time like 2026-07-22 06:45"))
            return now.astimezone(VIETNAM)
        parsed = parsed.replace(tzinfo=VIETNAM) if parsed.tzinfo is None else parsed
        if parsed > now + timedelta(minutes=5):
            self._fail(name, N_("The time cannot be in the future"))
        return parsed.astimezone(VIETNAM)


def epcis_time(moment: datetime) -> str:
    """A time in Viet Nam written as RFC 3339 with the +07:00 offset."""
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


def _quantity(epc_class: str, quantity: float | int | None, uom: str | None) -> dict[str, Any]:
    """A quantityList element."""
    element: dict[str, Any] = {"epcClass": epc_class}
    if quantity is not None:
        element["quantity"] = quantity
        if uom:
            element["uom"] = uom
    return element


# --- building events ------------------------------------------------------------------------


def build_event(
    activity: Activity | str,
    values: Mapping[str, Any],
    *,
    place: Place,
    now: datetime | None = None,
    event_id: str | None = None,
    photo: Photo | None = None,
) -> dict[str, Any]:
    """The EPCIS 2.0 event (JSON-LD, compact form) recording one diary activity."""
    try:
        kind = Activity(activity)
    except ValueError:
        raise ValidationFailed(
            [FieldError(["activity"], N_("Choose one of the listed values"))]
        ) from None
    now = now or datetime.now(UTC)
    read = _Reader(values)
    moment = read.when("event_time", now)
    event: dict[str, Any] = {"@context": CONTEXT}
    if event_id:
        event["eventID"] = event_id
    body = _BUILDERS[kind](read, place, moment)
    latitude, longitude = read.coordinate("latitude", 90), read.coordinate("longitude", 180)
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        read.errors.append(
            FieldError([missing], N_("Give both latitude and longitude, or neither"))
        )
    note = read.text("note", limit=NOTE_MAX)
    if read.errors:
        raise ValidationFailed(read.errors)
    event.update(body)
    event["eventTime"] = epcis_time(moment)
    event["eventTimeZoneOffset"] = VIETNAM_OFFSET
    event["readPoint"] = {"id": place.uri}
    event["bizLocation"] = {"id": place.uri}
    event["tx:activity"] = kind.value
    if place.growing_area_code:
        event["tx:growingAreaCode"] = place.growing_area_code
    if latitude is not None and longitude is not None:
        event["tx:latitude"] = latitude
        event["tx:longitude"] = longitude
    if note:
        event["tx:note"] = note
    if photo is not None:
        event["tx:photo"] = f"urn:uuid:{photo.file_id}"
        event["tx:photoSha256"] = photo.sha256
        event["tx:photoType"] = photo.content_type
    return _ordered(event)


_ORDER = (
    "@context",
    "type",
    "eventID",
    "eventTime",
    "eventTimeZoneOffset",
    "epcList",
    "parentID",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "quantityList",
    "sourceList",
    "destinationList",
    "ilmd",
)


def _ordered(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the standard fields first, in the order of the EPCIS examples."""
    head = {name: event[name] for name in _ORDER if name in event}
    return {**head, **{k: v for k, v in event.items() if k not in head}}


def _cultivation(
    kind: Activity, read: _Reader, extra: dict[str, Any], quantity: dict[str, Any] | None
) -> dict[str, Any]:
    """An ObjectEvent OBSERVE at the growing area with our own cultivation business step."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "epcList": [],
        "action": "OBSERVE",
        "bizStep": CULTIVATION_STEPS[kind],
    }
    event.update({k: v for k, v in extra.items() if v is not None})
    if quantity:
        event.update({f"tx:{k}": v for k, v in quantity.items() if v is not None})
    return event


def _sowing(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Sowing or planting: the crop and variety, and how much seed or how many seedlings."""
    crop = read.text("crop")
    variety = read.text("variety")
    quantity = read.number("quantity")
    uom = read.unit("uom", SEED_UNITS, required=quantity is not None)
    extra = {"tx:crop": crop, "tx:variety": variety}
    return _cultivation(Activity.sowing, read, extra, {"quantity": quantity, "uom": uom})


def _input_applied(kind: Activity, read: _Reader) -> dict[str, Any]:
    """Fertilizing or spraying: the product applied and its dose."""
    extra: dict[str, Any] = {"tx:productName": read.text("product_name", required=True)}
    if kind is Activity.spraying:
        extra["tx:activeIngredient"] = read.text("active_ingredient")
    extra["tx:dose"] = read.number("dose", required=True)
    extra["tx:doseUom"] = read.unit("dose_uom", DOSE_UNITS, required=True)
    if kind is Activity.spraying:
        extra["tx:preHarvestIntervalDays"] = read.whole("phi_days")
    return _cultivation(kind, read, extra, None)


def _fertilizing(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Fertilizing: the fertilizer and its dose."""
    return _input_applied(Activity.fertilizing, read)


def _spraying(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Spraying: the plant protection product, active ingredient, dose, pre-harvest interval."""
    event = _input_applied(Activity.spraying, read)
    days = event.get("tx:preHarvestIntervalDays")
    if isinstance(days, int):
        event["tx:safeToHarvestFrom"] = (moment.date() + timedelta(days=days)).isoformat()
    return event


def _irrigation(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Irrigation: how much water, when known."""
    quantity = read.number("quantity")
    uom = read.unit("uom", WATER_UNITS, required=quantity is not None)
    return _cultivation(Activity.irrigation, read, {}, {"waterQuantity": quantity, "uom": uom})


def _lot(read: _Reader, *, required_quantity: bool = True) -> dict[str, Any] | None:
    """The lot a harvest, packing or shipment is about, with its quantity."""
    gtin = read.key("gtin", "gtin", required=True)
    lot = read.key("lot", "lot", required=True)
    quantity = read.number("quantity", required=required_quantity)
    uom = read.unit("uom", MASS_UNITS, required=quantity is not None)
    if gtin is None or lot is None:
        return None
    return _quantity(lot_uri(gtin, lot), quantity, uom)


def _harvest(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Harvest: an ObjectEvent ADD commissioning the new lot, with the lot's ILMD."""
    element = _lot(read)
    lot = read.values.get("lot", "")
    ilmd: dict[str, Any] = {
        "cbvmda:lotNumber": lot,
        "cbvmda:harvestStartDate": moment.date().isoformat(),
        "cbvmda:countryOfOrigin": "VN",
    }
    if place.growing_area_code:
        ilmd["tx:growingAreaCode"] = place.growing_area_code
    return {
        "type": "ObjectEvent",
        "epcList": [],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "quantityList": [element] if element else [],
        "ilmd": ilmd,
    }


def _packing(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Packing a harvested lot into a packed lot: a TransformationEvent (input → output).

    The packed lot keeps the harvest lot number unless another is given, and weighs the same
    unless packing is recorded with another output product.
    """
    element = _lot(read)
    output_gtin = read.key("output_gtin", "gtin", required=False)
    output_lot = read.key("output_lot", "lot", required=False)
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "bizStep": "packing",
        "disposition": "active",
        "inputQuantityList": [element] if element else [],
    }
    if element is not None:
        gtin = output_gtin or gs1.normalize_gtin(read.values["gtin"])
        lot = output_lot or read.values["lot"]
        output = {**element, "epcClass": lot_uri(gtin, lot)}
        event["outputQuantityList"] = [output]
        event["ilmd"] = {"cbvmda:lotNumber": lot, "cbvmda:countryOfOrigin": "VN"}
    return event


def _moving(read: _Reader, place: Place, *, shipping: bool) -> dict[str, Any]:
    """Shipping to or receiving from a trading partner given by its GLN."""
    element = _lot(read)
    partner = read.key("partner_gln", "gln", required=shipping)
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "epcList": [],
        "action": "OBSERVE",
        "bizStep": "shipping" if shipping else "receiving",
        "disposition": "in_transit" if shipping else "in_progress",
        "quantityList": [element] if element else [],
    }
    if shipping:
        event["sourceList"] = [{"type": "location", "source": place.uri}]
        if partner:
            event["destinationList"] = [{"type": "location", "destination": gln_uri(partner)}]
    else:
        if partner:
            event["sourceList"] = [{"type": "location", "source": gln_uri(partner)}]
        event["destinationList"] = [{"type": "location", "destination": place.uri}]
    return event


def _shipping(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Shipping a lot to a partner: in transit towards the partner's location."""
    return _moving(read, place, shipping=True)


def _receiving(read: _Reader, place: Place, moment: datetime) -> dict[str, Any]:
    """Receiving a lot here, from a partner when known."""
    return _moving(read, place, shipping=False)


_BUILDERS = {
    Activity.sowing: _sowing,
    Activity.fertilizing: _fertilizing,
    Activity.spraying: _spraying,
    Activity.irrigation: _irrigation,
    Activity.harvest: _harvest,
    Activity.packing: _packing,
    Activity.shipping: _shipping,
    Activity.receiving: _receiving,
}


def activity_of(event: Mapping[str, Any]) -> Activity | None:
    """The diary activity an event records (from tx:activity), if it is a diary event."""
    value = event.get("tx:activity")
    try:
        return Activity(str(value)) if value else None
    except ValueError:
        return None


def summary(event: Mapping[str, Any]) -> dict[str, Any]:
    """The few facts a timeline shows about one diary event."""
    quantities = [
        q
        for field in ("quantityList", "inputQuantityList")
        for q in event.get(field) or []
        if isinstance(q, Mapping)
    ]
    first = quantities[0] if quantities else {}
    lot = None
    epc_class = str(first.get("epcClass", ""))
    if "/10/" in epc_class:
        lot = epc_class.rsplit("/10/", 1)[1]
    return {
        "activity": activity_of(event),
        "time": str(event.get("eventTime", ""))[:16].replace("T", " "),
        "product": event.get("tx:productName"),
        "dose": event.get("tx:dose"),
        "dose_uom": event.get("tx:doseUom"),
        "quantity": first.get("quantity"),
        "uom": first.get("uom"),
        "lot": lot,
        "note": event.get("tx:note"),
    }


def harvest_date(event: Mapping[str, Any]) -> date | None:
    """The harvest date in a harvest event's ILMD."""
    ilmd = event.get("ilmd")
    value = ilmd.get("cbvmda:harvestStartDate") if isinstance(ilmd, Mapping) else None
    return date.fromisoformat(value) if isinstance(value, str) else None
