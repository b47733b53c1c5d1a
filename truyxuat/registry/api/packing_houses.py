"""Registry API: packing_houses (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
