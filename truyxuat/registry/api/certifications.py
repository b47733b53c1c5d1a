"""Registry API: certifications (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
