"""Property tests: the parsers that take outside input never fail with anything but our own
validation error, and the GS1 builders round-trip through their parsers.

Bounded (`max_examples`) so `make test` stays fast; run with `--hypothesis-seed` to replay.
"""

from __future__ import annotations

import contextlib
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truyxuat.epcis.epc_format import to_digital_link, to_epc_urn
from truyxuat.epcis.xml_reader import read_xml_document
from truyxuat.errors import DomainError, ValidationFailed
from truyxuat.gs1.identifiers import (
    CSET_82,
    gs1_check_digit,
    gtin_display,
    normalize_gln,
    normalize_gtin,
    normalize_sscc,
    validate_lot,
    validate_serial,
)
from truyxuat.registry.geometry import check_geometry

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
any_text = st.text(max_size=40) | digits
gs1_text = st.text(alphabet=sorted(CSET_82), min_size=1, max_size=20)
# Characters a Digital Link path segment keeps as they are; the rest are percent-encoded.
_DL_SAFE = "-_.!'()*+,:;="


def _with_check(body: str) -> str:
    return body + str(gs1_check_digit(body))


@FUZZ
@given(any_text)
def test_gs1_key_parsers_raise_only_validation_errors(value: str) -> None:
    for parse in (normalize_gtin, normalize_gln, normalize_sscc, validate_lot, validate_serial):
        with contextlib.suppress(DomainError):
            parse(value)


@FUZZ
@given(st.text(alphabet="0123456789", min_size=13, max_size=13).filter(lambda b: b.strip("0")))
def test_gtin14_survives_display_and_normalize(body: str) -> None:
    gtin14 = _with_check(body)
    assert normalize_gtin(gtin14) == gtin14
    assert normalize_gtin(gtin_display(gtin14)) == gtin14


@FUZZ
@given(st.sampled_from([7, 8, 9, 10]), st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_digital_link_and_epc_urn_round_trip_for_sscc(prefix_length: int, body: str) -> None:
    sscc = _with_check(body[:17].ljust(17, "0"))
    link = f"https://id.gs1.org/00/{sscc}"
    urn = to_epc_urn(link, [sscc[1 : 1 + prefix_length]])
    assert urn.startswith("urn:epc:id:sscc:")
    assert to_digital_link(urn) == link


@FUZZ
@given(
    st.sampled_from([7, 8, 9, 10]),
    st.text(alphabet="0123456789", min_size=13, max_size=13),
    gs1_text,
    st.sampled_from(["21", "10"]),
)
def test_digital_link_and_epc_urn_round_trip_for_items_and_lots(
    prefix_length: int, body: str, extension: str, ai: str
) -> None:
    gtin = _with_check(body)
    link = f"https://id.gs1.org/01/{gtin}/{ai}/{quote(extension, safe=_DL_SAFE)}"
    urn = to_epc_urn(link, [gtin[1 : 1 + prefix_length]])
    assert urn.startswith("urn:epc:id:sgtin:" if ai == "21" else "urn:epc:class:lgtin:")
    assert to_digital_link(urn) == link


@FUZZ
@given(st.text(max_size=80))
def test_identifier_converters_never_raise(value: str) -> None:
    for candidate in (value, "urn:epc:id:sgtin:" + value, "https://id.gs1.org/01/" + value):
        assert isinstance(to_digital_link(candidate), str)
        assert isinstance(to_epc_urn(candidate, ["893"]), str)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(["type", "coordinates", "geometry", "x"]), children)
    ),
    max_leaves=30,
)
coordinates = st.lists(
    st.tuples(st.floats(-200, 200), st.floats(-100, 100)).map(list), min_size=0, max_size=6
)
polygons = st.builds(
    lambda rings: {"type": "Polygon", "coordinates": rings}, st.lists(coordinates, max_size=3)
)


@FUZZ
@given(json_values | polygons, st.none() | st.floats(-5, 50))
def test_geojson_check_raises_only_validation_errors(value: object, area: float | None) -> None:
    with contextlib.suppress(DomainError):
        check_geometry(value, declared_area_ha=area)


xml_fragments = st.lists(
    st.sampled_from(
        [
            "<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2' schemaVersion='2.0'>",
            "</epcis:EPCISDocument>",
            "<EPCISBody>",
            "</EPCISBody>",
            "<EventList>",
            "</EventList>",
            "<ObjectEvent>",
            "</ObjectEvent>",
            "<eventTime>2026-01-01T00:00:00Z</eventTime>",
            "<epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList>",
            "<action>ADD</action>",
            "&amp;",
            "<![CDATA[x]]>",
            "<?pi x?>",
            "<!-- c -->",
            "\u0000",
            "ü",
        ]
    )
    | st.text(max_size=10),
    max_size=14,
).map("".join)


@FUZZ
@given(xml_fragments | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_xml_reader_raises_only_validation_errors(text: str) -> None:
    with contextlib.suppress(DomainError):
        read_xml_document(text.encode("utf-8"))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2">&lol3;</epcis:EPCISDocument>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2">&xxe;</epcis:EPCISDocument>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_xml_reader_refuses_entity_declarations(document: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_xml_document(document)
    assert "DTD" in caught.value.errors[0].message
