"""Who may read an EPCIS event: its owner, the trading partners it names, the authorities.

An organization reads its own events and those where one of its GLNs (its own, or one of its
facilities') is named in the event's sourceList or destinationList, whoever captured it: the
shipper's "shipping" event names the receiver as destination, so the receiver sees it. The
GLNs named are indexed at capture in `epcis_event_party`. Authorities and inspectors read the
events of organizations in their province (nationwide ones read all), as everywhere else.

`event_read_filter` is the one rule every reader of events applies: the REST queries, single
events, discovery listings, named queries, subscriptions, and traceability.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from truyxuat.auth.principal import Principal, read_filter
from truyxuat.epcis.models import EpcisEvent, EpcisEventParty
from truyxuat.registry.models import Facility, Organization

_GLN_URN = re.compile(r"^urn:epc:id:(sgln|pgln):([0-9]+)\.([0-9]*)(?:\..*)?$")
_PARTY_LISTS = (("sourceList", "source"), ("destinationList", "destination"))


def _check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a key without its check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def party_gln(identifier: str) -> str | None:
    """The 13-digit GLN of a party or location identifier, or None if it names none.

    Reads GS1 Digital Link URIs with a /414/ (location) or /417/ (party) key, on any host,
    and the sgln and pgln EPC URNs.
    """
    match = _GLN_URN.match(identifier)
    if match is not None:
        body = match.group(2) + match.group(3)
        if len(body) != 12:
            return None
        return body + _check_digit(body)
    if not identifier.startswith(("https://", "http://")):
        return None
    segments = [unquote(part) for part in urlsplit(identifier).path.split("/") if part]
    for index, segment in enumerate(segments[:-1]):
        if segment in ("414", "417"):
            gln = segments[index + 1]
            if len(gln) == 13 and gln.isdigit():
                return gln
    return None


def event_parties(event: Mapping[str, Any]) -> set[str]:
    """The GLNs an event names in its sourceList and destinationList."""
    found: set[str] = set()
    for field, key in _PARTY_LISTS:
        items = event.get(field)
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, Mapping):
                value = item.get(key)
                if isinstance(value, str):
                    gln = party_gln(value)
                    if gln is not None:
                        found.add(gln)
    return found


def principal_glns(db: Session, principal: Principal) -> set[str]:
    """The GLNs of the caller's organizations and of their facilities."""
    members = principal.member_org_ids()
    if not members:
        return set()
    own = select(Organization.gln).where(
        Organization.id.in_(members), Organization.gln.is_not(None)
    )
    facilities = select(Facility.gln).where(Facility.org_id.in_(members), Facility.gln.is_not(None))
    return {str(gln) for gln in db.scalars(own.union(facilities))}


def event_read_filter(
    db: Session,
    principal: Principal,
    org_id_column: Any = EpcisEvent.org_id,
    row_id_column: Any = EpcisEvent.id,
) -> ColumnElement[bool]:
    """A WHERE clause keeping the events the caller may read.

    By default about `epcis_event` rows; pass the (org_id, event_row_id) columns of a table
    keyed like them (e.g. `EpcisEventEpc.org_id, EpcisEventEpc.event_row_id`) to filter it.
    The caller's GLNs are looked up once, here, so the clause is a plain IN list.
    """
    own = read_filter(principal, org_id_column)
    if isinstance(own, True_):
        return own
    glns = principal_glns(db, principal)
    if not glns:
        return own
    shared = exists(
        select(EpcisEventParty.gln).where(
            EpcisEventParty.org_id == org_id_column,
            EpcisEventParty.event_row_id == row_id_column,
            EpcisEventParty.gln.in_(sorted(glns)),
        )
    )
    return or_(own, shared)
