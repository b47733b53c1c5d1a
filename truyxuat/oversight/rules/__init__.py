"""Early-warning rules: each reads the real tables and returns findings, one per situation.

A finding names its situation with a dedup key (a stamp, a certificate used after it lapsed, a
harvest, a lot, a shipment...), so evaluating the rules again finds the same alert. Its
evidence items carry a `ref` each; an alert already resolved is raised again only when a later
run brings a ref it has not seen (new evidence of the same situation). The service
(`truyxuat.oversight.service.alerts`) turns findings into alerts and notifications.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.config import Settings
from truyxuat.epcis.epc_format import DIGITAL_LINK_BASE
from truyxuat.oversight.models import AlertSeverity
from truyxuat.registry.models import Organization

# At most this many evidence items are kept on an alert (the count says how many there were).
MAX_EVIDENCE = 50


@dataclass
class Finding:
    """One situation a rule found: who must act, how serious, and what shows it."""

    rule: str
    dedup_key: str
    severity: AlertSeverity
    org_id: uuid.UUID | None
    province_code: str | None
    title: str
    params: dict[str, Any]
    evidence: list[dict[str, Any]]
    evidence_url: str = ""
    gtin: str | None = None
    count: int = 0

    def __post_init__(self) -> None:
        """Counts the evidence when the rule gave no count, and keeps the newest items."""
        if not self.count:
            self.count = len(self.evidence)
        self.evidence = self.evidence[:MAX_EVIDENCE]


@dataclass(frozen=True)
class RuleContext:
    """What every rule is given: the session, the settings and the moment of the run."""

    db: Session
    settings: Settings
    now: datetime
    provinces: dict[uuid.UUID, str | None] = field(default_factory=dict)

    def province_of(self, org_id: uuid.UUID | None) -> str | None:
        """The province of an organization (remembered for the run)."""
        if org_id is None:
            return None
        if org_id not in self.provinces:
            self.provinces[org_id] = self.db.scalar(
                select(Organization.province_code).where(Organization.id == org_id)
            )
        return self.provinces[org_id]


Rule = Callable[[RuleContext], Iterable[Finding]]


def at(moment: datetime | None) -> str | None:
    """A moment as ISO text for the evidence (JSON)."""
    return moment.isoformat() if moment else None


def trace_url(identifier: str) -> str:
    """The trace page of an identifier (a lot, an item, a pallet)."""
    return "/trace?epc=" + quote(identifier, safe="")


def passport_url(identifier: str) -> str:
    """The passport of a Digital Link identifier on this resolver, else its trace."""
    if identifier.startswith(DIGITAL_LINK_BASE + "/01/"):
        return identifier[len(DIGITAL_LINK_BASE) :]
    return trace_url(identifier)


def event_evidence(
    org_id: uuid.UUID, event_id: str, event_time: datetime, identifier: str | None, **extra: Any
) -> dict[str, Any]:
    """An evidence item naming one EPCIS event, linked to the trace of what it names."""
    return {
        "kind": "event",
        "ref": f"event:{org_id}:{event_id}",
        "label": event_id,
        "at": at(event_time),
        "url": trace_url(identifier) if identifier else "",
        **extra,
    }


def all_rules() -> dict[str, Rule]:
    """Every rule by name, in the order they run."""
    from truyxuat.oversight.rules import codes, cold_chain, diary, mass, moit, stamps

    return {
        stamps.COPIED_STAMP: stamps.copied_stamps,
        stamps.PIN_BRUTE_FORCE: stamps.pin_brute_force,
        codes.INVALID_CODE_USED: codes.invalid_codes_used,
        diary.EARLY_HARVEST: diary.early_harvests,
        cold_chain.TEMPERATURE_EXCURSION: cold_chain.temperature_excursions,
        mass.MASS_IMBALANCE: mass.mass_imbalances,
        mass.SHIPMENT_NOT_RECEIVED: mass.shipments_not_received,
        moit.UNTRACED_MANDATORY_PRODUCT: moit.untraced_mandatory_products,
    }
