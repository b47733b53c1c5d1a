"""GS1 Digital Link request URIs and RFC 9264 linksets, pure (no database).

A request path `/01/{gtin}[/10/{lot}][/21/{serial}]` is read from the raw (still
percent-encoded) path so a lot holding an encoded `/` stays one segment. GTIN-8/12/13 are
padded to 14 digits and their check digit checked; lot and serial follow the GS1 syntax
dictionary (up to 20 characters of character set 82). Syntax errors are 400s (GS1 resolver
conformance criterion 7).

Link types are the GS1 Web Vocabulary terms, written as full URIs in linksets (as the GS1
model linkset does) and in Link headers, and as `gs1:` CURIEs in `?linkType=`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

from truyxuat.errors import N_, FieldError, ValidationFailed
from truyxuat.gs1 import normalize_gtin, validate_lot, validate_serial

GS1_VOC = "https://ref.gs1.org/voc/"
SCHEMA_ORG = "https://schema.org/"
ID_BASE = "https://id.gs1.org"
LINKSET_JSON = "application/linkset+json"
LINKSET_CONTEXT = "https://ref.gs1.org/voc/?show=linkset"
# Path segments percent-encoded in a Digital Link: everything outside RFC 3986 "unreserved".
_SAFE = "-._~"
_YYMMDD = re.compile(r"^\d{6}$")
# The date qualifiers the resolver reads from the query string (GS1 DL 1.2, section 4.6).
DATE_AIS = {"17": "expiry", "15": "best_before", "11": "production", "13": "packaging"}
# Link types this resolver can serve, GS1 Web Vocabulary terms.
LINK_TYPES = (
    "pip",
    "defaultLink",
    "traceability",
    "epcis",
    "certificationInfo",
    "recallStatus",
    "masterData",
    "verificationService",
    "productSustainabilityInfo",
)


class BadDigitalLink(ValidationFailed):
    """The request URI is not a syntactically valid GS1 Digital Link."""

    status = 400
    type_slug = "invalid-digital-link"
    title = N_("Invalid GS1 Digital Link")


def _bad(field_name: str, message: str, **params: Any) -> BadDigitalLink:
    return BadDigitalLink([FieldError([field_name], message, params)])


@dataclass(frozen=True)
class ItemKey:
    """What a Digital Link identifies: a product (GTIN), a lot of it, or one serialized item."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @property
    def path(self) -> str:
        """The canonical path: `/01/{gtin14}[/10/{lot}][/21/{serial}]`, segments encoded."""
        path = f"/01/{self.gtin}"
        if self.lot:
            path += f"/10/{quote(self.lot, safe=_SAFE)}"
        if self.serial:
            path += f"/21/{quote(self.serial, safe=_SAFE)}"
        return path

    def uri(self, base: str = ID_BASE) -> str:
        """The uncompressed Digital Link URI on `base` (by default the GS1 canonical host)."""
        return base.rstrip("/") + self.path

    def levels(self) -> list[ItemKey]:
        """This key and each coarser one up to the primary key (GS1 resolver spec 8.7.4)."""
        found = [self]
        if self.serial and self.lot:
            found.append(ItemKey(self.gtin, self.lot))
        if self.lot or self.serial:
            found.append(ItemKey(self.gtin))
        return found


def parse_path(raw_path: str) -> ItemKey:
    """Reads a Digital Link path (raw, percent-encoded); trailing slashes are tolerated."""
    return read_path(raw_path)[0]


def read_path(raw_path: str) -> tuple[ItemKey, dict[str, str], bool]:
    """The key of a Digital Link path, the date AIs of a compressed part, and whether the path
    was (partly) compressed: `/01/{gtin}/{compressed qualifiers}` or `/{compressed}`."""
    segments = raw_path.rstrip("/").lstrip("/").split("/")
    if any(s == "" for s in segments):
        raise _bad("path", N_("The Digital Link path has an empty segment"))
    pairs = [(segments[i], unquote(segments[i + 1])) for i in range(0, len(segments) - 1, 2)]
    compressed = len(segments) % 2 == 1
    if compressed:
        from truyxuat.resolver.compression import decompress

        try:
            pairs += decompress(segments[-1])
        except ValueError as exc:
            raise _bad(
                "path", N_("The compressed Digital Link cannot be read: {reason}"), reason=str(exc)
            ) from exc
    dates = {ai: value for ai, value in pairs if ai in DATE_AIS}
    pairs = [(ai, value) for ai, value in pairs if ai not in DATE_AIS]
    if not pairs or pairs[0][0] != "01":
        raise _bad("path", N_("A Digital Link path is /01/{gtin} then AI/value pairs"))
    values: dict[str, str] = {}
    order: list[str] = []
    for ai, value in pairs:
        if ai in values:
            raise _bad(ai, N_("Application identifier {ai} is repeated"), ai=ai)
        if ai not in ("01", "10", "21"):
            raise _bad(ai, N_("Unsupported application identifier {ai}"), ai=ai)
        values[ai] = value
        order.append(ai)
    if order not in (["01"], ["01", "10"], ["01", "21"], ["01", "10", "21"]):
        raise _bad("path", N_("Key qualifiers must follow the GTIN in the order lot, serial"))
    if not values["01"].isdigit():
        raise _bad("gtin", N_("GTIN must contain only digits 0-9"))
    try:
        gtin = normalize_gtin(values["01"])
        lot = validate_lot(values["10"]) if "10" in values else None
        serial = validate_serial(values["21"]) if "21" in values else None
    except ValidationFailed as exc:
        raise BadDigitalLink(exc.errors, exc.message, **exc.params) from exc
    return ItemKey(gtin, lot, serial), dates, compressed


def parse_date(ai: str, value: str) -> date:
    """A YYMMDD date qualifier (DD 00 means the last day of the month, per GS1 GenSpecs)."""
    if not _YYMMDD.match(value):
        raise _bad(ai, N_("AI ({ai}) must be a date as YYMMDD"), ai=ai)
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    # GS1 GenSpecs 7.12: the century is the one that puts the year nearest to today.
    this_year = date.today().year
    year = this_year - this_year % 100 + yy
    if year - this_year >= 51:
        year -= 100
    elif this_year - year > 49:
        year += 100
    try:
        if dd == 0:
            return date(year, mm, calendar.monthrange(year, mm)[1])
        return date(year, mm, dd)
    except ValueError as exc:
        raise _bad(ai, N_("AI ({ai}) must be a date as YYMMDD"), ai=ai) from exc


def link_type_uri(value: str) -> str | None:
    """`gs1:epcis`, `epcis` or the full URI → the full GS1 Web Vocabulary URI (None if not GS1)."""
    if value.startswith(GS1_VOC):
        return value
    if value.startswith("gs1:"):
        return GS1_VOC + value[4:]
    if value.startswith(("http://", "https://", "schema:")):
        return None
    return GS1_VOC + value


@dataclass(frozen=True)
class Link:
    """One link of a linkset: target, relation type (GS1 Web Vocabulary term) and title."""

    rel: str
    href: str
    title: str
    type: str = "text/html"
    hreflang: tuple[str, ...] = ()

    @property
    def rel_uri(self) -> str:
        return self.rel if ":" in self.rel and "//" in self.rel else GS1_VOC + self.rel

    def target(self) -> dict[str, Any]:
        """The RFC 9264 target object."""
        out: dict[str, Any] = {"href": self.href, "title": self.title, "type": self.type}
        if self.hreflang:
            out["hreflang"] = list(self.hreflang)
        return out

    def header(self) -> str:
        """The RFC 8288 Link header value."""
        title = self.title.replace("\\", "\\\\").replace('"', '\\"')
        parts = [f'<{self.href}>; rel="{self.rel_uri}"; type="{self.type}"']
        if self.hreflang:
            parts.append("; ".join(f'hreflang="{h}"' for h in self.hreflang))
        # RFC 8187 title* carries the non-ASCII (Vietnamese) title; title is its ASCII fallback.
        parts.append(f"title*=UTF-8''{quote(self.title, safe='')}")
        if title.isascii():
            parts.append(f'title="{title}"')
        return "; ".join(parts)


@dataclass
class LinkContext:
    """The links of one anchor (one level of the request's key)."""

    anchor: str
    description: str
    links: list[Link] = field(default_factory=list)


def linkset(contexts: list[LinkContext]) -> dict[str, Any]:
    """The RFC 9264 JSON linkset: one context object per anchor, relations as GS1 URIs."""
    out: list[dict[str, Any]] = []
    for context in contexts:
        item: dict[str, Any] = {"anchor": context.anchor, "itemDescription": context.description}
        for link in context.links:
            item.setdefault(link.rel_uri, []).append(link.target())
        out.append(item)
    return {"linkset": out}


def link_header(contexts: list[LinkContext], linkset_href: str) -> str:
    """Every link of the request as one Link header, plus the linkset itself (rel=linkset)."""
    seen: set[tuple[str, str]] = set()
    values: list[str] = []
    for context in contexts:
        for link in context.links:
            if (link.rel, link.href) in seen:
                continue
            seen.add((link.rel, link.href))
            values.append(link.header())
    values.append(f'<{linkset_href}>; rel="linkset"; type="{LINKSET_JSON}"')
    return ", ".join(values)


def find(contexts: list[LinkContext], rel: str) -> Link | None:
    """The first link of a relation type, most specific level first."""
    uri = link_type_uri(rel)
    for context in contexts:
        for link in context.links:
            if link.rel_uri == uri:
                return link
    return None
