"""The CBV 2.0 canonical event hash: `ni:///sha-256;<hex>?ver=CBV2.0` for any EPCIS event.

The same event written in JSON-LD or in XML, with its lists in any order, its times in any zone
and its identifiers as EPC URNs or Digital Link URIs, gives the same pre-hash string and so the
same hash. The pre-hash string is built from an XML-shaped tree of the event (a field's name,
its value and its children):

1. `eventType=` and the event type;
2. the fields of the canonical property order (eventTime ... sensorElementList), each list's
   entries sorted, and below the event level each structure's extension fields appended after
   its standard fields;
3. every other field except recordTime, eventID and errorDeclaration — ilmd, extension fields,
   and (as the reference implementation does, and its published hashes require) the
   bizTransaction, source and destination lists — each written as `name=value` followed by
   its sorted children, all sorted.

Extension names are written `{namespace}localName`; how values are written lives in
`truyxuat.epcis.hash_values`. The published examples of the reference implementation
(epcis-event-hash-generator) are our test oracle. Where the reference treats JSON and XML
differently we follow the XML reading, so both bindings agree: booleans are `true`/`false`,
and compact IRIs in values are expanded only for the standard `gs1:` and `cbv:` prefixes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeAlias

from truyxuat.epcis.hash_values import canonical_time, canonical_value
from truyxuat.epcis.xml_reader import read_xml_document
from truyxuat.errors import N_, invalid

HASH_ALGORITHM = "sha-256"
HASH_VERSION = "CBV2.0"

_CBV = "https://ref.gs1.org/cbv/"
_GS1 = "https://gs1.org/voc/"

# Prefixes of the standard EPCIS context, usable in keys without declaring them. cbvmda is
# written as its XML namespace so ILMD read from either binding hashes alike.
_STANDARD_PREFIXES: dict[str, str] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": _CBV,
    "cbvmda": "urn:epcglobal:cbv:mda",
    "gs1": _GS1,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
# Comments are annotations, not event data.
_COMMENTS = frozenset({"comment", "rdfs:comment", "{http://www.w3.org/2000/01/rdf-schema#}comment"})
_NOT_HASHED = frozenset({"recordTime", "eventID", "errorDeclaration"})

_EPC_LISTS = frozenset({"epcList", "inputEPCList", "outputEPCList", "childEPCs"})
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
# List name -> (entry name, prefix of a bare vocabulary term in its `type`).
_TYPED_LISTS: dict[str, tuple[str, str]] = {
    "bizTransactionList": ("bizTransaction", _CBV + "BTT-"),
    "sourceList": ("source", _CBV + "SDT-"),
    "destinationList": ("destination", _CBV + "SDT-"),
}
# Field -> prefix that turns a bare JSON-LD vocabulary term into its URI (per structure).
_EVENT_VOCAB = {"bizStep": _CBV + "BizStep-", "disposition": _CBV + "Disp-"}
_PERSISTENT_DISPOSITION_VOCAB = {"set": _CBV + "Disp-", "unset": _CBV + "Disp-"}
_SENSOR_REPORT_VOCAB = {"type": _GS1, "exception": _GS1, "component": _CBV + "Comp-"}
_ERROR_DECLARATION_VOCAB = {"reason": _CBV + "ER-"}

_Order: TypeAlias = tuple[tuple[str, "_Order | None"], ...]

_EPCS: _Order = (("epc", None),)
_QUANTITY: _Order = (("quantityElement", (("epcClass", None), ("quantity", None), ("uom", None))),)
_SENSOR_METADATA: _Order = tuple(
    (name, None)
    for name in (
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    )
)
_SENSOR_REPORT: _Order = tuple(
    (name, None)
    for name in (
        "type",
        "exception",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "time",
        "microorganism",
        "chemicalSubstance",
        "value",
        "component",
        "stringValue",
        "booleanValue",
        "hexBinaryValue",
        "uriValue",
        "minValue",
        "maxValue",
        "meanValue",
        "sDev",
        "percRank",
        "percValue",
        "uom",
        "coordinateReferenceSystem",
    )
)
# The canonical property order of CBV 2.0. bizTransactionList, sourceList and destinationList
# are written with the remaining fields (see the module docstring).
_EVENT_ORDER: _Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("epcList", _EPCS),
    ("parentID", None),
    ("inputEPCList", _EPCS),
    ("childEPCs", _EPCS),
    ("quantityList", _QUANTITY),
    ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY),
    ("outputEPCList", _EPCS),
    ("outputQuantityList", _QUANTITY),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (
            (
                "sensorElement",
                (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT)),
            ),
        ),
    ),
)

JSON_MEDIA_TYPES = frozenset({"application/ld+json", "application/json"})
XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})


@dataclass(slots=True)
class _Node:
    """One field of an event as the XML binding would write it."""

    name: str
    value: str = ""
    children: list[_Node] = field(default_factory=list)
    # bizTransaction, source and destination: their type, written before the identifier.
    type: str | None = None


def prehash_string(event: Mapping[str, Any]) -> str:
    """Builds the canonical pre-hash string of one EPCIS event in JSON-LD compact form.

    Prefixed keys are resolved with the event's own "@context" (`events_from_document` puts
    the document's context on each event) and the standard EPCIS prefixes.
    """
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise invalid(["type"], N_("An EPCIS event needs its event type"))
    fast = _plain_prehash(event, event_type)
    if fast is not None:
        return fast
    fields = _Reader(_namespaces(event.get("@context"))).event(event)
    text, left = _ordered(fields, _EVENT_ORDER, top=True)
    rest = sorted(_generic(node) for node in left if node.name not in _NOT_HASHED)
    return f"eventType={event_type}{text}{''.join(rest)}"


# The plain event shape `_plain_prehash` writes directly: fields of the canonical order with a
# string value (and their vocabulary prefix), EPC lists of strings, places with an id alone.
_PLAIN_ORDER = {name: index for index, (name, _) in enumerate(_EVENT_ORDER)}
_PLAIN_SCALARS = {name: _EVENT_VOCAB.get(name) for name, sub in _EVENT_ORDER if sub is None}
_PLAIN_PLACES = frozenset({"readPoint", "bizLocation"})


def _plain_prehash(event: Mapping[str, Any], event_type: str) -> str | None:
    """The pre-hash string of an event of the common plain shape; None for any other shape.

    Writes exactly what the general tree-building path writes for such an event (plain keys
    only, string values, EPC lists of strings, readPoint/bizLocation with an id alone,
    bizTransaction/source/destination entries with their identifier and type alone), without
    building the tree. Anything else (extensions, quantities, sensors, ilmd, prefixed keys...)
    goes the general way.
    """
    ordered: list[tuple[int, str]] = []
    generic: list[str] = []
    for key, value in event.items():
        if key == "type" or key in _NOT_HASHED or key[:1] in ("@", "#"):
            continue
        if key in _PLAIN_SCALARS:
            if type(value) is not str:
                return None
            text = _vocabulary(value, _PLAIN_SCALARS[key]).strip()
            if text:
                canonical = canonical_time(text) if _is_time(key) else canonical_value(text)
                ordered.append((_PLAIN_ORDER[key], f"{key}={canonical}"))
        elif key in _EPC_LISTS:
            if type(value) is not list:
                return None
            pieces: list[str] = []
            for epc in value:
                if type(epc) is not str:
                    return None
                text = epc.strip()
                if text:
                    pieces.append("epc=" + canonical_value(text))
            if pieces:
                pieces.sort()
                ordered.append((_PLAIN_ORDER[key], key + "".join(pieces)))
        elif key in _PLAIN_PLACES:
            if type(value) is not dict or len(value) != 1:
                return None
            place = value.get("id")
            if type(place) is not str:
                return None
            text = place.strip()
            if text:
                ordered.append((_PLAIN_ORDER[key], f"{key}id={canonical_value(text)}"))
        elif key in _TYPED_LISTS:
            entries = _plain_typed_list(value, *_TYPED_LISTS[key])
            if entries is None:
                return None
            generic.append(key + entries)
        else:
            return None
    ordered.sort()
    generic.sort()
    return f"eventType={event_type}{''.join(p for _, p in ordered)}{''.join(generic)}"


def _plain_typed_list(value: Any, entry_name: str, type_prefix: str) -> str | None:
    """The sorted entries of a plain bizTransaction/source/destination list, or None."""
    if type(value) is not list:
        return None
    entries: list[str] = []
    for entry in value:
        if type(entry) is not dict:
            return None
        identifier, kind = "", None
        for name, item in entry.items():
            if type(item) is not str:
                return None
            if name == entry_name:
                identifier = item.strip()
            elif name == "type":
                kind = _vocabulary(item, type_prefix).strip()
            else:
                return None
        text = entry_name + ("=" + canonical_value(identifier) if identifier else "")
        if kind is not None:
            text = ("type=" + canonical_value(kind) if kind else "") + text
        entries.append(text)
    entries.sort()
    return "".join(entries)


def event_hash(event: Mapping[str, Any]) -> str:
    """The CBV 2.0 event hash ID of one EPCIS event: ni:///sha-256;<hex>?ver=CBV2.0."""
    digest = hashlib.sha256(prehash_string(event).encode("utf-8")).hexdigest()
    return f"ni:///{HASH_ALGORITHM};{digest}?ver={HASH_VERSION}"


def read_document(data: bytes, content_type: str) -> dict[str, Any]:
    """Parses an EPCIS document, JSON-LD or XML, into its JSON-LD compact form."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in JSON_MEDIA_TYPES or media_type.endswith("+json"):
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc)
            raise invalid(
                ["body"], N_("The document is not valid JSON: {reason}"), reason=reason
            ) from None
        if not isinstance(document, dict):
            raise invalid(["body"], N_("An EPCIS document is a JSON object"))
        return document
    if media_type in XML_MEDIA_TYPES or media_type.endswith("+xml"):
        return read_xml_document(data)
    raise invalid(
        ["content-type"],
        N_("Unsupported content type {content_type}: send JSON-LD or XML"),
        content_type=content_type,
    )


def events_from_document(data: bytes, content_type: str) -> list[dict[str, Any]]:
    """Reads an EPCIS (query) document, JSON-LD or XML, and returns its events in order."""
    return document_events(read_document(data, content_type))


def document_hashes(data: bytes, content_type: str) -> list[str]:
    """The event hash of every event of an EPCIS document, in document order."""
    return [event_hash(event) for event in events_from_document(data, content_type)]


def document_events(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of a parsed EPCISDocument or EPCISQueryDocument (or of a lone event).

    Each event is a copy carrying the document's "@context" (so its prefixed keys keep their
    meaning alone) and without the fields the document lists in `ignoreFields` (repository
    annotations that are not part of the event).
    """
    holders: list[Mapping[str, Any]] = [document]
    if _is_event(document):
        raw: Any = [document]
    else:
        body = document.get("epcisBody")
        if not isinstance(body, Mapping):
            raise invalid(["epcisBody"], N_("The document has no epcisBody"))
        results = body.get("queryResults")
        if isinstance(results, Mapping):
            holders.append(results)
            results_body = results.get("resultsBody")
            raw = results_body.get("eventList", []) if isinstance(results_body, Mapping) else []
            loc: list[str | int] = ["epcisBody", "queryResults", "resultsBody", "eventList"]
        elif "eventList" in body:
            raw, loc = body["eventList"], ["epcisBody", "eventList"]
        elif "event" in body:
            raw, loc = [body["event"]], ["epcisBody", "event"]
        else:
            raise invalid(["epcisBody"], N_("The document has no eventList"))
        if not isinstance(raw, list):
            raise invalid(loc, N_("The event list must be a list"))
        for index, event in enumerate(raw):
            if not isinstance(event, Mapping):
                raise invalid([*loc, index], N_("An event must be an object"))
    context = document.get("@context")
    events = [_with_context(event, context) for event in raw]
    for event in events:
        reader = _Reader(_namespaces(event.get("@context")))
        ignored = {reader.key(name) for holder in holders for name in _ignore_fields(holder)}
        ignored.discard(None)
        for key in [key for key in event if ignored and reader.key(key) in ignored]:
            del event[key]
    return events


def _is_event(document: Mapping[str, Any]) -> bool:
    """Tells whether a parsed document is a single event rather than an EPCIS document."""
    kind = document.get("type")
    return isinstance(kind, str) and kind.endswith("Event") and "epcisBody" not in document


def _with_context(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """A copy of the event whose "@context" also holds the document's context."""
    if context is not None and "@context" not in event:
        return {"@context": context, **event}
    copy = dict(event)
    if context is None or copy.get("@context") == context:
        return copy
    own = copy.pop("@context", None)
    merged = context if own is None else [*_as_list(context), *_as_list(own)]
    return {"@context": merged, **copy}


def _ignore_fields(holder: Mapping[str, Any]) -> list[str]:
    """The field names a document (or its query results) asks hashers to ignore."""
    names: list[str] = []
    for key, value in holder.items():
        if key.rpartition(":")[2] != "ignoreFields":
            continue
        # JSON-LD lists names; XML (read into our dicts) holds one empty element per name.
        listed = value.keys() if isinstance(value, Mapping) else _as_list(value)
        names.extend(name for name in listed if isinstance(name, str))
    return names


def _as_list(value: Any) -> list[Any]:
    """The value as a list (JSON-LD allows a single value where a set is expected)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [item for entry in value for item in _as_list(entry)]
    return [value]


def _namespaces(context: Any) -> Mapping[str, str]:
    """Prefix -> namespace IRI from a JSON-LD context on top of the standard EPCIS prefixes.

    A context of URLs only (the usual case) gives the shared standard prefixes themselves.
    """
    if context is None or isinstance(context, str):
        return _STANDARD_PREFIXES
    if isinstance(context, list) and all(isinstance(entry, str) for entry in context):
        return _STANDARD_PREFIXES
    namespaces = dict(_STANDARD_PREFIXES)
    for entry in _as_list(context):
        if not isinstance(entry, Mapping):
            continue  # a context URL: the standard context, whose prefixes we already know
        for term, definition in entry.items():
            iri = definition.get("@id") if isinstance(definition, Mapping) else definition
            if ":" not in term and not term.startswith("@") and isinstance(iri, str):
                namespaces[term] = iri
    return namespaces


def _scalar(value: Any) -> str:
    """A JSON scalar as text, booleans as the XML binding writes them."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return "" if value is None else str(value)


def _vocabulary(text: str, prefix: str | None) -> str:
    """Expands a bare JSON-LD vocabulary term ("shipping") with its prefix."""
    return prefix + text if prefix and text and ":" not in text else text


_STANDARD_KEYS: dict[str, str | None] = {}
_KEY_CACHE_SIZE = 4096


class _Reader:
    """Turns a JSON-LD event into the XML-shaped tree the pre-hash string is built from."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        """Remembers the prefixes that resolve keys to {namespace}localName."""
        self.namespaces = namespaces
        # Resolved keys, shared by every reader of the standard prefixes alone.
        self._keys: dict[str, str | None] = (
            _STANDARD_KEYS if namespaces is _STANDARD_PREFIXES else {}
        )

    def key(self, key: str) -> str | None:
        """The field name of a key, {namespace}localName for prefixed keys; None to skip."""
        try:
            return self._keys[key]
        except KeyError:
            pass
        name = self._resolve(key)
        if len(self._keys) < _KEY_CACHE_SIZE:
            self._keys[key] = name
        return name

    def _resolve(self, key: str) -> str | None:
        """`key` without the memo."""
        if key.startswith(("@", "#")) or key in _COMMENTS:
            return None
        prefix, colon, local = key.partition(":")
        if colon and not local.startswith("//") and prefix in self.namespaces:
            name = "{" + self.namespaces[prefix] + "}" + local
            return None if name in _COMMENTS else name
        return key

    def event(self, event: Mapping[str, Any]) -> list[_Node]:
        """The event's fields, with the standard lists in their XML shape."""
        nodes: list[_Node] = []
        for key, value in event.items():
            name = self.key(key)
            if name is None or name == "type":
                continue
            if name in _EPC_LISTS:
                epcs = [_Node("epc", _scalar(epc)) for epc in _as_list(value)]
                nodes.append(_Node(name, "", epcs))
            elif name in _QUANTITY_LISTS:
                elements = [
                    _Node("quantityElement", "", self.members(element))
                    for element in _as_list(value)
                    if isinstance(element, Mapping)
                ]
                nodes.append(_Node(name, "", elements))
            elif name in _TYPED_LISTS:
                entry_name, type_prefix = _TYPED_LISTS[name]
                entries = [
                    self.typed_entry(entry, entry_name, type_prefix)
                    for entry in _as_list(value)
                    if isinstance(entry, Mapping)
                ]
                nodes.append(_Node(name, "", entries))
            elif name == "sensorElementList":
                elements = [
                    self.sensor_element(element)
                    for element in _as_list(value)
                    if isinstance(element, Mapping)
                ]
                nodes.append(_Node(name, "", elements))
            elif name == "persistentDisposition" and isinstance(value, Mapping):
                nodes.append(_Node(name, "", self.members(value, _PERSISTENT_DISPOSITION_VOCAB)))
            elif name == "errorDeclaration" and isinstance(value, Mapping):
                nodes.append(_Node(name, "", self.members(value, _ERROR_DECLARATION_VOCAB)))
            else:
                nodes.extend(self.nodes(name, value, _EVENT_VOCAB.get(name)))
        return nodes

    def typed_entry(self, entry: Mapping[str, Any], name: str, type_prefix: str) -> _Node:
        """A bizTransaction, source or destination: identifier, type first, then any extra."""
        others = {key: value for key, value in entry.items() if key not in ("type", name)}
        kind = entry.get("type")
        return _Node(
            name,
            _scalar(entry.get(name)),
            self.members(others),
            None if kind is None else _vocabulary(_scalar(kind), type_prefix),
        )

    def sensor_element(self, element: Mapping[str, Any]) -> _Node:
        """A sensorElement: its metadata, one node per sensorReport, and its extensions."""
        children: list[_Node] = []
        for key, value in element.items():
            name = self.key(key)
            if name is None:
                continue
            if name == "sensorReport":
                children.extend(
                    _Node(name, "", self.members(report, _SENSOR_REPORT_VOCAB))
                    for report in _as_list(value)
                    if isinstance(report, Mapping)
                )
            else:
                children.extend(self.nodes(name, value))
        return _Node("sensorElement", "", children)

    def members(
        self, obj: Mapping[str, Any], vocab: Mapping[str, str] | None = None
    ) -> list[_Node]:
        """The nodes of an object's members; `vocab` expands bare terms of the named fields."""
        nodes: list[_Node] = []
        for key, value in obj.items():
            name = self.key(key)
            if name is not None:
                nodes.extend(self.nodes(name, value, (vocab or {}).get(name)))
        return nodes

    def nodes(self, name: str, value: Any, vocab: str | None = None) -> list[_Node]:
        """The nodes one member becomes: one per array item, an object's members as children."""
        if type(value) is str:
            return [_Node(name, _vocabulary(value, vocab))]
        if value is None:
            return []
        if isinstance(value, list):
            items = _as_list(value)
            if name.startswith("{") and name.endswith("List"):
                # An extension list holds entries named after it, as XML would write them
                # (ext:fooList -> ext:foo ...), which is also how the reference reads JSON.
                entries = [node for item in items for node in self.nodes(name[:-4], item)]
                return [_Node(name, "", entries)]
            return [node for item in items for node in self.nodes(name, item, vocab)]
        if isinstance(value, Mapping):
            # "#text": the character content of an XML element that also has children.
            return [_Node(name, _scalar(value.get("#text")), self.members(value))]
        return [_Node(name, _vocabulary(_scalar(value), vocab))]


def _ordered(children: list[_Node], order: _Order, *, top: bool) -> tuple[str, list[_Node]]:
    """Writes the children named in `order`, in that order, each name's entries sorted.

    Below the event level, extension children ({namespace}name) follow, sorted. Returns the
    text and the children left unwritten (unknown fields, or known ones with unknown parts),
    which the caller writes generically.
    """
    extensions: list[_Node] = []
    by_name: dict[str, list[_Node]] = {}
    for child in children:
        name = child.name
        if not top and name[:1] == "{":
            extensions.append(child)
        elif name in by_name:
            by_name[name].append(child)
        else:
            by_name[name] = [child]
    parts: list[str] = []
    left: list[_Node] = []
    for name, sub_order in order:
        if name not in by_name:
            continue
        named = by_name.pop(name)
        if len(named) == 1:
            piece, rest = _ordered_child(named[0], sub_order)
            if piece:
                parts.append(piece)
            if rest is not None:
                left.append(rest)
            continue
        pieces: list[str] = []
        for child in named:
            piece, rest = _ordered_child(child, sub_order)
            if piece:
                pieces.append(piece)
            if rest is not None:
                left.append(rest)
        parts.extend(sorted(pieces))
    for unnamed in by_name.values():
        left.extend(unnamed)
    if extensions:
        parts.extend(sorted(_generic(extension) for extension in extensions))
    return "".join(parts), left


def _ordered_child(child: _Node, sub_order: _Order | None) -> tuple[str, _Node | None]:
    """Writes one field of the canonical order; returns its text and its unwritten rest."""
    if sub_order is None or not child.children:
        inner, rest = "", child.children
    else:
        inner, rest = _ordered(child.children, sub_order, top=False)
    value = child.value.strip()
    if value:
        value = "=" + (canonical_time(value) if _is_time(child.name) else canonical_value(value))
    piece = child.name + value + inner if value or inner else ""
    return piece, (_Node(child.name, child.value, rest, child.type) if rest else None)


@lru_cache(maxsize=1024)
def _is_time(name: str) -> bool:
    """Tells whether a field holds a timestamp (its name has "time" but not "offset")."""
    lowered = name.lower()
    return "time" in lowered and "offset" not in lowered


def _generic(node: _Node) -> str:
    """Writes a field outside the canonical order: name=value, then its children sorted."""
    value = node.value.strip()
    text = node.name + ("=" + canonical_value(value) if value else "")
    if node.type is not None:
        kind = node.type.strip()
        text = ("type=" + canonical_value(kind) if kind else "") + text
    return text + "".join(sorted(_generic(child) for child in node.children))
