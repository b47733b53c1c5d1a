"""Pydantic shapes of the EPCIS API that are not EPCIS documents themselves."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
