"""Identifiers of events rewritten for the GS1-EPC-Format header: EPC URN <-> GS1 Digital Link.

Covers SGTIN, SSCC, SGLN (instances) and LGTIN (class). A Digital Link does not say how long
the GS1 company prefix is, which the URN needs: the caller passes the prefixes it knows, and the
longest one that starts the key is used; otherwise `DEFAULT_PREFIX_LENGTH` digits. Identifiers
of other kinds, or that do not parse, are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import quote, unquote

ALWAYS_URN = "Always_EPC_URN"
ALWAYS_DIGITAL_LINK = "Always_GS1_Digital_Link"
NO_PREFERENCE = "No_Preference"
NEVER_TRANSLATES = "Never_Translates"
FORMATS = frozenset({ALWAYS_URN, ALWAYS_DIGITAL_LINK, NO_PREFERENCE, NEVER_TRANSLATES})
DIGITAL_LINK_BASE = "https://id.gs1.org"
DEFAULT_PREFIX_LENGTH = 7

_URN = re.compile(r"^urn:epc:(id|class):(sgtin|sscc|sgln|lgtin):(\d+)\.(\d+)(?:\.(.*))?$")
_DL = re.compile(r"^https?://[^/]+(?:/[^0-9][^/]*)*(/(?:01|00|414)/.*)$")
_URN_SAFE = "-_.:;=!'()*+,"
_DL_SAFE = "-_.!'()*+,:;="
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a key without its check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def to_digital_link(value: str) -> str:
    """An SGTIN/SSCC/SGLN/LGTIN EPC URN as a GS1 Digital Link URI; anything else unchanged."""
    match = _URN.match(value)
    if match is None:
        return value
    kind, scheme, prefix, reference, rest = match.groups()
    if scheme in ("sgtin", "lgtin") and rest is not None and len(prefix + reference) == 13:
        if (kind, scheme) not in (("id", "sgtin"), ("class", "lgtin")):
            return value
        body = reference[0] + prefix + reference[1:]
        gtin = body + check_digit(body)
        ai = "21" if scheme == "sgtin" else "10"
        return f"{DIGITAL_LINK_BASE}/01/{gtin}/{ai}/{quote(unquote(rest), safe=_DL_SAFE)}"
    if (kind, scheme) == ("id", "sscc") and rest is None and len(prefix + reference) == 17:
        body = reference[0] + prefix + reference[1:]
        return f"{DIGITAL_LINK_BASE}/00/{body + check_digit(body)}"
    if (kind, scheme) == ("id", "sgln") and rest is not None and len(prefix + reference) == 12:
        body = prefix + reference
        link = f"{DIGITAL_LINK_BASE}/414/{body + check_digit(body)}"
        extension = unquote(rest)
        return link if extension == "0" else f"{link}/254/{quote(extension, safe=_DL_SAFE)}"
    return value


def _prefix_length(key: str, prefixes: Collection[str]) -> int:
    """How many digits of a key (after any indicator digit) are the company prefix."""
    known = [p for p in prefixes if key.startswith(p)]
    return max((len(p) for p in known), default=DEFAULT_PREFIX_LENGTH)


def to_epc_urn(value: str, prefixes: Collection[str] = ()) -> str:
    """A GS1 Digital Link URI of an SGTIN/SSCC/SGLN/LGTIN as an EPC URN; else unchanged."""
    match = _DL.match(value)
    if match is None:
        return value
    parts = match.group(1).strip("/").split("/")
    if len(parts) % 2:
        return value
    pairs = dict(zip(parts[::2], parts[1::2], strict=True))
    if len(pairs) != len(parts) // 2:
        return value
    if set(pairs) in ({"01", "21"}, {"01", "10"}):
        gtin = pairs["01"]
        if not (len(gtin) == 14 and gtin.isdigit()):
            return value
        length = _prefix_length(gtin[1:], prefixes)
        prefix, item = gtin[1 : 1 + length], gtin[0] + gtin[1 + length : 13]
        if "21" in pairs:
            return f"urn:epc:id:sgtin:{prefix}.{item}.{quote(unquote(pairs['21']), safe=_URN_SAFE)}"
        return f"urn:epc:class:lgtin:{prefix}.{item}.{quote(unquote(pairs['10']), safe=_URN_SAFE)}"
    if set(pairs) == {"00"}:
        sscc = pairs["00"]
        if not (len(sscc) == 18 and sscc.isdigit()):
            return value
        length = _prefix_length(sscc[1:], prefixes)
        return f"urn:epc:id:sscc:{sscc[1 : 1 + length]}.{sscc[0]}{sscc[1 + length : 17]}"
    if set(pairs) in ({"414"}, {"414", "254"}):
        gln = pairs["414"]
        if not (len(gln) == 13 and gln.isdigit()):
            return value
        length = _prefix_length(gln, prefixes)
        extension = quote(unquote(pairs.get("254", "0")), safe=_URN_SAFE)
        return f"urn:epc:id:sgln:{gln[:length]}.{gln[length:12]}.{extension}"
    return value


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
