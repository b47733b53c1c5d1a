"""Registry API: products (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
