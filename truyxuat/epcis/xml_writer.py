"""EPCISQueryDocument output: the JSON-LD document, and the same in the EPCIS 2.0 XML binding.

The XML writer is the inverse of `xml_reader`: standard fields become the elements of the
EPCIS 2.0 XSD in its order, sensor metadata and reports become attributes, bizTransaction,
source and destination carry their type as an attribute, and extension keys `prefix:name`
become elements in the namespace the event's "@context" gives the prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
QUERY_NS = "urn:epcglobal:epcis-query:xsd:2"
EPCIS_NS = "urn:epcglobal:epcis:xsd:2"
UNKNOWN_NS = "urn:truyxuat:epcis:unknown-prefix:"

_HEAD = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration")
_HEAD_TAIL = ("certificationInfo",)
_WHAT = (
    "readPoint",
    "bizLocation",
)
_BODY: dict[str, tuple[str, ...]] = {
    "ObjectEvent": (
        "epcList",
        "action",
        "bizStep",
        "disposition",
        *_WHAT,
        "bizTransactionList",
        "quantityList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
        "ilmd",
    ),
    "AggregationEvent": (
        "parentID",
        "childEPCs",
        "action",
        "bizStep",
        "disposition",
        *_WHAT,
        "bizTransactionList",
        "childQuantityList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
    ),
    "TransactionEvent": (
        "bizTransactionList",
        "parentID",
        "epcList",
        "action",
        "bizStep",
        "disposition",
        *_WHAT,
        "quantityList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
    ),
    "TransformationEvent": (
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "bizStep",
        "disposition",
        *_WHAT,
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
        "ilmd",
    ),
    "AssociationEvent": (
        "parentID",
        "childEPCs",
        "childQuantityList",
        "action",
        "bizStep",
        "disposition",
        *_WHAT,
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
    ),
}
_EPC_LISTS = frozenset({"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_TYPED_LISTS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}


def _iso(moment: datetime) -> str:
    """A UTC instant written with Z."""
    return moment.isoformat().replace("+00:00", "Z")


def query_document(
    events: Iterable[Mapping[str, Any]],
    *,
    query_name: str,
    creation_date: datetime,
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """An EPCISQueryDocument (JSON-LD) holding the events."""
    results: dict[str, Any] = {"queryName": query_name}
    if subscription_id is not None:
        results["subscriptionID"] = subscription_id
    results["resultsBody"] = {"eventList": list(events)}
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso(creation_date),
        "epcisBody": {"queryResults": results},
    }


def _namespaces(context: Any) -> dict[str, str]:
    """Prefix -> namespace declared by a JSON-LD "@context" (string URIs only)."""
    found: dict[str, str] = {}
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, Mapping):
            found.update({k: v for k, v in item.items() if isinstance(v, str)})
    return found


def _text(value: Any) -> str:
    """A JSON scalar as XML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return escape(str(value))


class _Writer:
    """Writes one event, collecting the extension prefixes it uses."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        """Remembers the prefixes the event's context declares."""
        self.namespaces = namespaces
        self.used: dict[str, str] = {}

    def name(self, key: str) -> str:
        """The XML name of a JSON key (a prefix becomes a declared namespace prefix)."""
        prefix, sep, _local = key.partition(":")
        if sep:
            self.used[prefix] = self.namespaces.get(prefix, UNKNOWN_NS + prefix)
        return key

    def generic(self, key: str, value: Any, out: list[str]) -> None:
        """Any member: lists repeat the element, objects nest, scalars are text."""
        if isinstance(value, list):
            for item in value:
                self.generic(key, item, out)
            return
        tag = self.name(key)
        if isinstance(value, Mapping):
            out.append(f"<{tag}>")
            if "#text" in value:
                out.append(_text(value["#text"]))
            for child, child_value in value.items():
                if child not in ("#text", "@context"):
                    self.generic(child, child_value, out)
            out.append(f"</{tag}>")
        else:
            out.append(f"<{tag}>{_text(value)}</{tag}>")

    def attributes_element(self, tag: str, value: Mapping[str, Any], out: list[str]) -> None:
        """sensorMetadata / sensorReport: scalar members are attributes, objects children."""
        attrs = "".join(
            f" {self.name(k)}={quoteattr(_text(v) if isinstance(v, bool) else str(v))}"
            for k, v in value.items()
            if not isinstance(v, Mapping | list) and k != "#text"
        )
        children = [(k, v) for k, v in value.items() if isinstance(v, Mapping | list)]
        if not children and "#text" not in value:
            out.append(f"<{tag}{attrs}/>")
            return
        out.append(f"<{tag}{attrs}>{_text(value.get('#text', ''))}")
        for k, v in children:
            self.generic(k, v, out)
        out.append(f"</{tag}>")

    def member(self, key: str, value: Any, out: list[str]) -> None:
        """One standard field of an event, in the XML binding's shape."""
        if key in _EPC_LISTS:
            out.append(f"<{key}>")
            out.extend(f"<epc>{_text(epc)}</epc>" for epc in value)
            out.append(f"</{key}>")
        elif key in _QUANTITY_LISTS:
            out.append(f"<{key}>")
            for element in value:
                self.generic("quantityElement", element, out)
            out.append(f"</{key}>")
        elif key in _TYPED_LISTS:
            tag = _TYPED_LISTS[key]
            out.append(f"<{key}>")
            for entry in value:
                attrs = "".join(
                    f" {self.name(k)}={quoteattr(str(v))}"
                    for k, v in entry.items()
                    if k != tag and not isinstance(v, Mapping | list)
                )
                nested = [(k, v) for k, v in entry.items() if isinstance(v, Mapping | list)]
                out.append(f"<{tag}{attrs}>{_text(entry.get(tag, ''))}")
                for k, v in nested:
                    self.generic(k, v, out)
                out.append(f"</{tag}>")
            out.append(f"</{key}>")
        elif key == "sensorElementList":
            out.append("<sensorElementList>")
            for element in value:
                out.append("<sensorElement>")
                if "sensorMetadata" in element:
                    self.attributes_element("sensorMetadata", element["sensorMetadata"], out)
                for report in element.get("sensorReport", []):
                    self.attributes_element("sensorReport", report, out)
                for k, v in element.items():
                    if k not in ("sensorMetadata", "sensorReport"):
                        self.generic(k, v, out)
                out.append("</sensorElement>")
            out.append("</sensorElementList>")
        elif key == "persistentDisposition":
            out.append("<persistentDisposition>")
            for part in ("unset", "set"):
                for disposition in value.get(part, []):
                    out.append(f"<{part}>{_text(disposition)}</{part}>")
            out.append("</persistentDisposition>")
        elif key == "errorDeclaration":
            out.append("<errorDeclaration>")
            for k, v in value.items():
                if k == "correctiveEventIDs":
                    out.append("<correctiveEventIDs>")
                    out.extend(f"<correctiveEventID>{_text(i)}</correctiveEventID>" for i in v)
                    out.append("</correctiveEventIDs>")
                else:
                    self.generic(k, v, out)
            out.append("</errorDeclaration>")
        else:
            self.generic(key, value, out)

    def event(self, event: Mapping[str, Any]) -> str:
        """One event element, its extension namespaces declared on it."""
        kind = str(event.get("type", "ObjectEvent"))
        order = (*_HEAD, *_HEAD_TAIL, *_BODY.get(kind, ()))
        out: list[str] = []
        for key in order:
            if key in event:
                self.member(key, event[key], out)
        for key, value in event.items():
            if key not in order and key not in ("type", "@context"):
                self.generic(key, value, out)
        tag = self.name(kind)
        declarations = "".join(
            f" xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in sorted(self.used.items())
        )
        return f"<{tag}{declarations}>{''.join(out)}</{tag}>"


def event_xml(event: Mapping[str, Any]) -> str:
    """One event in the EPCIS 2.0 XML binding."""
    return _Writer(_namespaces(event.get("@context"))).event(event)


def query_document_xml(
    events: Iterable[Mapping[str, Any]],
    *,
    query_name: str,
    creation_date: datetime,
    subscription_id: str | None = None,
) -> bytes:
    """An EPCISQueryDocument in the EPCIS 2.0 XML binding (urn:epcglobal:epcis-query:xsd:2)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<epcisq:EPCISQueryDocument xmlns:epcisq="{QUERY_NS}" xmlns:epcis="{EPCIS_NS}"'
        f' schemaVersion="2.0" creationDate="{_iso(creation_date)}">',
        "<EPCISBody><epcisq:QueryResults>",
        f"<queryName>{escape(query_name)}</queryName>",
    ]
    if subscription_id is not None:
        parts.append(f"<subscriptionID>{escape(subscription_id)}</subscriptionID>")
    parts.append("<resultsBody><EventList>")
    parts.extend(event_xml(event) for event in events)
    parts.append("</EventList></resultsBody></epcisq:QueryResults></EPCISBody>")
    parts.append("</epcisq:EPCISQueryDocument>")
    return "".join(parts).encode()
