"""Registry API: growing_areas (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
