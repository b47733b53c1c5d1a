"""Validation of EPCIS 2.0 JSON/JSON-LD documents and events: the official JSON schema, then
the rules a schema cannot state (CBV vocabularies, time zones, GS1 keys and check digits in EPC
URNs and Digital Link URIs, required fields per event type, units of measure).

Pure and database-free. Errors are `ValidationFailed` whose `FieldError.loc` is the path to the
offending field, e.g. ["epcisBody", "eventList", 3, "bizStep"].
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from truyxuat import gs1
from truyxuat.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    SOURCE_DESTINATION_TYPE,
    Vocabulary,
    cbv_term_known,
    is_absolute_uri,
    measurement_type_known,
)
from truyxuat.errors import N_, FieldError, ValidationFailed

SCHEMA_ENV = "TRUYXUAT_EPCIS_SCHEMA"
MAX_ERRORS = 100
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
Loc = list[str | int]

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_OFFSET = re.compile(r"^[+-](\d{2}):(\d{2})$")
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")
# Identifiers, places and vocabulary terms repeat across the events of a document (and across
# documents), so the pure per-string checks below remember their answers.
_CACHE_SIZE = 1 << 14

_VOCABULARY_MESSAGES: dict[str, str] = {
    BIZ_STEP.name: N_(
        "“{value}” is not a CBV 2.0 business step; use a standard term or an absolute URI "
        "of your own outside the GS1 namespace"
    ),
    DISPOSITION.name: N_(
        "“{value}” is not a CBV 2.0 disposition; use a standard term or an absolute URI "
        "of your own outside the GS1 namespace"
    ),
    BIZ_TRANSACTION_TYPE.name: N_(
        "“{value}” is not a CBV 2.0 business transaction type; use a standard term or an "
        "absolute URI of your own outside the GS1 namespace"
    ),
    SOURCE_DESTINATION_TYPE.name: N_(
        "“{value}” is not a CBV 2.0 source/destination type; use a standard term or an "
        "absolute URI of your own outside the GS1 namespace"
    ),
    ERROR_REASON.name: N_(
        "“{value}” is not a CBV 2.0 error reason; use a standard term or an absolute URI "
        "of your own outside the GS1 namespace"
    ),
}
_MEASUREMENT_MESSAGE = N_(
    "“{value}” is not a GS1 measurement type; use a standard term or an absolute URI "
    "of your own outside the GS1 namespace"
)
_SCHEMA_MESSAGE = N_("Does not match the EPCIS 2.0 JSON schema: {detail}")
_REQUIRED_MESSAGE = N_("Required field is missing")
_TIME_MESSAGE = N_(
    "Time must be an RFC 3339 date-time with a time zone, like 2026-07-22T06:45:00+07:00"
)


# --- schema loading ---------------------------------------------------------------------


def load_schema(path: Path | None = None) -> dict[str, Any]:
    """Reads the EPCIS 2.0 JSON schema from `path` or from the file named by TRUYXUAT_EPCIS_SCHEMA.

    The GS1 schema is not bundled (its licence grants no redistribution), so one of the two
    must name a copy of EPCIS-JSON-Schema-2.0.1.json.
    """
    if path is None:
        configured = os.environ.get(SCHEMA_ENV)
        if not configured:
            raise FileNotFoundError(
                f"EPCIS JSON schema not configured: set {SCHEMA_ENV} to the path of "
                "EPCIS-JSON-Schema-2.0.1.json"
            )
        path = Path(configured)
    with path.open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@lru_cache(maxsize=1)
def default_validator() -> EpcisValidator:
    """The validator built from the configured schema, read once per process."""
    return EpcisValidator(load_schema())


def validate_document(doc: Mapping[str, Any]) -> None:
    """Validates an EPCISDocument with the configured schema; raises ValidationFailed."""
    default_validator().validate_document(doc)


def validate_event(event: Mapping[str, Any], index: int) -> None:
    """Validates one event of a document's eventList with the configured schema."""
    default_validator().validate_event(event, index)


# --- format checks the schema delegates to us -----------------------------------------------


def is_epcis_time(value: object) -> bool:
    """Tells whether a value is an RFC 3339 date-time with an explicit time zone."""
    if not isinstance(value, str) or not _TIME.match(value):
        return not isinstance(value, str)
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_time_zone_offset(value: str) -> bool:
    """Tells whether a value is an eventTimeZoneOffset between -14:00 and +14:00."""
    match = _OFFSET.match(value)
    if not match:
        return False
    hours, minutes = int(match.group(1)), int(match.group(2))
    return minutes < 60 and (hours < 14 or (hours == 14 and minutes == 0))


def _is_uri_or_other(value: object) -> bool:
    """The "uri" format: an absolute URI (CURIEs included); non-strings are left to "type"."""
    return not isinstance(value, str) or is_absolute_uri(value)


def _format_checker() -> FormatChecker:
    """A format checker for the two formats the EPCIS schema uses: uri and date-time."""
    checker = FormatChecker(formats=())
    checker.checks("uri")(_is_uri_or_other)
    checker.checks("date-time")(is_epcis_time)
    return checker


def _compiled_validator(schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator when that package is installed, else None.

    It only answers whether a document is valid, about 100 times faster than `jsonschema`;
    the slower `jsonschema` then runs on invalid documents alone, to name every field.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - depends on the installed packages
        return None
    # jsonschema-rs hands format checks strings only, so the remembered checks apply.
    return jsonschema_rs.Draft7Validator(
        schema,
        validate_formats=True,
        formats={"uri": _cached_is_uri, "date-time": _cached_is_time},
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _cached_is_time(value: str) -> bool:
    """`is_epcis_time` remembered per string (the schema and our rules both check each time)."""
    return is_epcis_time(value)


@lru_cache(maxsize=_CACHE_SIZE)
def _cached_is_uri(value: str) -> bool:
    """`_is_uri_or_other` remembered per string (the same URIs recur throughout a document)."""
    return _is_uri_or_other(value)


# --- the validator ----------------------------------------------------------------------


class EpcisValidator:
    """Checks EPCIS documents and events against a given JSON schema plus the CBV rules."""

    def __init__(self, schema: dict[str, Any]) -> None:
        """Compiles the schema (draft 7, as the GS1 schema declares) with our format checks."""
        Draft7Validator.check_schema(schema)
        self._checker = _format_checker()
        self._document = Draft7Validator(schema, format_checker=self._checker)
        self._fast = _compiled_validator(schema)
        definitions = schema.get("definitions", {})
        self._events = {
            name: Draft7Validator(
                {"definitions": definitions, "$ref": f"#/definitions/{name}"},
                format_checker=self._checker,
            )
            for name in EVENT_TYPES
            if name in definitions
        }

    def document_errors(self, doc: Mapping[str, Any]) -> list[FieldError]:
        """Every problem in a document, in document order (at most MAX_ERRORS)."""
        schema_errors = (
            []
            if self._fast is not None and self._fast.is_valid(doc)
            else _schema_errors(self._document, doc, [])
        )
        errors: list[FieldError] = []
        body = doc.get("epcisBody")
        events = body.get("eventList") if isinstance(body, Mapping) else None
        errors.extend(e for e in schema_errors if not _under(e.loc, ["epcisBody", "eventList"]))
        if "creationDate" in doc:
            errors.extend(_time_errors(doc["creationDate"], ["creationDate"]))
        if isinstance(events, list):
            for index, event in enumerate(events):
                prefix: Loc = ["epcisBody", "eventList", index]
                own = _custom_event_errors(event, prefix) if isinstance(event, Mapping) else []
                errors.extend(own)
                errors.extend(
                    e for e in schema_errors if _under(e.loc, prefix) and not _covered(e, own)
                )
                if len(errors) >= MAX_ERRORS:
                    break
        return _dedupe(errors)[:MAX_ERRORS]

    def event_errors(self, event: Mapping[str, Any], index: int) -> list[FieldError]:
        """Every problem in one event of an eventList (locs start at its place in the list)."""
        prefix: Loc = ["epcisBody", "eventList", index]
        own = _custom_event_errors(event, prefix)
        validator = self._events.get(str(event.get("type")))
        schema_errors = _schema_errors(validator, event, prefix) if validator else []
        return _dedupe(own + [e for e in schema_errors if not _covered(e, own)])[:MAX_ERRORS]

    def validate_document(self, doc: Mapping[str, Any]) -> None:
        """Raises ValidationFailed naming every offending field of the document."""
        errors = self.document_errors(doc)
        if errors:
            raise ValidationFailed(errors)

    def validate_event(self, event: Mapping[str, Any], index: int) -> None:
        """Raises ValidationFailed naming every offending field of the event."""
        errors = self.event_errors(event, index)
        if errors:
            raise ValidationFailed(errors)


# --- schema errors as field errors ---------------------------------------------------------


def _schema_errors(validator: Draft7Validator, instance: Any, prefix: Loc) -> list[FieldError]:
    """Runs the schema and turns each error into FieldErrors pointing at a field."""
    out: list[FieldError] = []
    for error in validator.iter_errors(instance):
        out.extend(_field_errors(error, prefix))
    return out


def _field_errors(error: ValidationError, prefix: Loc) -> list[FieldError]:
    """Names the field a jsonschema error is about, going into anyOf/oneOf for the best cause."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        deepest = best_match(error.context)
        if len(deepest.absolute_path) > len(error.absolute_path):
            error = deepest
    loc: Loc = prefix + list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [FieldError([*loc, name], _REQUIRED_MESSAGE) for name in missing]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = [name for name in error.instance if name not in allowed]
        return [FieldError([*loc, name], N_("Field not allowed here")) for name in extra]
    if "propertyNames" in error.relative_schema_path and isinstance(error.instance, str):
        message = N_(
            "Field name “{value}” is not allowed here; an extension field needs a namespace "
            "(an absolute URI or a prefix declared in @context)"
        )
        return [FieldError([*loc, error.instance], message, {"value": error.instance})]
    if error.validator == "format" and error.validator_value == "date-time":
        return [FieldError(loc, _TIME_MESSAGE)]
    detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return [FieldError(loc, _SCHEMA_MESSAGE, {"detail": detail})]


def _under(loc: Loc, prefix: Loc) -> bool:
    """Tells whether a loc lies inside (or at) the given prefix."""
    return loc[: len(prefix)] == prefix


def _covered(error: FieldError, own: list[FieldError]) -> bool:
    """Tells whether a schema error is about a field our clearer checks already reported."""
    return any(_under(error.loc, mine.loc) or _under(mine.loc, error.loc) for mine in own)


def _dedupe(errors: list[FieldError]) -> list[FieldError]:
    """Drops repeated (loc, message) pairs, keeping the first."""
    seen: set[str] = set()
    out: list[FieldError] = []
    for error in errors:
        key = json.dumps([error.loc, error.message, error.params], default=str, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(error)
    return out


# --- what the schema cannot check ---------------------------------------------------------

_EPC_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def _custom_event_errors(event: Mapping[str, Any], prefix: Loc) -> list[FieldError]:
    """Every rule beyond the schema for one event."""
    return list(_event_rules(event, prefix))


def _event_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Yields the problems found by the CBV and GS1 checks for one event."""
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        yield FieldError(
            [*prefix, "type"],
            N_("Unknown event type “{value}”; expected one of {expected}"),
            {"value": kind, "expected": ", ".join(EVENT_TYPES)},
        )
        return
    yield from _required_rules(event, prefix)
    for name in ("eventTime", "recordTime"):
        if name in event:
            yield from _time_errors(event[name], [*prefix, name])
    offset = event.get("eventTimeZoneOffset")
    if isinstance(offset, str) and not is_time_zone_offset(offset):
        yield FieldError(
            [*prefix, "eventTimeZoneOffset"],
            N_("Time zone offset must look like +07:00 or -05:00, between -14:00 and +14:00"),
        )
    yield from _vocabulary_rules(event, prefix)
    yield from _identifier_rules(event, prefix)
    yield from _quantity_rules(event, prefix)
    yield from _sensor_rules(event, prefix)
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, Mapping) and "declarationTime" in declaration:
        loc = [*prefix, "errorDeclaration", "declarationTime"]
        yield from _time_errors(declaration["declarationTime"], loc)


def _required_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Fields the standard requires for each event type (EPCIS 2.0 section 7.4)."""
    kind = event["type"]
    for name in ("eventTime", "eventTimeZoneOffset"):
        if name not in event:
            yield FieldError([*prefix, name], _REQUIRED_MESSAGE)
    action = event.get("action")
    if kind != "TransformationEvent" and "action" not in event:
        yield FieldError([*prefix, "action"], _REQUIRED_MESSAGE)
    if kind == "AggregationEvent" and action in ("ADD", "DELETE") and "parentID" not in event:
        yield FieldError(
            [*prefix, "parentID"],
            N_("An aggregation needs a parentID when action is ADD or DELETE"),
        )
    if kind == "AssociationEvent" and "parentID" not in event:
        yield FieldError([*prefix, "parentID"], _REQUIRED_MESSAGE)
    if kind == "TransactionEvent" and not event.get("bizTransactionList"):
        yield FieldError([*prefix, "bizTransactionList"], _REQUIRED_MESSAGE)
    if "action" in event and action not in ("ADD", "OBSERVE", "DELETE"):
        yield FieldError([*prefix, "action"], N_("action must be ADD, OBSERVE or DELETE"))
    yield from _what_rules(event, prefix)
    if kind == "ObjectEvent" and "ilmd" in event and action != "ADD":
        yield FieldError(
            [*prefix, "ilmd"], N_("Instance/lot master data (ilmd) is only allowed with action ADD")
        )


def _what_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Every event must say what it is about: objects, classes, children, inputs or outputs."""
    kind = event["type"]
    if kind == "ObjectEvent" and not (
        "epcList" in event or event.get("quantityList") or event.get("sensorElementList")
    ):
        yield FieldError(
            [*prefix, "epcList"], N_("An ObjectEvent needs an epcList or a quantityList")
        )
    children = event.get("childEPCs") or event.get("childQuantityList")
    grouping = kind in ("AggregationEvent", "AssociationEvent")
    if grouping and not children and event.get("action") != "DELETE":
        yield FieldError(
            [*prefix, "childEPCs"],
            N_("childEPCs or childQuantityList is required unless action is DELETE"),
        )
    if kind == "TransformationEvent" and not any(
        event.get(name)
        for name in ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")
    ):
        yield FieldError(
            [*prefix, "inputEPCList"],
            N_("A TransformationEvent needs at least one input or output"),
        )


def _time_errors(value: Any, loc: Loc) -> Iterator[FieldError]:
    """An error if the value is not a date-time with a time zone."""
    if not isinstance(value, str) or not _cached_is_time(value):
        yield FieldError(loc, _TIME_MESSAGE)


def _vocabulary_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Checks bizStep, dispositions, and the types of transactions, sources and destinations."""
    yield from _term(event.get("bizStep"), BIZ_STEP, prefix, "bizStep")
    yield from _term(event.get("disposition"), DISPOSITION, prefix, "disposition")
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, Mapping):
        for part in ("set", "unset"):
            for i, value in _items(persistent.get(part)):
                yield from _term(value, DISPOSITION, prefix, "persistentDisposition", part, i)
    for i, item in _items(event.get("bizTransactionList")):
        if isinstance(item, Mapping):
            kind = item.get("type")
            yield from _term(kind, BIZ_TRANSACTION_TYPE, prefix, "bizTransactionList", i, "type")
    for field in ("sourceList", "destinationList"):
        for i, item in _items(event.get(field)):
            if isinstance(item, Mapping):
                kind = item.get("type")
                yield from _term(kind, SOURCE_DESTINATION_TYPE, prefix, field, i, "type")
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, Mapping):
        reason = declaration.get("reason")
        yield from _term(reason, ERROR_REASON, prefix, "errorDeclaration", "reason")


_UOM_MESSAGE = N_(
    "Unit of measure must be a UN/CEFACT Rec. 20 code of 2 or 3 capital letters or digits"
)


def _quantity_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Checks quantities and their UN/CEFACT units of measure."""
    for field in _QUANTITY_FIELDS:
        for i, item in _items(event.get(field)):
            if not isinstance(item, Mapping):
                continue
            loc = [*prefix, field, i]
            uom = item.get("uom")
            if isinstance(uom, str) and not _UOM.match(uom):
                yield FieldError([*loc, "uom"], _UOM_MESSAGE)
            if "uom" in item and "quantity" not in item:
                yield FieldError([*loc, "quantity"], N_("A unit of measure needs a quantity"))
            quantity = item.get("quantity")
            if (
                isinstance(quantity, int | float)
                and not isinstance(quantity, bool)
                and quantity < 0
            ):
                yield FieldError([*loc, "quantity"], N_("Quantity cannot be negative"))


def _sensor_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Checks sensor measurement types, units and times."""
    for i, element in _items(event.get("sensorElementList")):
        if not isinstance(element, Mapping):
            continue
        metadata = element.get("sensorMetadata")
        if isinstance(metadata, Mapping):
            for name in ("time", "startTime", "endTime"):
                if name in metadata:
                    loc = [*prefix, "sensorElementList", i, "sensorMetadata", name]
                    yield from _time_errors(metadata[name], loc)
        for j, report in _items(element.get("sensorReport")):
            if not isinstance(report, Mapping):
                continue
            loc = [*prefix, "sensorElementList", i, "sensorReport", j]
            kind = report.get("type")
            if isinstance(kind, str) and measurement_type_known(kind) is False:
                yield FieldError([*loc, "type"], _MEASUREMENT_MESSAGE, {"value": kind})
            uom = report.get("uom")
            if isinstance(uom, str) and not _UOM.match(uom):
                yield FieldError([*loc, "uom"], _UOM_MESSAGE)
            if "time" in report:
                yield from _time_errors(report["time"], [*loc, "time"])


def _term(value: Any, vocabulary: Vocabulary, prefix: Loc, *path: str | int) -> list[FieldError]:
    """An error if a string value is not a known term of the vocabulary nor a user URI.

    The error's loc is `prefix` followed by `path`.
    """
    if isinstance(value, str) and cbv_term_known(value, vocabulary) is False:
        message = _VOCABULARY_MESSAGES[vocabulary.name]
        return [FieldError([*prefix, *path], message, {"value": value})]
    return []


def _items(value: Any) -> Iterable[tuple[int, Any]]:
    """Enumerates a list, or nothing if the value is not a list."""
    return enumerate(value) if isinstance(value, list) else ()


def _identifier_rules(event: Mapping[str, Any], prefix: Loc) -> Iterator[FieldError]:
    """Checks GS1 keys in every identifier of the event."""
    for field in _EPC_FIELDS:
        values = event.get(field)
        if isinstance(values, list):
            for i, value in enumerate(values):
                if isinstance(value, str) and _identifier_problems(value):
                    yield from _identifier_errors(value, [*prefix, field, i])
    if "parentID" in event:
        yield from _identifier_found(event["parentID"], prefix, "parentID")
    for field in _QUANTITY_FIELDS:
        if field not in event:
            continue
        for i, item in _items(event[field]):
            if isinstance(item, Mapping) and "epcClass" in item:
                yield from _identifier_found(item["epcClass"], prefix, field, i, "epcClass")
    for field in ("readPoint", "bizLocation"):
        place = event.get(field)
        if isinstance(place, Mapping) and "id" in place:
            yield from _identifier_found(place["id"], prefix, field, "id")
    for field, key in (("sourceList", "source"), ("destinationList", "destination")):
        if field not in event:
            continue
        for i, item in _items(event[field]):
            if isinstance(item, Mapping) and key in item:
                yield from _identifier_found(item[key], prefix, field, i, key)


def _identifier_found(value: Any, prefix: Loc, *path: str | int) -> list[FieldError]:
    """`_identifier_errors` at `prefix` + `path`, building the loc only when there is one."""
    if not isinstance(value, str) or not _identifier_problems(value):
        return []
    return list(_identifier_errors(value, [*prefix, *path]))


def _identifier_errors(value: Any, loc: Loc) -> Iterator[FieldError]:
    """An error for a malformed EPC URN or GS1 Digital Link URI (others are left alone)."""
    if not isinstance(value, str):
        return
    for message, params in _identifier_problems(value):
        yield FieldError(loc, message, {**params, "value": value})


@lru_cache(maxsize=_CACHE_SIZE)
def _identifier_problems(value: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The (message, params) of each problem of one identifier; remembered per identifier.

    Callers copy the params, so the remembered dicts are never changed.
    """
    try:
        if value.startswith(("urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:")):
            _check_epc_urn(value)
        elif value.startswith(("http://", "https://")):
            _check_digital_link(value)
    except ValidationFailed as exc:
        return tuple((error.message, error.params) for error in exc.errors)
    return ()


# --- EPC URNs (EPC Tag Data Standard, pure identity and class forms) ----------------------

_MALFORMED_URN = N_("Malformed EPC URN “{value}”")
_URN_DIGITS = N_("In “{value}” the company prefix and reference must together have {digits} digits")


def _fail(message: str, **params: Any) -> ValidationFailed:
    """A one-error ValidationFailed whose loc the caller fills in."""
    return ValidationFailed([FieldError([], message, params)])


def _digit_parts(value: str, parts: list[str], digits: int) -> tuple[str, str]:
    """Checks a company prefix + reference pair of digits; returns them."""
    company, reference = parts[0], parts[1]
    if not (company.isascii() and company.isdigit() and 6 <= len(company) <= 12):
        raise _fail(_MALFORMED_URN, value=value)
    if not (reference.isascii() and (reference.isdigit() or reference == "")):
        raise _fail(_MALFORMED_URN, value=value)
    if len(company) + len(reference) != digits:
        raise _fail(_URN_DIGITS, value=value, digits=digits)
    return company, reference


@lru_cache(maxsize=_CACHE_SIZE)
def _gtin_from_urn(company: str, item_reference: str) -> None:
    """Rebuilds the GTIN (indicator + prefix + item reference + check digit) and checks it.

    Remembered per pair (a raised error is not remembered, so it is raised afresh each time).
    """
    body = item_reference[:1] + company + item_reference[1:]
    gs1.normalize_gtin(body + str(gs1.gs1_check_digit(body)))


@lru_cache(maxsize=_CACHE_SIZE)
def _sscc_from_urn(company: str, serial_reference: str) -> None:
    """Rebuilds the SSCC (extension + prefix + serial reference + check digit) and checks it."""
    body = serial_reference[:1] + company + serial_reference[1:]
    gs1.normalize_sscc(body + str(gs1.gs1_check_digit(body)))


@lru_cache(maxsize=_CACHE_SIZE)
def _gln_from_urn(company: str, location_reference: str) -> None:
    """Rebuilds the GLN (prefix + location reference + check digit) and checks it."""
    body = company + location_reference
    gs1.normalize_gln(body + str(gs1.gs1_check_digit(body)))


def _check_epc_urn(value: str) -> None:
    """Checks the sgtin, sscc, sgln, lgtin and sgtin pattern URNs; other schemes pass."""
    scheme_and_body = value.split(":", 4)
    if len(scheme_and_body) < 5:
        raise _fail(_MALFORMED_URN, value=value)
    kind, scheme, body = scheme_and_body[2], scheme_and_body[3], scheme_and_body[4]
    parts = body.split(".")
    if (kind, scheme) in (("id", "sgtin"), ("class", "lgtin"), ("idpat", "sgtin")):
        if len(parts) != 3 or not parts[2]:
            raise _fail(_MALFORMED_URN, value=value)
        company, reference = _digit_parts(value, parts, 13)
        if not reference:
            raise _fail(_MALFORMED_URN, value=value)
        _gtin_from_urn(company, reference)
        if kind == "id":
            gs1.validate_serial(unquote(parts[2]))
        elif kind == "class":
            gs1.validate_lot(unquote(parts[2]))
    elif (kind, scheme) == ("id", "sscc"):
        if len(parts) != 2:
            raise _fail(_MALFORMED_URN, value=value)
        company, reference = _digit_parts(value, parts, 17)
        _sscc_from_urn(company, reference)
    elif (kind, scheme) in (("id", "sgln"), ("id", "pgln")):
        if len(parts) != (3 if scheme == "sgln" else 2) or (scheme == "sgln" and not parts[2]):
            raise _fail(_MALFORMED_URN, value=value)
        company, reference = _digit_parts(value, parts, 12)
        _gln_from_urn(company, reference)


# --- GS1 Digital Link URIs ------------------------------------------------------------------

_PRIMARY_KEYS: dict[str, Callable[[str], Any]] = {
    "01": gs1.normalize_gtin,
    "00": gs1.normalize_sscc,
    "414": gs1.normalize_gln,
    "417": gs1.normalize_gln,
}
_QUALIFIERS: dict[str, Callable[[str], Any]] = {
    "10": gs1.validate_lot,
    "21": gs1.validate_serial,
    "254": gs1.validate_serial,
    "22": gs1.validate_serial,
}


def _check_digital_link(value: str) -> None:
    """Checks the primary key (GTIN, SSCC, GLN) and its qualifiers in a Digital Link URI."""
    url = urlsplit(value)
    segments = [unquote(s) for s in url.path.split("/") if s]
    official = url.hostname == "id.gs1.org"
    start = next(
        (
            i
            for i, segment in enumerate(segments[:-1])
            if segment in _PRIMARY_KEYS and (official or segments[i + 1].isdigit())
        ),
        None,
    )
    if start is None:
        if official and segments:
            raise _fail(N_("“{value}” has no GS1 primary key (such as /01/ for a GTIN)"))
        return
    pairs = segments[start:]
    if len(pairs) % 2:
        raise _fail(N_("In the GS1 Digital Link URI “{value}” a key has no value"))
    key, key_value = pairs[0], pairs[1]
    _PRIMARY_KEYS[key](key_value)
    for index in range(2, len(pairs), 2):
        checker = _QUALIFIERS.get(pairs[index])
        if checker is not None:
            checker(pairs[index + 1])
