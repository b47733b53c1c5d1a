"""Oversight API: alerts (/api/v1/oversight/...)."""

from fastapi import APIRouter

router = APIRouter(tags=["oversight"])
