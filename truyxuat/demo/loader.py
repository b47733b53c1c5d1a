"""Writes the demo chains through the registry services, acting as the platform administrator.

Every row goes through the same service functions the API and the pages call, so the demo data
passes the same checks (GS1 check digits, polygons against declared areas, communes inside their
provinces) and leaves the same audit trail. Codes an authority approves are approved by that
province's demo authority user. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role, User
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.demo import events as demo_events
from truyxuat.demo import inspections as demo_inspections
from truyxuat.demo.specs import (
    CertSpec,
    Chain,
    Commune,
    FacilitySpec,
    GrowingAreaSpec,
    OrgSpec,
    PackingHouseSpec,
    ProductSpec,
    UserSpec,
)
from truyxuat.demo.stamping import acting_for, issue_demo_stamps
from truyxuat.epcis import service as epcis_service
from truyxuat.epcis.validation import SCHEMA_ENV, EpcisValidator
from truyxuat.gs1 import make_gln, make_gtin13
from truyxuat.registry.models import (
    AdminUnit,
    CertScope,
    CodeStatus,
    Facility,
    GrowingArea,
    Organization,
    OrgStatus,
    PackingHouse,
    Product,
)
from truyxuat.registry.schemas.certifications import CertificationIn, vietnam_today
from truyxuat.registry.schemas.facilities import FacilityIn
from truyxuat.registry.schemas.growing_areas import GrowingAreaIn, OwnerIn
from truyxuat.registry.schemas.organizations import OrganizationIn
from truyxuat.registry.schemas.packing_houses import PackingHouseIn
from truyxuat.registry.schemas.products import ProductIn
from truyxuat.registry.service import (
    approvals,
    certifications,
    facilities,
    growing_areas,
    organizations,
    packing_houses,
    products,
)

LOADER_LABEL = "truyxuat demo load"


def add_communes(session: Session, communes: tuple[Commune, ...]) -> int:
    """Adds the communes that are missing (idempotent); returns how many were added."""
    added = 0
    for commune in communes:
        if session.get(AdminUnit, commune.code) is None:
            session.add(
                AdminUnit(
                    code=commune.code,
                    name=commune.name,
                    level="commune",
                    parent_code=commune.province_code,
                )
            )
            added += 1
    session.flush()
    return added


def _validator(settings: Settings) -> EpcisValidator:
    """The capture validator; without a configured GS1 schema, the CBV and GS1 rules alone.

    The GS1 schema is not bundled, and `make run` must load the demo on a fresh checkout: the
    demo's events are then still checked by every rule beyond the schema (vocabularies,
    identifiers and check digits, times, required fields), and by the schema when it is set.
    """
    if settings.epcis_schema is not None or os.environ.get(SCHEMA_ENV):
        return epcis_service.validator_for(settings.epcis_schema)
    return EpcisValidator({"type": "object"})


@contextmanager
def _one_hash_per_password() -> Iterator[None]:
    """Has every demo login share one argon2 hash of the (published) demo password.

    A fresh hash costs about a tenth of a second by design; two dozen of them were most of
    the demo's load time (`make run`). The hash is still a real argon2 hash of the password.
    """
    original = auth_service.hash_password
    auth_service.hash_password = lru_cache(maxsize=1)(original)
    try:
        yield
    finally:
        auth_service.hash_password = original


class Loader:
    """Creates the chains in order, remembering each row by its natural key for later links."""

    def __init__(self, session: Session, password: str) -> None:
        """Starts with nothing loaded; every demo user gets `password`."""
        self.session = session
        self.password = password
        self.orgs: dict[str, Organization] = {}
        self.users: dict[str, User] = {}
        self.facilities: dict[str, Facility] = {}
        self.areas: dict[str, GrowingArea] = {}
        self.houses: dict[str, PackingHouse] = {}
        self.products: dict[str, Product] = {}
        self.counts: Counter[str] = Counter()
        # Until the platform's own administrator exists, a bootstrap identity acts for it.
        self.admin = Principal(
            label=LOADER_LABEL, grants=(Grant(uuid.UUID(int=0), Role.platform_admin, None),)
        )
        self.deciders: dict[str | None, Principal] = {}

    def load(self, chains: tuple[Chain, ...]) -> None:
        """Loads organizations and users of every chain first, then their master data."""
        with _one_hash_per_password():
            for chain in chains:
                for org in chain.orgs:
                    self.add_org(org)
                for user in chain.users:
                    self.add_user(user)
        for chain in chains:
            for facility in chain.facilities:
                self.add_facility(facility)
            for area in chain.growing_areas:
                self.add_growing_area(area)
            for house in chain.packing_houses:
                self.add_packing_house(house)
            for product in chain.products:
                self.add_product(product)
            for cert in chain.certifications:
                self.add_certification(cert)

    def add_org(self, spec: OrgSpec) -> Organization:
        """Registers an organization; a pending one registers itself (no acting principal)."""
        gln = make_gln(spec.gs1_prefix, spec.gln_ref) if spec.gs1_prefix and spec.gln_ref else None
        data = OrganizationIn(
            code=spec.code,
            kind=spec.kind,
            name=spec.name,
            name_en=spec.name_en,
            tax_code=spec.tax_code,
            gs1_company_prefix=spec.gs1_prefix,
            gln=gln,
            province_code=spec.province_code,
            commune_code=spec.commune_code,
            address=spec.address,
            contact_name=spec.contact_name,
            phone=spec.phone,
            email=spec.email,
            website=spec.website,
        )
        actor = None if spec.status is OrgStatus.pending else self.admin
        org = organizations.create_organization(self.session, actor, data)
        self.orgs[spec.code] = org
        self.counts["organizations"] += 1
        return org

    def add_user(self, spec: UserSpec) -> User:
        """Creates a login holding one role in one organization."""
        org = self.orgs[spec.org_code]
        user = auth_service.create_user(
            self.session, email=spec.email, full_name=spec.full_name, password=self.password
        )
        auth_service.add_membership(self.session, user=user, org=org, role=spec.role)
        auth_service.record(
            self.session,
            self.admin,
            "create",
            "user",
            user.id,
            org.id,
            {"email": user.email, "role": spec.role, "via": "demo"},
        )
        self.users[spec.email] = user
        self.counts["users"] += 1
        if spec.role is Role.platform_admin:
            self.admin = self._principal(user)
        elif spec.role is Role.authority:
            self.deciders.setdefault(org.province_code, self._principal(user))
        return user

    def _principal(self, user: User) -> Principal:
        """The principal a signed-in user would have."""
        return Principal(
            label=user.email,
            grants=auth_service.grants_for_user(self.session, user.id),
            user_id=user.id,
        )

    def _decider(self, province_code: str) -> Principal:
        """The demo authority user who decides codes in a province."""
        return self.deciders[province_code]

    def add_facility(self, spec: FacilitySpec) -> Facility:
        """Registers a facility, with a GLN under its owner's prefix when it has one."""
        org = self.orgs[spec.org_code]
        prefix = org.gs1_company_prefix
        data = FacilityIn(
            org_id=org.id,
            kind=spec.kind,
            name=spec.name,
            gln=make_gln(prefix, spec.gln_ref) if prefix and spec.gln_ref else None,
            province_code=spec.province_code,
            commune_code=spec.commune_code,
            address=spec.address,
            latitude=spec.latitude,
            longitude=spec.longitude,
        )
        facility = facilities.create_facility(self.session, self.admin, data)
        self.facilities[spec.key] = facility
        self.counts["facilities"] += 1
        return facility

    def add_growing_area(self, spec: GrowingAreaSpec) -> GrowingArea:
        """Applies for a growing-area code and, unless it stays pending, has it approved."""
        data = GrowingAreaIn(
            org_id=self.orgs[spec.org_code].id,
            code=spec.code,
            name=spec.name,
            crop=spec.crop,
            variety=spec.variety,
            area_ha=spec.area_ha,
            geometry={"type": "Polygon", "coordinates": [[list(p) for p in spec.ring]]},
            province_code=spec.province_code,
            commune_code=spec.commune_code,
            export_markets=list(spec.export_markets),
            owners=[
                OwnerIn(
                    name=o.name,
                    phone=o.phone,
                    area_ha=o.area_ha,
                    household_org_id=self.orgs[o.household_code].id if o.household_code else None,
                )
                for o in spec.owners
            ],
        )
        area = growing_areas.create_growing_area(self.session, self.admin, data)
        if spec.approved:
            approvals.decide_growing_area(
                self.session, self._decider(spec.province_code), area.id, "approved"
            )
        self.areas[spec.code] = area
        self.counts["growing areas"] += 1
        return area

    def add_packing_house(self, spec: PackingHouseSpec) -> PackingHouse:
        """Applies for a packing-house code and, unless it stays pending, has it approved."""
        data = PackingHouseIn(
            org_id=self.orgs[spec.org_code].id,
            code=spec.code,
            name=spec.name,
            facility_id=self.facilities[spec.facility_key].id if spec.facility_key else None,
            crops=list(spec.crops),
            capacity_tonnes_per_day=spec.capacity_tonnes_per_day,
            province_code=spec.province_code,
            commune_code=spec.commune_code,
            address=spec.address,
            export_markets=list(spec.export_markets),
        )
        house = packing_houses.create_packing_house(self.session, self.admin, data)
        if spec.approved:
            approvals.decide_packing_house(
                self.session, self._decider(spec.province_code), house.id, "approved"
            )
        self.houses[spec.code] = house
        self.counts["packing houses"] += 1
        return house

    def add_product(self, spec: ProductSpec) -> Product:
        """Registers a product with a GTIN-13 under its owner's GS1 prefix."""
        org = self.orgs[spec.org_code]
        assert org.gs1_company_prefix, f"{spec.org_code} needs a GS1 prefix for products"
        data = ProductIn(
            org_id=org.id,
            gtin=make_gtin13(org.gs1_company_prefix, spec.item_ref),
            names=spec.names,
            descriptions=spec.descriptions,
            category=spec.category,
            moit_group=spec.moit_group,
            ocop_stars=spec.ocop_stars,
            ocop_year=spec.ocop_year,
            net_content=spec.net_content,
            origin_province_code=spec.origin_province_code,
            temperature_min=spec.temperature_min,
            temperature_max=spec.temperature_max,
        )
        product = products.create_product(self.session, self.admin, data)
        self.products[spec.key] = product
        self.counts["products"] += 1
        return product

    def add_certification(self, spec: CertSpec) -> None:
        """Registers a certificate, dated relative to today so it is always current."""
        valid_from = vietnam_today() - timedelta(days=spec.issued_days_ago)
        data = CertificationIn(
            org_id=self.orgs[spec.org_code].id,
            scheme=spec.scheme,
            scheme_name=spec.scheme_name,
            issuer=spec.issuer,
            number=spec.number,
            scope_type=spec.scope_type,
            scope_id=self._scope_id(spec.scope_type, spec.scope_key),
            valid_from=valid_from,
            valid_to=valid_from + timedelta(days=spec.valid_days - 1),
        )
        certifications.create_certification(self.session, self.admin, data)
        self.counts["certificates"] += 1

    def _scope_id(self, scope_type: CertScope, key: str) -> uuid.UUID:
        """The id of the thing a certificate covers, from its natural key."""
        if scope_type is CertScope.organization:
            return self.orgs[key].id
        if scope_type is CertScope.facility:
            return self.facilities[key].id
        if scope_type is CertScope.growing_area:
            return self.areas[key].id
        if scope_type is CertScope.packing_house:
            return self.houses[key].id
        return self.products[key].id

    def capture_events(self, journal: dict[str, list[dict[str, Any]]], settings: Settings) -> None:
        """Captures each organization's demo events as one EPCISDocument, acting for it.

        One document per organization keeps the load fast and goes through the same
        validation, hashing and storage as POST /epcis/capture.
        """
        validator = _validator(settings)
        for org_code, events in journal.items():
            principal = acting_for(self.orgs[org_code], f"{LOADER_LABEL} ({org_code})")
            job = epcis_service.capture_document(
                self.session,
                principal,
                data=json.dumps(demo_events.document(events)).encode(),
                content_type="application/ld+json",
                validator=validator,
            )
            self.counts["EPCIS events"] += job.event_count

    def issue_stamps(self, settings: Settings) -> None:
        """Issues, activates and voids the demo stamp runs."""
        self.counts["stamps"] += issue_demo_stamps(self.session, self.orgs, settings, LOADER_LABEL)

    def record_inspections(self) -> None:
        """Records the demo inspection and its violations as the province's inspector."""
        self.counts["violations"] += demo_inspections.record(
            self.session,
            self.orgs,
            self.areas,
            self._principal(self.users[demo_inspections.INSPECTOR]),
            self._principal(self.users[demo_inspections.RECORD_KEEPER]),
        )
        self.counts["inspections"] += 1

    def summary(self) -> str:
        """One line saying what was loaded and what awaits an authority."""
        loaded = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        waiting = {
            "organization": sum(o.status is OrgStatus.pending for o in self.orgs.values()),
            "growing area": sum(a.status is CodeStatus.pending for a in self.areas.values()),
            "packing house": sum(h.status is CodeStatus.pending for h in self.houses.values()),
        }
        pending = ", ".join(f"{n} {what}" for what, n in waiting.items() if n)
        return f"demo data loaded: {loaded}; awaiting approval: {pending or 'nothing'}"
