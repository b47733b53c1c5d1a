"""Oversight API: forecast (/api/v1/oversight/...)."""

from fastapi import APIRouter

router = APIRouter(tags=["oversight"])
