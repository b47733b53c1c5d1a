"""Registry API: Vietnam's administrative units (provinces and communes), public reference data."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from truyxuat.auth.deps import DB
from truyxuat.registry.models import AdminUnit

router = APIRouter(tags=["registry"])


class AdminUnitOut(BaseModel):
    """A province or commune."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None


@router.get("/admin-units", response_model=list[AdminUnitOut])
def list_admin_units(db: DB, parent_code: str | None = None) -> list[AdminUnit]:
    """Lists provinces, or the communes of one province when `parent_code` is given."""
    query = select(AdminUnit).order_by(AdminUnit.name)
    if parent_code:
        query = query.where(AdminUnit.parent_code == parent_code)
    else:
        query = query.where(AdminUnit.level == "province")
    return list(db.scalars(query))
