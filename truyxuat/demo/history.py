"""Three years of weekly deliveries for the demo's forecasts: the Phố Hiến dairy's UHT milk to
the Thăng Long distributor, and the Sông Hồng brewery's lager to the Hà Nội beverage
distributor — each week a production lot, its shipment and its receipt, as EPCIS events.

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
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.demo import events as demo_events
from truyxuat.demo import journeys as j
from truyxuat.demo.stamping import acting_for
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.models import EpcisEventEpc
from truyxuat.epcis.validation import EpcisValidator
from truyxuat.registry.models import Organization

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
