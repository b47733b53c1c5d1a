"""Demand series from the events and scans the caller may read, their forecasts, and a
supply-risk score per product.

"Demand" for a product (GTIN) is what was **shipped** of it (EPCIS bizStep `shipping`),
counted in the province of the destination (the GLN in the destinationList, as a facility or
organization of the registry), else in the shipper's province. Two more signals can be
forecast the same way: what was **received** (bizStep `receiving`, in the receiver's
province) and consumer **scans** of its QR codes (nationwide: a scan records a point, not a
province). Quantities are added in the unit kind most events use (kg, litres or pieces,
converted from UN/CEFACT codes), so a series never adds kilograms to boxes.

"Supply" is what was made of the GTIN: ObjectEvents ADD (commissioning, e.g. a harvest) and
TransformationEvent outputs of the GTIN when it is not also an input (packing the same lot).
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from truyxuat.auth.principal import Principal, read_filter
from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc
from truyxuat.epcis.sharing import event_read_filter, party_gln
from truyxuat.errors import N_, NotFound, invalid
from truyxuat.oversight import charts, forecasting
from truyxuat.oversight.models import Alert, AlertSeverity, AlertState
from truyxuat.recall.models import Recall, RecallItem, RecallSeverity, RecallState
from truyxuat.registry.models import AdminUnit, Facility, Organization, Product
from truyxuat.resolver.models import Scan
from truyxuat.trace.graph import canonical, gtin_lot, gtin_serial, short_step

# History used for a forecast: three years is enough for a yearly season and keeps a fit fast.
HISTORY_WEEKS = 156
BACKTEST_HORIZON = 4
BACKTEST_ORIGINS = 8
# The risk score's parts and their ceilings (they add up to 100).
ALERT_POINTS = {AlertSeverity.critical: 20, AlertSeverity.warning: 10, AlertSeverity.info: 3}
ALERT_MAX = 40
OPEN_RECALL_POINTS = {
    RecallSeverity.class_i: 40,
    RecallSeverity.class_ii: 25,
    RecallSeverity.class_iii: 15,
}
CLOSED_RECALL_POINTS = 5
CLOSED_RECALL_DAYS = 365
RECALL_MAX = 40
GAP_MAX = 20
GAP_WEEKS = 4
SUPPLY_WEEKS = 13
RISK_HISTORY_WEEKS = 26
RISK_PRODUCTS = 500

# UN/CEFACT Recommendation 20 codes a series can add up: unit kind and factor to kg, L, pieces.
UNITS: dict[str, tuple[str, float]] = {
    "KGM": ("kg", 1.0),
    "GRM": ("kg", 0.001),
    "TNE": ("kg", 1000.0),
    "LBR": ("kg", 0.45359237),
    "LTR": ("L", 1.0),
    "MLT": ("L", 0.001),
    "MTQ": ("L", 1000.0),
    "": ("pcs", 1.0),
    "EA": ("pcs", 1.0),
    "H87": ("pcs", 1.0),
}


class Signal(enum.StrEnum):
    """Which history a forecast is made from."""

    shipping = "shipping"
    receiving = "receiving"
    scans = "scans"


@dataclass(frozen=True)
class Movement:
    """One quantity of one GTIN in one event: demand (shipped/received) or supply (made)."""

    kind: str  # "shipping", "receiving" or "supply"
    gtin: str
    at: datetime
    unit: str
    amount: float
    province: str | None


@dataclass
class DemandSeries:
    """Weekly totals of one signal for one product, in one province or all."""

    gtin: str
    signal: Signal
    province: str | None
    unit: str
    weeks: list[date]
    values: list[float]
    provinces: list[str] = field(default_factory=list)


@dataclass
class ForecastView:
    """A product's history, its forecast with intervals, and the backtest of the model."""

    product: Product | None
    series: DemandSeries
    forecast: forecasting.Forecast
    future: list[date]
    backtest: forecasting.Backtest | None


@dataclass
class Risk:
    """A product's supply-risk score and the parts it is made of (see `risk_scores`)."""

    product: Product
    alerts: int
    alert_points: float
    open_recalls: int
    closed_recalls: int
    recall_points: float
    demand: float
    supply: float | None
    gap_points: float
    unit: str

    @property
    def score(self) -> float:
        """The total, 0 to 100."""
        return round(self.alert_points + self.recall_points + self.gap_points, 1)


def product_name(product: Product | None, locale: str) -> str:
    """The product's name in the reader's language, else in Vietnamese."""
    if product is None:
        return ""
    names = product.names or {}
    return str(names.get(locale) or names.get("vi") or next(iter(names.values()), ""))


# --- reading the events ------------------------------------------------------------------


def _product_filter(principal: Principal) -> Any:
    """Products the caller may read: its own, and those of its jurisdiction."""
    return read_filter(principal, Product.org_id, (Product.origin_province_code,))


def _gtin_hits(db: Session, principal: Principal, gtin: str) -> Any:
    """The (org_id, event row id) of readable events naming the GTIN."""
    base = f"{DIGITAL_LINK_BASE}/01/{gtin}"
    return (
        select(EpcisEventEpc.org_id, EpcisEventEpc.event_row_id)
        .where(
            event_read_filter(db, principal, EpcisEventEpc.org_id, EpcisEventEpc.event_row_id),
            or_(EpcisEventEpc.epc == base, EpcisEventEpc.epc.like(base + "/%")),
        )
        .distinct()
        .subquery()
    )


def _events(
    db: Session, principal: Principal, gtin: str | None, since: datetime
) -> list[EpcisEvent]:
    """Readable events naming the GTIN (any, when None) since a time, less those declared
    erroneous."""
    declared = aliased(EpcisEvent)
    statement = select(EpcisEvent).where(
        EpcisEvent.event_time >= since,
        EpcisEvent.error_declared.is_(False),
        not_(
            select(declared.id)
            .where(
                declared.org_id == EpcisEvent.org_id,
                declared.event_id == EpcisEvent.event_id,
                declared.error_declared.is_(True),
            )
            .exists()
        ),
    )
    if gtin is None:
        statement = statement.where(event_read_filter(db, principal))
    else:
        hits = _gtin_hits(db, principal, gtin)
        statement = statement.join(
            hits, and_(EpcisEvent.org_id == hits.c.org_id, EpcisEvent.id == hits.c.event_row_id)
        )
    return list(db.scalars(statement.order_by(EpcisEvent.event_time)))


def _elements(
    event: Mapping[str, Any], quantity_lists: Iterable[str], epc_lists: Iterable[str]
) -> list[tuple[str, str, float]]:
    """(GTIN, unit kind, amount) of each element of the lists that names a GTIN."""
    found: list[tuple[str, str, float]] = []
    for name in quantity_lists:
        for element in event.get(name) or []:
            if not isinstance(element, Mapping) or not isinstance(element.get("epcClass"), str):
                continue
            gtin, _ = gtin_lot(canonical(element["epcClass"]))
            unit = UNITS.get(str(element.get("uom") or ""))
            if gtin is None or unit is None:
                continue
            try:
                amount = float(element.get("quantity", 1)) * unit[1]
            except (TypeError, ValueError):
                continue
            found.append((gtin, unit[0], amount))
    for name in epc_lists:
        for epc in event.get(name) or []:
            if isinstance(epc, str):
                gtin, _ = gtin_serial(canonical(epc))
                if gtin is not None:
                    found.append((gtin, "pcs", 1.0))
    return found


def _destination_glns(event: Mapping[str, Any]) -> list[str]:
    """The GLNs of an event's destinationList, in order."""
    glns: list[str] = []
    for item in event.get("destinationList") or []:
        if isinstance(item, Mapping) and isinstance(item.get("destination"), str):
            gln = party_gln(item["destination"])
            if gln:
                glns.append(gln)
    return glns


def _location_gln(event: Mapping[str, Any]) -> str | None:
    """The GLN of an event's bizLocation, if it names one."""
    location = event.get("bizLocation")
    value = location.get("id") if isinstance(location, Mapping) else None
    return party_gln(value) if isinstance(value, str) else None


def movements(db: Session, events: list[EpcisEvent]) -> list[Movement]:
    """What each event shipped, received or made of each GTIN, with the province it counts in."""
    glns: set[str] = set()
    for row in events:
        glns.update(_destination_glns(row.event))
        if (gln := _location_gln(row.event)) is not None:
            glns.add(gln)
    province_of_gln: dict[str, str | None] = {}
    if glns:
        for gln, province in db.execute(
            select(Organization.gln, Organization.province_code).where(Organization.gln.in_(glns))
        ):
            province_of_gln[str(gln)] = province
        for gln, province in db.execute(
            select(Facility.gln, Facility.province_code).where(Facility.gln.in_(glns))
        ):
            province_of_gln[str(gln)] = province
    org_ids = {row.org_id for row in events}
    province_of_org = (
        dict(
            db.execute(
                select(Organization.id, Organization.province_code).where(
                    Organization.id.in_(org_ids)
                )
            ).all()
        )
        if org_ids
        else {}
    )
    found: list[Movement] = []
    for row in events:
        body, step = row.event, short_step(row.biz_step)
        home = province_of_org.get(row.org_id)
        if step in ("shipping", "receiving"):
            places = [province_of_gln.get(g) for g in _destination_glns(body)]
            if step == "receiving" and (gln := _location_gln(body)):
                places.insert(0, province_of_gln.get(gln))
            province = next((p for p in places if p), None) or home
            for gtin, unit, amount in _elements(
                body, ("quantityList", "childQuantityList"), ("epcList", "childEPCs")
            ):
                found.append(Movement(step, gtin, row.event_time, unit, amount, province))
        elif row.event_type == "ObjectEvent" and row.action == "ADD":
            for gtin, unit, amount in _elements(body, ("quantityList",), ("epcList",)):
                found.append(Movement("supply", gtin, row.event_time, unit, amount, home))
        elif row.event_type == "TransformationEvent":
            inputs = {g for g, _, _ in _elements(body, ("inputQuantityList",), ("inputEPCList",))}
            for gtin, unit, amount in _elements(body, ("outputQuantityList",), ("outputEPCList",)):
                if gtin not in inputs:
                    found.append(Movement("supply", gtin, row.event_time, unit, amount, home))
    return found


# --- products and series ------------------------------------------------------------------


def readable_product(db: Session, principal: Principal, gtin: str) -> Product | None:
    """The product with this GTIN if the caller may read it (None when only its events are)."""
    return db.scalar(select(Product).where(Product.gtin == gtin, _product_filter(principal)))


def _last_full_week(today: date | None) -> date:
    """The Monday of the last complete week (the current one is still filling up)."""
    today = today or datetime.now(forecasting.VIETNAM).date()
    return forecasting.week_start(today) - timedelta(weeks=1)


def _window_start(last_week: date, weeks: int) -> datetime:
    """The UTC time the Monday `weeks - 1` weeks before `last_week` starts in Viet Nam."""
    first = last_week - timedelta(weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=forecasting.VIETNAM)
    return start.astimezone(UTC)


def _unit(moves: Iterable[Movement]) -> str:
    """The unit kind most of the movements are in (pieces when there are none)."""
    counts = Counter(m.unit for m in moves)
    return counts.most_common(1)[0][0] if counts else "pcs"


def demand_series(
    db: Session,
    principal: Principal,
    gtin: str,
    *,
    signal: Signal = Signal.shipping,
    province: str | None = None,
    today: date | None = None,
) -> DemandSeries:
    """The weekly history of one signal for a product the caller may see (NotFound if not).

    The series ends with the last complete week and starts with the first week having a
    value, at most `HISTORY_WEEKS` before; weeks without any value are 0.
    """
    product = readable_product(db, principal, gtin)
    last = _last_full_week(today)
    since = _window_start(last, HISTORY_WEEKS)
    end = _window_start(last + timedelta(weeks=1), 1)
    if signal is Signal.scans:
        if product is None:
            raise NotFound()
        times = db.scalars(
            select(Scan.scanned_at).where(
                Scan.gtin == gtin, Scan.scanned_at >= since, Scan.scanned_at < end
            )
        )
        points = [(t, 1.0) for t in times]
        weeks, values = _series(points, last)
        return DemandSeries(gtin, signal, None, "scans", weeks, values)
    events = _events(db, principal, gtin, since)
    if product is None and not events:
        raise NotFound()
    moves = [
        m for m in movements(db, events) if m.gtin == gtin and m.kind == signal.value and m.at < end
    ]
    unit = _unit(moves)
    provinces = sorted({m.province for m in moves if m.province})
    chosen = [m for m in moves if m.unit == unit and (province is None or m.province == province)]
    weeks, values = _series([(m.at, m.amount) for m in chosen], last)
    return DemandSeries(gtin, signal, province, unit, weeks, values, provinces)


def _series(points: list[tuple[datetime, float]], last: date) -> tuple[list[date], list[float]]:
    """Weekly totals from the first week with a value to the last complete week."""
    if not points:
        return [], []
    return forecasting.weekly_series(points, last=last)


def forecast_view(
    db: Session,
    principal: Principal,
    gtin: str,
    *,
    signal: Signal = Signal.shipping,
    province: str | None = None,
    weeks: int = forecasting.DEFAULT_HORIZON,
    today: date | None = None,
) -> ForecastView:
    """A product's history, its forecast `weeks` ahead with intervals, and the backtest."""
    series = demand_series(db, principal, gtin, signal=signal, province=province, today=today)
    result = forecasting.forecast(series.values, weeks)
    test = forecasting.backtest(
        series.values, horizon=BACKTEST_HORIZON, origins=BACKTEST_ORIGINS, spec=result.spec
    )
    last = series.weeks[-1] if series.weeks else _last_full_week(today)
    # The series was readable, so the product's public master data (its name) may be shown
    # even to a trading partner that does not own the product row.
    product = db.scalar(select(Product).where(Product.gtin == gtin))
    return ForecastView(
        product=product,
        series=series,
        forecast=result,
        future=forecasting.future_weeks(last, weeks),
        backtest=test,
    )


def chart_table(
    view: ForecastView,
    history_label: str,
    forecast_label: str,
    band_label: str,
    *,
    joined: bool = False,
) -> tuple[list[str], list[charts.Series], charts.Band]:
    """History and forecast on one week axis: history solid, forecast dashed, the 95 %
    interval as a band (for the chart and its CSV/XLSX table).

    `joined` starts the forecast line at the last week of history so the chart draws one
    continuous line; the tables keep the forecast column to forecast weeks only.
    """
    history, result = view.series, view.forecast
    labels = [w.isoformat() for w in (*history.weeks, *view.future)]
    before: list[float | None] = [None] * len(history.weeks)
    after: list[float | None] = [None] * len(view.future)
    lead = list(before)
    if joined and history.values:
        lead[-1] = history.values[-1]
    series = [
        charts.Series(history_label, [*history.values, *after]),
        charts.Series(forecast_label, [*lead, *result.mean], style="dashed"),
    ]
    band = charts.Band(band_label, [*before, *result.lower[95]], [*before, *result.upper[95]])
    return labels, series, band


def readable_products(
    db: Session, principal: Principal, *, limit: int = RISK_PRODUCTS
) -> list[Product]:
    """The products the caller may read, by GTIN (to choose one to forecast)."""
    return list(
        db.scalars(
            select(Product).where(_product_filter(principal)).order_by(Product.gtin).limit(limit)
        )
    )


# --- supply risk --------------------------------------------------------------------------


def risk_scores(
    db: Session, principal: Principal, *, today: date | None = None, limit: int = 100
) -> list[Risk]:
    """The products the caller may read, ranked by supply-risk score (highest first).

    score = alerts + recalls + forecast gap, where
    - alerts (≤ 40): each open or acknowledged alert about the GTIN, 20 if critical, 10 if
      warning, 3 if info;
    - recalls (≤ 40): the worst open recall reaching the GTIN (class I 40, II 25, III 15),
      plus 5 per recall closed in the last year; drills do not count;
    - forecast gap (≤ 20): 20 × the share of the next 4 weeks' forecast shipments (damped
      trend with fixed parameters, `forecasting.quick_forecast`) that
      4 × the mean weekly supply of the last 13 weeks does not cover (0 when no supply was
      ever recorded in the window: unknown is not scored).
    """
    products = readable_products(db, principal)
    if not products:
        return []
    gtins = [p.gtin for p in products]
    alerts = _alert_points(db, principal, gtins)
    recalls = _recall_points(db, gtins, today)
    last = _last_full_week(today)
    since = _window_start(last, RISK_HISTORY_WEEKS)
    end = _window_start(last + timedelta(weeks=1), 1)
    by_gtin: dict[str, list[Movement]] = defaultdict(list)
    wanted = set(gtins)
    for move in movements(db, _events(db, principal, None, since)):
        if move.gtin in wanted and move.at < end:
            by_gtin[move.gtin].append(move)
    risks: list[Risk] = []
    for product in products:
        count, alert_points = alerts.get(product.gtin, (0, 0.0))
        opened, closed, recall_points = recalls.get(product.gtin, (0, 0, 0.0))
        demand, supply, gap_points, unit = _gap(by_gtin.get(product.gtin, []), last)
        risks.append(
            Risk(
                product=product,
                alerts=count,
                alert_points=alert_points,
                open_recalls=opened,
                closed_recalls=closed,
                recall_points=recall_points,
                demand=demand,
                supply=supply,
                gap_points=gap_points,
                unit=unit,
            )
        )
    risks.sort(key=lambda r: (-r.score, r.product.gtin))
    return risks[:limit]


def _alert_points(
    db: Session, principal: Principal, gtins: list[str]
) -> dict[str, tuple[int, float]]:
    """Open alerts per GTIN, and their severity-weighted points (capped)."""
    rows = db.execute(
        select(Alert.gtin, Alert.severity, func.count())
        .where(
            Alert.gtin.in_(gtins),
            Alert.state.in_((AlertState.open, AlertState.acknowledged)),
            read_filter(principal, Alert.org_id, (Alert.province_code,)),
        )
        .group_by(Alert.gtin, Alert.severity)
    )
    totals: dict[str, tuple[int, float]] = {}
    for gtin, severity, count in rows:
        if gtin is None:
            continue
        seen, points = totals.get(gtin, (0, 0.0))
        totals[gtin] = (seen + count, points + ALERT_POINTS[AlertSeverity(severity)] * count)
    return {g: (c, float(min(ALERT_MAX, p))) for g, (c, p) in totals.items()}


def _recall_points(
    db: Session, gtins: list[str], today: date | None
) -> dict[str, tuple[int, int, float]]:
    """Open and recently closed recalls reaching each GTIN, and their points (capped)."""
    today = today or datetime.now(forecasting.VIETNAM).date()
    recent = _window_start(today, 1) - timedelta(days=CLOSED_RECALL_DAYS)
    rows = db.execute(
        select(RecallItem.gtin, Recall.id, Recall.state, Recall.severity, Recall.closed_at)
        .join(Recall, Recall.id == RecallItem.recall_id)
        .where(RecallItem.gtin.in_(gtins), Recall.drill.is_(False))
        .distinct()
    )
    worst: dict[str, float] = {}
    opened: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    for gtin, _, state, severity, closed_at in rows:
        if gtin is None:
            continue
        if RecallState(state) is RecallState.open:
            opened[gtin] += 1
            worst[gtin] = max(worst.get(gtin, 0.0), OPEN_RECALL_POINTS[RecallSeverity(severity)])
        elif closed_at is None or closed_at >= recent:
            closed[gtin] += 1
    out: dict[str, tuple[int, int, float]] = {}
    for gtin in set(opened) | set(closed):
        points = worst.get(gtin, 0.0) + CLOSED_RECALL_POINTS * closed[gtin]
        out[gtin] = (opened[gtin], closed[gtin], float(min(RECALL_MAX, points)))
    return out


def _gap(moves: list[Movement], last: date) -> tuple[float, float | None, float, str]:
    """Forecast shipments of the next weeks, recent supply, and the gap's points.

    The forecast here is damped-trend smoothing with fixed parameters (no fitting), so the
    ranking of hundreds of products stays fast; the product's own page shows the full model.
    """
    shipped = [m for m in moves if m.kind == "shipping"]
    unit = _unit(shipped)
    shipped = [m for m in shipped if m.unit == unit]
    made = [m for m in moves if m.kind == "supply" and m.unit == unit]
    if not shipped:
        return 0.0, None, 0.0, unit
    first = last - timedelta(weeks=RISK_HISTORY_WEEKS - 1)
    _, values = forecasting.weekly_series(
        [(m.at, m.amount) for m in shipped], first=first, last=last
    )
    demand = float(sum(forecasting.quick_forecast(values, GAP_WEEKS)))
    if not made:
        return demand, None, 0.0, unit
    recent = last - timedelta(weeks=SUPPLY_WEEKS - 1)
    supply_total = sum(m.amount for m in made if forecasting.week_start(m.at) >= recent)
    supply = GAP_WEEKS * supply_total / SUPPLY_WEEKS
    if demand <= 0:
        return demand, supply, 0.0, unit
    share = max(0.0, min(1.0, (demand - supply) / demand))
    return demand, supply, round(GAP_MAX * share, 1), unit


def check_province(db: Session, code: str | None, *, field: str = "province") -> str | None:
    """The province code if it names a province (ValidationFailed otherwise); None passes."""
    if code is None or code == "":
        return None
    found = db.scalar(
        select(AdminUnit.code).where(AdminUnit.code == code, AdminUnit.level == "province")
    )
    if found is None:
        raise invalid(field, N_("Unknown province code {code}"), code=code)
    return found
