"""How each value of an EPCIS event is written in the CBV 2.0 canonical pre-hash string.

Pure functions, no I/O. EPC URIs (`urn:epc:id:`, `urn:epc:class:`, `urn:epc:idpat:`) and GS1
Digital Link URIs become *constrained* canonical Digital Link URIs on https://id.gs1.org (no
query string, no CPV, a serial wins over a lot); CBV URNs and the `gs1:`/`cbv:` compact IRIs
become web URIs; numbers lose leading and trailing zeros; timestamps become UTC with millisecond
precision. The rules follow CBV 2.0 section 8.9 as implemented by the reference implementation
(epcis-event-hash-generator), whose published examples are our test oracle.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from truyxuat.gs1 import gs1_check_digit

CANONICAL_DL_ROOT = "https://id.gs1.org"

# Old CBV URNs and their web vocabulary (CBV 2.0 rule: URN values are written as web URIs).
_CBV_URNS: tuple[tuple[str, str], ...] = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)
_CBV_URN_START = "urn:epcglobal:cbv:"  # what every one of _CBV_URNS starts with
# Standard compact IRIs expanded wherever they appear as a value (XML writes `gs1:Temperature`).
_STANDARD_CURIES: tuple[tuple[str, str], ...] = (
    ("gs1:", "https://gs1.org/voc/"),
    ("cbv:", "https://ref.gs1.org/cbv/"),
)

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})"
    r"(?:\.(?P<frac>[0-9]+))?(?P<tz>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


# Values repeat across events (vocabularies, locations, units); the functions are pure.
_CACHE_SIZE = 1 << 15


@lru_cache(maxsize=_CACHE_SIZE)
def canonical_value(text: str) -> str:
    """Writes one value the way the pre-hash string wants it (URIs, vocabularies, numbers)."""
    text = text.strip()
    for curie, iri in _STANDARD_CURIES:
        if text.startswith(curie):
            text = iri + text[len(curie) :]
            break
    if _CBV_URN_START in text:
        for urn, web in _CBV_URNS:
            # The reference replaces the URN wherever it occurs in the value, not only at the
            # start.
            text = text.replace(urn, web)
    text = canonical_number(text)
    return canonical_digital_link(text) or text


def canonical_number(text: str) -> str:
    """Writes a decimal number without sign '+', leading zeros or trailing zeros; else as given.

    The number goes through a binary double, as in the reference implementation: its published
    hashes depend on that (a 24-digit string of digits keeps only 17 significant digits).
    """
    if not _NUMBER.fullmatch(text):
        return text
    value = float(text)
    if not math.isfinite(value):
        return text
    if value.is_integer():
        return str(int(value))
    # Python's shortest round-trip form, which is what the reference implementation writes.
    return repr(value)


@lru_cache(maxsize=_CACHE_SIZE)
def canonical_time(text: str) -> str:
    """Writes an xsd:dateTime in UTC with milliseconds, e.g. 2020-03-04T10:00:30.000Z.

    A fourth decimal of 5-9 rounds the milliseconds up (CBV 2.0); a time without an offset is
    taken as UTC. Text that is not a timestamp is returned unchanged.
    """
    plain = text.strip()
    if _PLAIN_TIMESTAMP.fullmatch(plain):
        # The usual form (milliseconds or none, Z or +hh:mm): no rounding to do, so the C
        # parser gives the same moment; anything it refuses takes the general way below.
        try:
            moment = datetime.fromisoformat(plain).astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        else:
            return _utc_text(moment)
    match = _TIMESTAMP.fullmatch(plain)
    if match is None:
        return text.strip()
    frac = match["frac"] or ""
    millis = int((frac + "000")[:3])
    if len(frac) > 3 and frac[3] >= "5":
        millis += 1
    try:
        moment = datetime.fromisoformat(
            f"{match['date']}T{match['h']}:{match['m']}:{match['s']}"
        ).replace(tzinfo=UTC)
        moment += timedelta(milliseconds=millis) - _offset(match["tz"])
    except (ValueError, OverflowError):  # e.g. month 13, or past year 9999 once in UTC
        return text.strip()
    return _utc_text(moment)


def _utc_text(moment: datetime) -> str:
    """A UTC moment as the pre-hash string writes it, e.g. 2020-03-04T10:00:30.000Z."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
        f"{moment.microsecond // 1000:03d}Z"
    )


_PLAIN_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


def _offset(zone: str | None) -> timedelta:
    """The UTC offset written as Z, +hh:mm, +hhmm or +hh (none means UTC)."""
    if not zone or zone in "Zz":
        return timedelta(0)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or "0")
    return sign * timedelta(hours=hours, minutes=minutes)


# --- EPC URIs -------------------------------------------------------------------------------

# One character of an EPC URI component: a %-escape or a character the URI allows as is.
_URN_CHAR = r"(?:%[0-9A-Fa-f]{2}|[!'()*+,.0-9:;=A-Za-z_-])"
_URN_TEXT = re.compile(_URN_CHAR + "*")
_URN_CHAR_COUNT = re.compile(_URN_CHAR)
# CPI component references use GS1 character set 39 (digits, capitals, '-', '#', '/').
_CPI_TEXT = re.compile(r"(?:%2[3Ff]|[0-9A-Z-])*")
_DIGITS = re.compile(r"[0-9]*")

# EPC URIs allow these characters unescaped; Digital Link URIs percent-encode them.
_DL_ESCAPES = str.maketrans(
    {
        "!": "%21",
        '"': "%22",
        "&": "%26",
        "(": "%28",
        ")": "%29",
        "*": "%2A",
        "+": "%2B",
        ",": "%2C",
        "/": "%2F",
        ":": "%3A",
        "<": "%3C",
        ">": "%3E",
        "?": "%3F",
    }
)


def _dl_escape(component: str) -> str:
    """Percent-encodes what a Digital Link path segment must not carry raw (escapes stay)."""
    return component.translate(_DL_ESCAPES)


def _length(component: str) -> int:
    """The number of characters a component stands for (an escape counts as one)."""
    return len(_URN_CHAR_COUNT.findall(component))


def _text(component: str, low: int, high: int) -> bool:
    """Tells whether an EPC URI component is valid and between `low` and `high` long."""
    if not _URN_TEXT.fullmatch(component):
        return False
    # Made of URI characters only, so without an escape each character counts one.
    length = len(component) if "%" not in component else _length(component)
    return low <= length <= high


def _digits(component: str, length: int | None = None, *, low: int = 0, high: int = 99) -> bool:
    """Tells whether a component is all digits, of `length` or between `low` and `high`."""
    if not _DIGITS.fullmatch(component):
        return False
    if length is not None:
        return len(component) == length
    return low <= len(component) <= high


def _prefix(company_prefix: str) -> bool:
    """Tells whether a GS1 Company Prefix has the 6 to 12 digits an EPC URI allows."""
    return _digits(company_prefix, low=6, high=12)


@lru_cache(maxsize=_CACHE_SIZE)
def _with_check(digits: str) -> str:
    """Appends the GS1 check digit."""
    return digits + str(gs1_check_digit(digits))


@lru_cache(maxsize=_CACHE_SIZE)
def _gtin(company_prefix: str, item_reference: str) -> str | None:
    """The GTIN-14 of an SGTIN-style `prefix.indicator+itemref`, or None if malformed."""
    if not (_prefix(company_prefix) and _digits(item_reference)):
        return None
    if len(company_prefix) + len(item_reference) != 13:
        return None
    return _with_check(item_reference[:1] + company_prefix + item_reference[1:])


def _key12(company_prefix: str, reference: str) -> str | None:
    """The 12 digits before the check digit of a GLN, GDTI, GRAI or GCN, or None."""
    if not (_prefix(company_prefix) and _digits(reference)):
        return None
    if len(company_prefix) + len(reference) != 12:
        return None
    return company_prefix + reference


def _epc_id(scheme: str, body: str) -> str | None:
    """Converts the part after `urn:epc:id:` into a Digital Link path, or None."""
    parts = body.split(".")
    if scheme == "sgtin" and len(parts) >= 3:
        serial = ".".join(parts[2:])
        gtin = _gtin(parts[0], parts[1])
        if gtin and _text(serial, 1, 20):
            return f"/01/{gtin}/21/{_dl_escape(serial)}"
    elif scheme == "sscc" and len(parts) == 2:
        cp, serial_reference = parts
        if _prefix(cp) and _digits(serial_reference) and len(cp) + len(serial_reference) == 17:
            return "/00/" + _with_check(serial_reference[:1] + cp + serial_reference[1:])
    elif scheme == "sgln" and len(parts) >= 3:
        gln, extension = _key12(parts[0], parts[1]), ".".join(parts[2:])
        if gln and _text(extension, 1, 20):
            # Extension "0" means the GLN alone (EPC TDS).
            tail = "" if extension == "0" else f"/254/{_dl_escape(extension)}"
            return f"/414/{_with_check(gln)}{tail}"
    elif scheme == "grai" and len(parts) >= 3:
        grai, serial = _key12(parts[0], parts[1]), ".".join(parts[2:])
        if grai and _text(serial, 1, 16):
            return f"/8003/{_with_check('0' + grai)}{_dl_escape(serial)}"
    elif scheme in {"giai", "ginc"} and len(parts) >= 2:
        cp, reference = parts[0], ".".join(parts[1:])
        if _prefix(cp) and _text(reference, 1, 30 - len(cp)):
            ai = "8004" if scheme == "giai" else "401"
            return f"/{ai}/{cp}{_dl_escape(reference)}"
    elif scheme in {"gsrn", "gsrnp"} and len(parts) == 2:
        cp, reference = parts
        if _prefix(cp) and _digits(reference) and len(cp) + len(reference) == 17:
            return f"/{'8018' if scheme == 'gsrn' else '8017'}/{_with_check(cp + reference)}"
    elif scheme == "gdti" and len(parts) >= 3:
        gdti, serial = _key12(parts[0], parts[1]), ".".join(parts[2:])
        if gdti and _text(serial, 0, 17):
            return f"/253/{_with_check(gdti)}{_dl_escape(serial)}"
    elif scheme == "sgcn" and len(parts) == 3:
        gcn, serial = _key12(parts[0], parts[1]), parts[2]
        if gcn and _digits(serial, low=1, high=12):
            return f"/255/{_with_check(gcn)}{serial}"
    elif scheme == "cpi" and len(parts) == 3:
        cp, reference, serial = parts
        if (
            _prefix(cp)
            and _CPI_TEXT.fullmatch(reference)
            and 1 <= _length(reference) <= 30 - len(cp)
            and _digits(serial, low=1, high=12)
        ):
            return f"/8010/{cp}{reference}/8011/{serial}"
    elif scheme == "gsin" and len(parts) == 2:
        cp, reference = parts
        if _prefix(cp) and _digits(reference) and len(cp) + len(reference) == 16:
            return f"/402/{_with_check(cp + reference)}"
    elif scheme == "itip" and len(parts) >= 5:
        gtin, piece, total = _gtin(parts[0], parts[1]), parts[2], parts[3]
        serial = ".".join(parts[4:])
        if gtin and _digits(piece, 2) and _digits(total, 2) and _text(serial, 1, 20):
            return f"/8006/{gtin}{piece}{total}/21/{_dl_escape(serial)}"
    elif scheme == "upui" and len(parts) >= 3:
        gtin, tpx = _gtin(parts[0], parts[1]), ".".join(parts[2:])
        if gtin and _text(tpx, 1, 28):
            return f"/01/{gtin}/235/{_dl_escape(tpx)}"
    elif scheme == "pgln" and len(parts) == 2:
        gln = _key12(parts[0], parts[1])
        if gln:
            return f"/417/{_with_check(gln)}"
    return None


def _epc_pattern(scheme: str, body: str) -> str | None:
    """Converts the class-level EPC patterns (`...*`) into a Digital Link path, or None."""
    parts = body.split(".")
    if len(parts) < 3 or parts[-1] != "*":
        return None
    if scheme in {"sgtin", "upui"} and len(parts) == 3:
        gtin = _gtin(parts[0], parts[1])
        return f"/01/{gtin}" if gtin else None
    if scheme == "itip" and len(parts) == 5:
        gtin = _gtin(parts[0], parts[1])
        if gtin and _digits(parts[2], 2) and _digits(parts[3], 2):
            return f"/8006/{gtin}{parts[2]}{parts[3]}"
        return None
    if scheme in {"grai", "gdti", "sgcn"} and len(parts) == 3:
        key = _key12(parts[0], parts[1])
        if key is None:
            return None
        if scheme == "grai":
            return f"/8003/{_with_check('0' + key)}"
        return f"/{'253' if scheme == 'gdti' else '255'}/{_with_check(key)}"
    if scheme == "cpi" and len(parts) == 3:
        cp, reference = parts[0], parts[1]
        if _prefix(cp) and _CPI_TEXT.fullmatch(reference) and reference:
            return f"/8010/{cp}{reference}"
    return None


def _epc_uri_path(uri: str) -> str | None:
    """Converts an EPC (class, pattern) URI into a constrained Digital Link path, or None."""
    head, _, body = uri.partition(":epc:")
    if head != "urn" or ":" not in body:
        return None
    kind, rest = body.split(":", 1)
    scheme, _, value = rest.partition(":")
    if kind == "id":
        return _epc_id(scheme, value)
    if kind == "class" and scheme == "lgtin":
        parts = value.split(".")
        if len(parts) >= 3:
            gtin, lot = _gtin(parts[0], parts[1]), ".".join(parts[2:])
            if gtin and _text(lot, 1, 20):
                return f"/01/{gtin}/10/{_dl_escape(lot)}"
        return None
    if kind == "idpat":
        return _epc_pattern(scheme, value)
    return None


# --- GS1 Digital Link URIs ------------------------------------------------------------------

_SHORT_NAMES = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}
_PRIMARY_KEYS = frozenset(
    {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010"}
    | {"8017", "8018"}
)
# Which key qualifiers may follow each primary key in a constrained canonical URI.
_QUALIFIERS: dict[str, frozenset[str]] = {
    "01": frozenset({"21", "10", "235"}),
    "8006": frozenset({"21", "10"}),
    "414": frozenset({"254"}),
    "8010": frozenset({"8011"}),
}
# A Digital Link path character: a %-escape or a GS1 AI character that may stand unescaped.
_DL_CHAR = r"(?:%[0-9A-Fa-f]{2}|[!\"&'()*+,\-.0-9:;<=>A-Z_a-z])"
_DL_VALUES: dict[str, re.Pattern[str]] = {
    ai: re.compile(pattern)
    for ai, pattern in {
        "00": r"[0-9]{18}",
        "01": r"[0-9]{14}",
        "253": rf"[0-9]{{13}}{_DL_CHAR}{{0,17}}",
        "255": r"[0-9]{13}[0-9]{0,12}",
        "401": rf"{_DL_CHAR}{{1,30}}",
        "402": r"[0-9]{17}",
        "414": r"[0-9]{13}",
        "417": r"[0-9]{13}",
        "8003": rf"[0-9]{{14}}{_DL_CHAR}{{0,16}}",
        "8004": rf"{_DL_CHAR}{{1,30}}",
        "8006": r"[0-9]{18}",
        "8010": r"(?:%2[3Ff]|[0-9A-Z#/-]){1,30}",
        "8017": r"[0-9]{18}",
        "8018": r"[0-9]{18}",
        "21": rf"{_DL_CHAR}{{1,20}}",
        "10": rf"{_DL_CHAR}{{1,20}}",
        "235": rf"{_DL_CHAR}{{1,28}}",
        "254": rf"{_DL_CHAR}{{1,20}}",
        "8011": r"[0-9]{1,12}",
    }.items()
}
_KEY_START = re.compile(r"[0-9]{4}")
_HTTP_URI = re.compile(r"https?://[^/?#]+(?P<path>/[^?#]*)(?:\?[^#]*)?(?:#.*)?")


def _digital_link_path(uri: str) -> str | None:
    """Constrains a GS1 Digital Link URI to its canonical path, or None if it is not one."""
    match = _HTTP_URI.fullmatch(uri)
    if match is None:
        return None
    segments = match["path"].split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    # The primary key is the first key whose value starts like a GS1 key (a custom path may
    # come before it).
    start = next(
        (
            i
            for i in range(len(segments) - 1)
            if _SHORT_NAMES.get(segments[i], segments[i]) in _PRIMARY_KEYS
            and _KEY_START.match(segments[i + 1])
        ),
        None,
    )
    if start is None or (len(segments) - start) % 2:
        return None
    pairs = [
        (_SHORT_NAMES.get(segments[i], segments[i]), segments[i + 1])
        for i in range(start, len(segments), 2)
    ]
    primary, value = pairs[0]
    if primary == "01" and len(value) in (8, 12, 13) and value.isdigit():
        pairs[0] = (primary, value.zfill(14))
    # Constrained form: no CPV, and only the finest identification level (serial over lot).
    qualifiers = [(ai, v) for ai, v in pairs[1:] if ai != "22"]
    if any(ai == "21" for ai, _ in qualifiers):
        qualifiers = [(ai, v) for ai, v in qualifiers if ai != "10"]
    if len(qualifiers) > 1 or any(
        ai not in _QUALIFIERS.get(primary, frozenset()) for ai, _ in qualifiers
    ):
        return None
    parts = [pairs[0], *qualifiers]
    if not all(_DL_VALUES[ai].fullmatch(v) for ai, v in parts):
        return None
    return "".join(f"/{ai}/{_dl_escape(v)}" for ai, v in parts)


def canonical_digital_link(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI for an EPC URI or a Digital Link URI.

    Returns None when the value identifies nothing a GS1 key can express (it is then hashed as
    written).
    """
    if "." not in uri:
        return None
    path = _epc_uri_path(uri) if uri.startswith("urn:epc:") else _digital_link_path(uri)
    return CANONICAL_DL_ROOT + path if path else None
