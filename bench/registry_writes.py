"""Registry writes: organizations created through the service (validation, audit) per second,
against the ceiling of raw multi-row INSERTs of the same rows into the same table."""

from __future__ import annotations

from sqlalchemy import insert

from bench.common import fresh_database, rate, report
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.db import make_engine, make_sessionmaker, new_id, session_scope
from truyxuat.gs1 import make_gln
from truyxuat.registry.models import Organization, OrgKind
from truyxuat.registry.schemas.organizations import OrganizationIn
from truyxuat.registry.service.organizations import create_organization

N = 2000


def _bodies(start: int) -> list[OrganizationIn]:
    return [
        OrganizationIn(
            code=f"HTX{start + i:06d}",
            kind=OrgKind.cooperative,
            name=f"Hợp tác xã {start + i}",
            gs1_company_prefix=f"893{start + i:06d}",
            gln=make_gln(f"893{start + i:06d}", 1),
            province_code="24",
        )
        for i in range(N)
    ]


def main() -> None:
    """Measures service writes and the raw-insert ceiling on SQLite and PostgreSQL."""
    for kind in ("sqlite", "postgresql"):
        _measure(kind)


def _measure(kind: str) -> None:
    if True:
        with fresh_database(kind) as url:
            factory = make_sessionmaker(make_engine(url))
            admin = Principal(label="bench", grants=(Grant(new_id(), Role.platform_admin, None),))
            raw_rows = [
                {**b.model_dump(), "id": new_id(), "status": "approved"} for b in _bodies(0)
            ]

            def raw() -> int:
                with session_scope(factory) as session:
                    session.execute(insert(Organization), raw_rows)
                return N

            bodies = _bodies(N)

            def service() -> int:
                with session_scope(factory) as session:
                    for body in bodies:
                        create_organization(session, admin, body)
                return N

            ceiling = rate(raw)
            figure = rate(service)
            report(f"registry org create [{kind}]", figure, "rows/s", ceiling, "raw INSERT")
