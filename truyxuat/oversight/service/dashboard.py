"""The oversight dashboard's figures: what the registry holds, how far OCOP and MOIT products
carry traceability data against the national targets, stamps and scans month by month,
certificates about to expire and what needs action today.

Pure queries, every one through `read_filter`: an authority sees its province (a national one
sees all), the platform admin all, an organization's member only its own organization. Months
and days are Viet Nam's (UTC+7).
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal, read_filter
from truyxuat.errors import N_, invalid
from truyxuat.oversight.models import Alert, AlertState, Violation, ViolationState
from truyxuat.oversight.service.dashboard_coverage import (
    PRODUCER_KINDS,
    MoitGroupCoverage,
    OcopCoverage,
    OrganizationCoverage,
    moit_coverage,
    ocop_coverage,
    organization_coverage,
)
from truyxuat.registry.models import (
    AdminUnit,
    Certification,
    CodeStatus,
    Facility,
    GrowingArea,
    Organization,
    OrgStatus,
    PackingHouse,
    Product,
)
from truyxuat.registry.schemas.certifications import VIETNAM_TZ, vietnam_today
from truyxuat.resolver.models import Scan
from truyxuat.stamps.models import Stamp, StampRun

MONTHS = 12
EXPIRING_DAYS = 60
TOP_PRODUCTS = 10


class Scope(BaseModel):
    """Whose data the figures cover."""

    kind: str = Field(description="platform, national, province or organization")
    province_codes: list[str] = []
    org_ids: list[uuid.UUID] = []
    label: str


class RegistryFigure(BaseModel):
    """Counts of one kind of registry record by status, now and registered month by month."""

    kind: str = Field(description="organizations, products, growing_areas or packing_houses")
    total: int
    by_status: dict[str, int]
    monthly: dict[str, list[int]] = Field(
        description="Per status, records registered (created) in each month of `months`"
    )
    hectares: float | None = Field(None, description="Total declared area (growing areas)")
    hectares_by_status: dict[str, float] = {}


class StampFlow(BaseModel):
    """Stamps ordered, activated and scanned in each month of `months`."""

    ordered: list[int]
    activated: list[int]
    scanned: list[int]


class ProvinceScans(BaseModel):
    """Scans in the window counted by the producer's province and by where the scan was."""

    province_code: str | None
    name: str
    by_producer: int
    by_location: int


class ProductScans(BaseModel):
    """Scans of one product in the window."""

    gtin: str
    name: str
    scans: int


class ExpiringCertificate(BaseModel):
    """A certificate that expires within the next 60 days."""

    id: uuid.UUID
    scheme: str
    number: str
    org_name: str
    valid_to: date
    days_left: int
    suspended: bool
    url: str


class Actions(BaseModel):
    """What needs action today."""

    open_alerts: int
    open_violations: int
    overdue_violations: int
    alerts_url: str = "/oversight/alerts"
    inspections_url: str = "/oversight/inspections"


class Dashboard(BaseModel):
    """Every figure of the oversight dashboard, as of one day in Viet Nam."""

    scope: Scope
    as_of: date
    months: list[str] = Field(description="The 12 months of the trends, oldest first (YYYY-MM)")
    registry: list[RegistryFigure]
    ocop: OcopCoverage
    organizations_coverage: OrganizationCoverage
    moit: list[MoitGroupCoverage]
    stamps: StampFlow
    scans_total: int
    scans_by_province: list[ProvinceScans]
    scans_by_product: list[ProductScans]
    scan_mapping: str
    expiring_certificates: list[ExpiringCertificate]
    actions: Actions


SCAN_MAPPING = N_(
    "Scans are counted by the province of the product's producer; where the consumer shared a "
    "coarse location, also by the province of the nearest registered place (facility or "
    "growing area)."
)


def month_start(year: int, month: int) -> datetime:
    """The first instant of a month in Viet Nam, as UTC."""
    return datetime.combine(date(year, month, 1), time(), VIETNAM_TZ).astimezone(UTC)


def month_window(as_of: date, months: int = MONTHS) -> tuple[list[str], list[datetime]]:
    """The labels of the `months` months ending with `as_of`'s, and their months+1 boundaries."""
    index = as_of.year * 12 + as_of.month - 1
    starts = [divmod(i, 12) for i in range(index - months + 1, index + 2)]
    labels = [f"{y:04d}-{m + 1:02d}" for y, m in starts[:-1]]
    return labels, [month_start(y, m + 1) for y, m in starts]


def _monthly(
    db: Session,
    column: Any,
    bounds: Sequence[datetime],
    *where: ColumnElement[bool],
    weight: Any = 1,
    group: Any = None,
) -> dict[Any, list[int]]:
    """Counts (or sums `weight`) of rows per month of `bounds`, in one query, per `group`."""
    sums = [
        func.coalesce(func.sum(case(((column >= lo) & (column < hi), weight), else_=0)), 0)
        for lo, hi in itertools.pairwise(bounds)
    ]
    columns = [group, *sums] if group is not None else sums
    query = select(*columns).where(column >= bounds[0], column < bounds[-1], *where)
    if group is not None:
        query = query.group_by(group)
    out: dict[Any, list[int]] = {}
    for row in db.execute(query):
        key, values = (row[0], row[1:]) if group is not None else (None, row)
        out[key] = [int(v or 0) for v in values]
    return out


def narrowed_to_province(db: Session, principal: Principal, province: str | None) -> Principal:
    """The caller's view of one province it oversees (a ministry or the platform drilling in).

    The narrowed principal holds only an inspector grant there, in no organization, so
    `read_filter` keeps exactly that province's rows.
    """
    if not province:
        return principal
    known = db.scalar(
        select(AdminUnit.code).where(AdminUnit.code == province, AdminUnit.level == "province")
    )
    if known is None:
        raise invalid("province", N_("No such province"))
    if not (principal.is_platform_admin or principal.oversees(province)):
        raise invalid("province", N_("You do not oversee this province"))
    return Principal(
        label=principal.label,
        grants=(Grant(uuid.UUID(int=0), Role.inspector, province),),
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        locale=principal.locale,
    )


def province_choices(db: Session, principal: Principal) -> list[tuple[str, str]]:
    """The provinces the caller may drill into: all for a national view, else none."""
    if not (principal.is_platform_admin or None in principal.jurisdictions()):
        return []
    rows = db.execute(
        select(AdminUnit.code, AdminUnit.name)
        .where(AdminUnit.level == "province")
        .order_by(AdminUnit.name)
    )
    return [(code, name) for code, name in rows]


def describe_scope(db: Session, principal: Principal) -> Scope:
    """Says whose data the caller's dashboard covers (mirrors `read_filter`)."""
    if principal.is_platform_admin:
        return Scope(kind="platform", label=N_("All organizations (platform)"))
    zones = principal.jurisdictions()
    if None in zones:
        return Scope(kind="national", label=N_("Whole country"))
    provinces = sorted(z for z in zones if z is not None)
    if provinces:
        names = db.scalars(select(AdminUnit.name).where(AdminUnit.code.in_(provinces)))
        return Scope(kind="province", province_codes=provinces, label=", ".join(names))
    members = sorted(principal.member_org_ids())
    names = db.scalars(
        select(Organization.name).where(Organization.id.in_(members)).order_by(Organization.name)
    )
    return Scope(kind="organization", org_ids=members, label=", ".join(names))


def _status_rows(
    db: Session, model: Any, status: Any, bounds: Sequence[datetime], cutoff: datetime, *where: Any
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Counts by status of the records created before `cutoff`, and per month of the window."""
    counts = {
        str(key): int(n)
        for key, n in db.execute(
            select(status, func.count()).where(model.created_at < cutoff, *where).group_by(status)
        )
    }
    monthly = _monthly(db, model.created_at, bounds, *where, group=status)
    return counts, {str(key): values for key, values in monthly.items()}


def registry_figures(
    db: Session, principal: Principal, bounds: Sequence[datetime]
) -> list[RegistryFigure]:
    """Organizations, products, growing areas (with hectares) and packing houses by status."""
    cutoff = bounds[-1]
    figures: list[RegistryFigure] = []
    org_where = (
        read_filter(principal, Organization.id, (Organization.province_code,)),
        Organization.kind.in_(PRODUCER_KINDS),
    )
    specs: list[tuple[str, Any, Any, tuple[Any, ...], list[str]]] = [
        ("organizations", Organization, Organization.status, org_where, list(OrgStatus)),
        (
            "products",
            Product,
            case((Product.is_active, "active"), else_="inactive"),
            (read_filter(principal, Product.org_id, (Product.origin_province_code,)),),
            ["active", "inactive"],
        ),
        (
            "growing_areas",
            GrowingArea,
            GrowingArea.status,
            (read_filter(principal, GrowingArea.org_id, (GrowingArea.province_code,)),),
            list(CodeStatus),
        ),
        (
            "packing_houses",
            PackingHouse,
            PackingHouse.status,
            (read_filter(principal, PackingHouse.org_id, (PackingHouse.province_code,)),),
            list(CodeStatus),
        ),
    ]
    for kind, model, status, where, statuses in specs:
        counts, monthly = _status_rows(db, model, status, bounds, cutoff, *where)
        empty = [0] * (len(bounds) - 1)
        figure = RegistryFigure(
            kind=kind,
            total=sum(counts.values()),
            by_status={str(s): counts.get(str(s), 0) for s in statuses},
            monthly={str(s): monthly.get(str(s), empty) for s in statuses},
        )
        if model is GrowingArea:
            hectares = {
                str(key): round(float(total or 0), 2)
                for key, total in db.execute(
                    select(GrowingArea.status, func.sum(GrowingArea.area_ha))
                    .where(GrowingArea.created_at < cutoff, *where)
                    .group_by(GrowingArea.status)
                )
            }
            figure.hectares = round(sum(hectares.values()), 2)
            figure.hectares_by_status = {str(s): hectares.get(str(s), 0.0) for s in statuses}
        figures.append(figure)
    return figures


def _scan_scope(principal: Principal) -> ColumnElement[bool]:
    """Scans of the products the caller may read (a scan carries only the GTIN it resolved)."""
    return Scan.gtin.in_(
        select(Product.gtin).where(
            read_filter(principal, Product.org_id, (Product.origin_province_code,))
        )
    )


def stamp_flow(db: Session, principal: Principal, bounds: Sequence[datetime]) -> StampFlow:
    """Stamps ordered (print runs), activated and scanned in each month."""
    empty = [0] * (len(bounds) - 1)
    ordered = _monthly(
        db,
        StampRun.created_at,
        bounds,
        read_filter(principal, StampRun.org_id),
        weight=StampRun.count,
    )
    activated = _monthly(db, Stamp.activated_at, bounds, read_filter(principal, Stamp.org_id))
    scanned = _monthly(db, Scan.scanned_at, bounds, _scan_scope(principal))
    return StampFlow(
        ordered=ordered.get(None, empty),
        activated=activated.get(None, empty),
        scanned=scanned.get(None, empty),
    )


def _places(db: Session) -> list[tuple[float, float, str]]:
    """Registered places with coordinates and their province, for locating scans.

    Only (lat, lon, province) leave this function, never whose place it is.
    """
    places = [
        (float(lat or 0), float(lon or 0), str(code))
        for lat, lon, code in db.execute(
            select(Facility.latitude, Facility.longitude, Facility.province_code).where(
                Facility.latitude.is_not(None),
                Facility.longitude.is_not(None),
                Facility.province_code.is_not(None),
            )
        )
    ]
    places += [
        (float(lat), float(lon), str(code))
        for lat, lon, code in db.execute(
            select(GrowingArea.centroid_lat, GrowingArea.centroid_lon, GrowingArea.province_code)
        )
    ]
    return places


def nearest_province(
    lat: float, lon: float, places: Sequence[tuple[float, float, str]]
) -> str | None:
    """The province of the registered place nearest to a point (equirectangular distance)."""
    import math

    best: tuple[float, str] | None = None
    scale = math.cos(math.radians(lat))
    for plat, plon, code in places:
        distance = (plat - lat) ** 2 + ((plon - lon) * scale) ** 2
        if best is None or distance < best[0]:
            best = (distance, code)
    return best[1] if best else None


def scans_by_place(
    db: Session, principal: Principal, start: datetime, end: datetime, locale: str
) -> tuple[int, list[ProvinceScans], list[ProductScans]]:
    """Scans between two instants by producer province, by scan location and by product."""
    scope = _scan_scope(principal)
    window = (Scan.scanned_at >= start, Scan.scanned_at < end, scope)
    total = int(db.scalar(select(func.count()).select_from(Scan).where(*window)) or 0)
    by_producer = {
        code: int(n)
        for code, n in db.execute(
            select(Organization.province_code, func.count(Scan.id))
            .select_from(Scan)
            .join(Product, Product.gtin == Scan.gtin)
            .join(Organization, Organization.id == Product.org_id)
            .where(*window)
            .group_by(Organization.province_code)
        )
    }
    located = db.execute(
        select(Scan.latitude, Scan.longitude, func.count())
        .where(*window, Scan.latitude.is_not(None), Scan.longitude.is_not(None))
        .group_by(Scan.latitude, Scan.longitude)
    ).all()
    by_location: dict[str | None, int] = defaultdict(int)
    if located:
        places = _places(db)
        for lat, lon, n in located:
            by_location[nearest_province(float(lat or 0), float(lon or 0), places)] += int(n)
    codes = {c for c in by_producer} | {c for c in by_location if c is not None}
    names: dict[str, str] = {
        code: name
        for code, name in db.execute(
            select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(codes))
        )
    }
    provinces = [
        ProvinceScans(
            province_code=code,
            name=names.get(code or "", "—"),
            by_producer=by_producer.get(code, 0),
            by_location=by_location.get(code, 0),
        )
        for code in codes
    ]
    provinces.sort(key=lambda p: (-(p.by_producer + p.by_location), p.name))
    top = db.execute(
        select(Product.gtin, Product.names, func.count(Scan.id).label("n"))
        .select_from(Scan)
        .join(Product, Product.gtin == Scan.gtin)
        .where(*window)
        .group_by(Product.gtin, Product.names)
        .order_by(func.count(Scan.id).desc(), Product.gtin)
        .limit(TOP_PRODUCTS)
    ).all()
    products = [
        ProductScans(gtin=gtin, name=_product_name(names_, locale), scans=int(n))
        for gtin, names_, n in top
    ]
    return total, provinces, products


def _product_name(names: dict[str, Any] | None, locale: str) -> str:
    """A product's name in the reader's language, else Vietnamese, else any."""
    names = names or {}
    return str(names.get(locale) or names.get("vi") or next(iter(names.values()), ""))


def expiring_certificates(
    db: Session, principal: Principal, today: date, days: int = EXPIRING_DAYS
) -> list[ExpiringCertificate]:
    """Live certificates whose validity ends within `days` days, soonest first."""
    rows = db.execute(
        select(Certification, Organization.name)
        .join(Organization, Organization.id == Certification.org_id)
        .where(
            read_filter(principal, Certification.org_id, ()),
            Certification.revoked_at.is_(None),
            Certification.valid_to >= today,
            Certification.valid_to <= today + timedelta(days=days),
        )
        .order_by(Certification.valid_to, Certification.number)
    ).all()
    return [
        ExpiringCertificate(
            id=cert.id,
            scheme=cert.scheme.value,
            number=cert.number,
            org_name=org_name,
            valid_to=cert.valid_to,
            days_left=(cert.valid_to - today).days,
            suspended=cert.suspended_at is not None,
            url=f"/registry/certifications/{cert.id}",
        )
        for cert, org_name in rows
    ]


def actions(db: Session, principal: Principal, today: date) -> Actions:
    """Open alerts, open violations and the open ones past their deadline."""
    alerts = db.scalar(
        select(func.count())
        .select_from(Alert)
        .where(
            Alert.state == AlertState.open,
            read_filter(principal, Alert.org_id, (Alert.province_code,)),
        )
    )
    visible = (
        Violation.state == ViolationState.open,
        read_filter(principal, Violation.org_id, (Violation.province_code,)),
    )
    open_count = db.scalar(select(func.count()).select_from(Violation).where(*visible))
    overdue = db.scalar(
        select(func.count())
        .select_from(Violation)
        .where(*visible, Violation.deadline.is_not(None), Violation.deadline < today)
    )
    return Actions(
        open_alerts=int(alerts or 0),
        open_violations=int(open_count or 0),
        overdue_violations=int(overdue or 0),
    )


def month_end(month: str) -> date:
    """The last day of a month given as YYYY-MM (raises ValueError when malformed)."""
    year_text, _, month_text = month.partition("-")
    if len(year_text) != 4 or len(month_text) != 2 or not (year_text + month_text).isdigit():
        raise ValueError(month)
    first = date(int(year_text), int(month_text), 1)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def last_full_month(today: date | None = None) -> str:
    """The month before today's in Viet Nam, as YYYY-MM (the monthly report's default)."""
    day = (today or vietnam_today()).replace(day=1) - timedelta(days=1)
    return f"{day.year:04d}-{day.month:02d}"


def build_dashboard(
    db: Session,
    principal: Principal,
    *,
    as_of: date | None = None,
    locale: str = "vi",
    province: str | None = None,
    with_moit: bool = True,
) -> Dashboard:
    """Every dashboard figure as of a day in Viet Nam (default today), for the caller's scope
    (or one province of it). `with_moit=False` skips the per-product compliance checks (the
    costliest part) when only another chart is wanted."""
    from truyxuat.i18n import gettext

    principal = narrowed_to_province(db, principal, province)
    today = as_of or vietnam_today()
    months, bounds = month_window(today)
    # The window ends with the day itself, not the end of its month, so "now" means now.
    end = min(bounds[-1], datetime.combine(today + timedelta(days=1), time(), VIETNAM_TZ))
    bounds = [*bounds[:-1], end.astimezone(UTC)]
    scope = describe_scope(db, principal)
    scope.label = (
        gettext(locale, scope.label) if scope.kind in ("platform", "national") else scope.label
    )
    total, provinces, products = scans_by_place(db, principal, bounds[0], bounds[-1], locale)
    return Dashboard(
        scope=scope,
        as_of=today,
        months=months,
        registry=registry_figures(db, principal, bounds),
        ocop=ocop_coverage(db, principal, bounds, today, locale),
        organizations_coverage=organization_coverage(db, principal, bounds[-1], locale),
        moit=moit_coverage(db, principal, locale) if with_moit else [],
        stamps=stamp_flow(db, principal, bounds),
        scans_total=total,
        scans_by_province=provinces,
        scans_by_product=products,
        scan_mapping=gettext(locale, SCAN_MAPPING),
        expiring_certificates=expiring_certificates(db, principal, today),
        actions=actions(db, principal, today),
    )
