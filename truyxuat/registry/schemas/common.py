"""Shapes shared by every registry resource."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

MAX_OFFSET = 1_000_000_000
"""The largest listing offset accepted (a bigger one overflows the stores' integers)."""


class Page(BaseModel, Generic[T]):
    """One page of a listing: the items, the total count and where the page starts."""

    items: list[T]
    total: int
    offset: int
    limit: int
