"""The dashboard's coverage figures: how many OCOP products, organizations and products of
MOIT's mandatory groups carry traceability data, against the national targets.

What "traceability data" means is defined once here (TRACEABILITY_DATA) and documented in
docs/oversight.md; every figure is measured as the producer itself sees its data, so all
viewers get the same answer and no other tenant's data is used.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal, read_filter
from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc
from truyxuat.errors import N_, NotFound
from truyxuat.i18n import gettext
from truyxuat.registry.models import (
    GrowingArea,
    MoitGroup,
    Organization,
    OrgKind,
    PackingHouse,
    Product,
)
from truyxuat.reports.compliance import check_product
from truyxuat.stamps.models import Stamp


class Target(BaseModel):
    """A national coverage target: `percent` of the products by the end of `year`."""

    year: int | None = Field(description="The year it is due; None when no year is set")
    percent: float
    label: str = Field(description="The target in the reader's language")
    source: str = Field(description="Where the target is set")


# The targets of the national traceability programme (Decision 100/QĐ-TTg, 2019, and its
# follow-up): half of the key products traceable by 2025, every OCOP product by 2030.
TARGETS: tuple[tuple[int | None, float, str, str], ...] = (
    (2025, 50.0, N_("50% of key products traceable by 2025"), "Quyết định 100/QĐ-TTg"),
    (
        2030,
        100.0,
        N_("100% of OCOP products with traceability data by 2030"),
        "Quyết định 100/QĐ-TTg",
    ),
)
# The programme also aims at every organization producing key, OCOP and export goods; it sets
# no year for that one.
ORGANIZATION_TARGET = (
    None,
    100.0,
    N_("100% of organizations producing key, OCOP and export goods"),
    "Quyết định 100/QĐ-TTg",
)
PRODUCER_KINDS = (OrgKind.enterprise, OrgKind.cooperative, OrgKind.household)
TRACEABILITY_DATA = N_(
    "An OCOP product has traceability data when its producer captured at least one EPCIS event "
    "naming the product (its GTIN, a lot or a serialized item, as a GS1 Digital Link under "
    "/01/{gtin}) or activated at least one stamp of it."
)


class StarCoverage(BaseModel):
    """OCOP coverage of one star rating."""

    stars: int
    products: int
    with_data: int


class OcopCoverage(BaseModel):
    """OCOP products with traceability data against all OCOP products."""

    products: int
    with_data: int
    percent: float | None
    by_stars: list[StarCoverage]
    monthly_percent: list[float | None] = Field(
        description="Coverage at the end of each month of `months` (products registered by then)"
    )
    target: Target
    targets: list[Target]
    definition: str


class ProductCheck(BaseModel):
    """One MOIT-group product and whether it carries the Circular 02/2024 minimum data."""

    gtin: str
    name: str
    org_name: str
    compliant: bool
    missing: list[str]


class MoitGroupCoverage(BaseModel):
    """Coverage of one of MOIT's mandatory product groups."""

    group: str
    label: str
    products: int
    with_data: int
    percent: float | None
    items: list[ProductCheck]


MOIT_LABELS = {
    MoitGroup.beer: N_("Beer"),
    MoitGroup.alcohol: N_("Alcohol"),
    MoitGroup.soft_drinks: N_("Soft drinks"),
    MoitGroup.processed_milk: N_("Processed milk"),
    MoitGroup.vegetable_oil: N_("Vegetable oil"),
    MoitGroup.flour_starch: N_("Flour and starch"),
    MoitGroup.confectionery: N_("Confectionery"),
    MoitGroup.food_packaging: N_("Food packaging"),
}


# Where a GTIN starts (1-based) in a Digital Link identifier https://id.gs1.org/01/{gtin}[/...].
_GTIN_AT = len(f"{DIGITAL_LINK_BASE}/01/") + 1


def first_data_times(db: Session, products: Sequence[Product]) -> dict[uuid.UUID, datetime]:
    """When each product first had traceability data (see TRACEABILITY_DATA); products without
    any are absent. Two grouped queries for all products, not two per product."""
    wanted = {(p.org_id, p.gtin): p.id for p in products}
    if not wanted:
        return {}
    orgs = sorted({p.org_id for p in products})
    gtin = func.substr(EpcisEventEpc.epc, _GTIN_AT, 14)
    after = func.substr(EpcisEventEpc.epc, _GTIN_AT + 14, 1)
    events = db.execute(
        select(EpcisEventEpc.org_id, gtin, func.min(EpcisEvent.record_time))
        .join(
            EpcisEvent,
            (EpcisEventEpc.org_id == EpcisEvent.org_id)
            & (EpcisEventEpc.event_row_id == EpcisEvent.id),
        )
        .where(
            EpcisEventEpc.org_id.in_(orgs),
            EpcisEventEpc.epc.startswith(f"{DIGITAL_LINK_BASE}/01/"),
            # The class itself, or a lot or serial under it; never a longer key.
            or_(after == "", after == "/"),
        )
        .group_by(EpcisEventEpc.org_id, gtin)
    )
    stamps = db.execute(
        select(Stamp.org_id, Stamp.gtin, func.min(Stamp.activated_at))
        .where(Stamp.org_id.in_(orgs), Stamp.activated_at.is_not(None))
        .group_by(Stamp.org_id, Stamp.gtin)
    )
    firsts: dict[uuid.UUID, datetime] = {}
    for org_id, code, at in [*events, *stamps]:
        product_id = wanted.get((org_id, code))
        if product_id is None or at is None:
            continue
        at = _aware(at)
        if product_id not in firsts or at < firsts[product_id]:
            firsts[product_id] = at
    return firsts


def _aware(value: datetime) -> datetime:
    """A UTC-aware instant (aggregates may come back naive on SQLite)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _percent(part: int, whole: int) -> float | None:
    """A percentage with one decimal, None when there is nothing to measure."""
    return round(100.0 * part / whole, 1) if whole else None


def targets(locale: str) -> list[Target]:
    """The national targets in the reader's language."""
    return [_target(locale, *spec) for spec in TARGETS]


def _target(locale: str, year: int | None, percent: float, label: str, source: str) -> Target:
    """One target in the reader's language."""
    return Target(year=year, percent=percent, label=gettext(locale, label), source=source)


def current_target(locale: str, on: date) -> Target:
    """The target that applies now: the first one not yet past, else the last one."""
    every = targets(locale)
    return next((t for t in every if t.year is not None and t.year >= on.year), every[-1])


def ocop_coverage(
    db: Session, principal: Principal, bounds: Sequence[datetime], as_of: date, locale: str
) -> OcopCoverage:
    """OCOP products with traceability data against all OCOP products, now and by month."""
    products = list(
        db.scalars(
            select(Product)
            .where(
                Product.ocop_stars.is_not(None),
                Product.created_at < bounds[-1],
                read_filter(principal, Product.org_id, (Product.origin_province_code,)),
            )
            .order_by(Product.gtin)
        )
    )
    cutoff = bounds[-1]
    times = first_data_times(db, products)
    firsts = [(p, times.get(p.id)) for p in products]
    covered = [p for p, at in firsts if at is not None and at < cutoff]
    stars: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for product, at in firsts:
        stars[int(product.ocop_stars or 0)][0] += 1
        stars[int(product.ocop_stars or 0)][1] += int(at is not None and at < cutoff)
    monthly: list[float | None] = []
    for end in bounds[1:]:
        existing = [(p, at) for p, at in firsts if _aware(p.created_at) < end]
        done = sum(1 for _, at in existing if at is not None and at < end)
        monthly.append(_percent(done, len(existing)))
    return OcopCoverage(
        products=len(products),
        with_data=len(covered),
        percent=_percent(len(covered), len(products)),
        by_stars=[
            StarCoverage(stars=s, products=n, with_data=d) for s, (n, d) in sorted(stars.items())
        ],
        monthly_percent=monthly,
        target=current_target(locale, as_of),
        targets=targets(locale),
        definition=gettext(locale, TRACEABILITY_DATA),
    )


def _owner_principal(product: Product, province: str | None) -> Principal:
    """The producer's own view of its product, so every viewer gets the same compliance answer."""
    return Principal(
        label="oversight:dashboard",
        grants=(Grant(product.org_id, Role.org_staff, province),),
        active_org_id=product.org_id,
    )


def moit_coverage(db: Session, principal: Principal, locale: str) -> list[MoitGroupCoverage]:
    """Each MOIT mandatory group: its products and whether they carry the minimum data."""
    rows = db.execute(
        select(Product, Organization.name, Organization.province_code)
        .join(Organization, Organization.id == Product.org_id)
        .where(
            Product.moit_group.is_not(None),
            Product.is_active,
            read_filter(principal, Product.org_id, (Product.origin_province_code,)),
        )
        .order_by(Product.moit_group, Product.gtin)
    ).all()
    items: dict[MoitGroup, list[ProductCheck]] = defaultdict(list)
    for product, org_name, province in rows:
        try:
            report = check_product(db, _owner_principal(product, province), product.gtin)
        except NotFound:  # deleted meanwhile: nothing to report on
            continue
        assert product.moit_group is not None
        items[product.moit_group].append(
            ProductCheck(
                gtin=product.gtin,
                name=report.product,
                org_name=org_name,
                compliant=not report.missing,
                missing=report.missing,
            )
        )
    out: list[MoitGroupCoverage] = []
    for group in MoitGroup:
        checks = items.get(group, [])
        done = sum(1 for c in checks if c.compliant)
        out.append(
            MoitGroupCoverage(
                group=group.value,
                label=gettext(locale, MOIT_LABELS[group]),
                products=len(checks),
                with_data=done,
                percent=_percent(done, len(checks)),
                items=checks,
            )
        )
    return out


class OrganizationCoverage(BaseModel):
    """Organizations producing key, OCOP or export goods that have traceability data."""

    organizations: int = Field(description="Producers of key (MOIT-group), OCOP or export goods")
    with_data: int
    percent: float | None
    target: Target
    definition: str


ORGANIZATION_DATA = N_(
    "Counted: enterprises, cooperatives and households that own an OCOP product, a product of "
    "a MOIT mandatory group, or a growing area or packing house with export markets. With "
    "traceability data: the organization captured at least one EPCIS event or activated at "
    "least one stamp."
)


def organization_coverage(
    db: Session, principal: Principal, cutoff: datetime, locale: str
) -> OrganizationCoverage:
    """Producers of key, OCOP or export goods with traceability data, against all of them."""
    org = Organization.id
    produces = or_(
        exists().where(
            Product.org_id == org,
            or_(Product.ocop_stars.is_not(None), Product.moit_group.is_not(None)),
        ),
        exists().where(GrowingArea.org_id == org, GrowingArea.export_markets != ""),
        exists().where(PackingHouse.org_id == org, PackingHouse.export_markets != ""),
    )
    has_data = or_(
        exists().where(EpcisEvent.org_id == org, EpcisEvent.record_time < cutoff),
        exists().where(Stamp.org_id == org, Stamp.activated_at < cutoff),
    )
    scope = (
        read_filter(principal, Organization.id, (Organization.province_code,)),
        Organization.kind.in_(PRODUCER_KINDS),
        Organization.created_at < cutoff,
        produces,
    )
    total = int(db.scalar(select(func.count()).select_from(Organization).where(*scope)) or 0)
    done = int(
        db.scalar(select(func.count()).select_from(Organization).where(*scope, has_data)) or 0
    )
    return OrganizationCoverage(
        organizations=total,
        with_data=done,
        percent=_percent(done, total),
        target=_target(locale, *ORGANIZATION_TARGET),
        definition=gettext(locale, ORGANIZATION_DATA),
    )
