"""Authenticity: what a scan tells about the stamp, PIN checks, and reports of fakes.

PIN guessing is limited by the stamps service (per stamp and per client); this module adds
the memory of the first right answer, so a second buyer of a copied stamp is told the PIN
was already used.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.principal import Principal, read_filter
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.errors import N_, FieldError, ValidationFailed
from truyxuat.registry.models import Organization, Product
from truyxuat.resolver.items import StampSeen
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import FakeReport, PinVerification
from truyxuat.resolver.scans import CopySign
from truyxuat.stamps import service as stamps_service
from truyxuat.stamps.models import Stamp, StampState

REPORT_REASONS = {
    "warning": N_("The page showed a warning"),
    "pin": N_("The PIN was wrong or already used"),
    "packaging": N_("The packaging or label looks different"),
    "price": N_("The price was suspiciously low"),
    "quality": N_("The product itself seems different"),
}
MESSAGE_MAX = 2000
PLACE_MAX = 300


@dataclass(frozen=True)
class Warning:
    """One authenticity warning shown on the passport (an English msgid and its values)."""

    kind: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def warnings(
    key: ItemKey,
    stamp: StampSeen | None,
    signs: list[CopySign],
    recalled: bool,
) -> list[Warning]:
    """The warnings a scan deserves, most serious first."""
    found: list[Warning] = []
    if recalled:
        found.append(Warning("recalled", N_("This lot is recalled: do not eat or use it.")))
    if key.serial and stamp is None:
        found.append(
            Warning(
                "never_issued",
                N_(
                    "This serial number was never issued for this product: "
                    "the stamp is probably fake."
                ),
            )
        )
    elif stamp is not None and stamp.state is StampState.voided:
        found.append(
            Warning(
                "voided",
                N_("This stamp was voided by the producer: it must not be on sale."),
            )
        )
    elif stamp is not None and stamp.state is StampState.generated:
        found.append(
            Warning(
                "not_activated",
                N_(
                    "This stamp was never activated by the producer: "
                    "it should not be on a product yet."
                ),
            )
        )
    for sign in signs:
        if sign.kind == "far_apart":
            found.append(
                Warning(
                    "far_apart",
                    N_(
                        "This stamp was scanned in places {km} km apart: "
                        "it may have been copied onto other goods."
                    ),
                    {"km": sign.distance_km},
                )
            )
        elif sign.kind == "long_ago":
            found.append(
                Warning(
                    "long_ago",
                    N_(
                        "This stamp was first scanned {days} days ago: "
                        "it may have been copied onto other goods."
                    ),
                    {"days": sign.days},
                )
            )
    return found


@dataclass(frozen=True)
class PinResult:
    """The answer to a PIN check, for the consumer."""

    outcome: str  # first | again | wrong | voided | unknown | no_pin
    genuine: bool
    first_verified_at: datetime | None = None
    attempts_left: int | None = None


def has_pin(stamp: StampSeen | None) -> bool:
    """Whether the passport should offer the scratch-off PIN check."""
    return stamp is not None and stamp.has_pin


def check_pin(db: Session, settings: Settings, *, client: str, key: ItemKey, pin: str) -> PinResult:
    """Checks a PIN; the first right answer is remembered (raises TooManyRequests when limited).

    The caller commits whatever happens: wrong guesses must count.
    """
    pin = pin.strip()
    if not pin.isdigit() or len(pin) > 16:
        raise ValidationFailed(
            [FieldError(["pin"], N_("The PIN is the digits under the scratch-off"))]
        )
    if not key.serial:
        return PinResult("unknown", False)
    stamp = db.scalar(select(Stamp).where(Stamp.gtin == key.gtin, Stamp.serial == key.serial))
    if stamp is not None and stamp.pin_hash is None:
        return PinResult("no_pin", False)
    verdict = stamps_service.verify_pin(
        db, settings, client=client, pin=pin, gtin=key.gtin, serial=key.serial
    )
    if verdict.result == "wrong_pin":
        return PinResult("wrong", False, attempts_left=verdict.attempts_left)
    if verdict.result == "voided":
        return PinResult("voided", False)
    if not verdict.genuine:
        return PinResult("unknown", False)
    now = utcnow()
    seen = db.scalar(
        select(PinVerification).where(
            PinVerification.gtin == key.gtin, PinVerification.serial == key.serial
        )
    )
    if seen is None:
        db.add(
            PinVerification(
                gtin=key.gtin,
                serial=key.serial,
                first_verified_at=now,
                last_verified_at=now,
                count=1,
            )
        )
        db.flush()
        return PinResult("first", True, now)
    seen.count += 1
    seen.last_verified_at = now
    db.flush()
    return PinResult("again", True, seen.first_verified_at)


def report_fake(
    db: Session,
    *,
    product: Product,
    producer: Organization,
    key: ItemKey,
    lot: str | None,
    reasons: list[str],
    where_bought: str,
    message: str,
    scan_id: uuid.UUID | None,
) -> FakeReport:
    """Stores a consumer's report for the producer and the authority of its province."""
    errors: list[FieldError] = []
    reasons = [r for r in reasons if r in REPORT_REASONS]
    message = message.strip()
    if not reasons and not message:
        errors.append(FieldError(["message"], N_("Tell us what looks wrong")))
    if len(message) > MESSAGE_MAX:
        errors.append(FieldError(["message"], N_("At most {max} characters"), {"max": MESSAGE_MAX}))
    if len(where_bought.strip()) > PLACE_MAX:
        errors.append(
            FieldError(["where_bought"], N_("At most {max} characters"), {"max": PLACE_MAX})
        )
    if errors:
        raise ValidationFailed(errors)
    report = FakeReport(
        org_id=producer.id,
        province_code=product.origin_province_code or producer.province_code,
        gtin=key.gtin,
        lot=lot,
        serial=key.serial,
        reasons=",".join(reasons),
        where_bought=where_bought.strip(),
        message=message,
        scan_id=scan_id,
    )
    db.add(report)
    db.flush()
    return report


def list_reports(
    db: Session, principal: Principal, *, limit: int = 50, offset: int = 0
) -> list[tuple[FakeReport, str]]:
    """Reports the caller may read: its own organizations' products, or its province's."""
    rows = db.execute(
        select(FakeReport, Organization.name)
        .join(Organization, Organization.id == FakeReport.org_id)
        .where(read_filter(principal, FakeReport.org_id, (FakeReport.province_code,)))
        .order_by(FakeReport.created_at.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [(r[0], r[1]) for r in rows]
