"""The trace engine: one step back (or forward), repeated level by level over the identifier
index, crossing organizations.

Each level is one query: the identifiers on the frontier, the events naming them (only those
the caller may see, when a principal is given) and every identifier those events name. An
event links identifiers when it turns inputs into outputs (transformation) or packs children
into a parent (aggregation, association, a transaction with a parent). Shipping, receiving
and observations attach places and organizations to an identifier without moving the trace
to other identifiers. Each identifier is visited once, so a cycle in the data ends the walk.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from sqlalchemy import ARRAY, ColumnElement, String, Uuid, and_, any_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from truyxuat.auth.principal import Principal
from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE, to_digital_link
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc
from truyxuat.epcis.sharing import event_read_filter
from truyxuat.errors import N_, DomainError, invalid
from truyxuat.registry.models import Facility, GrowingArea, Organization

DEFAULT_DEPTH = 10
MAX_DEPTH = 50
DEFAULT_MAX_NODES = 5000
# Balance: outputs may exceed inputs by this share (moisture, rounding) before a flag.
DEFAULT_TOLERANCE = 0.05
_CHUNK = 500
# The identifier row found on the frontier, and every identifier row of the same event.
_HIT = aliased(EpcisEventEpc, name="hit")
_NAMED = aliased(EpcisEventEpc, name="named")

_INPUT_ROLES = frozenset({"input", "input_quantity"})
_OUTPUT_ROLES = frozenset({"output", "output_quantity"})
_PARENT_ROLES = frozenset({"parent"})
_CHILD_ROLES = frozenset({"child", "child_quantity"})
_OBJECT_ROLES = frozenset({"epc", "quantity"})
_LINKING_AGGREGATIONS = frozenset({"ADD", "OBSERVE"})

# Units of UN/CEFACT Recommendation 20 the balance check can add up: factor to kg or litres.
_UNITS: dict[str, tuple[str, float]] = {
    "KGM": ("mass", 1.0),
    "GRM": ("mass", 0.001),
    "TNE": ("mass", 1000.0),
    "LBR": ("mass", 0.45359237),
    "LTR": ("volume", 1.0),
    "MLT": ("volume", 0.001),
    "MTQ": ("volume", 1000.0),
    "": ("count", 1.0),
    "EA": ("count", 1.0),
    "H87": ("count", 1.0),
}


class Direction(enum.StrEnum):
    """Towards the origins (backward) or towards the customers (forward)."""

    backward = "backward"
    forward = "forward"


class TraceTooLarge(DomainError):
    """The graph grew beyond the node limit: the caller should ask for a smaller depth."""

    status = 422
    type_slug = "trace-too-large"
    title = N_("Trace too large")


@lru_cache(maxsize=1 << 16)
def canonical(value: str) -> str:
    """An identifier in its canonical form: a GS1 Digital Link on id.gs1.org when it has one.

    EPC URNs are converted, and a Digital Link on another resolver (our stamps) is moved to
    the id.gs1.org host so the same lot is one node whatever the form it was given in.
    """
    value = to_digital_link(value.strip())
    if value.startswith(("https://", "http://")) and not value.startswith(DIGITAL_LINK_BASE + "/"):
        rest = value.split("://", 1)[1]
        path = rest[rest.find("/") :] if "/" in rest else ""
        for key in ("/01/", "/00/", "/414/", "/417/"):
            at = path.find(key)
            if at >= 0:
                return DIGITAL_LINK_BASE + path[at:].split("?", 1)[0]
    return value


@lru_cache(maxsize=1 << 16)
def _pairs(value: str) -> dict[str, str]:
    """The AI/value pairs of a Digital Link path (empty when it is not one; cached, so the
    caller must not change the mapping)."""
    if not value.startswith(DIGITAL_LINK_BASE + "/"):
        return {}
    parts = value[len(DIGITAL_LINK_BASE) + 1 :].split("?", 1)[0].split("/")
    if len(parts) % 2:
        return {}
    return {ai: unquote(v) for ai, v in zip(parts[::2], parts[1::2], strict=True)}


def identifier_kind(value: str) -> str:
    """lot, item, sscc, product (a GTIN alone), location, party or other."""
    pairs = _pairs(value)
    if "01" in pairs:
        if "10" in pairs:
            return "lot"
        if "21" in pairs:
            return "item"
        return "product"
    if "00" in pairs:
        return "sscc"
    if "414" in pairs:
        return "location"
    if "417" in pairs:
        return "party"
    return "other"


def gtin_lot(value: str) -> tuple[str | None, str | None]:
    """The GTIN and lot (or None) an identifier names."""
    pairs = _pairs(value)
    return pairs.get("01"), pairs.get("10")


def gtin_serial(value: str) -> tuple[str | None, str | None]:
    """The GTIN and serial (or None) an identifier names."""
    pairs = _pairs(value)
    return pairs.get("01"), pairs.get("21")


@lru_cache(maxsize=1024)
def short_step(biz_step: str | None) -> str:
    """`shipping` from `https://ref.gs1.org/cbv/BizStep-shipping` (or a URN, or a bare word)."""
    if not biz_step:
        return ""
    tail = biz_step.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail.removeprefix("BizStep-")


@dataclass
class Node:
    """A lot, item, SSCC, facility, organization or growing area in the graph."""

    id: str
    kind: str
    depth: int
    label: str = ""
    org_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The node as the API returns it."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "depth": self.depth}
        out["label"] = self.label or self.id
        if self.org_id is not None:
            out["orgId"] = str(self.org_id)
        if self.data:
            out["data"] = self.data
        return out


@dataclass(frozen=True)
class Edge:
    """One event seen as a link, always drawn upstream → downstream."""

    source: str
    target: str
    relation: str
    event_key: tuple[uuid.UUID, uuid.UUID]

    def to_json(self, events: Mapping[tuple[uuid.UUID, uuid.UUID], TraceEvent]) -> dict[str, Any]:
        """The edge with the event's essentials."""
        event = events[self.event_key]
        return {
            "source": self.source,
            "target": self.target,
            "relation": self.relation,
            "eventId": event.event_id,
            "eventType": event.event_type,
            "bizStep": short_step(event.biz_step),
            "eventTime": event.event_time.isoformat(),
        }


@dataclass
class TraceEvent:
    """A stored event the trace went through, with the identifiers it names by role."""

    org_id: uuid.UUID
    row_id: uuid.UUID
    event_id: str
    event_type: str
    event_time: datetime
    action: str | None
    biz_step: str | None
    read_point: str | None
    biz_location: str | None
    event: dict[str, Any]
    roles: dict[str, set[str]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        """(org_id, row id): the stored event's primary key."""
        return (self.org_id, self.row_id)

    def named(self, roles: Iterable[str]) -> set[str]:
        """Identifiers named under any of these roles."""
        out: set[str] = set()
        for role in roles:
            out |= self.roles.get(role, set())
        return out

    def all_named(self) -> set[str]:
        """Every identifier the event names."""
        return self.named(self.roles)

    @property
    def step(self) -> str:
        """The short bizStep (shipping, receiving, harvesting...)."""
        return short_step(self.biz_step)

    def links(self) -> list[tuple[set[str], set[str], str]]:
        """The identifier links the event makes: (upstream ids, downstream ids, relation)."""
        if self.event_type == "TransformationEvent":
            return [(self.named(_INPUT_ROLES), self.named(_OUTPUT_ROLES), "transformation")]
        if self.event_type in ("AggregationEvent", "AssociationEvent"):
            if (self.action or "ADD") in _LINKING_AGGREGATIONS:
                relation = "aggregation" if self.event_type == "AggregationEvent" else "association"
                return [(self.named(_CHILD_ROLES), self.named(_PARENT_ROLES), relation)]
            return []
        if self.event_type == "TransactionEvent" and self.roles.get("parent"):
            return [(self.named(_OBJECT_ROLES), self.named(_PARENT_ROLES), "transaction")]
        return []

    def objects(self) -> set[str]:
        """The identifiers the event is about (what was shipped, received, observed...)."""
        return self.all_named()

    def parties(self, key: str) -> list[str]:
        """Source or destination identifiers (`key` is "source" or "destination")."""
        found: list[str] = []
        for entry in self.event.get(f"{key}List") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get(key), str):
                found.append(canonical(entry[key]))
        return found

    def place(self) -> str | None:
        """Where it happened: the bizLocation, else the readPoint."""
        place = self.biz_location or self.read_point
        return canonical(place) if place else None


@dataclass
class Flag:
    """A quantity or shipment anomaly found on the way."""

    kind: str
    event_id: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The flag as the API returns it."""
        return {
            "kind": self.kind,
            "eventId": self.event_id,
            "message": self.message,
            "details": self.details,
        }


@dataclass
class TraceGraph:
    """The result of a trace: nodes, edges, the events behind them, flags."""

    direction: Direction
    start: str
    max_depth: int
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    events: dict[tuple[uuid.UUID, uuid.UUID], TraceEvent] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    truncated: bool = False
    reached_depth: int = 0

    def identifiers(self, *kinds: str) -> list[Node]:
        """Nodes of these kinds, in depth then id order."""
        return sorted(
            (n for n in self.nodes.values() if n.kind in kinds), key=lambda n: (n.depth, n.id)
        )

    def to_json(self) -> dict[str, Any]:
        """The graph as the API returns it."""
        out: dict[str, Any] = {
            "direction": self.direction.value,
            "start": self.start,
            "maxDepth": self.max_depth,
            "depth": self.reached_depth,
            "truncated": self.truncated,
            "nodes": [
                n.to_json() for n in sorted(self.nodes.values(), key=lambda n: (n.depth, n.id))
            ],
            "edges": [e.to_json(self.events) for e in self.edges],
            "flags": [f.to_json() for f in self.flags],
        }
        if self.truncated:
            out["message"] = (
                f"The trace stopped at depth {self.max_depth}; ask for a larger depth "
                "to go further."
            )
        return out


def _visible(db: Session, principal: Principal | None) -> ColumnElement[bool] | None:
    """Which identifier rows the caller may follow: those of events it may read (its own, and
    those naming it as source or destination; an authority's province)."""
    if principal is None:
        return None
    return event_read_filter(db, principal, _HIT.org_id, _HIT.event_row_id)


def _chunks(values: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_LEVEL_COLUMNS = (
    _NAMED.org_id,
    _NAMED.event_row_id,
    _NAMED.role,
    _NAMED.epc,
    EpcisEvent.event_id,
    EpcisEvent.event_type,
    EpcisEvent.event_time,
    EpcisEvent.action,
    EpcisEvent.biz_step,
    EpcisEvent.read_point,
    EpcisEvent.biz_location,
)
LevelRow = tuple[
    uuid.UUID,
    uuid.UUID,
    str,
    str,
    str,
    str,
    datetime,
    str | None,
    str | None,
    str | None,
    str | None,
]


# (roles of the identifier on the frontier, roles of the identifiers it leads to) by direction:
# only these rows of an event can move the walk, so the others are not fetched.
_STEPS = {
    "backward": (
        (_OUTPUT_ROLES, _INPUT_ROLES),
        (_PARENT_ROLES, _CHILD_ROLES | _OBJECT_ROLES),
    ),
    "forward": (
        (_INPUT_ROLES, _OUTPUT_ROLES),
        (_CHILD_ROLES | _OBJECT_ROLES, _PARENT_ROLES),
    ),
}


def _wanted_rows(direction: str) -> ColumnElement[bool]:
    """The identifier rows a level needs: the frontier identifier's own row, and the rows it
    leads to in this direction (inputs of its transformation, children of its pallet...)."""
    return or_(
        and_(_NAMED.role == _HIT.role, _NAMED.epc == _HIT.epc),
        *(
            and_(_HIT.role.in_(sorted(near)), _NAMED.role.in_(sorted(far)))
            for near, far in _STEPS[direction]
        ),
    )


@lru_cache(maxsize=8)
def _level_statement(direction: str, postgresql: bool) -> Any:
    """The statement of a level for everyone's events (built once: the frontier is a
    parameter — one array on PostgreSQL, an expanding IN list elsewhere)."""
    frontier = (
        _HIT.epc == any_(bindparam("frontier", type_=ARRAY(String)))
        if postgresql
        else _HIT.epc.in_(bindparam("frontier", expanding=True))
    )
    return (
        select(*_LEVEL_COLUMNS)
        .join(_HIT, and_(_HIT.org_id == _NAMED.org_id, _HIT.event_row_id == _NAMED.event_row_id))
        .join(
            EpcisEvent,
            and_(EpcisEvent.org_id == _NAMED.org_id, EpcisEvent.id == _NAMED.event_row_id),
        )
        .where(frontier, _wanted_rows(direction))
    )


def _level(
    db: Session,
    frontier: Sequence[str],
    visible: ColumnElement[bool] | None,
    direction: str,
) -> list[LevelRow]:
    """The identifier rows of the events naming a frontier identifier that matter for the walk,
    with the columns of the event it needs (JSON bodies are read once at the end)."""
    statement = _level_statement(direction, db.get_bind().dialect.name == "postgresql")
    if visible is not None:
        statement = statement.where(visible)
    rows: list[LevelRow] = []
    for chunk in _chunks(list(frontier), _CHUNK * 10):
        rows.extend(db.execute(statement, {"frontier": list(chunk)}).all())
    return rows


@lru_cache(maxsize=2)
def _bodies_statement(postgresql: bool) -> Any:
    """The statement reading event bodies by key (arrays on PostgreSQL, so it is prepared
    once; expanding IN lists elsewhere)."""
    columns = (EpcisEvent.org_id, EpcisEvent.id, EpcisEvent.event)
    if postgresql:
        return select(*columns).where(
            EpcisEvent.org_id == any_(bindparam("orgs", type_=ARRAY(Uuid()))),
            EpcisEvent.id == any_(bindparam("ids", type_=ARRAY(Uuid()))),
        )
    return select(*columns).where(
        EpcisEvent.org_id.in_(bindparam("orgs", expanding=True)),
        EpcisEvent.id.in_(bindparam("ids", expanding=True)),
    )


def _load_bodies(db: Session, events: Mapping[tuple[uuid.UUID, uuid.UUID], TraceEvent]) -> None:
    """Reads the JSON body of every event in the graph, a chunk of keys per query."""
    statement = _bodies_statement(db.get_bind().dialect.name == "postgresql")
    keys = sorted(events)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        orgs = sorted({org for org, _ in chunk})
        ids = [row for _, row in chunk]
        for org, row_id, body in db.execute(statement, {"orgs": orgs, "ids": ids}):
            event = events.get((org, row_id))
            if event is not None:
                event.event = body


def trace(
    db: Session,
    start: str,
    direction: Direction,
    *,
    principal: Principal | None,
    max_depth: int = DEFAULT_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
    tolerance: float = DEFAULT_TOLERANCE,
) -> TraceGraph:
    """Walks from `start` (any identifier form) towards the origins or the customers.

    With a principal, only the events the caller may see are followed; without one (the
    platform computing a recall) every event is.
    """
    if not 0 <= max_depth <= MAX_DEPTH:
        raise invalid(["query", "depth"], N_("Depth must be between 0 and {max}"), max=MAX_DEPTH)
    start = canonical(start)
    if identifier_kind(start) not in ("lot", "item", "sscc", "product"):
        raise invalid(
            ["query", "epc"],
            N_("Give the Digital Link or EPC URN of a lot, an item or an SSCC"),
        )
    graph = TraceGraph(direction=direction, start=start, max_depth=max_depth)
    graph.nodes[start] = Node(start, identifier_kind(start), 0)
    visible = _visible(db, principal)
    frontier = [start]
    depth = 0
    while frontier:
        rows = _level(db, frontier, visible, direction.value)
        level_keys: set[tuple[uuid.UUID, uuid.UUID]] = set()
        for org, row_id, role, epc, event_id, kind, moment, action, step, point, place in rows:
            key = (org, row_id)
            level_keys.add(key)
            event = graph.events.get(key)
            if event is None:
                event = graph.events[key] = TraceEvent(
                    org, row_id, event_id, kind, moment, action, step, point, place, {}
                )
            event.roles.setdefault(role, set()).add(canonical(epc))
        if len(graph.events) > max_nodes * 4:
            raise TraceTooLarge(
                N_("The trace reaches more than {limit} events; ask for a smaller depth"),
                limit=max_nodes * 4,
            )
        # Events seen at an earlier level are looked at again: an identifier reached later
        # may be the one that makes them a link of this walk.
        level_events = {key: graph.events[key] for key in level_keys}
        on_frontier = set(frontier)
        next_frontier: set[str] = set()
        for event in level_events.values():
            for upstream, downstream, relation in event.links():
                near, far = (
                    (downstream, upstream)
                    if direction is Direction.backward
                    else (upstream, downstream)
                )
                if not near & on_frontier:
                    continue
                for ident in far:
                    if ident not in graph.nodes:
                        if depth + 1 > max_depth:
                            graph.truncated = True
                            continue
                        graph.nodes[ident] = Node(ident, identifier_kind(ident), depth + 1)
                        next_frontier.add(ident)
                for a in upstream:
                    for b in downstream:
                        if a in graph.nodes and b in graph.nodes:
                            graph.edges.append(Edge(a, b, relation, event.key))
        if len(graph.nodes) > max_nodes:
            raise TraceTooLarge(
                N_("The trace reaches more than {limit} nodes; ask for a smaller depth"),
                limit=max_nodes,
            )
        if next_frontier:
            depth += 1
        frontier = sorted(next_frontier)
    graph.reached_depth = depth
    _load_bodies(db, graph.events)
    _attach_places_and_parties(db, graph)
    graph.edges = list(dict.fromkeys(graph.edges))
    graph.flags = _balance_flags(graph, tolerance) + _shipment_flags(graph)
    return graph


# --- places, parties and growing areas ------------------------------------------------------


def _gln(value: str) -> tuple[str | None, str | None]:
    """The GLN (AI 414 or 417) and extension (AI 254) of a location or party identifier."""
    pairs = _pairs(value)
    return pairs.get("414") or pairs.get("417"), pairs.get("254")


_GROWING_AREA_URI = "https://truyxuat.example/growing-area/"


def _attach_places_and_parties(db: Session, graph: TraceGraph) -> None:
    """Adds facility, organization and growing-area nodes for the events in the graph.

    Each event is read once (its reached identifiers, place, parties and ILMD growing area),
    the registry is asked once per kind, then the nodes and edges are added.
    """
    glns: set[str] = set()
    codes: set[str] = set()
    seen: list[tuple[TraceEvent, list[str], str | None, list[str], list[str], str | None]] = []
    nodes = graph.nodes
    for event in graph.events.values():
        objects = sorted(i for i in event.all_named() if i in nodes)
        if not objects:
            continue
        place = event.place()
        sources, destinations = event.parties("source"), event.parties("destination")
        ilmd = event.event.get("ilmd")
        area_code = ilmd.get("tx:growingAreaCode") if isinstance(ilmd, Mapping) else None
        if not isinstance(area_code, str):
            area_code = None
        seen.append((event, objects, place, sources, destinations, area_code))
        if area_code:
            codes.add(area_code)
        if place:
            gln, extension = _gln(place)
            if gln:
                glns.add(gln)
            if extension:
                codes.add(extension)
            if place.startswith(_GROWING_AREA_URI):
                codes.add(unquote(place[len(_GROWING_AREA_URI) :]))
        for party in (*sources, *destinations):
            gln, _ = _gln(party)
            if gln:
                glns.add(gln)
    orgs_by_gln = {
        o.gln: o for o in db.scalars(select(Organization).where(Organization.gln.in_(glns)))
    }
    facilities = {f.gln: f for f in db.scalars(select(Facility).where(Facility.gln.in_(glns)))}
    areas = {a.code: a for a in db.scalars(select(GrowingArea).where(GrowingArea.code.in_(codes)))}
    org_ids = {e.org_id for e in graph.events.values()} | {f.org_id for f in facilities.values()}
    orgs_by_id = {
        o.id: o for o in db.scalars(select(Organization).where(Organization.id.in_(org_ids)))
    }

    def add(
        node_id: str, kind: str, depth: int, label: str, org: uuid.UUID | None, **data: Any
    ) -> None:
        node = nodes.get(node_id)
        if node is None:
            nodes[node_id] = Node(node_id, kind, depth, label, org, dict(data))
        elif depth < node.depth:
            node.depth = depth

    org_ids_seen: dict[uuid.UUID, str] = {}

    def org_node(org: Organization, depth: int) -> str:
        node_id = org_ids_seen.get(org.id)
        if node_id is None:
            node_id = org_ids_seen[org.id] = f"org:{org.id}"
            add(node_id, "organization", depth, org.name, org.id, code=org.code, gln=org.gln)
        elif depth < nodes[node_id].depth:
            nodes[node_id].depth = depth
        return node_id

    party_ids: dict[str, Organization | None] = {}

    def party_node(value: str, depth: int) -> str:
        if value not in party_ids:
            gln, _ = _gln(value)
            org = orgs_by_gln.get(gln) if gln else None
            if org is None and gln in facilities:
                org = orgs_by_id.get(facilities[gln].org_id)
            party_ids[value] = org
        org = party_ids[value]
        if org is not None:
            return org_node(org, depth)
        add(value, "organization", depth, value, None)
        return value

    def area_node(area: GrowingArea, depth: int) -> str:
        node_id = f"growing-area:{area.code}"
        add(
            node_id,
            "growing_area",
            depth,
            area.name or area.code,
            area.org_id,
            code=area.code,
            areaHa=area.area_ha,
            crop=area.crop,
        )
        return node_id

    def place_node(place: str, area_code: str | None, depth: int) -> str:
        if area_code and area_code in areas:
            return area_node(areas[area_code], depth)
        gln, extension = _gln(place)
        code = extension or (
            unquote(place[len(_GROWING_AREA_URI) :])
            if place.startswith(_GROWING_AREA_URI)
            else None
        )
        if code and code in areas:
            return area_node(areas[code], depth)
        if gln and gln in facilities:
            facility = facilities[gln]
            node_id = f"facility:{facility.id}"
            add(node_id, "facility", depth, facility.name, facility.org_id, gln=gln)
            return node_id
        if gln and gln in orgs_by_gln:
            return org_node(orgs_by_gln[gln], depth)
        add(place, "facility", depth, place, None)
        return place

    edges = graph.edges
    for event, objects, place, sources, destinations, area_code in seen:
        depth = min(nodes[i].depth for i in objects) + 1
        key = event.key
        holder = orgs_by_id.get(event.org_id)
        known_area = area_code is not None and area_code in areas
        place_id = place_node(place or "", area_code, depth) if place or known_area else None
        holder_id = org_node(holder, depth) if holder is not None else None
        source_ids = [party_node(v, depth) for v in sources]
        destination_ids = [party_node(v, depth) for v in destinations]
        relation = event.step or "observed"
        for ident in objects:
            if place_id is not None:
                edges.append(Edge(ident, place_id, relation, key))
            if holder_id is not None:
                edges.append(Edge(ident, holder_id, "recorded_by", key))
            edges.extend(Edge(source, ident, "source", key) for source in source_ids)
            edges.extend(Edge(ident, target, "destination", key) for target in destination_ids)


# --- flags ---------------------------------------------------------------------------------


def _amounts(event: TraceEvent, list_name: str, epc_list: str) -> tuple[str | None, float]:
    """The dimension and total of one side of a transformation; dimension None when mixed."""
    dimensions: set[str] = set()
    total = 0.0
    for element in event.event.get(list_name) or []:
        if not isinstance(element, Mapping):
            continue
        unit = str(element.get("uom") or "")
        if unit not in _UNITS:
            return None, 0.0
        dimension, factor = _UNITS[unit]
        dimensions.add(dimension)
        try:
            total += float(element.get("quantity", 0)) * factor
        except (TypeError, ValueError):
            return None, 0.0
    instances = event.event.get(epc_list) or []
    if instances:
        dimensions.add("count")
        total += len(instances)
    if len(dimensions) != 1:
        return None, 0.0
    return dimensions.pop(), total


def _balance_flags(graph: TraceGraph, tolerance: float) -> list[Flag]:
    """Transformations whose outputs exceed their inputs (same unit kind) beyond tolerance."""
    flags: list[Flag] = []
    for event in sorted(graph.events.values(), key=lambda e: (e.event_time, e.event_id)):
        if event.event_type != "TransformationEvent":
            continue
        in_dim, inputs = _amounts(event, "inputQuantityList", "inputEPCList")
        out_dim, outputs = _amounts(event, "outputQuantityList", "outputEPCList")
        if in_dim is None or in_dim != out_dim or inputs <= 0:
            continue
        if outputs > inputs * (1 + tolerance):
            flags.append(
                Flag(
                    "transformation_imbalance",
                    event.event_id,
                    N_("Outputs exceed inputs beyond the tolerance"),
                    {
                        "dimension": in_dim,
                        "inputs": round(inputs, 6),
                        "outputs": round(outputs, 6),
                        "tolerance": tolerance,
                    },
                )
            )
    return flags


_RECEIPT_STEPS = frozenset({"receiving", "accepting", "arriving"})


def _shipment_flags(graph: TraceGraph) -> list[Flag]:
    """Shipments with no later receiving event (that the caller may see) of what was shipped."""
    receipts = [e for e in graph.events.values() if e.step in _RECEIPT_STEPS]
    flags: list[Flag] = []
    for event in sorted(graph.events.values(), key=lambda e: (e.event_time, e.event_id)):
        if event.step != "shipping":
            continue
        shipped = event.objects()
        if any(r.event_time >= event.event_time and r.objects() & shipped for r in receipts):
            continue
        flags.append(
            Flag(
                "shipment_without_receipt",
                event.event_id,
                N_("Shipment without a matching receipt"),
                {
                    "shipped": sorted(shipped),
                    "destinations": event.parties("destination"),
                },
            )
        )
    return flags
