"""The scan log: each browser resolution of a Digital Link, and what its pattern says.

A place is kept only when the consumer agreed to share it, and rounded to 0.1° (about 11 km):
enough to see a stamp scanned in two provinces, not enough to find a home.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from truyxuat.db import new_id, utcnow
from truyxuat.errors import N_, invalid
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import Scan

PLACE_DECIMALS = 1
# How long after a scan its page may still attach a place to it.
PLACE_WINDOW = timedelta(minutes=30)
MAX_PLACES = 50


@dataclass(frozen=True)
class ScanStats:
    """How often, and since when, an item (or a lot) has been scanned."""

    count: int
    first_at: datetime | None
    located: int = 0


@dataclass(frozen=True)
class CopySign:
    """A pattern of scans that suggests a copied stamp."""

    kind: str  # far_apart | long_ago
    distance_km: int = 0
    days: int = 0
    since: datetime | None = None


def new(key: ItemKey, lot: str | None, user_agent: str, locale: str) -> Scan:
    """A scan about to be logged (no personal data: no address, no cookie, the user agent)."""
    return Scan(
        id=new_id(),
        gtin=key.gtin,
        lot=lot,
        serial=key.serial,
        user_agent=user_agent[:300],
        locale=locale[:8],
        scanned_at=utcnow(),
    )


def store(db: Session, scan: Scan) -> Scan:
    """Writes a scan with one INSERT (the caller commits)."""
    db.execute(
        insert(Scan).values(
            id=scan.id,
            gtin=scan.gtin,
            lot=scan.lot,
            serial=scan.serial,
            scanned_at=scan.scanned_at,
            user_agent=scan.user_agent,
            locale=scan.locale,
        )
    )
    return scan


def record(db: Session, key: ItemKey, lot: str | None, user_agent: str, locale: str) -> Scan:
    """Logs one scan at once."""
    return store(db, new(key, lot, user_agent, locale))


def coarse(value: float) -> float:
    """A coordinate rounded to about 11 km."""
    return round(value, PLACE_DECIMALS)


def set_place(db: Session, scan_id: uuid.UUID, latitude: float, longitude: float) -> Scan:
    """Attaches the consented, coarse place to a recent scan (once)."""
    if not (-90 <= latitude <= 90) or not (-180 <= longitude <= 180):
        raise invalid("latitude", N_("The place is not a valid latitude and longitude"))
    scan = db.get(Scan, scan_id)
    if scan is None or scan.scanned_at < utcnow() - PLACE_WINDOW:
        raise invalid("scan", N_("This scan can no longer be given a place"))
    if scan.latitude is None:
        db.execute(
            update(Scan)
            .where(Scan.id == scan_id, Scan.latitude.is_(None))
            .values(latitude=coarse(latitude), longitude=coarse(longitude))
        )
        db.refresh(scan)
    return scan


def stats(db: Session, key: ItemKey, lot: str | None) -> ScanStats:
    """Scans of the serialized item, else of the lot, else of the product."""
    query = select(func.count(), func.min(Scan.scanned_at), func.count(Scan.latitude)).where(
        Scan.gtin == key.gtin
    )
    if key.serial:
        query = query.where(Scan.serial == key.serial)
    elif lot:
        query = query.where(Scan.lot == lot)
    count, first_at, located = db.execute(query).one()
    return ScanStats(int(count or 0), first_at, int(located or 0))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def copy_signs(
    db: Session,
    key: ItemKey,
    *,
    far_km: float,
    long_days: int,
    first_at: datetime | None,
    located: int = 2,
    now: datetime | None = None,
) -> list[CopySign]:
    """Signs that one serial is printed on many items: far-apart places, or a long time span.

    Only a serialized stamp can show them; a lot is many items and is scanned everywhere.
    """
    if not key.serial:
        return []
    now = now or utcnow()
    signs: list[CopySign] = []
    # Fewer than two located scans cannot be far apart: spare the query.
    places = (
        []
        if located < 2
        else db.execute(
            select(Scan.latitude, Scan.longitude, Scan.scanned_at)
            .where(Scan.gtin == key.gtin, Scan.serial == key.serial, Scan.latitude.is_not(None))
            .order_by(Scan.scanned_at.desc())
            .limit(MAX_PLACES)
        ).all()
    )
    points = [(lat, lon) for lat, lon, _ in places if lat is not None and lon is not None]
    widest = 0.0
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            widest = max(widest, distance_km(a, b))
    if widest > far_km:
        signs.append(CopySign("far_apart", distance_km=round(widest)))
    if first_at is not None and now - first_at > timedelta(days=long_days):
        signs.append(CopySign("long_ago", days=(now - first_at).days, since=first_at))
    return signs
