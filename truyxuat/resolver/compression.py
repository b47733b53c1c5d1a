"""Compressed GS1 Digital Link URIs (GS1 Digital Link standard, compression), decompression only.

A compressed path is base64url text whose bits carry each AI as hexadecimal digits and its
value in as few bits as it allows: fixed-length numbers as binary integers, variable-length
values behind a 3-bit encoding indicator (numeric, lower- or upper-case hexadecimal, base64url
or 7-bit ASCII) and their length. Only the AIs this resolver answers for are read: GTIN (01)
with lot (10), serial (21), consumer product variant (22) and the dates 11, 13, 15 and 17;
anything else, including the standard's optimisation codes, is refused.
"""

from __future__ import annotations

import math
import re

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
COMPRESSED = re.compile(r"^[A-Za-z0-9_-]{6,}$")
# AI → digits of a fixed-length number, or None for an X..20 value.
KNOWN_AIS: dict[str, int | None] = {
    "01": 14,
    "11": 6,
    "13": 6,
    "15": 6,
    "17": 6,
    "10": None,
    "21": None,
    "22": None,
}
VARIABLE_MAX = 20
_HEX = "0123456789abcdef"


def _number_bits(digits: int) -> int:
    """Bits of a `digits`-long decimal number: ceil(digits × log2 10)."""
    return math.ceil(digits * math.log2(10))


class _Reader:
    def __init__(self, text: str) -> None:
        self.bits = "".join(f"{BASE64URL.index(c):06b}" for c in text)
        self.at = 0

    def take(self, count: int) -> int:
        if self.at + count > len(self.bits):
            raise ValueError("the compressed value ends too early")
        value = int(self.bits[self.at : self.at + count], 2)
        self.at += count
        return value

    def more(self) -> bool:
        # What is left after the last value is zero padding to a whole base64url character.
        rest = self.bits[self.at :]
        return len(rest) >= 8 and "1" in rest


def _variable(reader: _Reader) -> str:
    encoding = reader.take(3)
    length = reader.take(math.ceil(math.log2(VARIABLE_MAX + 1)))
    if encoding == 0:
        return f"{reader.take(_number_bits(length)):0{length}d}" if length else ""
    if encoding in (1, 2):
        text = "".join(_HEX[reader.take(4)] for _ in range(length))
        return text if encoding == 1 else text.upper()
    if encoding == 3:
        return "".join(BASE64URL[reader.take(6)] for _ in range(length))
    if encoding == 4:
        return "".join(chr(reader.take(7)) for _ in range(length))
    raise ValueError(f"unknown value encoding {encoding:03b}")


def decompress(text: str) -> list[tuple[str, str]]:
    """The (AI, value) pairs of a compressed path segment, in order (ValueError if not one)."""
    if not COMPRESSED.match(text):
        raise ValueError("not base64url text")
    reader = _Reader(text)
    found: list[tuple[str, str]] = []
    while reader.more():
        ai = _HEX[reader.take(4)] + _HEX[reader.take(4)]
        if ai not in KNOWN_AIS:
            raise ValueError(f"AI or optimisation code {ai} is not supported")
        digits = KNOWN_AIS[ai]
        if digits is None:
            found.append((ai, _variable(reader)))
        else:
            found.append((ai, f"{reader.take(_number_bits(digits)):0{digits}d}"))
    if not found:
        raise ValueError("nothing compressed")
    return found
