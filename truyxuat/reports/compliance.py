"""Vietnamese compliance check: a product's data against the minimum traceability fields of
Circular 02/2024/TT-BKHCN and Decree 37/2026/NĐ-CP (product name, image, producer, stages
with their trace codes, location codes and times, shelf life, standards applied).

Each check says what is missing, in Vietnamese or English, so a producer knows what to add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal, ensure_readable
from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE
from truyxuat.epcis.models import EpcisEvent, EpcisEventEpc
from truyxuat.epcis.sharing import event_read_filter
from truyxuat.errors import N_, NotFound
from truyxuat.i18n import gettext
from truyxuat.registry.models import Certification, CertScope, Organization, Product, ProductImage
from truyxuat.trace.graph import short_step

CHECKS: list[tuple[str, str]] = [
    ("name", N_("Product name in Vietnamese")),
    ("image", N_("Product image")),
    ("producer", N_("Producer name and address")),
    ("stages", N_("Production and distribution stages with their trace codes (lots)")),
    ("locations", N_("Location code of every stage")),
    ("times", N_("Time of every stage")),
    ("shelf_life", N_("Shelf life (expiry or best-before date)")),
    ("standards", N_("Standards or certificates applied")),
]
_SHELF_LIFE_KEYS = ("cbvmda:bestBeforeDate", "cbvmda:itemExpirationDate", "cbvmda:sellByDate")
_EVENT_LIMIT = 2000


@dataclass
class Check:
    """One minimum field: satisfied or not, and what is missing."""

    key: str
    label: str
    ok: bool
    detail: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ComplianceReport:
    """All checks of one product."""

    gtin: str
    product: str
    checks: list[Check]

    @property
    def missing(self) -> list[str]:
        """The fields that are not satisfied."""
        return [c.key for c in self.checks if not c.ok]

    def to_json(self, locale: str) -> dict[str, Any]:
        """The report with its messages in the caller's language."""
        return {
            "gtin": self.gtin,
            "product": self.product,
            "compliant": not self.missing,
            "missing": self.missing,
            "basis": ["Thông tư 02/2024/TT-BKHCN", "Nghị định 37/2026/NĐ-CP"],
            "checks": [
                {
                    "field": c.key,
                    "label": gettext(locale, c.label),
                    "ok": c.ok,
                    "detail": gettext(locale, c.detail, **c.params) if c.detail else "",
                }
                for c in self.checks
            ],
        }


def check_product(db: Session, principal: Principal, gtin: str) -> ComplianceReport:
    """Checks the product registered under a GTIN (one the caller may read)."""
    gtin = gtin.strip().zfill(14)
    product = db.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        raise NotFound()
    producer = db.get(Organization, product.org_id)
    ensure_readable(principal, product.org_id, (producer.province_code if producer else None,))
    names = product.names or {}
    checks: list[Check] = []

    def add(name: str, ok: bool, detail: str = "", **params: Any) -> None:
        label = dict(CHECKS)[name]
        checks.append(Check(name, label, ok, "" if ok else detail, params))

    add("name", bool(str(names.get("vi") or "").strip()), N_("No Vietnamese name is registered"))
    images = db.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product.id)
    )
    add("image", bool(images), N_("No image of the product is registered"))
    add(
        "producer",
        producer is not None and bool(producer.name.strip()) and bool(producer.address.strip()),
        N_("The producer's address is missing"),
    )
    prefix = f"{DIGITAL_LINK_BASE}/01/{gtin}/"
    events = list(
        db.scalars(
            select(EpcisEvent)
            .join(
                EpcisEventEpc,
                (EpcisEventEpc.org_id == EpcisEvent.org_id)
                & (EpcisEventEpc.event_row_id == EpcisEvent.id),
            )
            .where(
                or_(EpcisEventEpc.epc.startswith(prefix), EpcisEventEpc.epc == prefix[:-1]),
                event_read_filter(db, principal),
            )
            .distinct()
            .order_by(EpcisEvent.event_time)
            .limit(_EVENT_LIMIT)
        )
    )
    steps = sorted({short_step(e.biz_step) for e in events if e.biz_step})
    add(
        "stages",
        bool(events) and bool(steps),
        N_("No event records a stage of this product's lots"),
    )
    unplaced = [e for e in events if not (e.read_point or e.biz_location)]
    add(
        "locations",
        bool(events) and not unplaced,
        N_("{count} events have no location code (readPoint or bizLocation)")
        if events
        else N_("No event records a stage of this product's lots"),
        count=len(unplaced),
    )
    add(
        "times",
        bool(events) and all(e.event_time and e.event_time_zone_offset for e in events),
        N_("No event records a stage of this product's lots"),
    )
    shelf_life = any(
        isinstance(e.event.get("ilmd"), Mapping)
        and any(e.event["ilmd"].get(k) for k in _SHELF_LIFE_KEYS)
        for e in events
    )
    add(
        "shelf_life",
        shelf_life,
        N_("No lot of this product gives an expiry or best-before date (ILMD)"),
    )
    today = date.today()
    certificates = db.scalar(
        select(func.count())
        .select_from(Certification)
        .where(
            or_(
                (Certification.scope_type == CertScope.product)
                & (Certification.scope_id == product.id),
                (Certification.scope_type == CertScope.organization)
                & (Certification.scope_id == product.org_id),
            ),
            Certification.revoked_at.is_(None),
            Certification.suspended_at.is_(None),
            Certification.valid_to >= today,
        )
    )
    add(
        "standards",
        bool(certificates) or bool(product.ocop_stars),
        N_("No current certificate or standard is registered for the product or its producer"),
    )
    label = str(names.get("vi") or next(iter(names.values()), ""))
    return ComplianceReport(gtin=gtin, product=label, checks=checks)
