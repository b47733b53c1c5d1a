"""Pydantic shapes of the EPCIS API that are not EPCIS documents themselves."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CaptureJobOut(BaseModel):
    """A capture job as GET /epcis/capture/{captureID} reports it."""

    model_config = ConfigDict(from_attributes=True)

    captureID: uuid.UUID
    running: bool
    success: bool
    captureErrorBehaviour: str = "rollback"
    errors: list[dict[str, Any]]
    eventCount: int
    createdAt: datetime
    finishedAt: datetime | None


class NamedQueryIn(BaseModel):
    """POST /epcis/queries: a name and the SimpleEventQuery parameters it stands for."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.~-]+$")
    query: dict[str, str | list[str]] = Field(default_factory=dict)


class SubscriptionIn(BaseModel):
    """POST /epcis/queries/{name}/subscriptions: where to push new events, and the HMAC key.

    Every subscription streams: events are pushed as they are captured (a `schedule` is
    accepted and treated as a stream).
    """

    dest: str = Field(max_length=2048, pattern=r"^https?://[^\s/]+\S*$")
    signatureToken: str | None = Field(default=None, min_length=1, max_length=512)
    secret: str | None = Field(default=None, min_length=1, max_length=512)
    reportIfEmpty: bool = False
    stream: bool | None = None
    schedule: dict[str, Any] | None = None
    initialRecordTime: datetime | None = None

    @model_validator(mode="after")
    def _has_secret(self) -> SubscriptionIn:
        """A subscription needs a signatureToken (or secret) to sign what it sends."""
        if not (self.signatureToken or self.secret):
            raise ValueError("signatureToken (or secret) is required to sign the deliveries")
        if self.initialRecordTime is not None and self.initialRecordTime.tzinfo is None:
            raise ValueError("initialRecordTime needs a time zone")
        return self
