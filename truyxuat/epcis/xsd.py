"""XML capture documents checked against the official EPCIS 2.0 XSD (EPCglobal-epcis-2_0.xsd
and the schemas it imports), with lxml.

The document is parsed without DTDs, entity expansion, network access or huge-tree mode, so a
hostile document cannot read files, reach the network or blow up memory (the XML reader has
already refused any DTD by then). Each XSD error becomes a FieldError whose loc follows the
JSON binding's shape where it can (["epcisBody", "eventList", 3, "bizStep"]) and whose message
names the line.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from lxml import etree

from truyxuat.epcis.validation import SCHEMA_ENV, Loc
from truyxuat.errors import N_, FieldError, NotConfigured, ValidationFailed

XSD_ENV = "TRUYXUAT_EPCIS_XSD"
XSD_NAME = "EPCglobal-epcis-2_0.xsd"
MAX_ERRORS = 100
_PREDICATE = re.compile(r"\[\d+\]$")
_XSD_MESSAGE = N_("Line {line}: does not match the EPCIS 2.0 XML schema: {detail}")


def _parser() -> etree.XMLParser:
    """A parser that never loads DTDs, expands entities or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
    )


def find_xsd(configured: Path | None, json_schema: Path | None) -> Path:
    """The EPCIS 2.0 XSD file: the configured one, else the one named by TRUYXUAT_EPCIS_XSD,
    else the XSD folder beside the JSON schema (the layout of GS1's EPCIS repository)."""
    if configured is not None:
        return configured
    if os.environ.get(XSD_ENV):
        return Path(os.environ[XSD_ENV])
    schema = json_schema or (Path(os.environ[SCHEMA_ENV]) if os.environ.get(SCHEMA_ENV) else None)
    if schema is not None:
        beside = schema.parent / "XSD" / XSD_NAME
        if beside.is_file():
            return beside
    raise NotConfigured(
        N_(
            "This node cannot capture EPCIS XML yet: its operator must set TRUYXUAT_EPCIS_XSD "
            "to the GS1 EPCIS 2.0 XSD (with the schemas it imports beside it)"
        )
    )


@lru_cache(maxsize=4)
def load_xsd(path: Path) -> etree.XMLSchema:
    """The compiled XSD (its imports resolved from files beside it), once per process."""
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def _local(segment: str) -> str:
    """An XPath step without its prefix and position."""
    return _PREDICATE.sub("", segment.rsplit(":", 1)[-1])


def _event_starts(root: etree._Element) -> list[int]:
    """The line each event of the EventList starts on, in document order."""
    for body in root:
        if isinstance(body.tag, str) and etree.QName(body).localname == "EPCISBody":
            for event_list in body:
                if isinstance(event_list.tag, str) and (
                    etree.QName(event_list).localname == "EventList"
                ):
                    return [e.sourceline or 0 for e in event_list if isinstance(e.tag, str)]
    return []


def _loc(path: str | None, line: int, starts: list[int]) -> Loc:
    """Where an XSD error lies: the event and field when inside the EventList."""
    steps = [_local(step) for step in (path or "").split("/") if step]
    if "EventList" in steps:
        after = steps[steps.index("EventList") + 1 :]
        index = max((i for i, start in enumerate(starts) if start <= line), default=0)
        return ["epcisBody", "eventList", index, *after[1:]]
    rest: Loc = list(steps[1:])
    return rest or ["body"]


def xsd_errors(
    data: bytes, schema: etree.XMLSchema, limit: int | None = MAX_ERRORS
) -> list[FieldError]:
    """Every XSD violation of an XML document (at most `limit`, None for all)."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        return [FieldError(["body"], _XSD_MESSAGE, {"line": line, "detail": exc.msg})]
    info = root.getroottree().docinfo
    subset = info.internalDTD  # a bare <!DOCTYPE x> is harmless: only declarations are not
    declared = subset is not None and (any(subset.iterentities()) or any(subset.iterelements()))
    if declared or info.system_url or info.public_id:
        message = N_("XML documents with a DTD or entity declarations are not accepted")
        return [FieldError(["body"], message)]
    try:
        if schema.validate(root):
            return []
    except etree.Error as exc:  # pragma: no cover - libxml2 refusing a tree it built
        return [FieldError(["body"], _XSD_MESSAGE, {"line": 0, "detail": str(exc)})]
    starts = _event_starts(root)
    errors = [
        FieldError(
            _loc(error.path, error.line, starts),
            _XSD_MESSAGE,
            {"line": error.line, "detail": error.message},
        )
        for error in schema.error_log
    ]
    return errors if limit is None else errors[:limit]


def validate_xml(data: bytes, schema: etree.XMLSchema) -> None:
    """Raises ValidationFailed naming the line and element of every XSD violation."""
    errors = xsd_errors(data, schema)
    if errors:
        raise ValidationFailed(errors)
