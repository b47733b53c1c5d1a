"""Named queries: an organization saves a SimpleEventQuery under a name, then runs it by name
(GET /epcis/queries/{name}/events) or subscribes a webhook to it.

A named query belongs to the caller's organization (its default one); its name is unique there.
It runs with the visibility of whoever runs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal
from truyxuat.epcis import service
from truyxuat.epcis.models import EpcisEvent, NamedQuery, Subscription
from truyxuat.epcis.query import (
    PAGING,
    build_event_query,
    decode_value_token,
    encode_value_token,
    only_paging,
    per_page,
)
from truyxuat.errors import N_, Conflict, Forbidden, NotFound, invalid


def owner_org_id(principal: Principal) -> uuid.UUID:
    """The organization whose named queries the caller works with."""
    org_id = principal.default_org_id()
    if org_id is None:
        raise Forbidden()
    return org_id


def query_params(query: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    """A query body (a value or a list of values per parameter) as name -> values."""
    return {
        name: [value] if isinstance(value, str) else list(value) for name, value in query.items()
    }


def create_query(
    db: Session, principal: Principal, *, name: str, query: Mapping[str, str | Sequence[str]]
) -> NamedQuery:
    """Saves a named query after checking its parameters as GET /epcis/events would."""
    org_id = owner_org_id(principal)
    params = query_params(query)
    paging = sorted(set(params) & PAGING)
    if paging:
        raise invalid(["query", paging[0]], N_("Unknown query parameter “{name}”"), name=paging[0])
    build_event_query(db, principal, params)
    held = select(NamedQuery.id).where(NamedQuery.org_id == org_id, NamedQuery.name == name)
    if db.scalar(held) is not None:
        raise Conflict(N_("{value} is already registered"), value=name)
    row = NamedQuery(org_id=org_id, name=name, query=params)
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        # Another request saved the same name between our check and our insert.
        raise Conflict(N_("{value} is already registered"), value=name) from None
    return row


def list_queries(
    db: Session, principal: Principal, params: Mapping[str, Sequence[str]]
) -> tuple[list[NamedQuery], str | None]:
    """One page of the organization's named queries by name, and the next page token."""
    only_paging(params)
    size = per_page(params)
    statement = select(NamedQuery).where(NamedQuery.org_id == owner_org_id(principal))
    tokens = params.get("nextPageToken") or ()
    if tokens:
        statement = statement.where(NamedQuery.name > decode_value_token(tokens[-1]))
    rows = list(db.scalars(statement.order_by(NamedQuery.name).limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    return rows[:size], encode_value_token(rows[size - 1].name)


def get_query(db: Session, principal: Principal, name: str) -> NamedQuery:
    """The organization's named query of this name; NotFound otherwise."""
    row = db.scalar(
        select(NamedQuery).where(
            NamedQuery.org_id == owner_org_id(principal), NamedQuery.name == name
        )
    )
    if row is None:
        raise NotFound()
    return row


def delete_query(db: Session, principal: Principal, name: str) -> None:
    """Deletes a named query and its subscriptions."""
    row = get_query(db, principal, name)
    db.execute(delete(Subscription).where(Subscription.query_id == row.id))
    db.delete(row)
    db.flush()


def run_query(
    db: Session, principal: Principal, name: str, params: Mapping[str, Sequence[str]]
) -> tuple[list[EpcisEvent], str | None]:
    """One page of the events of a named query the caller may read (perPage/nextPageToken)."""
    only_paging(params)
    row = get_query(db, principal, name)
    return service.query_events(db, principal, {**row.query, **params})
