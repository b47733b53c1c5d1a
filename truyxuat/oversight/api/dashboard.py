"""Oversight API: dashboard (/api/v1/oversight/...)."""

from fastapi import APIRouter

router = APIRouter(tags=["oversight"])
