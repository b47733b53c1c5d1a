"""Builds the SQL of the EPCIS SimpleEventQuery from REST query parameters (EPCIS 2.0 §8.2.7),
and of the discovery listings (distinct event types, EPCs, business steps... of visible events).

Parameters arrive as name -> values (a parameter may repeat; `a|b` lists alternatives). Page
tokens are opaque to clients: base64 of the last (record_time, id) of the page, for keyset
pagination in record-time order.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.epcis import extensions
from truyxuat.epcis.epc_format import canonical_identifier
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc, EpcRole
from truyxuat.epcis.sharing import event_read_filter
from truyxuat.epcis.vocabulary import BIZ_STEP, DISPOSITION, Vocabulary
from truyxuat.errors import N_, invalid
from truyxuat.registry.models import Organization

CBV = "https://ref.gs1.org/cbv/"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
PAGING = frozenset({"perPage", "nextPageToken", "lang"})
_CBV_WEB = re.compile(r"^https?://(?:ref|ns)\.gs1\.org/cbv/(.*)$")
_FRACTION = re.compile(r"(\.\d{6})\d+")

# MATCH_* parameter -> the lists of an event it looks in (EPCIS 2.0 §8.2.7.1).
MATCH_ROLES: dict[str, tuple[EpcRole, ...]] = {
    "MATCH_epc": (EpcRole.epc, EpcRole.child),
    "MATCH_parentID": (EpcRole.parent,),
    "MATCH_inputEPC": (EpcRole.input,),
    "MATCH_outputEPC": (EpcRole.output,),
    "MATCH_anyEPC": (EpcRole.epc, EpcRole.child, EpcRole.parent, EpcRole.input, EpcRole.output),
    "MATCH_epcClass": (EpcRole.quantity, EpcRole.child_quantity),
    "MATCH_inputEPCClass": (EpcRole.input_quantity,),
    "MATCH_outputEPCClass": (EpcRole.output_quantity,),
    "MATCH_anyEPCClass": (
        EpcRole.quantity,
        EpcRole.child_quantity,
        EpcRole.input_quantity,
        EpcRole.output_quantity,
    ),
}
_TIME_BOUNDS = {
    "GE_eventTime": (EpcisEvent.event_time, True),
    "LT_eventTime": (EpcisEvent.event_time, False),
    "GE_recordTime": (EpcisEvent.record_time, True),
    "LT_recordTime": (EpcisEvent.record_time, False),
}
_EQUALS: dict[str, tuple[Any, Vocabulary | None]] = {
    "EQ_bizStep": (EpcisEvent.biz_step, BIZ_STEP),
    "EQ_disposition": (EpcisEvent.disposition, DISPOSITION),
    "EQ_readPoint": (EpcisEvent.read_point, None),
    "EQ_bizLocation": (EpcisEvent.biz_location, None),
    "EQ_eventID": (EpcisEvent.event_id, None),
    "EQ_action": (EpcisEvent.action, None),
}
KNOWN = frozenset({"eventType", *MATCH_ROLES, *_TIME_BOUNDS, *_EQUALS})


@lru_cache(maxsize=4096)
def normalize_term(value: str, vocabulary: Vocabulary) -> str:
    """A CBV term in its GS1 Web URI form, whether written bare, as cbv: CURIE or as URN."""
    if value in vocabulary.terms:
        return CBV + vocabulary.web_prefix + value
    if value.lower().startswith("urn:epcglobal:cbv:" + vocabulary.urn_prefix):
        return CBV + vocabulary.web_prefix + value.split(":", 4)[4].split(":", 1)[-1]
    web = _CBV_WEB.match(value)
    rest = web.group(1) if web else value[len("cbv:") :] if value.startswith("cbv:") else None
    if rest is None:
        return value
    prefix = vocabulary.web_prefix
    if rest.lower().startswith(prefix.lower()):
        rest = prefix + rest[len(prefix) :]
    return CBV + rest


@dataclass(frozen=True)
class PageToken:
    """Where the previous page ended."""

    record_time: datetime
    row_id: uuid.UUID

    def encode(self) -> str:
        """The opaque token handed to the client."""
        raw = json.dumps([self.record_time.isoformat(), str(self.row_id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PageToken:
        """Reads a token back; a tampered one is a validation error."""
        try:
            padded = token + "=" * (-len(token) % 4)
            time_text, row_id = json.loads(base64.urlsafe_b64decode(padded))
            return cls(datetime.fromisoformat(time_text), uuid.UUID(row_id))
        except (ValueError, TypeError, binascii.Error):
            raise invalid(["nextPageToken"], N_("Invalid page token")) from None


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every value of a parameter, alternatives split on |."""
    return [part for value in params.get(name, ()) for part in value.split("|") if part]


def _time(name: str, text: str) -> datetime:
    """A query time bound; must carry a zone."""
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip().replace("Z", "+00:00")))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid(
            [name],
            N_(
                "Time must be an RFC 3339 date-time with a time zone, like "
                "2026-07-22T06:45:00+07:00"
            ),
        )
    return parsed.astimezone(UTC)


def per_page(params: Mapping[str, Sequence[str]]) -> int:
    """The page size asked for (1..MAX_PER_PAGE)."""
    values = params.get("perPage") or ()
    if not values:
        return DEFAULT_PER_PAGE
    text = values[-1]
    if not text.isdigit() or not 1 <= int(text) <= MAX_PER_PAGE:
        raise invalid(
            ["perPage"], N_("perPage must be a whole number from 1 to {max}"), max=MAX_PER_PAGE
        )
    return int(text)


def build_event_query(
    db: Session, principal: Principal, params: Mapping[str, Sequence[str]]
) -> Select[EpcisEvent]:
    """The SELECT of events matching the parameters that the caller may read, in page order."""
    unknown = sorted(
        name
        for name in params
        if name not in KNOWN and name not in PAGING and not extensions.PARAMETER.match(name)
    )
    if unknown:
        raise invalid([unknown[0]], N_("Unknown query parameter “{name}”"), name=unknown[0])
    clauses: list[ColumnElement[bool]] = [event_read_filter(db, principal)]
    for name in params:
        if name not in KNOWN:
            extension = extensions.clause(name, list(params[name]))
            if extension is not None:
                clauses.append(extension)
    types = _values(params, "eventType")
    if types:
        clauses.append(EpcisEvent.event_type.in_(types))
    for name, (column, lower) in _TIME_BOUNDS.items():
        for text in params.get(name, ()):
            bound = _time(name, text)
            clauses.append(column >= bound if lower else column < bound)
    for name, (column, vocabulary) in _EQUALS.items():
        values = _values(params, name)
        if values:
            if vocabulary is not None:
                values = [normalize_term(value, vocabulary) for value in values]
            elif name in ("EQ_readPoint", "EQ_bizLocation"):
                values = [canonical_identifier(value) for value in values]
            clauses.append(column.in_(values))
    for name, roles in MATCH_ROLES.items():
        values = _values(params, name)
        if values:
            matching = select(EpcisEventEpc.event_row_id).where(
                EpcisEventEpc.org_id == EpcisEvent.org_id,
                EpcisEventEpc.role.in_([role.value for role in roles]),
                EpcisEventEpc.epc.in_([canonical_identifier(value) for value in values]),
            )
            clauses.append(EpcisEvent.id.in_(matching))
    tokens = params.get("nextPageToken") or ()
    if tokens:
        after = PageToken.decode(tokens[-1])
        clauses.append(
            or_(
                EpcisEvent.record_time > after.record_time,
                and_(EpcisEvent.record_time == after.record_time, EpcisEvent.id > after.row_id),
            )
        )
    return select(EpcisEvent).where(*clauses).order_by(EpcisEvent.record_time, EpcisEvent.id)


# --- discovery (/epcis/eventTypes, /epcis/epcs, ...) --------------------------------------

# Discovery resource -> the column whose distinct values it lists.
DISCOVERY_COLUMNS: dict[str, Any] = {
    "eventTypes": EpcisEvent.event_type,
    "bizSteps": EpcisEvent.biz_step,
    "bizLocations": EpcisEvent.biz_location,
    "readPoints": EpcisEvent.read_point,
    "dispositions": EpcisEvent.disposition,
    "epcs": EpcisEventEpc.epc,
}
# Discovery resource -> the SimpleEventQuery parameter of its /{resource}/{value}/events.
RESOURCE_PARAMETER = {
    "eventTypes": "eventType",
    "bizSteps": "EQ_bizStep",
    "bizLocations": "EQ_bizLocation",
    "readPoints": "EQ_readPoint",
    "dispositions": "EQ_disposition",
    "epcs": "MATCH_anyEPC",
}
_INSTANCE_ROLES = [
    role.value
    for role in (EpcRole.epc, EpcRole.child, EpcRole.parent, EpcRole.input, EpcRole.output)
]


def encode_value_token(value: str) -> str:
    """The opaque token of a page of names ending at `value`."""
    return base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")


def decode_value_token(token: str) -> str:
    """Reads a name page token back; a tampered one is a validation error."""
    try:
        padded = token + "=" * (-len(token) % 4)
        (value,) = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error):
        raise invalid(["nextPageToken"], N_("Invalid page token")) from None
    if not isinstance(value, str):
        raise invalid(["nextPageToken"], N_("Invalid page token"))
    return value


def only_paging(params: Mapping[str, Sequence[str]]) -> None:
    """Refuses any parameter but perPage/nextPageToken (listings take no filters)."""
    unknown = sorted(name for name in params if name not in PAGING)
    if unknown:
        raise invalid([unknown[0]], N_("Unknown query parameter “{name}”"), name=unknown[0])


def build_discovery_query(
    db: Session, principal: Principal, resource: str, params: Mapping[str, Sequence[str]]
) -> Select[Any]:
    """The SELECT of the distinct values of a discovery resource among the caller's events."""
    only_paging(params)
    column = DISCOVERY_COLUMNS[resource]
    if resource == "epcs":
        clauses: list[ColumnElement[bool]] = [
            event_read_filter(db, principal, EpcisEventEpc.org_id, EpcisEventEpc.event_row_id),
            EpcisEventEpc.role.in_(_INSTANCE_ROLES),
        ]
    else:
        clauses = [event_read_filter(db, principal), column.is_not(None)]
    tokens = params.get("nextPageToken") or ()
    if tokens:
        clauses.append(column > decode_value_token(tokens[-1]))
    return select(column).where(*clauses).distinct().order_by(column)


def discover(
    db: Session, principal: Principal, resource: str, params: Mapping[str, Sequence[str]]
) -> tuple[list[str], str | None]:
    """One page of a discovery resource's values the caller may see, and the next page token."""
    size = per_page(params)
    statement = build_discovery_query(db, principal, resource, params).limit(size + 1)
    values = [str(value) for value in db.scalars(statement)]
    if len(values) <= size:
        return values, None
    return values[:size], encode_value_token(values[size - 1])


def company_prefixes(db: Session) -> list[str]:
    """The GS1 company prefixes of registered organizations (to split Digital Link keys)."""
    statement = select(Organization.gs1_company_prefix).where(
        Organization.gs1_company_prefix.is_not(None)
    )
    return [str(prefix) for prefix in db.scalars(statement)]
