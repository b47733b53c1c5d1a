"""Oversight REST API (/api/v1/oversight/...): one router module per part."""

from fastapi import APIRouter

from truyxuat.oversight.api import alerts, dashboard, forecast, inspections

router = APIRouter()
for module in (dashboard, inspections, alerts, forecast):
    router.include_router(module.router)
