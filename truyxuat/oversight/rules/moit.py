"""Products of a MOIT mandatory traceability group on sale without traceability data: scanned
by consumers or carrying activated stamps while no event names any of their lots or items.

"No event" is the first minimum of `reports.compliance.check_product` (the stages of the
product's lots); the other checks of that report (images, the producer's address) are
registry gaps, shown there, not warnings of goods sold blind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, or_, select, true

from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE
from truyxuat.epcis.models import EpcisEventEpc
from truyxuat.errors import N_
from truyxuat.oversight.models import AlertSeverity
from truyxuat.oversight.rules import Finding, RuleContext, at
from truyxuat.registry.models import Product
from truyxuat.resolver.models import Scan
from truyxuat.stamps.models import Stamp, StampState

UNTRACED_MANDATORY_PRODUCT = "untraced_mandatory_product"


def _has_events(ctx: RuleContext, gtin: str, owner: uuid.UUID) -> bool:
    """Does any event name a lot, an item or the class of this GTIN?

    The owner's own events are asked first, through the (org_id, epc) index; only a product
    its owner never recorded makes the search go through every organization's events.
    """
    prefix = f"{DIGITAL_LINK_BASE}/01/{gtin}"
    names = or_(EpcisEventEpc.epc == prefix, EpcisEventEpc.epc.startswith(prefix + "/"))
    for scope in (EpcisEventEpc.org_id == owner, true()):
        if ctx.db.scalar(select(EpcisEventEpc.epc).where(scope, names).limit(1)) is not None:
            return True
    return False


def untraced_mandatory_products(ctx: RuleContext) -> Iterator[Finding]:
    """Mandatory-group products scanned or stamped for sale with no event naming them."""
    products = ctx.db.scalars(
        select(Product).where(Product.moit_group.is_not(None)).order_by(Product.gtin)
    )
    for product in products:
        scans, last_scan = ctx.db.execute(
            select(func.count(), func.max(Scan.scanned_at)).where(Scan.gtin == product.gtin)
        ).one()
        stamps = (
            ctx.db.scalar(
                select(func.count())
                .select_from(Stamp)
                .where(Stamp.gtin == product.gtin, Stamp.state == StampState.activated)
            )
            or 0
        )
        if not scans and not stamps:
            continue
        if _has_events(ctx, product.gtin, product.org_id):
            continue
        url = f"/registry/products/{product.id}"
        evidence: list[dict[str, Any]] = [
            {
                "kind": "product",
                "ref": f"product:{product.id}",
                "label": str((product.names or {}).get("vi") or product.gtin),
                "url": url,
            }
        ]
        if scans:
            # A new month of scans is new evidence: a resolved alert comes back if the
            # product is still sold without data.
            evidence.append(
                {
                    "kind": "scans",
                    "ref": f"scans:{last_scan:%Y-%m}",
                    "label": product.gtin,
                    "count": int(scans),
                    "at": at(last_scan),
                    "url": f"/01/{product.gtin}",
                }
            )
        if stamps:
            evidence.append(
                {
                    "kind": "stamps",
                    "ref": "stamps:activated",
                    "label": product.gtin,
                    "count": int(stamps),
                    "url": url,
                }
            )
        yield Finding(
            rule=UNTRACED_MANDATORY_PRODUCT,
            dedup_key=f"product:{product.id}",
            severity=AlertSeverity.warning,
            org_id=product.org_id,
            province_code=ctx.province_of(product.org_id),
            title=N_(
                "{gtin} is in a mandatory traceability group and on sale, "
                "but no event records its lots"
            ),
            params={
                "gtin": product.gtin,
                "group": product.moit_group.value if product.moit_group else "",
                "scans": int(scans),
                "stamps": int(stamps),
            },
            evidence=evidence,
            evidence_url=url,
            gtin=product.gtin,
            count=int(scans) + int(stamps),
        )
