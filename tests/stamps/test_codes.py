"""Trace codes: random serials and GS1 Digital Link build/parse (pure, no database)."""

from __future__ import annotations

import biip
import pytest

from truyxuat.errors import ValidationFailed
from truyxuat.gs1.identifiers import CSET_82
from truyxuat.stamps import codes

GTIN = "08930000000019"


def test_serials_are_distinct_over_a_large_batch() -> None:
    serials = codes.unique_serials(200_000)
    assert len(set(serials)) == 200_000


def test_serials_use_unambiguous_cset82_characters_and_fixed_length() -> None:
    serials = codes.new_serials(5000)
    assert all(len(s) == codes.SERIAL_LENGTH for s in serials)
    chars = set("".join(serials))
    assert chars <= set(codes.CROCKFORD) <= CSET_82
    assert not chars & set("ILOU")


def test_serials_carry_at_least_50_random_bits() -> None:
    assert codes.SERIAL_LENGTH * 5 >= 50


def test_unique_serials_avoid_taken_ones() -> None:
    taken = set(codes.new_serials(10))
    assert not set(codes.unique_serials(1000, taken=taken)) & taken


def test_item_digital_link_round_trips_through_biip() -> None:
    uri = codes.digital_link("https://tx.example.vn/", GTIN, "L-2026/01", "AB12CD34EF56")
    parsed = biip.parse(uri).gs1_digital_link_uri
    assert parsed is not None
    values = {es.ai.ai: es.value for es in parsed.element_strings}
    assert values == {"01": GTIN, "10": "L-2026/01", "21": "AB12CD34EF56"}
    assert uri.startswith("https://tx.example.vn/01/")


def test_cset82_characters_are_percent_encoded_in_the_path() -> None:
    uri = codes.digital_link("http://127.0.0.1:8000", GTIN, "A/B%1", "X+Y&Z")
    assert uri == "http://127.0.0.1:8000/01/08930000000019/10/A%2FB%251/21/X%2BY%26Z"
    link = codes.parse_digital_link(uri)
    assert (link.lot, link.serial) == ("A/B%1", "X+Y&Z")


def test_lot_level_digital_link_has_no_serial() -> None:
    uri = codes.digital_link("http://127.0.0.1:8000", GTIN, "L2026")
    assert uri.endswith("/01/08930000000019/10/L2026")
    assert codes.parse_digital_link(uri).serial is None


def test_parse_rejects_a_uri_that_is_not_a_digital_link() -> None:
    with pytest.raises(ValidationFailed):
        codes.parse_digital_link("https://example.com/hello")


def test_ai_checks_follow_the_syntax_dictionary() -> None:
    assert codes.check_ai("01", "8930000000019") == GTIN
    assert codes.check_ai("21", "ABC") == "ABC"
    for ai, value in [("01", "8930000000018"), ("10", "x" * 21), ("21", "bad space"), ("99", "1")]:
        with pytest.raises(ValidationFailed):
            codes.check_ai(ai, value)
