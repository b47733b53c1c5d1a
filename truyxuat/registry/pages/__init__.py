"""Registry web pages: one module per kind of master data, sharing the registry templates."""

from pathlib import Path

from fastapi import APIRouter

from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent.parent / "templates")

from truyxuat.registry.pages import (  # noqa: E402  (templates must be registered first)
    admin_units,
    approvals,
    certifications,
    facilities,
    growing_areas,
    imports,
    organizations,
    packing_houses,
    products,
)

router = APIRouter(include_in_schema=False)
for module in (
    admin_units,
    organizations,
    facilities,
    growing_areas,
    packing_houses,
    products,
    certifications,
    approvals,
    imports,
):
    router.include_router(module.router)
