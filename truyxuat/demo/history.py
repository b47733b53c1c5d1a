"""Three years of weekly deliveries for the demo's forecasts: the Phố Hiến dairy's UHT milk to
the Thăng Long distributor, and the Sông Hồng brewery's lager to the Hà Nội beverage
distributor — each week a production lot, its shipment and its receipt, as EPCIS events.

Consumers' scans of the demo's activated stamps are spread over the last twelve months in the
places buyers live (one squid-cake stamp scanned in Hạ Long and, half an hour later, in Cà
Mau: a copied stamp for the early warning to find).

Kept apart from the five demo chains (whose events tests count exactly) and loaded by
`truyxuat demo history`: a forecast needs a history, a chain needs a story. The weekly
figures follow the seasons a Vietnamese distributor sees — milk higher in the school year, beer
peaking before Tết and in the hot months — with a little noise from a fixed seed, so every
load is the same.
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.demo import events as demo_events
from truyxuat.demo import journeys as j
from truyxuat.demo.stamping import acting_for
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.models import EpcisEventEpc
from truyxuat.epcis.validation import EpcisValidator
from truyxuat.registry.models import Organization
from truyxuat.resolver import scans
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.models import Scan

LABEL = "demo history"
WEEKS = 156
# (product key, producer, its warehouse ref, distributor, its warehouse ref, weekly litres)
LINES = (
    ("UHT-SWEET-180", "PHOHIEN-MILK", 3, "THANGLONG-DIST", 2, 2400.0),
    ("BEER-LAGER-330", "SONGHONG-BREWERY", 1, "HANOI-BEV-DIST", 1, 5200.0),
)


def _season(product: str, day: date) -> float:
    """How far above or below its usual level the product sells in the week of `day`."""
    year = 2 * math.pi * day.timetuple().tm_yday / 365.25
    if product.startswith("BEER"):
        # Hot months (May–August) and the weeks before Tết (late January).
        return 1 + 0.25 * math.sin(year - 1.9) + 0.35 * math.exp(-(((year - 0.35) / 0.25) ** 2))
    # Milk follows the school year: lower in June–August.
    return 1 - 0.2 * math.exp(-(((year - 3.4) / 0.5) ** 2))


def weekly_events(last_monday: date, weeks: int = WEEKS) -> dict[str, list[dict[str, object]]]:
    """The history's events by recording organization, oldest week first."""
    book = demo_events.Journal()
    noise = random.Random(20261204)
    for week in range(weeks, 0, -1):
        monday = last_monday - timedelta(weeks=week - 1)
        for product, maker, store, buyer, dock, base in LINES:
            trend = 1 + 0.1 * (weeks - week) / weeks
            litres = round(base * trend * _season(product, monday) * noise.uniform(0.93, 1.07))
            number = f"W{monday:%y%m%d}"
            lot = j.lot_link(j.GTIN[product], number)
            day = monday.isoformat()
            book.commission(
                maker,
                f"history/{product}/{number}/made",
                f"{day}T07:00:00",
                demo_events.place(maker, store),
                (j.GTIN[product], number),
                (litres, "LTR"),
                {
                    "cbvmda:bestBeforeDate": (monday + timedelta(days=180)).isoformat(),
                    "cbvmda:countryOfOrigin": "VN",
                },
            )
            order = [demo_events.biz_tx("po", buyer, f"PO-{number}-{product[:4]}")]
            for shipping, hour in ((True, "T14:00:00"), (False, "T18:00:00")):
                book.move(
                    maker if shipping else buyer,
                    f"history/{product}/{number}/{'ship' if shipping else 'receive'}",
                    day + hour,
                    shipping=shipping,
                    source=(maker, store),
                    destination=(buyer, dock),
                    quantities=[demo_events.qty(lot, litres, "LTR")],
                    transactions=order,
                )
    return book.by_org


def is_loaded(session: Session) -> bool:
    """True when a weekly lot of the history is stored already (its lots are named W<date>)."""
    prefix = j.lot_link(j.GTIN[LINES[0][0]], "W")
    found = session.scalar(
        select(EpcisEventEpc.event_row_id).where(EpcisEventEpc.epc.startswith(prefix)).limit(1)
    )
    return found is not None


def load_history(
    session: Session, validator: EpcisValidator, *, today: date, weeks: int = WEEKS
) -> int:
    """Captures the weekly history up to the last full week before `today`; returns events."""
    last_monday = today - timedelta(days=today.weekday() + 7)
    orgs = {
        o.code: o
        for o in session.scalars(
            select(Organization).where(
                Organization.code.in_({code for line in LINES for code in (line[1], line[3])})
            )
        )
    }
    captured = 0
    for org_code, events in weekly_events(last_monday, weeks).items():
        job = epcis_service.capture_document(
            session,
            acting_for(orgs[org_code], f"{LABEL} ({org_code})"),
            data=json.dumps(demo_events.document(events)).encode(),
            content_type="application/ld+json",
            validator=validator,
        )
        captured += job.event_count
    session.flush()
    return captured


# Where the demo's consumers scan (rounded as the resolver keeps them), None: place not shared.
SCAN_PLACES: tuple[tuple[float, float] | None, ...] = (
    (20.95, 107.07),  # Hạ Long
    (21.03, 105.85),  # Hà Nội
    (21.18, 106.07),  # Bắc Ninh
    (10.78, 106.70),  # Thành phố Hồ Chí Minh
    None,
    (20.86, 106.68),  # Hải Phòng
    None,
)
CA_MAU = (9.18, 105.15)


def load_scans(session: Session, *, now: datetime) -> int:
    """Logs the consumers' scans of every activated demo stamp; returns how many.

    The stamp `truyxuat demo urls` calls genuine is left unscanned, so the tour's first scan is
    its first; the next squid-cake stamp is the copied one.
    """
    noise = random.Random(4122026)
    rows: list[Scan] = []
    for run in j.DEMO_STAMPS:
        for index, serial in enumerate(run.active_serials[1:], start=1):
            for _ in range(noise.randint(1, 4)):
                when = now - timedelta(days=noise.uniform(3, 360), minutes=noise.uniform(0, 600))
                rows.append(_scan(run, serial, when, noise.choice(SCAN_PLACES), noise))
            if run is j.OCOP_SQUID_STAMPS and index == 1:
                copied = now - timedelta(days=2)
                rows.append(_scan(run, serial, copied, SCAN_PLACES[0], noise))
                rows.append(_scan(run, serial, copied + timedelta(minutes=30), CA_MAU, noise))
    session.add_all(rows)
    session.flush()
    return len(rows)


def _scan(
    run: j.DemoStampRun,
    serial: str,
    when: datetime,
    where: tuple[float, float] | None,
    noise: random.Random,
) -> Scan:
    """One consumer scan of a stamp, as the resolver logs it."""
    scan = scans.new(
        ItemKey(run.gtin, run.lot, serial),
        run.lot,
        "Mozilla/5.0 (Linux; Android 14) demo",
        noise.choice(("vi", "vi", "vi", "en", "zh")),
    ).entity()
    scan.scanned_at = when
    if where is not None:
        scan.latitude, scan.longitude = scans.coarse(where[0]), scans.coarse(where[1])
    return scan
