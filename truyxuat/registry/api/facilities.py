"""Registry API: facilities (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
