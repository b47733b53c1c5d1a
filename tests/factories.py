"""Plain factory functions for tests: each makes one thing in the real database."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.models import Role, User
from truyxuat.gs1 import make_gln, make_gtin13
from truyxuat.registry.models import Organization, OrgKind, OrgStatus

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_org(
    db: Session,
    *,
    kind: OrgKind = OrgKind.enterprise,
    province_code: str | None = "24",
    prefix: str | None = None,
    **fields: Any,
) -> Organization:
    """Creates an approved organization with a unique code, GS1 prefix and GLN."""
    n = next(_seq)
    prefix = prefix or f"893{n:06d}"[:9]
    org = Organization(
        code=fields.pop("code", f"ORG{n:05d}"),
        kind=kind,
        name=fields.pop("name", f"Công ty thử nghiệm {n}"),
        province_code=province_code,
        gs1_company_prefix=prefix if kind is not OrgKind.authority else None,
        gln=make_gln(prefix, 1) if kind is not OrgKind.authority else None,
        status=fields.pop("status", OrgStatus.approved),
        **fields,
    )
    db.add(org)
    db.flush()
    return org


def make_authority(db: Session, *, province_code: str | None = "24") -> Organization:
    """Creates a provincial authority (None: a national one)."""
    return make_org(db, kind=OrgKind.authority, province_code=province_code)


def make_user(db: Session, org: Organization, role: Role, *, email: str | None = None) -> User:
    """Creates a user holding `role` in `org`."""
    n = next(_seq)
    user = auth_service.create_user(
        db, email=email or f"user{n}@example.vn", full_name=f"Người dùng {n}", password=PASSWORD
    )
    auth_service.add_membership(db, user=user, org=org, role=role)
    return user


def api_headers(db: Session, org: Organization, role: Role = Role.org_admin) -> dict[str, str]:
    """Creates an API key and returns the headers that present it."""
    _, plain = auth_service.create_api_key(db, org=org, role=role)
    db.flush()
    return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}


def gtin_for(org: Organization, item: int) -> str:
    """A valid GTIN-13 under the organization's prefix."""
    assert org.gs1_company_prefix
    return make_gtin13(org.gs1_company_prefix, item)
