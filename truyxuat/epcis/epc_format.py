"""Identifiers of events as EPC URNs or GS1 Digital Link URIs (EPC Tag Data Standard 2.0):
the canonical form the repository indexes by, and the GS1-EPC-Format header on output.

Covers the EPC schemes with a Digital Link equivalent (SGTIN, SSCC, SGLN, PGLN, GRAI, GIAI,
GSRN, GSRNP, GDTI, SGCN, GINC, GSIN, CPI, ITIP, UPUI) and the LGTIN class. A Digital Link does
not say how long the GS1 company prefix is, which the URN needs: the caller passes the prefixes
it knows, and the longest one that starts the key is used; otherwise `DEFAULT_PREFIX_LENGTH`
digits. Identifiers of other kinds, or that do not parse, are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

ALWAYS_URN = "Always_EPC_URN"
ALWAYS_DIGITAL_LINK = "Always_GS1_Digital_Link"
NO_PREFERENCE = "No_Preference"
NEVER_TRANSLATES = "Never_Translates"
FORMATS = frozenset({ALWAYS_URN, ALWAYS_DIGITAL_LINK, NO_PREFERENCE, NEVER_TRANSLATES})
DIGITAL_LINK_BASE = "https://id.gs1.org"
DEFAULT_PREFIX_LENGTH = 7

_URN = re.compile(r"^urn:epc:(id|class):([a-z]+):(.*)$")
# A Digital Link path: optional non-numeric path segments, then a primary key and its value.
_DL = re.compile(r"^https?://[^/?#]+(?:/[^0-9/][^/]*)*(/[0-9]{2,4}/[^?#]*)(?:[?#].*)?$")
_URN_SAFE = "-_.:;=!'()*+,"
_DL_SAFE = "-_.!'()*+,:;="
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
# EPC scheme -> digits of company prefix + reference (the key without its check digit).
_KEY_DIGITS = {
    "sgtin": 13,
    "lgtin": 13,
    "upui": 13,
    "itip": 13,
    "sscc": 17,
    "sgln": 12,
    "pgln": 12,
    "grai": 12,
    "gdti": 12,
    "sgcn": 12,
    "gsrn": 17,
    "gsrnp": 17,
    "gsin": 16,
}
# EPC scheme -> how many dot-separated parts its URN body has (3 when not listed).
_PARTS = {"sscc": 2, "pgln": 2, "gsrn": 2, "gsrnp": 2, "gsin": 2, "giai": 2, "ginc": 2, "itip": 5}
# Digital Link primary keys that make an EPC, whatever host carries them.
PRIMARY_KEYS = frozenset(
    {"01", "00", "414", "417", "8003", "8004", "8018", "8017", "253", "255", "401", "402", "8010"}
)


@lru_cache(maxsize=1 << 14)
def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a key without its check digit (remembered: the keys of
    a document's serials repeat)."""
    total = 3 * sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2]))
    return str((10 - total % 10) % 10)


def _dl(value: str) -> str:
    """A serial, lot or reference from an EPC URN, percent-encoded for a Digital Link path."""
    if value.isalnum() and value.isascii():
        return value
    return quote(unquote(value), safe=_DL_SAFE)


def _urn(value: str) -> str:
    """A serial, lot or reference from a Digital Link path, escaped for an EPC URN."""
    return quote(unquote(value), safe=_URN_SAFE)


def _body(scheme: str, company: str, reference: str) -> str | None:
    """Company prefix and reference as the key's digits (an indicator or extension digit
    moved in front), or None when they are not the digits the scheme wants."""
    if not (company.isdigit() and (reference.isdigit() or reference == "")):
        return None
    if len(company + reference) != _KEY_DIGITS[scheme]:
        return None
    if scheme in ("sgtin", "lgtin", "upui", "itip", "sscc"):
        if not reference:
            return None
        return reference[0] + company + reference[1:]
    return company + reference


def _link_path(kind: str, scheme: str, parts: list[str]) -> str | None:
    """The Digital Link path of an EPC URN's parts, or None when it has none."""
    if kind == "class":
        if scheme != "lgtin" or len(parts) != 3 or not parts[2]:
            return None
        body = _body(scheme, parts[0], parts[1])
        return None if body is None else f"/01/{body}{check_digit(body)}/10/{_dl(parts[2])}"
    if scheme == "giai" and len(parts) == 2 and parts[0].isdigit() and parts[1]:
        return f"/8004/{parts[0]}{_dl(parts[1])}"
    if scheme == "ginc" and len(parts) == 2 and parts[0].isdigit() and parts[1]:
        return f"/401/{parts[0]}{_dl(parts[1])}"
    if scheme == "cpi" and len(parts) == 3 and parts[0].isdigit() and parts[1] and parts[2]:
        return f"/8010/{parts[0]}{_dl(parts[1])}/8011/{parts[2]}"
    if scheme not in _KEY_DIGITS or scheme == "lgtin":
        return None
    wanted = _PARTS.get(scheme, 3)
    if len(parts) != wanted or (wanted > 2 and not parts[-1]):  # see _PARTS
        return None
    body = _body(scheme, parts[0], parts[1])
    if body is None:
        return None
    key = body + check_digit(body)
    if scheme == "sgtin":
        return f"/01/{key}/21/{_dl(parts[2])}"
    if scheme == "upui":
        return f"/01/{key}/235/{_dl(parts[2])}"
    if scheme == "itip":
        piece, total = parts[2], parts[3]
        if not (len(piece) == len(total) == 2 and (piece + total).isdigit()):
            return None
        return f"/8006/{key}{piece}{total}/21/{_dl(parts[4])}"
    if scheme == "sgln":
        extension = unquote(parts[2])
        return f"/414/{key}" if extension == "0" else f"/414/{key}/254/{_dl(extension)}"
    simple = {"sscc": "00", "pgln": "417", "gsrn": "8018", "gsrnp": "8017", "gsin": "402"}
    if scheme in simple:
        return f"/{simple[scheme]}/{key}"
    serialised = {"grai": "8003", "gdti": "253", "sgcn": "255"}
    prefix = "0" if scheme == "grai" else ""
    return f"/{serialised[scheme]}/{prefix}{key}{_dl(parts[2])}"


def to_digital_link(value: str) -> str:
    """An EPC URN (SGTIN, SSCC, SGLN, PGLN, GRAI, GIAI, GSRN, GSRNP, GDTI, SGCN, GINC, GSIN,
    CPI, ITIP, UPUI or an LGTIN class) as a GS1 Digital Link URI; anything else unchanged."""
    match = _URN.match(value)
    if match is None:
        return value
    kind, scheme, rest = match.groups()
    # The last part (a serial, lot or extension) may itself hold dots.
    path = _link_path(kind, scheme, rest.split(".", _PARTS.get(scheme, 3) - 1))
    return value if path is None else DIGITAL_LINK_BASE + path


def _prefix_length(key: str, prefixes: Collection[str]) -> int:
    """How many digits of a key (after any indicator digit) are the company prefix."""
    known = [p for p in prefixes if key.startswith(p)]
    return max((len(p) for p in known), default=DEFAULT_PREFIX_LENGTH)


def _pairs(value: str) -> dict[str, str] | None:
    """The AI -> value pairs of a Digital Link path from its primary key on, or None."""
    match = _DL.match(value)
    if match is None:
        return None
    parts = match.group(1).strip("/").split("/")
    if len(parts) % 2:
        return None
    pairs = dict(zip(parts[::2], parts[1::2], strict=True))
    if len(pairs) != len(parts) // 2:
        return None
    return pairs


def _digits(value: str, length: int) -> bool:
    """True when a value is exactly `length` ASCII digits."""
    return len(value) == length and value.isascii() and value.isdigit()


def to_epc_urn(value: str, prefixes: Collection[str] = ()) -> str:
    """A GS1 Digital Link URI of an EPC (see `to_digital_link`) as an EPC URN; else unchanged."""
    pairs = _pairs(value)
    if pairs is None:
        return value
    keys = set(pairs)
    if "01" in pairs and keys in ({"01", "21"}, {"01", "10"}, {"01", "235"}):
        gtin = pairs["01"]
        if not _digits(gtin, 14):
            return value
        length = _prefix_length(gtin[1:], prefixes)
        prefix, item = gtin[1 : 1 + length], gtin[0] + gtin[1 + length : 13]
        if "21" in pairs:
            return f"urn:epc:id:sgtin:{prefix}.{item}.{_urn(pairs['21'])}"
        if "235" in pairs:
            return f"urn:epc:id:upui:{prefix}.{item}.{_urn(pairs['235'])}"
        return f"urn:epc:class:lgtin:{prefix}.{item}.{_urn(pairs['10'])}"
    if keys == {"8006", "21"}:
        itip = pairs["8006"]
        if not _digits(itip, 18):
            return value
        length = _prefix_length(itip[1:], prefixes)
        prefix, item = itip[1 : 1 + length], itip[0] + itip[1 + length : 13]
        piece, total = itip[14:16], itip[16:18]
        return f"urn:epc:id:itip:{prefix}.{item}.{piece}.{total}.{_urn(pairs['21'])}"
    if keys == {"00"}:
        sscc = pairs["00"]
        if not _digits(sscc, 18):
            return value
        length = _prefix_length(sscc[1:], prefixes)
        return f"urn:epc:id:sscc:{sscc[1 : 1 + length]}.{sscc[0]}{sscc[1 + length : 17]}"
    if keys in ({"414"}, {"414", "254"}):
        gln = pairs["414"]
        if not _digits(gln, 13):
            return value
        length = _prefix_length(gln, prefixes)
        extension = _urn(pairs.get("254", "0"))
        return f"urn:epc:id:sgln:{gln[:length]}.{gln[length:12]}.{extension}"
    simple = {"417": ("pgln", 13), "8018": ("gsrn", 18), "8017": ("gsrnp", 18)}
    simple["402"] = ("gsin", 17)
    if len(keys) == 1 and next(iter(keys)) in simple:
        (ai,) = keys
        scheme, size = simple[ai]
        key = pairs[ai]
        if not _digits(key, size):
            return value
        length = _prefix_length(key, prefixes)
        return f"urn:epc:id:{scheme}:{key[:length]}.{key[length : size - 1]}"
    serialised = {"8003": ("grai", 1), "253": ("gdti", 0), "255": ("sgcn", 0)}
    if len(keys) == 1 and next(iter(keys)) in serialised:
        (ai,) = keys
        scheme, skip = serialised[ai]
        text = pairs[ai]
        key, serial = text[skip : skip + 13], text[skip + 13 :]
        if not _digits(key, 13) or not serial or (skip and text[0] != "0"):
            return value
        length = _prefix_length(key, prefixes)
        return f"urn:epc:id:{scheme}:{key[:length]}.{key[length:12]}.{_urn(serial)}"
    if keys in ({"8004"}, {"401"}):
        (ai,) = keys
        text = unquote(pairs[ai])
        length = _prefix_length(text, prefixes)
        if len(text) <= length or not text[:length].isdigit():
            return value
        scheme = "giai" if ai == "8004" else "ginc"
        return f"urn:epc:id:{scheme}:{text[:length]}.{_urn(text[length:])}"
    if keys == {"8010", "8011"}:
        text = unquote(pairs["8010"])
        length = _prefix_length(text, prefixes)
        if len(text) <= length or not text[:length].isdigit():
            return value
        return f"urn:epc:id:cpi:{text[:length]}.{_urn(text[length:])}.{_urn(pairs['8011'])}"
    return value


def canonical_identifier(value: str) -> str:
    """An identifier in the canonical GS1 Digital Link form the repository indexes by.

    EPC URNs become https://id.gs1.org/... URIs; a Digital Link on another host (a brand's
    own resolver) is moved to id.gs1.org with its query string dropped, and a GTIN-8/12/13
    padded to 14 digits; any other identifier (a user URI, an EPC pattern) is unchanged.
    """
    if value.startswith("urn:epc:"):
        return to_digital_link(value)
    if not value.startswith(("https://", "http://")):
        return value
    pairs = _pairs(value)
    if pairs is None:
        return value
    first = next(iter(pairs))
    if first not in PRIMARY_KEYS and first != "8006":
        return value
    if first == "01" and pairs["01"].isdigit() and len(pairs["01"]) in (8, 12, 13):
        pairs["01"] = pairs["01"].zfill(14)
    path = "".join(f"/{ai}/{text}" for ai, text in pairs.items())
    return DIGITAL_LINK_BASE + path


def converter(epc_format: str | None, prefixes: Collection[str] = ()) -> Callable[[str], str]:
    """The function rewriting one identifier for a GS1-EPC-Format value."""
    if epc_format == ALWAYS_URN:
        return lambda value: to_epc_urn(value, prefixes)
    if epc_format == ALWAYS_DIGITAL_LINK:
        return to_digital_link
    return lambda value: value


def convert_event(event: Mapping[str, Any], convert: Callable[[str], str]) -> dict[str, Any]:
    """A copy of an event with its EPCs, classes, parent and places rewritten by `convert`."""
    out = dict(event)
    for name in _EPC_LISTS:
        values = out.get(name)
        if isinstance(values, list):
            out[name] = [convert(v) if isinstance(v, str) else v for v in values]
    if isinstance(out.get("parentID"), str):
        out["parentID"] = convert(out["parentID"])
    for name in _QUANTITY_LISTS:
        values = out.get(name)
        if isinstance(values, list):
            out[name] = [
                {**q, "epcClass": convert(q["epcClass"])}
                if isinstance(q, Mapping) and isinstance(q.get("epcClass"), str)
                else q
                for q in values
            ]
    for name in ("readPoint", "bizLocation"):
        place = out.get(name)
        if isinstance(place, Mapping) and isinstance(place.get("id"), str):
            out[name] = {**place, "id": convert(place["id"])}
    return out
