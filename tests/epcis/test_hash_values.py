"""How single values are written in the pre-hash string: times, numbers, identifiers."""

from __future__ import annotations

import pytest

from truyxuat.epcis.hash_values import (
    canonical_digital_link,
    canonical_number,
    canonical_time,
    canonical_value,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z"),
        ("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"),
        ("2022-02-16T08:40:21.3142715Z", "2022-02-16T08:40:21.314Z"),
        ("2024-12-31T23:59:59.9996+00:00", "2025-01-01T00:00:00.000Z"),
        ("2024-05-01T08:00:00.5+0700", "2024-05-01T01:00:00.500Z"),
        ("2024-05-01T08:00:00", "2024-05-01T08:00:00.000Z"),
        ("not a time", "not a time"),
        ("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_canonical_time_is_utc_with_milliseconds(text: str, expected: str) -> None:
    """UTC, 'Z', three decimals; a fourth decimal of 5-9 rounds up."""
    assert canonical_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26.0", "26"),
        ("+007", "7"),
        ("1.50", "1.5"),
        ("0.005", "0.005"),
        ("1E3", "1000"),
        ("-0", "0"),
        ("2019-10-07", "2019-10-07"),
        ("A93", "A93"),
        ("1_000", "1_000"),
        ("inf", "inf"),
    ],
)
def test_canonical_number_drops_leading_and_trailing_zeros(text: str, expected: str) -> None:
    """Decimal numbers lose '+', leading and trailing zeros; other text stays."""
    assert canonical_number(text) == expected


def test_canonical_number_keeps_the_reference_double_precision() -> None:
    """Long digit strings go through a double, as the published hashes require."""
    assert canonical_number("111100001111000011110000") == "111100001111000003641344"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("urn:epc:id:sgtin:4012345.011111.9876", "/01/04012345111118/21/9876"),
        ("urn:epc:id:sgtin:0614141.812345.6789%2F!()", "/01/80614141123458/21/6789%2F%21%28%29"),
        ("urn:epc:id:sscc:4012345.3111111111", "/00/340123451111111111"),
        ("urn:epc:id:sgln:4012345.00005.0", "/414/4012345000054"),
        ("urn:epc:id:sgln:4012345.00005.122", "/414/4012345000054/254/122"),
        ("urn:epc:id:pgln:4000001.00000", "/417/4000001000005"),
        ("urn:epc:class:lgtin:4012345.012345.Lot987", "/01/04012345123456/10/Lot987"),
        ("urn:epc:idpat:sgtin:4012345.044444.*", "/01/04012345444445"),
        ("urn:epc:id:gdti:4012345.11111.123", "/253/4012345111118123"),
        ("https://id.gs1.org/gtin/09780345418913", "/01/09780345418913"),
        ("https://example.com/gtin/9780345418913/21/765tz?abc=1", "/01/09780345418913/21/765tz"),
        ("https://shop.example.vn/p/01/08930000123459/10/L1/21/S1", "/01/08930000123459/21/S1"),
        ("https://example.com/01/08930000123459/22/v2/10/L1", "/01/08930000123459/10/L1"),
        ("http://example.org/8004/401234599999", "/8004/401234599999"),
    ],
)
def test_gs1_identifiers_become_constrained_canonical_digital_links(
    uri: str, expected: str
) -> None:
    """EPC URIs and Digital Link URIs all become https://id.gs1.org/... at the finest level."""
    assert canonical_digital_link(uri) == "https://id.gs1.org" + expected


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epcglobal:cbv:bt:4012345000009:ASN1099",
        "http://transaction.acme.com/po/12345678",
        "geo:47.506694,11.104301",
        "urn:epc:id:sgtin:4012345.01111.9876",  # 12 digits instead of 13
        "https://example.com/01/0893000012345/99/x",  # an unknown qualifier
    ],
)
def test_other_uris_are_not_digital_links(uri: str) -> None:
    """Values that carry no GS1 key are hashed as written."""
    assert canonical_digital_link(uri) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" urn:epcglobal:cbv:bizstep:receiving ", "https://ref.gs1.org/cbv/BizStep-receiving"),
        ("urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("gs1:MT-Temperature", "https://gs1.org/voc/MT-Temperature"),
        ("cbv:Comp-x", "https://ref.gs1.org/cbv/Comp-x"),
        ("example:x", "example:x"),
        ("452.0", "452"),
    ],
)
def test_canonical_value_writes_vocabularies_as_web_uris(text: str, expected: str) -> None:
    """CBV URNs and the standard compact IRIs become web URIs; values are trimmed."""
    assert canonical_value(text) == expected
