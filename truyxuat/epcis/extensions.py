"""User extension fields of events (EPCIS 2.0 §7.3.2 / §8.2.7.1), indexed for the
EQ_fieldname, EXISTS_fieldname, EQ_ILMD_fieldname and EXISTS_ILMD_fieldname query parameters.

An extension field is a top-level event field (or ILMD field) outside the standard ones, named
by a namespace: `prefix:local` with the prefix declared in "@context", or a full IRI. The
standard names it in a query as `namespace#local`; callers may also use the `prefix:local` key
as the event wrote it. Each field's simple values (strings, numbers, booleans; each element of
a list) get a row; a nested object only records that the field exists.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from truyxuat.epcis.models import EpcisEvent, EpcisEventField

# The standard fields of the five event types (EPCIS 2.0 JSON binding): anything else at the
# top level of an event is an extension.
STANDARD_FIELDS = frozenset(
    {
        "type",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "errorDeclaration",
        "certificationInfo",
        "epcList",
        "quantityList",
        "action",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "ilmd",
        "parentID",
        "childEPCs",
        "childQuantityList",
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
    }
)
FIELD_COLUMNS = ("org_id", "event_row_id", "seq", "scope", "name", "key", "value", "number")
# EQ_/EXISTS_ parameters about extension fields: the field must carry a namespace.
PARAMETER = re.compile(r"^(EQ|EXISTS)_(ILMD_)?(.*[:#].*)$")


def _namespaces(context: Any) -> dict[str, str]:
    """The prefix -> namespace declarations of an event's "@context"."""
    found: dict[str, str] = {}
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, Mapping):
            found.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return found


def qualified_name(key: str, namespaces: Mapping[str, str]) -> str | None:
    """A field key as `namespace#local` (the namespace without a trailing / or #), or None
    when the key names no namespace."""
    if "://" in key:
        namespace, _, local = key.rpartition("#") if "#" in key else key.rpartition("/")
        return f"{namespace.rstrip('#/')}#{local}" if local else None
    prefix, colon, local = key.partition(":")
    if not colon or not local:
        return None
    declared = namespaces.get(prefix)
    return None if declared is None else f"{declared.rstrip('#/')}#{local}"


def _value(value: Any) -> tuple[str | None, float | None]:
    """A simple value as text (and as a number when it is one); None for objects."""
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int | float):
        number = float(value)
        return json.dumps(value), (number if math.isfinite(number) else None)
    if isinstance(value, str):
        return value, None
    return None, None


def field_rows(
    org_id: uuid.UUID, row_id: uuid.UUID, event: Mapping[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """The epcis_event_field rows of one event, values in FIELD_COLUMNS order."""
    namespaces = _namespaces(event.get("@context"))
    seq = 0
    ilmd = event.get("ilmd")
    scopes: list[tuple[str, Mapping[str, Any]]] = [("event", event)]
    if isinstance(ilmd, Mapping):
        scopes.append(("ilmd", ilmd))
    for scope, fields in scopes:
        for key, raw in fields.items():
            if key.startswith("@") or (scope == "event" and key in STANDARD_FIELDS):
                continue
            name = qualified_name(key, namespaces)
            if name is None:
                continue
            for item in raw if isinstance(raw, list) else [raw]:
                text, number = _value(item)
                yield (org_id, row_id, seq, scope, name, key, text, number)
                seq += 1


def has_fields(event: Mapping[str, Any]) -> bool:
    """Tells cheaply whether an event may have extension or ILMD fields to index."""
    return "ilmd" in event or any(
        key not in STANDARD_FIELDS and not key.startswith("@") for key in event
    )


def _names(field: str) -> ColumnElement[bool]:
    """Rows naming the field, given as `namespace#local` or as the event's own key."""
    if "#" in field:
        namespace, _, local = field.rpartition("#")
        return EpcisEventField.name == f"{namespace.rstrip('#/')}#{local}"
    return or_(EpcisEventField.key == field, EpcisEventField.name == qualified_name(field, {}))


def clause(parameter: str, values: list[str]) -> ColumnElement[bool] | None:
    """The WHERE clause of an EQ_/EXISTS_ extension parameter, or None if it is not one."""
    match = PARAMETER.match(parameter)
    if match is None:
        return None
    operator, ilmd, field = match.groups()
    conditions = [
        EpcisEventField.org_id == EpcisEvent.org_id,
        EpcisEventField.scope == ("ilmd" if ilmd else "event"),
        _names(field),
    ]
    if operator == "EQ":
        numbers = []
        for value in values:
            try:
                numbers.append(float(value))
            except ValueError:
                continue
        matches = [EpcisEventField.value.in_(values)]
        if numbers:
            matches.append(EpcisEventField.number.in_(numbers))
        conditions.append(or_(*matches))
    return EpcisEvent.id.in_(select(EpcisEventField.event_row_id).where(*conditions))
