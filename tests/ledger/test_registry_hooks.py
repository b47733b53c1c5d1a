"""Registry changes are logged: decisions on codes, certificates, stamp runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    make_authority,
    make_certification,
    make_growing_area,
    make_org,
    make_product,
)
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.ledger import service
from truyxuat.ledger.models import LedgerEntry
from truyxuat.registry.service import approvals, certifications
from truyxuat.stamps import service as stamps
from truyxuat.stamps.schemas import StampRunIn


def kinds(db: Session) -> list[str]:
    """The kinds of the entries appended so far, in order."""
    return list(db.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.id)))


def test_registry_changes_are_appended_with_their_organization(
    db: Session, settings: Settings
) -> None:
    """Approving a growing area, creating and revoking a certificate and issuing stamps each
    append one entry naming the organization; the integrator puts them in the tree."""
    org = make_org(db)
    authority = make_authority(db, province_code="24")
    decider = Principal(label="a", grants=(Grant(authority.id, Role.authority, "24"),))
    admin = Principal(label="o", grants=(Grant(org.id, Role.org_admin, org.province_code),))
    area = make_growing_area(db, org)
    approvals.decide_growing_area(db, decider, area.id, "approved")
    cert = make_certification(db, org)
    certifications.revoke_certification(db, admin, cert.id, "withdrawn")
    product = make_product(db, org)
    stamps.issue_run(db, admin, StampRunIn(product_id=product.id, count=2), settings)
    logged = kinds(db)
    assert "registry.growing_area.approved" in logged
    assert "registry.certification.revoked" in logged
    assert "stamps.run.issued" in logged
    subjects = set(db.scalars(select(LedgerEntry.subject)))
    assert subjects == {str(org.id)}
    assert service.integrate(db) == len(logged)
    record = {"id": cert.id, "revoked_at": cert.revoked_at, "reason": "withdrawn"}
    assert service.find_entry(db, service.record_hash(record)) is not None
