"""Pure validation and normalisation of GS1 identification keys (no database, no I/O).

Covers the keys the platform stores: GTIN (trade items), GLN (parties and locations),
SSCC (logistic units), the GS1 Company Prefix they are allocated from, and the batch/lot
(AI 10) and serial (AI 21) attributes that qualify a GTIN.

Canonical stored forms:

* GTIN: 14 digits, zero padded on the left (GTIN-8/12/13 become GTIN-14 with leading zeros);
  `gtin_display` gives back the shortest form for people.
* GLN: 13 digits. SSCC: 18 digits. Company prefix: 6 to 12 digits.
* Lot and serial: 1 to 20 characters of GS1 character set 82, surrounding whitespace removed.

Every function that checks user input raises `truyxuat.errors.ValidationFailed` whose loc
is the keyword `field`, so callers can name the offending form field or spreadsheet column.
"""

from __future__ import annotations

from functools import lru_cache

from biip import ParseError
from biip.gtin import Gtin

from truyxuat.errors import N_, invalid

GTIN_LENGTHS: tuple[int, ...] = (8, 12, 13, 14)
GLN_LENGTH = 13
SSCC_LENGTH = 18
COMPANY_PREFIX_MIN_LENGTH = 6
COMPANY_PREFIX_MAX_LENGTH = 12
VIETNAM_GS1_PREFIX = "893"
LOT_MAX_LENGTH = 20
SERIAL_MAX_LENGTH = 20

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
CSET_82: frozenset[str] = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_ALLOWED_HINT = "A-Z a-z 0-9 ! \" % & ' ( ) * + , - . / : ; < = > ? _"


def _compact(value: str) -> str:
    """Removes every whitespace character (people type and paste numbers with spaces)."""
    return "".join(value.split())


def _is_digits(value: str) -> bool:
    """Tells whether the string is non-empty and made of ASCII digits 0-9 only."""
    return value.isascii() and value.isdigit()


def gs1_check_digit(digits_without_check: str, *, field: str = "digits") -> int:
    """Computes the GS1 mod-10 check digit for a string of digits (the number minus its check)."""
    if not _is_digits(digits_without_check):
        raise invalid(field, N_("A check digit can only be computed over digits 0-9"))
    total = 0
    for position, char in enumerate(reversed(digits_without_check)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def _has_valid_check_digit(digits: str) -> bool:
    """Tells whether the last digit is the GS1 check digit of the ones before it."""
    return gs1_check_digit(digits[:-1]) == int(digits[-1])


def normalize_gtin(value: str, *, field: str = "gtin") -> str:
    """Validates a GTIN-8/12/13/14 and returns its canonical zero-padded GTIN-14 form."""
    return _normalized_gtin(value, field)


# Remembered: every scan parses its GTIN, and biip's parse (prefix tables included) costs more
# than the rest of a cached resolution. Invalid values raise and are not remembered.
@lru_cache(maxsize=16384)
def _normalized_gtin(value: str, field: str) -> str:
    digits = _compact(value)
    if digits and not _is_digits(digits):
        raise invalid(field, N_("GTIN must contain only digits 0-9"))
    if len(digits) not in GTIN_LENGTHS:
        raise invalid(
            field, N_("GTIN must have 8, 12, 13 or 14 digits, got {length}"), length=len(digits)
        )
    if digits.strip("0") == "":
        raise invalid(field, N_("GTIN cannot be all zeros"))
    try:
        gtin = Gtin.parse(digits)
    except ParseError as exc:
        expected = gs1_check_digit(digits[:-1])
        if int(digits[-1]) != expected:
            raise invalid(
                field, N_("Invalid GTIN check digit: expected {expected}"), expected=expected
            ) from exc
        raise invalid(field, N_("Invalid GTIN: {reason}"), reason=str(exc)) from exc
    return gtin.as_gtin_14()


def gtin_display(gtin14: str) -> str:
    """Returns the shortest conventional form of a GTIN (GTIN-8, -12, -13 or -14) for display."""
    canonical = normalize_gtin(gtin14)
    if canonical[0] != "0":
        return canonical  # GTIN-14 with a packaging indicator digit
    if canonical.startswith("000000"):
        return canonical[6:]  # GTIN-8
    if canonical.startswith("00"):
        return canonical[2:]  # GTIN-12 (U.P.C.), keeps up to three of its own leading zeros
    return canonical[1:]  # GTIN-13


def normalize_gln(value: str, *, field: str = "gln") -> str:
    """Validates a 13-digit Global Location Number and returns it without spaces."""
    digits = _compact(value)
    if digits and not _is_digits(digits):
        raise invalid(field, N_("GLN must contain only digits 0-9"))
    if len(digits) != GLN_LENGTH:
        raise invalid(field, N_("GLN must have 13 digits, got {length}"), length=len(digits))
    if digits.strip("0") == "":
        raise invalid(field, N_("GLN cannot be all zeros"))
    if not _has_valid_check_digit(digits):
        raise invalid(
            field,
            N_("Invalid GLN check digit: expected {expected}"),
            expected=gs1_check_digit(digits[:-1]),
        )
    return digits


def normalize_company_prefix(value: str, *, field: str = "gs1_company_prefix") -> str:
    """Validates a GS1 Company Prefix (6 to 12 digits) and returns it without spaces."""
    digits = _compact(value)
    if digits and not _is_digits(digits):
        raise invalid(field, N_("GS1 Company Prefix must contain only digits 0-9"))
    if not COMPANY_PREFIX_MIN_LENGTH <= len(digits) <= COMPANY_PREFIX_MAX_LENGTH:
        raise invalid(
            field,
            N_("GS1 Company Prefix must have {min} to {max} digits, got {length}"),
            min=COMPANY_PREFIX_MIN_LENGTH,
            max=COMPANY_PREFIX_MAX_LENGTH,
            length=len(digits),
        )
    return digits


def _prefix_ok(prefix: str) -> bool:
    """Tells whether a prefix is usable for matching: 1 to 12 ASCII digits."""
    return _is_digits(prefix) and len(prefix) <= COMPANY_PREFIX_MAX_LENGTH


def gln_matches_prefix(gln: str, prefix: str) -> bool:
    """Tells whether a GLN was allocated from the given GS1 Company Prefix."""
    number, prefix = _compact(gln), _compact(prefix)
    if not (_is_digits(number) and len(number) == GLN_LENGTH and _prefix_ok(prefix)):
        return False
    return number.startswith(prefix)


def gtin_matches_prefix(gtin14: str, prefix: str) -> bool:
    """Tells whether a GTIN was allocated from a company prefix (skipping the indicator digit)."""
    number, prefix = _compact(gtin14), _compact(prefix)
    if not (_is_digits(number) and len(number) in GTIN_LENGTHS and _prefix_ok(prefix)):
        return False
    return number.zfill(14)[1:].startswith(prefix)


def normalize_sscc(value: str, *, field: str = "sscc") -> str:
    """Validates an 18-digit Serial Shipping Container Code and returns it without spaces."""
    digits = _compact(value)
    if digits and not _is_digits(digits):
        raise invalid(field, N_("SSCC must contain only digits 0-9"))
    if len(digits) != SSCC_LENGTH:
        raise invalid(field, N_("SSCC must have 18 digits, got {length}"), length=len(digits))
    if not _has_valid_check_digit(digits):
        raise invalid(
            field,
            N_("Invalid SSCC check digit: expected {expected}"),
            expected=gs1_check_digit(digits[:-1]),
        )
    return digits


def is_vietnam_prefix(prefix_or_gtin13: str) -> bool:
    """Tells whether a prefix, GTIN-13, GLN or GTIN-14 carries GS1 Vietnam's prefix 893."""
    digits = _compact(prefix_or_gtin13)
    if not _is_digits(digits):
        return False
    if len(digits) == 14:  # GTIN-14: the GS1 prefix follows the indicator digit
        digits = digits[1:]
    return digits.startswith(VIETNAM_GS1_PREFIX)


def _build(company_prefix: str, reference: int, *, total: int, field: str, too_big: str) -> str:
    """Joins a company prefix and a zero-padded reference to `total` digits plus a check digit."""
    prefix = normalize_company_prefix(company_prefix)
    width = total - 1 - len(prefix)
    largest = 10**width - 1
    if isinstance(reference, bool) or not isinstance(reference, int):
        raise invalid(field, N_("The reference must be a whole number"))
    if not 0 <= reference <= largest:
        raise invalid(field, too_big, max=largest, prefix=prefix)
    body = prefix + (str(reference).zfill(width) if width else "")
    return body + str(gs1_check_digit(body))


def make_gtin13(company_prefix: str, item_ref: int, *, field: str = "item_ref") -> str:
    """Builds a valid GTIN-13 from a GS1 Company Prefix and an item reference number."""
    too_big = N_("Item reference must be between 0 and {max} for company prefix {prefix}")
    return _build(company_prefix, item_ref, total=13, field=field, too_big=too_big)


def make_gln(company_prefix: str, location_ref: int, *, field: str = "location_ref") -> str:
    """Builds a valid GLN from a GS1 Company Prefix and a location reference number."""
    too_big = N_("Location reference must be between 0 and {max} for company prefix {prefix}")
    return _build(company_prefix, location_ref, total=GLN_LENGTH, field=field, too_big=too_big)


def _validate_cset82(
    value: str, *, field: str, max_length: int, required: str, too_long: str, bad_char: str
) -> str:
    """Checks a 1..max_length string of GS1 character set 82, after trimming whitespace."""
    text = value.strip()
    if not text:
        raise invalid(field, required)
    if len(text) > max_length:
        raise invalid(field, too_long, max=max_length, length=len(text))
    bad = next((char for char in text if char not in CSET_82), None)
    if bad is not None:
        raise invalid(field, bad_char, char=bad, allowed=_ALLOWED_HINT)
    return text


def validate_lot(value: str, *, field: str = "lot") -> str:
    """Validates a GS1 AI (10) batch/lot number: 1-20 characters of GS1 character set 82."""
    return _validate_cset82(
        value,
        field=field,
        max_length=LOT_MAX_LENGTH,
        required=N_("Batch/lot number is required"),
        too_long=N_("Batch/lot number must be at most {max} characters, got {length}"),
        bad_char=N_("Batch/lot number cannot contain “{char}” (allowed: {allowed})"),
    )


def validate_serial(value: str, *, field: str = "serial") -> str:
    """Validates a GS1 AI (21) serial number: 1-20 characters of GS1 character set 82."""
    return _validate_cset82(
        value,
        field=field,
        max_length=SERIAL_MAX_LENGTH,
        required=N_("Serial number is required"),
        too_long=N_("Serial number must be at most {max} characters, got {length}"),
        bad_char=N_("Serial number cannot contain “{char}” (allowed: {allowed})"),
    )
