"""Demo data: the five example supply chains of DOMAIN.md, their authorities and demo logins.

`truyxuat demo load` calls `load`. The data lives in plain modules (`lychee`, `ocop`, `shrimp`,
`milk`, `beer`, `authorities`, `places`); `loader` writes it through the registry services,
then captures the journeys of `events` through the EPCIS capture service and issues the stamp
runs of `journeys.DEMO_STAMPS` through the stamps service, and records the inspection of
`inspections` through the oversight service. `journeys` names the well-known
lots, pallets and serials for tests. Every demo login shares `DEMO_PASSWORD` — demo data only,
printed in the README, never for real use.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.config import Settings, get_settings
from truyxuat.demo import authorities, beer, events, lychee, milk, ocop, shrimp
from truyxuat.demo.authorities import PLATFORM_CODE
from truyxuat.demo.loader import Loader, add_communes
from truyxuat.demo.places import COMMUNES
from truyxuat.demo.specs import Chain, UserSpec
from truyxuat.errors import N_, Conflict
from truyxuat.registry.models import Organization

DEMO_PASSWORD = "truyxuat-demo"
"""The password of every demo login (published in the README; never use it for real data)."""

CHAINS: tuple[Chain, ...] = (
    authorities.CHAIN,
    lychee.CHAIN,
    ocop.CHAIN,
    shrimp.CHAIN,
    milk.CHAIN,
    beer.CHAIN,
)

DEMO_LOGINS: tuple[UserSpec, ...] = tuple(user for chain in CHAINS for user in chain.users)
"""Every demo login, in the order the README's table lists them."""

__all__ = ["CHAINS", "DEMO_LOGINS", "DEMO_PASSWORD", "PLATFORM_CODE", "is_loaded", "load"]


def is_loaded(session: Session) -> bool:
    """True when the demo platform organization exists."""
    found = session.scalar(select(Organization.id).where(Organization.code == PLATFORM_CODE))
    return found is not None


def load(session: Session, *, if_empty: bool = False, settings: Settings | None = None) -> str:
    """Loads the demo data and returns a one-line summary; flushes, never commits.

    With `if_empty`, does nothing when the demo data is already there; without it, loading twice
    is refused (codes, GTINs and logins are unique). `settings` (default: the environment's)
    gives the EPCIS schema and the secret the stamp PINs are hashed with.
    """
    settings = settings or get_settings()
    if is_loaded(session):
        if if_empty:
            return f"demo data already loaded (organization {PLATFORM_CODE} exists): nothing to do"
        raise Conflict(N_("The demo data is already loaded"))
    communes = add_communes(session, COMMUNES)
    loader = Loader(session, DEMO_PASSWORD)
    loader.load(CHAINS)
    loader.capture_events(events.journal(), settings)
    loader.issue_stamps(settings)
    loader.record_inspections()
    session.flush()
    return f"{loader.summary()}; {communes} communes added"
