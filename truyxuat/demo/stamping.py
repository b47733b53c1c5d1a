"""Issues, activates and voids the demo stamp runs through the stamps service.

The service draws serials and PINs at random, as it must for real stamps. Demo stamps need
serials and PINs known in advance (README walkthroughs, resolver and recall tests), so while a
demo run is issued the two random sources are swapped for the run's fixed lists
(`DemoStampRun.serials` / `.pins`); everything else — the run, the rows, the PIN hashes, the
state changes and the audit trail — is the service's own work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.demo.journeys import DEMO_STAMPS, DemoStampRun
from truyxuat.registry.models import Organization
from truyxuat.stamps import codes, pins, service
from truyxuat.stamps.models import StampKind
from truyxuat.stamps.schemas import StampRunIn


@contextmanager
def _known_codes(run: DemoStampRun) -> Iterator[None]:
    """Makes the stamps service draw this run's fixed serials and PINs, in issue order."""
    serials = iter(run.serials)
    run_pins = iter(run.pins.values())
    saved = codes.new_serials, pins.new_pins

    def fixed_serials(count: int, length: int = codes.SERIAL_LENGTH) -> list[str]:
        return [next(serials) for _ in range(count)]

    def fixed_pins(count: int, length: int = pins.PIN_LENGTH) -> list[str]:
        return [next(run_pins) for _ in range(count)]

    codes.new_serials, pins.new_pins = fixed_serials, fixed_pins
    try:
        yield
    finally:
        codes.new_serials, pins.new_pins = saved


def acting_for(org: Organization, label: str) -> Principal:
    """A principal writing for one organization (as its administrator would)."""
    return Principal(label=label, grants=(Grant(org.id, Role.org_admin, org.province_code),))


def issue_demo_stamps(
    session: Session, orgs: dict[str, Organization], settings: Settings, label: str
) -> int:
    """Issues every run of `DEMO_STAMPS`, then activates and voids its ranges; returns stamps."""
    total = 0
    for demo in DEMO_STAMPS:
        principal = acting_for(orgs[demo.org_code], label)
        data = StampRunIn(gtin=demo.gtin, lot=demo.lot, count=demo.count, kind=StampKind(demo.kind))
        with _known_codes(demo):
            issued = service.issue_run(session, principal, data, settings)
        run_id, serials = issued.run.id, demo.serials
        if demo.activated is not None:
            first, last = demo.activated
            service.activate(
                session,
                principal,
                run_id,
                lot=demo.lot,
                from_serial=serials[first - 1],
                to_serial=serials[last - 1],
            )
        if demo.voided is not None:
            first, last = demo.voided
            service.void(
                session,
                principal,
                run_id,
                reason=demo.void_reason,
                from_serial=serials[first - 1],
                to_serial=serials[last - 1],
            )
        total += demo.count
    return total
