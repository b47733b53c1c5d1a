"""EPCIS 2.0 XML documents read into the JSON-LD compact shape of the JSON binding.

`read_xml_document` returns the dict the equivalent JSON-LD document would parse to, so both
bindings share one path (hashing, validation, storage): standard fields under their JSON names,
lists as arrays (epcList, quantityList, bizTransactionList ...), quantities and sensor values
as numbers, booleans as booleans, values otherwise as written (EPC URNs and CBV URNs stay URNs).
Extension elements and attributes become keys `prefix:localName`; their namespaces go into the
document's "@context". EPCIS 1.x `extension` wrappers are dropped. Documents that declare
entities or carry a DTD subset are refused, which rules out entity-expansion attacks.
"""

from __future__ import annotations

import math
import re
import xml.parsers.expat
from dataclasses import dataclass, field
from typing import Any

from truyxuat.errors import N_, invalid

STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Namespace prefixes that would read as URI schemes in JSON-LD values.
_SCHEME_LIKE = frozenset({"http", "https", "urn", "geo", "mailto", "tag", "ni"})
_WRAPPERS = frozenset({"extension", "baseExtension"})

_EPC_LISTS = frozenset({"epcList", "inputEPCList", "outputEPCList", "childEPCs"})
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_TYPED_LISTS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_NUMERIC_FIELDS = frozenset(
    {"quantity", "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass
class _Element:
    """An XML element: namespace ("" if none), local name, attributes, children, text."""

    namespace: str
    name: str
    attributes: list[tuple[str, str, str]]
    children: list[_Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def content(self) -> str:
        """The element's own character content, trimmed."""
        return "".join(self.text).strip()


class _Refused(Exception):
    """The document uses a DTD feature we do not accept."""


def _split(qualified: str) -> tuple[str, str]:
    """Splits expat's "namespace localName" into its two parts."""
    namespace, _, name = qualified.rpartition(" ")
    return namespace, name


class _TreeBuilder:
    """Builds `_Element`s with expat, remembering namespace declarations in order."""

    def __init__(self) -> None:
        """Sets up a namespace-aware expat parser that refuses entity declarations."""
        self.parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self.parser.ordered_attributes = True
        self.parser.buffer_text = True
        self.parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.characters
        self.parser.StartNamespaceDeclHandler = self.namespace
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.EntityDeclHandler = self.entity
        self.stack: list[_Element] = []
        self.root: _Element | None = None
        self.declarations: list[tuple[str, str]] = []

    def parse(self, data: bytes) -> _Element:
        """Parses the whole document and returns its root element."""
        self.parser.Parse(data, True)
        assert self.root is not None  # expat rejects a document without a root element
        return self.root

    def start(self, qualified: str, attributes: list[str]) -> None:
        """Opens an element."""
        namespace, name = _split(qualified)
        pairs = [(*_split(attributes[i]), attributes[i + 1]) for i in range(0, len(attributes), 2)]
        element = _Element(namespace, name, pairs)
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, qualified: str) -> None:
        """Closes the current element."""
        self.stack.pop()

    def characters(self, data: str) -> None:
        """Collects character content of the current element."""
        if self.stack:
            self.stack[-1].text.append(data)

    def namespace(self, prefix: str | None, uri: str) -> None:
        """Records a namespace declaration (prefix "" for the default namespace)."""
        self.declarations.append((prefix or "", uri))

    def doctype(
        self, name: str, system_id: str | None, public_id: str | None, has_subset: int
    ) -> None:
        """Allows a bare `<!DOCTYPE x>` only: no external DTD, no internal subset."""
        if system_id or public_id or has_subset:
            raise _Refused

    def entity(self, *args: Any) -> None:
        """Refuses every entity declaration."""
        raise _Refused


class _Prefixes:
    """Chooses a JSON-LD prefix for each namespace an extension uses."""

    def __init__(self, declarations: list[tuple[str, str]]) -> None:
        """Prefers the document's own prefixes, first declaration first."""
        self.by_namespace: dict[str, str] = {}
        self.used: dict[str, str] = {}
        taken: set[str] = set()
        for prefix, uri in declarations:
            usable = prefix and prefix not in _SCHEME_LIKE and prefix not in taken
            if usable and uri not in self.by_namespace:
                self.by_namespace[uri] = prefix
                taken.add(prefix)
        self.taken = taken

    def key(self, namespace: str, name: str) -> str:
        """The JSON-LD key of a (namespace, localName) name."""
        if not namespace:
            return name
        prefix = self.by_namespace.get(namespace)
        if prefix is None:
            prefix = next(
                f"ns{n}" for n in range(len(self.taken) + 1) if f"ns{n}" not in self.taken
            )
            self.by_namespace[namespace] = prefix
            self.taken.add(prefix)
        self.used[prefix] = namespace
        return f"{prefix}:{name}"


def read_xml_document(data: bytes) -> dict[str, Any]:
    """Reads an EPCIS 2.0 XML document (or a lone event) into its JSON-LD compact form."""
    builder = _TreeBuilder()
    try:
        root = builder.parse(data)
    except _Refused:
        raise invalid(
            ["body"], N_("XML documents with a DTD or entity declarations are not accepted")
        ) from None
    except xml.parsers.expat.ExpatError as exc:
        reason = str(exc)
        raise invalid(
            ["body"], N_("The document is not well-formed XML: {reason}"), reason=reason
        ) from None
    reader = _Reader(_Prefixes(builder.declarations))
    if not root.namespace and root.name.endswith("Event"):
        document = reader.event(root)
    elif root.name in ("EPCISDocument", "EPCISQueryDocument"):
        document = reader.document(root)
    else:
        raise invalid(["body"], N_("The root element must be an EPCIS document or event"))
    context: list[Any] = [STANDARD_CONTEXT]
    if reader.prefixes.used:
        context.append(dict(reader.prefixes.used))
    return {"@context": context, **document}


def _flat(children: list[_Element]) -> list[_Element]:
    """The children with EPCIS 1.x `extension`/`baseExtension` wrappers opened up."""
    flat: list[_Element] = []
    for child in children:
        if not child.namespace and child.name in _WRAPPERS:
            flat.extend(_flat(child.children))
        else:
            flat.append(child)
    return flat


def _number(text: str) -> int | float | str:
    """An xsd:decimal or xsd:double as a JSON number; text that is not one stays text."""
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
    return text


def _collapse(members: dict[str, list[Any]]) -> dict[str, Any]:
    """Members seen once become single values, repeated ones arrays."""
    return {key: values[0] if len(values) == 1 else values for key, values in members.items()}


class _Reader:
    """Converts the element tree into JSON binding dicts."""

    def __init__(self, prefixes: _Prefixes) -> None:
        """Remembers how namespaces become prefixes."""
        self.prefixes = prefixes

    def key(self, namespace: str, name: str) -> str:
        """The JSON-LD key of an element or attribute name."""
        return self.prefixes.key(namespace, name)

    def document(self, root: _Element) -> dict[str, Any]:
        """An EPCISDocument or EPCISQueryDocument."""
        document: dict[str, Any] = {"type": root.name}
        document.update(self.attributes(root))
        members: dict[str, list[Any]] = {}
        body: dict[str, Any] = {}
        loose_results = False
        for child in _flat(root.children):
            if child.namespace:
                members.setdefault(self.key(child.namespace, child.name), []).append(
                    self.generic(child)
                )
            elif child.name == "EPCISHeader":
                document["epcisHeader"] = self.generic(child)
            elif child.name == "EPCISBody":
                body = self.body(child)
            elif child.name in ("resultsBody", "queryName", "subscriptionID"):
                loose_results = True
        if loose_results and not body:
            # Some query documents put the query results straight under the root.
            body = {"queryResults": self.query_results(root, extensions=False)}
        document.update(_collapse(members))
        document["epcisBody"] = body
        return document

    def body(self, element: _Element) -> dict[str, Any]:
        """EPCISBody: an event list, or query results."""
        for child in _flat(element.children):
            if child.name == "EventList":
                return {"eventList": self.events(child)}
            if child.name == "QueryResults":
                return {"queryResults": self.query_results(child, extensions=True)}
        return {}

    def query_results(self, element: _Element, *, extensions: bool) -> dict[str, Any]:
        """QueryResults: query name, subscription, extension fields and the results."""
        results: dict[str, Any] = {}
        members: dict[str, list[Any]] = {}
        for child in _flat(element.children):
            if child.namespace:
                if extensions:
                    members.setdefault(self.key(child.namespace, child.name), []).append(
                        self.generic(child)
                    )
            elif child.name in ("queryName", "subscriptionID"):
                results[child.name] = child.content
            elif child.name == "resultsBody":
                event_lists = [c for c in _flat(child.children) if c.name == "EventList"]
                events = [event for lst in event_lists for event in self.events(lst)]
                results["resultsBody"] = {"eventList": events}
        results.update(_collapse(members))
        return results

    def events(self, event_list: _Element) -> list[dict[str, Any]]:
        """The events of an EventList, in document order."""
        return [self.event(child) for child in _flat(event_list.children)]

    def event(self, element: _Element) -> dict[str, Any]:
        """One event: its standard fields in JSON shape, then its extension fields."""
        kind = self.key(element.namespace, element.name)
        members: dict[str, list[Any]] = {"type": [kind]}
        for child in _flat(element.children):
            name = child.name
            if child.namespace:
                value = self.generic(child)
            elif name in _EPC_LISTS:
                value = [epc.content for epc in _flat(child.children)]
            elif name in _QUANTITY_LISTS:
                value = [self.object(quantity) for quantity in _flat(child.children)]
            elif name in _TYPED_LISTS:
                value = [self.typed_entry(entry) for entry in _flat(child.children)]
            elif name == "sensorElementList":
                value = [self.sensor_element(element) for element in _flat(child.children)]
            elif name == "persistentDisposition":
                value = self.persistent_disposition(child)
            elif name == "errorDeclaration":
                value = self.error_declaration(child)
            elif name in ("readPoint", "bizLocation", "ilmd"):
                value = self.object(child)
            else:
                value = self.generic(child)
            members.setdefault(self.key(child.namespace, name), []).append(value)
        return _collapse(members)

    def typed_entry(self, element: _Element) -> dict[str, Any]:
        """A bizTransaction, source or destination: {"type": ..., name: identifier}."""
        entry: dict[str, Any] = {}
        entry.update(self.attributes(element))
        entry[element.name] = element.content
        for child in _flat(element.children):
            entry[self.key(child.namespace, child.name)] = self.generic(child)
        return entry

    def persistent_disposition(self, element: _Element) -> dict[str, Any]:
        """persistentDisposition: the dispositions set and unset, as arrays."""
        members: dict[str, list[Any]] = {}
        for child in _flat(element.children):
            members.setdefault(self.key(child.namespace, child.name), []).append(
                child.content if not child.namespace else self.generic(child)
            )
        return dict(members)

    def error_declaration(self, element: _Element) -> dict[str, Any]:
        """errorDeclaration, with correctiveEventIDs as an array of event IDs."""
        declaration = self.object(element)
        corrective = next(
            (c for c in _flat(element.children) if c.name == "correctiveEventIDs"), None
        )
        if corrective is not None and not corrective.namespace:
            declaration["correctiveEventIDs"] = [c.content for c in _flat(corrective.children)]
        return declaration

    def sensor_element(self, element: _Element) -> dict[str, Any]:
        """A sensorElement: sensorMetadata, an array of sensorReport, extensions."""
        members: dict[str, list[Any]] = {}
        reports: list[dict[str, Any]] = []
        for child in _flat(element.children):
            if not child.namespace and child.name == "sensorReport":
                reports.append(self.object(child))
            elif not child.namespace and child.name == "sensorMetadata":
                members.setdefault("sensorMetadata", []).append(self.object(child))
            else:
                members.setdefault(self.key(child.namespace, child.name), []).append(
                    self.generic(child)
                )
        sensor_element = _collapse(members)
        if reports:
            sensor_element["sensorReport"] = reports
        return sensor_element

    def attributes(self, element: _Element) -> dict[str, Any]:
        """An element's attributes as members, standard numbers and booleans typed."""
        members: dict[str, Any] = {}
        for namespace, name, value in element.attributes:
            if namespace == _XSI:
                continue
            if namespace:
                members[self.key(namespace, name)] = value
            elif name in _NUMERIC_FIELDS:
                members[name] = _number(value.strip())
            elif name == "booleanValue" and value.strip() in _BOOLEANS:
                members[name] = _BOOLEANS[value.strip()]
            else:
                members[name] = value
        return members

    def object(self, element: _Element) -> dict[str, Any]:
        """An element whose attributes and children are the members of one JSON object."""
        members: dict[str, list[Any]] = {
            key: [value] for key, value in self.attributes(element).items()
        }
        for child in _flat(element.children):
            if not child.namespace and child.name in _NUMERIC_FIELDS and not child.children:
                value: Any = _number(child.content)
            else:
                value = self.generic(child)
            members.setdefault(self.key(child.namespace, child.name), []).append(value)
        result = _collapse(members)
        content = element.content
        if content and element.children:
            result["#text"] = content
        return result

    def generic(self, element: _Element) -> Any:
        """Any other element: its text, or an object of its attributes and children."""
        if not element.children and all(ns == _XSI for ns, _, _ in element.attributes):
            return element.content  # xsi:type and the like are typing hints, not data
        obj = self.object(element)
        content = element.content
        if content and "#text" not in obj:
            obj["#text"] = content
        return obj
