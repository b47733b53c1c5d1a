"""Stamp rules: a serial scanned in places no one could travel between in the time (or far
more often than one package is), and PIN brute force (a locked stamp, a device at its limit).

The distance comes from the resolver's own copy sign (`resolver.scans.distance_km` and the
`resolver_copy_distance_km` setting); an alert asks more than the passport's warning does:
the two places must also be too far apart for the time between the scans.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, tuple_

from truyxuat.errors import N_
from truyxuat.oversight.models import AlertSeverity
from truyxuat.oversight.rules import Finding, RuleContext, at, passport_url
from truyxuat.registry.models import Product
from truyxuat.resolver.models import Scan
from truyxuat.resolver.scans import MAX_PLACES, distance_km
from truyxuat.stamps.models import PinAttemptWindow, Stamp
from truyxuat.stamps.service import CLIENT_MAX_WRONG_PER_HOUR

COPIED_STAMP = "copied_stamp"
PIN_BRUTE_FORCE = "pin_brute_force"
# Faster than any trip by road between two provinces: one stamp cannot be in both places.
MAX_TRAVEL_KMH = 250.0
# One package is not scanned this often; past it (and at each doubling) a copy is suspected.
MANY_SCANS = 200
# Two scans too far apart for the time between them are hours apart at most (Viet Nam is
# 1,650 km long): only the last week's scans are read, which also covers a missed cron run.
TRAVEL_LOOKBACK = timedelta(days=7)
# Wrong-PIN windows of a device older than this are history, not an attack under way.
PIN_LOOKBACK = timedelta(days=7)
_KM_PER_DEGREE = 111.2
_CHUNK = 500


def _owners(ctx: RuleContext, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], uuid.UUID]:
    """The organization behind each (GTIN, serial): the stamp's, else the product's."""
    owners: dict[tuple[str, str], uuid.UUID] = {}
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        for gtin, serial, org_id in ctx.db.execute(
            select(Stamp.gtin, Stamp.serial, Stamp.org_id).where(
                tuple_(Stamp.gtin, Stamp.serial).in_(chunk)
            )
        ):
            owners[(gtin, serial)] = org_id
    missing = {gtin for gtin, serial in pairs if (gtin, serial) not in owners}
    if missing:
        by_gtin = dict(
            ctx.db.execute(select(Product.gtin, Product.org_id).where(Product.gtin.in_(missing)))
        )
        for gtin, serial in pairs:
            if (gtin, serial) not in owners and gtin in by_gtin:
                owners[(gtin, serial)] = by_gtin[gtin]
    return owners


def _stamp_link(gtin: str, serial: str) -> str:
    """The passport of a serialized item."""
    return passport_url(f"https://id.gs1.org/01/{gtin}/21/{serial}")


def copied_stamps(ctx: RuleContext) -> Iterator[Finding]:
    """Serials scanned in two places farther apart than travel allows, or scanned too often."""
    far_km = ctx.settings.resolver_copy_distance_km
    spread = (func.max(Scan.latitude) - func.min(Scan.latitude)) + (
        func.max(Scan.longitude) - func.min(Scan.longitude)
    )
    # A cheap necessary condition in SQL: the great-circle distance is never more than the
    # sum of the latitude and longitude spans (in km), so only these serials are read.
    spread_out: list[tuple[str, str]] = list(
        ctx.db.execute(
            select(Scan.gtin, Scan.serial)
            .where(
                Scan.serial.is_not(None),
                Scan.latitude.is_not(None),
                Scan.scanned_at >= ctx.now - TRAVEL_LOOKBACK,
            )
            .group_by(Scan.gtin, Scan.serial)
            .having(func.count() >= 2, spread * _KM_PER_DEGREE > far_km)
        )
    )
    # The passport's other copy sign: a serial still scanned this week whose first scan is
    # older than `resolver_copy_days` (one package is not on sale that long).
    long_ago = ctx.now - timedelta(days=ctx.settings.resolver_copy_days)
    recent = ctx.now - TRAVEL_LOOKBACK
    counted: list[tuple[str, str, int, datetime]] = list(
        ctx.db.execute(
            select(Scan.gtin, Scan.serial, func.count(), func.min(Scan.scanned_at))
            .where(Scan.serial.is_not(None))
            .group_by(Scan.gtin, Scan.serial)
            .having(
                or_(
                    func.count() > MANY_SCANS,
                    (func.min(Scan.scanned_at) < long_ago) & (func.max(Scan.scanned_at) >= recent),
                )
            )
        )
    )
    busy = [(g, s, n) for g, s, n, _ in counted if n > MANY_SCANS]
    pairs = sorted({(g, s) for g, s in spread_out} | {(g, s) for g, s, _, _ in counted})
    owners = _owners(ctx, pairs)
    for gtin, serial in spread_out:
        finding = _impossible_travel(ctx, gtin, serial, far_km, owners.get((gtin, serial)))
        if finding is not None:
            yield finding
    for gtin, serial, count in busy:
        # The ref names the doubling reached, so a resolved alert comes back only when the
        # serial goes on to be scanned twice as often again.
        level = MANY_SCANS
        while level * 2 <= count:
            level *= 2
        org_id = owners.get((gtin, serial))
        yield Finding(
            rule=COPIED_STAMP,
            dedup_key=f"{gtin}/{serial}:scans",
            severity=AlertSeverity.warning,
            org_id=org_id,
            province_code=ctx.province_of(org_id),
            title=N_("Stamp {gtin} / {serial} was scanned {count} times: it may have been copied"),
            params={"gtin": gtin, "serial": serial, "count": int(count)},
            evidence=[
                {
                    "kind": "scans",
                    "ref": f"scans:{level}",
                    "label": f"{gtin}/{serial}",
                    "count": int(count),
                    "url": _stamp_link(gtin, serial),
                }
            ],
            evidence_url=_stamp_link(gtin, serial),
            gtin=gtin,
            count=int(count),
        )
    for gtin, serial, count, first in counted:
        if first is None or _aware(first) >= long_ago:
            continue
        org_id = owners.get((gtin, serial))
        days = (ctx.now - _aware(first)).days
        yield Finding(
            rule=COPIED_STAMP,
            dedup_key=f"{gtin}/{serial}:long_ago",
            severity=AlertSeverity.info,
            org_id=org_id,
            province_code=ctx.province_of(org_id),
            title=N_(
                "Stamp {gtin} / {serial} is still scanned {days} days after its first scan: "
                "it may have been copied"
            ),
            params={"gtin": gtin, "serial": serial, "days": days, "count": int(count)},
            evidence=[
                {
                    "kind": "scans",
                    # A new week of scans is new evidence for a resolved alert.
                    "ref": f"scans:week:{ctx.now:%G-W%V}",
                    "label": f"{gtin}/{serial}",
                    "count": int(count),
                    "at": at(_aware(first)),
                    "url": _stamp_link(gtin, serial),
                }
            ],
            evidence_url=_stamp_link(gtin, serial),
            gtin=gtin,
            count=int(count),
        )


def _aware(moment: datetime) -> datetime:
    """A time from an aggregate (SQLite gives it without its UTC offset)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _impossible_travel(
    ctx: RuleContext, gtin: str, serial: str, far_km: float, org_id: uuid.UUID | None
) -> Finding | None:
    """The finding for one serial if two of its located scans are too far apart for the time."""
    scans = list(
        ctx.db.execute(
            select(Scan.id, Scan.latitude, Scan.longitude, Scan.scanned_at)
            .where(
                Scan.gtin == gtin,
                Scan.serial == serial,
                Scan.latitude.is_not(None),
                Scan.scanned_at >= ctx.now - TRAVEL_LOOKBACK,
            )
            .order_by(Scan.scanned_at.desc())
            .limit(MAX_PLACES)
        )
    )
    worst: tuple[float, float] | None = None
    involved: dict[uuid.UUID, tuple[float, float, datetime]] = {}
    located = [(i, lat, lon, t) for i, lat, lon, t in scans if lat is not None and lon is not None]
    for n, (id_a, lat_a, lon_a, at_a) in enumerate(located):
        for id_b, lat_b, lon_b, at_b in located[n + 1 :]:
            km = distance_km((lat_a, lon_a), (lat_b, lon_b))
            hours = abs((at_a - at_b).total_seconds()) / 3600
            if km <= far_km or km <= MAX_TRAVEL_KMH * hours:
                continue
            involved[id_a] = (lat_a, lon_a, at_a)
            involved[id_b] = (lat_b, lon_b, at_b)
            if worst is None or km > worst[0]:
                worst = (km, hours)
    if worst is None:
        return None
    evidence = [
        {
            "kind": "scan",
            "ref": f"scan:{scan_id}",
            "label": f"{lat:.1f}, {lon:.1f}",
            "at": at(when),
            "url": _stamp_link(gtin, serial),
        }
        for scan_id, (lat, lon, when) in sorted(
            involved.items(), key=lambda item: item[1][2], reverse=True
        )
    ]
    return Finding(
        rule=COPIED_STAMP,
        dedup_key=f"{gtin}/{serial}:travel",
        severity=AlertSeverity.critical,
        org_id=org_id,
        province_code=ctx.province_of(org_id),
        title=N_(
            "Stamp {gtin} / {serial} was scanned {km} km apart within {minutes} minutes: "
            "it has probably been copied"
        ),
        params={
            "gtin": gtin,
            "serial": serial,
            "km": round(worst[0]),
            "minutes": round(worst[1] * 60),
        },
        evidence=evidence,
        evidence_url=_stamp_link(gtin, serial),
        gtin=gtin,
    )


def pin_brute_force(ctx: RuleContext) -> Iterator[Finding]:
    """Stamps locked after too many wrong PINs, and devices that reached their hourly limit."""
    for gtin, serial, org_id, locked_until, attempts in ctx.db.execute(
        select(Stamp.gtin, Stamp.serial, Stamp.org_id, Stamp.locked_until, Stamp.pin_attempts)
        .where(Stamp.locked_until.is_not(None))
        .order_by(Stamp.gtin, Stamp.serial)
    ):
        yield Finding(
            rule=PIN_BRUTE_FORCE,
            dedup_key=f"{gtin}/{serial}",
            severity=AlertSeverity.warning,
            org_id=org_id,
            province_code=ctx.province_of(org_id),
            title=N_("Someone is guessing the PIN of stamp {gtin} / {serial}: it is locked"),
            params={"gtin": gtin, "serial": serial, "attempts": attempts},
            evidence=[
                {
                    "kind": "stamp_lock",
                    "ref": f"lock:{at(locked_until)}",
                    "label": f"{gtin}/{serial}",
                    "at": at(locked_until),
                    "count": attempts,
                    "url": _stamp_link(gtin, serial),
                }
            ],
            evidence_url=_stamp_link(gtin, serial),
            gtin=gtin,
        )
    windows: dict[str, list[tuple[datetime, int]]] = {}
    for client, window_start, count in ctx.db.execute(
        select(PinAttemptWindow.client, PinAttemptWindow.window_start, PinAttemptWindow.count)
        .where(
            PinAttemptWindow.count >= CLIENT_MAX_WRONG_PER_HOUR,
            PinAttemptWindow.window_start >= ctx.now - PIN_LOOKBACK,
        )
        .order_by(PinAttemptWindow.window_start.desc())
    ):
        windows.setdefault(client, []).append((window_start, count))
    for client, hours in sorted(windows.items()):
        # The device is an IP address or an API key: only a digest of it is kept.
        device = hashlib.sha256(client.encode()).hexdigest()[:16]
        yield Finding(
            rule=PIN_BRUTE_FORCE,
            dedup_key=f"device:{device}",
            severity=AlertSeverity.warning,
            org_id=None,
            province_code=None,
            title=N_("One device reached the wrong-PIN limit in {hours} hours"),
            params={"device": device, "hours": len(hours)},
            evidence=[
                {
                    "kind": "pin_window",
                    "ref": f"window:{at(start)}",
                    "label": device,
                    "at": at(start),
                    "count": count,
                }
                for start, count in hours
            ],
        )
