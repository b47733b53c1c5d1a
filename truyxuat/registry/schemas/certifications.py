"""Shapes for certifications (VietGAP, GlobalGAP, organic, HACCP...) and their derived state."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from pydantic import BaseModel, ConfigDict, Field, computed_field

from truyxuat.registry.models import CertScheme, CertScope

# Certificates are issued and expire by calendar day in Viet Nam (UTC+7, no daylight saving).
VIETNAM_TZ = timezone(timedelta(hours=7))
EXPIRING_WITHIN_DAYS = 30
FILES_URL = "/api/v1/files/{file_id}"


def vietnam_today() -> date:
    """Today's date in Viet Nam, the day certificates are valid or expired on."""
    return datetime.now(UTC).astimezone(VIETNAM_TZ).date()


class CertState(enum.StrEnum):
    """Where a certificate stands on a given day."""

    not_yet_valid = "not_yet_valid"
    valid = "valid"
    expiring = "expiring"
    expired = "expired"
    revoked = "revoked"
    suspended = "suspended"


def cert_state(
    valid_from: date,
    valid_to: date,
    revoked_at: datetime | None,
    on: date,
    suspended_at: datetime | None = None,
) -> CertState:
    """The state of a certificate on a day: revoked, suspended (by an inspection's violation),
    expired, expiring (≤30 days), valid..."""
    if revoked_at is not None:
        return CertState.revoked
    if suspended_at is not None:
        return CertState.suspended
    if valid_to < on:
        return CertState.expired
    if valid_from > on:
        return CertState.not_yet_valid
    if valid_to <= on + timedelta(days=EXPIRING_WITHIN_DAYS):
        return CertState.expiring
    return CertState.valid


class CertificationIn(BaseModel):
    """Fields a certificate is registered with; `org_id` defaults to the caller's organization.

    For scope `organization`, `scope_id` may be left out (it is the organization itself).
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: uuid.UUID | None = None
    scheme: CertScheme
    scheme_name: str = Field(default="", max_length=120)
    issuer: str = Field(min_length=2, max_length=300)
    number: str = Field(min_length=1, max_length=120)
    scope_type: CertScope
    scope_id: uuid.UUID | None = None
    valid_from: date
    valid_to: date


class CertificationPatch(BaseModel):
    """Fields of a certificate that may be corrected (not its owner or scope)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    scheme_name: str | None = Field(default=None, max_length=120)
    issuer: str | None = Field(default=None, min_length=2, max_length=300)
    number: str | None = Field(default=None, min_length=1, max_length=120)
    valid_from: date | None = None
    valid_to: date | None = None


class RevocationIn(BaseModel):
    """Why a certificate is revoked (kept in the audit log)."""

    reason: str = Field(default="", max_length=2000)


class CertificationOut(BaseModel):
    """A certificate as the API returns it, with its state today and its document's URL."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    scheme: CertScheme
    scheme_name: str
    issuer: str
    number: str
    scope_type: CertScope
    scope_id: uuid.UUID
    valid_from: date
    valid_to: date
    document_file_id: uuid.UUID | None
    revoked_at: datetime | None
    suspended_at: datetime | None = None
    suspension_reason: str = ""
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state(self) -> CertState:
        """valid, expiring (within 30 days), expired, revoked, suspended or not yet valid, today."""
        return cert_state(
            self.valid_from, self.valid_to, self.revoked_at, vietnam_today(), self.suspended_at
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def document_url(self) -> str | None:
        """Where the scanned certificate is served, if one was uploaded."""
        if self.document_file_id is None:
            return None
        return FILES_URL.format(file_id=self.document_file_id)
