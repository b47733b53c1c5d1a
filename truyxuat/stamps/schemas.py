"""Stamp API shapes (pydantic in/out only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from truyxuat.stamps.models import RunState, StampKind, StampState


class StampRunIn(BaseModel):
    """An order of stamps: the product (by id or GTIN), an optional lot, how many, which kind."""

    product_id: uuid.UUID | None = None
    gtin: str | None = None
    lot: str | None = None
    count: int
    kind: StampKind = StampKind.qr


class StampRunOut(BaseModel):
    """A print run and its progress."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    product_id: uuid.UUID
    gtin: str
    lot: str | None
    kind: StampKind
    count: int
    state: RunState
    activated_count: int
    voided_count: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class RunPage(BaseModel):
    """One page of print runs."""

    items: list[StampRunOut]
    total: int
    offset: int
    limit: int


class PinOut(BaseModel):
    """One anti-counterfeit PIN, returned once when the run is issued."""

    serial: str
    pin: str


class IssuedRunOut(StampRunOut):
    """The run just issued; for anti-counterfeit stamps the PINs, shown this one time only."""

    pins: list[PinOut] | None = None


class RangeIn(BaseModel):
    """A serial range in issue order (first and last stamp of a roll); none means the whole run.

    Each end may be a serial or the Digital Link URI scanned from the stamp.
    """

    from_serial: str | None = None
    to_serial: str | None = None


class ActivateIn(RangeIn):
    """Binds the stamps of a range to a lot and makes them live."""

    lot: str


class VoidIn(RangeIn):
    """Withdraws the stamps of a range (damaged, lost, recalled)."""

    reason: str = Field(min_length=1, max_length=300)


class RangeOut(BaseModel):
    """How many stamps a range operation changed, and the run afterwards."""

    changed: int
    run: StampRunOut


class StampOut(BaseModel):
    """One stamp with the Digital Link printed in its QR code."""

    seq: int
    serial: str
    lot: str | None
    state: StampState
    uri: str
    signature: str
    activated_at: datetime | None
    voided_at: datetime | None


class StampPage(BaseModel):
    """One page of a run's stamps in issue order."""

    items: list[StampOut]
    total: int
    offset: int
    limit: int


class VerifyIn(BaseModel):
    """A consumer's check of an anti-counterfeit stamp: the scanned URI (or GTIN + serial), PIN."""

    uri: str | None = None
    gtin: str | None = None
    serial: str | None = None
    pin: str = Field(min_length=1, max_length=16)


class VerifyOut(BaseModel):
    """The verdict: genuine, wrong_pin, unknown (no such stamp) or voided."""

    result: str
    genuine: bool
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    attempts_left: int | None = None


class PublicKeyOut(BaseModel):
    """The key that checks stamps' signed short codes offline."""

    algorithm: str = "Ed25519"
    public_key: str
    message: str = "{gtin}|{serial}"
    encoding: str = "base64url, no padding"
