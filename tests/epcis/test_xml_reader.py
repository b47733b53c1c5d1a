"""EPCIS XML documents read into the JSON-LD shape of the JSON binding."""

from __future__ import annotations

import pytest

from truyxuat.epcis.xml_reader import STANDARD_CONTEXT, read_xml_document
from truyxuat.errors import ValidationFailed

DOCUMENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE project>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2024-05-01T08:00:00+07:00" xmlns:ex="https://ex.vn/epcis/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>2024-05-01T08:00:00+07:00</eventTime>
        <eventTimeZoneOffset>+07:00</eventTimeZoneOffset>
        <epcList><epc>urn:epc:id:sgtin:8930000.012345.1</epc></epcList>
        <action>ADD</action>
        <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        <readPoint><id>urn:epc:id:sgln:8930000.00001.0</id><ex:room>B</ex:room></readPoint>
        <bizTransactionList>
          <bizTransaction type="urn:epcglobal:cbv:btt:po"
            >urn:epcglobal:cbv:bt:8930000000019:7</bizTransaction>
        </bizTransactionList>
        <extension>
          <quantityList>
            <quantityElement>
              <epcClass>urn:epc:class:lgtin:8930000.012345.L1</epcClass>
              <quantity>25.0</quantity>
              <uom>KGM</uom>
            </quantityElement>
          </quantityList>
        </extension>
        <sensorElementList>
          <sensorElement>
            <sensorMetadata time="2024-05-01T07:00:00+07:00"/>
            <sensorReport type="gs1:Temperature" value="4.5" uom="CEL" booleanValue="true"/>
          </sensorElement>
        </sensorElementList>
        <persistentDisposition><set>urn:epcglobal:cbv:disp:recalled</set></persistentDisposition>
        <ex:batch xsi:type="xsd:string">B-7</ex:batch>
        <ex:crate><ex:code>1</ex:code><ex:code>2</ex:code></ex:crate>
      </ObjectEvent>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>
"""


def test_xml_document_reads_into_the_json_binding_shape() -> None:
    """Standard lists are arrays, numbers and booleans typed, extensions prefixed."""
    document = read_xml_document(DOCUMENT)
    assert document["@context"] == [STANDARD_CONTEXT, {"ex": "https://ex.vn/epcis/"}]
    assert document["type"] == "EPCISDocument"
    assert document["schemaVersion"] == "2.0"
    (event,) = document["epcisBody"]["eventList"]
    assert event == {
        "type": "ObjectEvent",
        "eventTime": "2024-05-01T08:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": ["urn:epc:id:sgtin:8930000.012345.1"],
        "action": "ADD",
        "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
        "readPoint": {"id": "urn:epc:id:sgln:8930000.00001.0", "ex:room": "B"},
        "bizTransactionList": [
            {
                "type": "urn:epcglobal:cbv:btt:po",
                "bizTransaction": "urn:epcglobal:cbv:bt:8930000000019:7",
            }
        ],
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:8930000.012345.L1", "quantity": 25.0, "uom": "KGM"}
        ],
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2024-05-01T07:00:00+07:00"},
                "sensorReport": [
                    {"type": "gs1:Temperature", "value": 4.5, "uom": "CEL", "booleanValue": True}
                ],
            }
        ],
        "persistentDisposition": {"set": ["urn:epcglobal:cbv:disp:recalled"]},
        "ex:batch": "B-7",
        "ex:crate": {"ex:code": ["1", "2"]},
    }


def test_xml_query_document_reads_its_results() -> None:
    """An EPCISQueryDocument keeps query name and results body."""
    document = read_xml_document(
        b'<q:EPCISQueryDocument xmlns:q="urn:epcglobal:epcis-query:xsd:2" schemaVersion="2.0">'
        b"<EPCISBody><q:QueryResults><queryName>SimpleEventQuery</queryName><resultsBody>"
        b"<EventList><ObjectEvent><action>OBSERVE</action></ObjectEvent></EventList>"
        b"</resultsBody></q:QueryResults></EPCISBody></q:EPCISQueryDocument>"
    )
    results = document["epcisBody"]["queryResults"]
    assert results["queryName"] == "SimpleEventQuery"
    assert results["resultsBody"]["eventList"] == [{"type": "ObjectEvent", "action": "OBSERVE"}]


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE d [<!ENTITY a "aaaa">]><epcis:EPCISDocument xmlns:epcis="urn:x"/>',
        b'<!DOCTYPE d SYSTEM "http://example.com/d.dtd"><EPCISDocument/>',
        b"<EPCISDocument>",
        b"<Something/>",
    ],
)
def test_unsafe_or_foreign_xml_is_refused(data: bytes) -> None:
    """DTD subsets and entities (expansion attacks), broken XML and other roots fail."""
    with pytest.raises(ValidationFailed):
        read_xml_document(data)
