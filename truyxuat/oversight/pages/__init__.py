"""Oversight web pages (/oversight/...), sharing the oversight templates."""

from pathlib import Path

from fastapi import APIRouter

from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent.parent / "templates")

from truyxuat.oversight.pages import (  # noqa: E402  (templates must be registered first)
    alerts,
    dashboard,
    forecast,
    inspections,
)

router = APIRouter(include_in_schema=False)
for module in (dashboard, inspections, alerts, forecast):
    router.include_router(module.router)
