"""Registry REST API (/api/v1/...): one router module per kind of master data."""

from fastapi import APIRouter

from truyxuat.registry.api import (
    admin_units,
    certifications,
    facilities,
    growing_areas,
    imports,
    organizations,
    packing_houses,
    products,
)

router = APIRouter()
for module in (
    admin_units,
    organizations,
    facilities,
    growing_areas,
    packing_houses,
    products,
    certifications,
    imports,
):
    router.include_router(module.router)
