"""Trace codes, pure: random serials, GS1 Digital Link URIs (build and parse) and AI syntax.

Serials follow GS1 AI (21): up to 20 characters of character set 82. We draw them from the
Crockford base32 alphabet (digits and upper-case letters without I, L, O, U), a subset of
cset 82 that people can read back from a printed stamp without confusing 0/O or 1/I/L.
Twelve characters carry 60 random bits, so serials cannot be guessed or enumerated.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

import biip

from truyxuat.errors import N_, invalid
from truyxuat.gs1 import normalize_gtin, validate_lot, validate_serial

SERIAL_LENGTH = 12
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_RFC4648, CROCKFORD)
# Syntax of the AIs a stamp uses, from the GS1 Barcode Syntax Dictionary
# (../shared/data/gs1/gs1-syntax-dictionary.txt): 01 N14,csum; 10 X..20; 21 X..20.
AI_SYNTAX = {
    "01": re.compile(r"^\d{14}$"),
    "10": re.compile(r"^.{1,20}$"),
    "21": re.compile(r"^.{1,20}$"),
}
# GS1 Digital Link: characters of cset 82 that must be percent-encoded in a path segment
# (everything outside the URI "unreserved" set: ! " % & ' ( ) * + , / : ; < = > ?).
_DL_SAFE = "-._~"


@dataclass(frozen=True)
class StampRecord:
    """One stamp as printed: its Digital Link, keys and, for anti-counterfeit stamps, the PIN."""

    seq: int
    uri: str
    gtin: str
    serial: str
    lot: str | None
    pin: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class DigitalLink:
    """The GS1 keys read from a Digital Link URI."""

    gtin: str
    lot: str | None
    serial: str | None


def new_serials(count: int, length: int = SERIAL_LENGTH) -> list[str]:
    """Returns `count` random serials of `length` Crockford base32 characters (may repeat)."""
    if count <= 0:
        return []
    # base32 turns every 5 random bytes into 8 characters; slice the text into serials.
    chars = count * length
    raw = os.urandom((chars * 5 + 7) // 8 + 5)
    text = base64.b32encode(raw).decode("ascii").translate(_TO_CROCKFORD)
    return [text[i : i + length] for i in range(0, chars, length)]


def unique_serials(count: int, taken: Iterable[str] = ()) -> list[str]:
    """Returns `count` distinct random serials, none of them in `taken`."""
    seen = set(taken)
    result: list[str] = []
    while len(result) < count:
        for serial in new_serials(count - len(result)):
            if serial not in seen:
                seen.add(serial)
                result.append(serial)
    return result


def check_ai(ai: str, value: str) -> str:
    """Checks a value against the syntax dictionary rule of AI 01, 10 or 21 and returns it."""
    if ai == "01":
        gtin = normalize_gtin(value)
        if not AI_SYNTAX["01"].match(gtin):
            raise invalid(
                "gtin", N_("GTIN must have 8, 12, 13 or 14 digits, got {length}"), length=len(gtin)
            )
        return gtin
    if ai == "10":
        return validate_lot(value)
    if ai == "21":
        return validate_serial(value)
    raise invalid("ai", N_("Unsupported application identifier {ai}"), ai=ai)


def _segment(value: str) -> str:
    return quote(value, safe=_DL_SAFE)


def digital_link(base: str, gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """Builds the GS1 Digital Link URI of an item (`serial`) or a lot on the resolver `base`."""
    uri = f"{base.rstrip('/')}/01/{gtin}"
    if lot:
        uri += f"/10/{_segment(lot)}"
    if serial:
        uri += f"/21/{_segment(serial)}"
    return uri


def parse_digital_link(uri: str, *, field: str = "uri") -> DigitalLink:
    """Parses a GS1 Digital Link URI with biip into its GTIN, lot and serial."""
    try:
        result = biip.parse(uri.strip())
    except biip.ParseError as exc:
        raise invalid(field, N_("Not a GS1 Digital Link URI: {reason}"), reason=str(exc)) from exc
    link = result.gs1_digital_link_uri
    if link is None:
        raise invalid(field, N_("Not a GS1 Digital Link URI: {reason}"), reason=uri[:80])
    values = {es.ai.ai: es.value for es in link.element_strings}
    if "01" not in values:
        raise invalid(field, N_("The Digital Link has no GTIN (AI 01)"))
    return DigitalLink(gtin=values["01"], lot=values.get("10"), serial=values.get("21"))
