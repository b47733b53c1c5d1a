"""Tests for the pure GS1 identifier helpers in `truyxuat.gs1.identifiers`."""

from __future__ import annotations

import os
import random
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from biip.checksums import gs1_standard_check_digit

from truyxuat.errors import ValidationFailed
from truyxuat.gs1 import (
    gln_matches_prefix,
    gs1_check_digit,
    gtin_display,
    gtin_matches_prefix,
    is_vietnam_prefix,
    make_gln,
    make_gtin13,
    normalize_company_prefix,
    normalize_gln,
    normalize_gtin,
    normalize_sscc,
    validate_lot,
    validate_serial,
)

SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SYNTAX_DICTIONARY = SHARED_DATA / "gs1" / "gs1-syntax-dictionary.txt"

# Published example numbers with valid check digits.
GTIN13 = "4006381333931"  # EAN-13 example (Wikipedia, Stabilo)
GTIN13_VN = "8936036020328"  # a GTIN-13 under GS1 Vietnam's 893 prefix
GTIN12 = "036000291452"  # UPC-A example
GTIN8 = "96385074"  # EAN-8 example
GTIN14 = "10614141000415"  # GS1 US example, packaging indicator 1
GLN = "0614141000012"  # GS1 US example GLN (company prefix 0614141)
SSCC = "106141411234567897"  # GS1 example SSCC (extension digit 1, prefix 0614141)


def _flip_check_digit(number: str) -> str:
    """Returns the number with a wrong check digit."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _error(
    exc: pytest.ExceptionInfo[ValidationFailed],
) -> tuple[list[str | int], str, dict[str, Any]]:
    """Returns (loc, message, params) of the single field error."""
    assert len(exc.value.errors) == 1
    error = exc.value.errors[0]
    # The message template must render with its params (no missing placeholders).
    error.message.format(**error.params)
    return error.loc, error.message, error.params


# --- check digit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [(GTIN13, 1), (GTIN12, 2), (GTIN8, 4), (GTIN14, 5), (GLN, 2), (SSCC, 7), ("000", 0)],
)
def test_gs1_check_digit_of_known_numbers(number: str, expected: int) -> None:
    assert gs1_check_digit(number[:-1]) == expected


def test_gs1_check_digit_agrees_with_biip() -> None:
    rng = random.Random(893)
    for _ in range(2000):
        digits = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 17)))
        assert gs1_check_digit(digits) == gs1_standard_check_digit(digits), digits


def test_gs1_check_digit_ignores_leading_zeros() -> None:
    assert gs1_check_digit("0000" + GTIN8[:-1]) == gs1_check_digit(GTIN8[:-1])


@pytest.mark.parametrize("bad", ["", "12a4", "١٢٣", "12 3", "-1"])
def test_gs1_check_digit_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        gs1_check_digit(bad)
    assert _error(exc)[0] == ["digits"]


# --- GTIN -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "gtin14"),
    [
        (GTIN13, "0" + GTIN13),
        (GTIN13_VN, "0" + GTIN13_VN),
        (GTIN12, "00" + GTIN12),
        (GTIN8, "000000" + GTIN8),
        (GTIN14, GTIN14),
        ("0" + GTIN13, "0" + GTIN13),  # already canonical
        ("0" + GTIN12, "00" + GTIN12),  # GTIN-12 written as GTIN-13
        ("00000" + GTIN8, "000000" + GTIN8),  # GTIN-8 written as GTIN-13
    ],
)
def test_normalize_gtin_pads_to_14(value: str, gtin14: str) -> None:
    assert normalize_gtin(value) == gtin14


@pytest.mark.parametrize(
    "value", [" 4006381333931 ", "400 6381 33393 1", "4006381\t333931\n", "\u00a04006381333931"]
)
def test_normalize_gtin_strips_whitespace(value: str) -> None:
    assert normalize_gtin(value) == "04006381333931"


@pytest.mark.parametrize("value", [GTIN13, GTIN12, GTIN8, GTIN14, GTIN13_VN])
def test_normalize_gtin_wrong_check_digit(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gtin(_flip_check_digit(value))
    loc, message, params = _error(exc)
    assert loc == ["gtin"]
    assert message == "Invalid GTIN check digit: expected {expected}"
    assert params == {"expected": int(value[-1])}


@pytest.mark.parametrize("value", ["", "1234567", "123456789", "12345678901", "123456789012345"])
def test_normalize_gtin_wrong_length(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gtin(value)
    _, message, params = _error(exc)
    assert message == "GTIN must have 8, 12, 13 or 14 digits, got {length}"
    assert params == {"length": len(value)}


@pytest.mark.parametrize(
    "value", ["400638133393A", "ABCDEFGHIJKLM", "4006381-333931", "٤٠٠٦٣٨١٣٣٣٩٣١", "4006381333.93"]
)
def test_normalize_gtin_rejects_non_digits(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gtin(value)
    assert _error(exc)[1] == "GTIN must contain only digits 0-9"


@pytest.mark.parametrize("value", ["00000000", "0000000000000", "00000000000000"])
def test_normalize_gtin_rejects_all_zeros(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gtin(value)
    assert _error(exc)[1] == "GTIN cannot be all zeros"


def test_normalize_gtin_uses_caller_field_name() -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gtin(_flip_check_digit(GTIN13), field="child_gtin")
    assert _error(exc)[0] == ["child_gtin"]


# --- GTIN display -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shortest", [GTIN13, GTIN13_VN, GTIN12, GTIN8, GTIN14, "012345678905", "001234567895"]
)
def test_gtin_display_round_trip(shortest: str) -> None:
    gtin14 = normalize_gtin(shortest)
    assert len(gtin14) == 14
    assert gtin_display(gtin14) == shortest
    assert normalize_gtin(gtin_display(gtin14)) == gtin14


@pytest.mark.parametrize(
    ("gtin14", "shown"),
    [
        ("04006381333931", GTIN13),  # one leading zero: GTIN-13
        ("00036000291452", GTIN12),  # two: GTIN-12
        ("00000096385074", GTIN8),  # six: GTIN-8
        (GTIN14, GTIN14),  # indicator digit non-zero: stays GTIN-14
        ("0" + "0036000291452", GTIN12),  # GTIN-12 entered as 13 digits
    ],
)
def test_gtin_display_shortest_form(gtin14: str, shown: str) -> None:
    assert gtin_display(gtin14) == shown


def test_gtin_display_rejects_invalid() -> None:
    with pytest.raises(ValidationFailed):
        gtin_display(_flip_check_digit("04006381333931"))


# --- GLN --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [GLN, "0614141123452", " 0614141 00001 2 "])
def test_normalize_gln_valid(value: str) -> None:
    assert normalize_gln(value) == "".join(value.split())


def test_normalize_gln_wrong_check_digit() -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gln(_flip_check_digit(GLN))
    loc, message, params = _error(exc)
    assert loc == ["gln"]
    assert message == "Invalid GLN check digit: expected {expected}"
    assert params == {"expected": 2}


@pytest.mark.parametrize("value", ["", "061414100001", "06141410000123", GTIN8, "0" + GTIN13])
def test_normalize_gln_wrong_length(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gln(value, field="ship_from")
    loc, message, params = _error(exc)
    assert loc == ["ship_from"]
    assert message == "GLN must have 13 digits, got {length}"
    assert params == {"length": len(value)}


@pytest.mark.parametrize("value", ["061414100001X", "O614141000012", "urn:epc:id:sgln:0614141"])
def test_normalize_gln_rejects_letters(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_gln(value)
    assert _error(exc)[1] == "GLN must contain only digits 0-9"


def test_normalize_gln_rejects_all_zeros() -> None:
    with pytest.raises(ValidationFailed):
        normalize_gln("0000000000000")


# --- SSCC -------------------------------------------------------------------------------------


def test_normalize_sscc_valid() -> None:
    assert normalize_sscc(SSCC) == SSCC
    assert normalize_sscc(" 1 0614141 123456789 7 ") == SSCC


def test_normalize_sscc_wrong_check_digit() -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_sscc(_flip_check_digit(SSCC))
    loc, message, params = _error(exc)
    assert loc == ["sscc"]
    assert message == "Invalid SSCC check digit: expected {expected}"
    assert params == {"expected": 7}


@pytest.mark.parametrize("value", ["", SSCC[:-1], SSCC + "0", "00" + SSCC])
def test_normalize_sscc_wrong_length(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_sscc(value)
    assert _error(exc)[2] == {"length": len(value)}


def test_normalize_sscc_rejects_letters() -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_sscc("(00)106141411234567897", field="pallet")
    loc, message, _ = _error(exc)
    assert loc == ["pallet"]
    assert message == "SSCC must contain only digits 0-9"


# --- company prefix ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["893603", "8936036", "0614141", "893123456789", " 893 6036 "])
def test_normalize_company_prefix_valid(value: str) -> None:
    assert normalize_company_prefix(value) == "".join(value.split())


@pytest.mark.parametrize("value", ["", "893", "89360", "8931234567890"])
def test_normalize_company_prefix_wrong_length(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_company_prefix(value)
    loc, message, params = _error(exc)
    assert loc == ["gs1_company_prefix"]
    assert message == "GS1 Company Prefix must have {min} to {max} digits, got {length}"
    assert params == {"min": 6, "max": 12, "length": len(value)}


@pytest.mark.parametrize("value", ["893ABC", "893-6036", "８９３６０３６"])
def test_normalize_company_prefix_rejects_non_digits(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        normalize_company_prefix(value, field="prefix")
    assert _error(exc)[:2] == (["prefix"], "GS1 Company Prefix must contain only digits 0-9")


# --- prefix matching --------------------------------------------------------------------------


def test_gln_matches_prefix() -> None:
    assert gln_matches_prefix(GLN, "0614141")
    assert gln_matches_prefix(GLN, "061414100001")
    assert not gln_matches_prefix(GLN, "0614142")
    assert not gln_matches_prefix(GLN, "614141")  # prefix must start at the first digit
    assert not gln_matches_prefix(GLN, "")
    assert not gln_matches_prefix("not-a-gln", "0614141")
    assert not gln_matches_prefix(GLN[:-1], "0614141")


def test_gtin_matches_prefix_skips_indicator_digit() -> None:
    assert gtin_matches_prefix(GTIN14, "0614141")  # 1 | 0614141 | 00041 | 5
    assert not gtin_matches_prefix(GTIN14, "1061414")
    assert gtin_matches_prefix("0" + GTIN13_VN, "8936036")
    assert gtin_matches_prefix("0" + GTIN13_VN, "893603602")
    assert not gtin_matches_prefix("0" + GTIN13_VN, "8936037")
    assert not gtin_matches_prefix("0" + GTIN13_VN, "08936036")


def test_gtin_matches_prefix_accepts_short_forms_and_rejects_garbage() -> None:
    assert gtin_matches_prefix(GTIN13_VN, "8936036")
    assert gtin_matches_prefix(GTIN12, "0036000")  # U.P.C. prefix 036000 is GS1 prefix 0036000
    assert not gtin_matches_prefix("abc", "8936036")
    assert not gtin_matches_prefix(GTIN13_VN, "")
    assert not gtin_matches_prefix(GTIN13_VN, "89x")


def test_gtin_matches_prefix_of_built_numbers() -> None:
    for prefix in ["893603", "8936036", "89360360", "893603602032"]:
        gtin14 = normalize_gtin(make_gtin13(prefix, 0))
        assert gtin_matches_prefix(gtin14, prefix)
        assert not gtin_matches_prefix(gtin14, "894" + prefix[3:])


# --- Vietnam ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("893", True),
        ("8936036", True),
        (GTIN13_VN, True),
        ("0" + GTIN13_VN, True),  # canonical GTIN-14
        ("18936036020325", True),  # GTIN-14, indicator digit 1, then 893...
        (GTIN13, False),
        ("0" + GTIN13, False),
        ("89", False),
        ("", False),
        ("893abc", False),
        ("0893", False),
    ],
)
def test_is_vietnam_prefix(value: str, expected: bool) -> None:
    assert is_vietnam_prefix(value) is expected


# --- building numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "item_ref"),
    [("893603", 0), ("893603", 123456), ("8936036", 2032), ("0614141", 41), ("893603602032", 0)],
)
def test_make_gtin13_then_validate(prefix: str, item_ref: int) -> None:
    gtin13 = make_gtin13(prefix, item_ref)
    assert len(gtin13) == 13
    assert gtin13.startswith(prefix)
    assert int(gtin13[len(prefix) : -1] or "0") == item_ref
    assert normalize_gtin(gtin13) == "0" + gtin13
    if prefix[0] != "0":
        assert gtin_display(normalize_gtin(gtin13)) == gtin13


def test_make_gtin13_known_value() -> None:
    assert make_gtin13("8936036", 2032) == GTIN13_VN
    assert make_gtin13("4006381", 33393) == GTIN13


def test_make_gtin13_every_item_ref_is_valid() -> None:
    for item_ref in range(0, 100_000, 7):
        gtin13 = make_gtin13("8931234", item_ref)
        assert normalize_gtin(gtin13) == "0" + gtin13


@pytest.mark.parametrize(
    ("prefix", "item_ref", "largest"),
    [("893603", 1_000_000, 999_999), ("893603602032", 1, 0), ("8936036", -1, 99_999)],
)
def test_make_gtin13_reference_must_fit(prefix: str, item_ref: int, largest: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        make_gtin13(prefix, item_ref)
    loc, message, params = _error(exc)
    assert loc == ["item_ref"]
    assert message == "Item reference must be between 0 and {max} for company prefix {prefix}"
    assert params == {"max": largest, "prefix": prefix}


def test_make_gtin13_validates_prefix() -> None:
    with pytest.raises(ValidationFailed) as exc:
        make_gtin13("893", 1)
    assert _error(exc)[0] == ["gs1_company_prefix"]


@pytest.mark.parametrize(
    ("prefix", "location_ref"),
    [("0614141", 1), ("0614141", 12345), ("893603", 999_999), ("893603602032", 0)],
)
def test_make_gln_then_validate(prefix: str, location_ref: int) -> None:
    gln = make_gln(prefix, location_ref)
    assert len(gln) == 13
    assert normalize_gln(gln) == gln
    assert gln_matches_prefix(gln, prefix)


def test_make_gln_known_value() -> None:
    assert make_gln("0614141", 1) == GLN
    assert make_gln("0614141", 12345) == "0614141123452"


def test_make_gln_reference_must_fit() -> None:
    with pytest.raises(ValidationFailed) as exc:
        make_gln("8936036", 100_000, field="warehouse_ref")
    loc, message, params = _error(exc)
    assert loc == ["warehouse_ref"]
    assert message == "Location reference must be between 0 and {max} for company prefix {prefix}"
    assert params == {"max": 99_999, "prefix": "8936036"}


# --- lot and serial ---------------------------------------------------------------------------

# GS1 General Specifications, figure 7.11-1: the 82 characters of GS1 AI encodable character set 82.
CSET_82_REFERENCE = frozenset("!\"%&'()*+,-./:;<=>?_" + string.digits + string.ascii_letters)
Validator = Callable[..., str]
VALIDATORS: list[tuple[Validator, str]] = [(validate_lot, "lot"), (validate_serial, "serial")]


@pytest.mark.parametrize(("validate", "field"), VALIDATORS)
@pytest.mark.parametrize(
    "value", ["L1", "LOT-2024/05", "A" * 20, "0", "abc_XYZ.%&'()*+,-./:;<=>?!\""[:20], "x"]
)
def test_lot_and_serial_valid(validate: Validator, field: str, value: str) -> None:
    assert validate(value) == value
    assert validate(f"  {value}\t") == value


@pytest.mark.parametrize(("validate", "field"), VALIDATORS)
def test_lot_and_serial_required(validate: Validator, field: str) -> None:
    for value in ["", "   "]:
        with pytest.raises(ValidationFailed) as exc:
            validate(value)
        assert _error(exc)[0] == [field]


@pytest.mark.parametrize(("validate", "field"), VALIDATORS)
def test_lot_and_serial_too_long(validate: Validator, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate("A" * 21, field="row 3")
    loc, _, params = _error(exc)
    assert loc == ["row 3"]
    assert params == {"max": 20, "length": 21}


@pytest.mark.parametrize(("validate", "field"), VALIDATORS)
@pytest.mark.parametrize("bad", [" ", "#", "$", "@", "[", "\\", "^", "`", "{", "|", "~", "đ", "Á"])
def test_lot_and_serial_bad_characters(validate: Validator, field: str, bad: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate(f"LOT{bad}1")
    loc, _, params = _error(exc)
    assert loc == [field]
    assert params["char"] == bad


def test_cset_82_reference_has_82_characters() -> None:
    assert len(CSET_82_REFERENCE) == 82


# --- against the official GS1 Barcode Syntax Dictionary ---------------------------------------

FLAG_CHARS = set("*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~")
COMPONENT = re.compile(r"^\[?([NXYZ])(\d*)(?:\.\.(\d+))?((?:,\w+)*)\]?$")


def _dictionary_spec(text: str, ai: str) -> list[str]:
    """Returns the specification components of one AI's dictionary line."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split()
        if not line or line[0] != ai:
            continue
        rest = line[1:]
        if rest and set(rest[0]) <= FLAG_CHARS:
            rest = rest[1:]
        components = []
        for token in rest:
            if not COMPONENT.match(token):
                break  # attributes (req=..., dlpkey...) follow the specification
            components.append(token)
        return components
    raise AssertionError(f"AI ({ai}) not found in the syntax dictionary")


def _dictionary_csets(text: str) -> dict[str, str]:
    """Maps each specification type letter to its character set name from the header."""
    return dict(re.findall(r'"([NXYZ])": CSET (\d+)', text))


@pytest.mark.skipif(not SYNTAX_DICTIONARY.is_file(), reason=f"{SYNTAX_DICTIONARY} not available")
@pytest.mark.parametrize(("ai", "validate"), [("10", validate_lot), ("21", validate_serial)])
def test_lot_and_serial_follow_gs1_syntax_dictionary(ai: str, validate: Validator) -> None:
    text = SYNTAX_DICTIONARY.read_text(encoding="utf-8")
    components = _dictionary_spec(text, ai)
    assert len(components) == 1, f"AI ({ai}) now has several components: {components}"
    match = COMPONENT.match(components[0])
    assert match is not None
    type_letter, fixed, maximum, linters = match.groups()
    assert not linters, f"AI ({ai}) now has linters {linters}; validate them too"
    if maximum:  # "X..20": 1 <= length <= 20
        min_length, max_length = int(fixed or 1), int(maximum)
    else:  # "X20": length == 20
        min_length = max_length = int(fixed)

    cset = _dictionary_csets(text)[type_letter]
    assert cset == "82", f"AI ({ai}) uses CSET {cset}; only CSET 82 is modelled"
    assert len(CSET_82_REFERENCE) == int(cset)

    # Length bounds as declared.
    assert validate("A" * max_length) == "A" * max_length
    assert validate("A" * min_length) == "A" * min_length
    with pytest.raises(ValidationFailed):
        validate("A" * (max_length + 1))
    if min_length == 1:
        with pytest.raises(ValidationFailed):
            validate("")

    # Character set: every character of CSET 82 is accepted, nothing else is.
    for code in range(0x21, 0x3000):
        char = chr(code)
        if char.isspace():
            continue  # surrounding whitespace is trimmed, tested separately
        if char in CSET_82_REFERENCE:
            assert validate(f"A{char}B") == f"A{char}B"
        else:
            with pytest.raises(ValidationFailed):
                validate(f"A{char}B")
