"""Shapes shared by every registry resource."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing: the items, the total count and where the page starts."""

    items: list[T]
    total: int
    offset: int
    limit: int
