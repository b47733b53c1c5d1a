"""Oversight API: inspections, their photos and violations, remedies and their verification
(/api/v1/oversight/...)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy.orm import Session

from truyxuat.auth.deps import DB, Caller
from truyxuat.config import Settings
from truyxuat.oversight.models import (
    Inspection,
    InspectionResult,
    SuspensionTarget,
    Violation,
    ViolationSeverity,
    ViolationState,
)
from truyxuat.oversight.service import inspections as service
from truyxuat.registry.schemas.common import MAX_OFFSET

router = APIRouter(tags=["oversight"])
FILES_URL = "/api/v1/files/{file_id}"


def app_settings(request: Request) -> Settings:
    """The running app's settings (upload limit, data folder)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def read_upload(upload: UploadFile, settings: Settings) -> bytes:
    """Reads an uploaded file, at most one byte past the limit so oversize is detectable."""
    return upload.file.read(settings.max_upload_bytes + 1)


class InspectionIn(BaseModel):
    """Recording an inspection: the organization, optionally one of its places, the day, the
    findings and the result."""

    model_config = ConfigDict(str_strip_whitespace=True)

    org_id: uuid.UUID
    facility_id: uuid.UUID | None = None
    growing_area_id: uuid.UUID | None = None
    packing_house_id: uuid.UUID | None = None
    inspected_on: date
    findings: str = Field(default="", max_length=service.MAX_TEXT)
    result: InspectionResult


class ViolationIn(BaseModel):
    """A violation found: the rule breached, what was seen, how serious, the deadline to
    remedy it, and optionally the code or certificate suspended until then."""

    model_config = ConfigDict(str_strip_whitespace=True)

    rule: str = Field(min_length=1, max_length=300, examples=["Thông tư 02/2024/TT-BKHCN Điều 5"])
    description: str = Field(default="", max_length=service.MAX_TEXT)
    severity: ViolationSeverity
    deadline: date | None = None
    suspends_type: SuspensionTarget | None = None
    suspends_id: uuid.UUID | None = None


class RemedyIn(BaseModel):
    """What the organization did about the violation."""

    remedy: str = Field(min_length=1, max_length=service.MAX_TEXT)


class VerificationIn(BaseModel):
    """The overseer's verdict on a remedy; a rejection needs a note saying what is missing."""

    accept: bool
    note: str = Field(default="", max_length=service.MAX_TEXT)


class ViolationOut(BaseModel):
    """A violation with its remedy, verification and what it suspends."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    inspection_id: uuid.UUID
    org_id: uuid.UUID
    rule: str
    description: str
    severity: ViolationSeverity
    deadline: date | None
    state: ViolationState
    suspends_type: SuspensionTarget | None
    suspends_id: uuid.UUID | None
    previous_status: str | None
    remedy: str
    remedied_at: datetime | None
    remedied_by: str | None
    verified_at: datetime | None
    verified_by: str | None
    verification_note: str
    created_by: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        """Deadline passed (in Viet Nam) and the remedy not verified."""
        return (
            self.deadline is not None
            and self.deadline < service.today()
            and self.state is not ViolationState.verified
        )


class InspectionOut(BaseModel):
    """An inspection's header, with its photos' URLs."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: uuid.UUID
    inspector_org_id: uuid.UUID
    province_code: str | None
    facility_id: uuid.UUID | None
    growing_area_id: uuid.UUID | None
    packing_house_id: uuid.UUID | None
    inspected_on: date
    findings: str
    result: InspectionResult
    photo_file_ids: list[str]
    created_by: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def photo_urls(self) -> list[str]:
        """Where each photo is served (to callers who may read the inspected organization)."""
        return [FILES_URL.format(file_id=f) for f in self.photo_file_ids]


class InspectionDetail(InspectionOut):
    """An inspection with its violations."""

    violations: list[ViolationOut]


class InspectionPage(BaseModel):
    """A page of inspections."""

    items: list[InspectionOut]
    total: int
    offset: int
    limit: int


class ViolationPage(BaseModel):
    """A page of violations."""

    items: list[ViolationOut]
    total: int
    offset: int
    limit: int


def _detail(db: Session, inspection: Inspection) -> InspectionDetail:
    """Shapes an inspection with its violations."""
    return InspectionDetail.model_validate(
        {
            **InspectionOut.model_validate(inspection).model_dump(exclude={"photo_urls"}),
            "violations": [_violation(v) for v in service.violations_of(db, inspection.id)],
        }
    )


def _violation(violation: Violation) -> ViolationOut:
    """Shapes a violation."""
    return ViolationOut.model_validate(violation)


@router.post("/oversight/inspections", response_model=InspectionDetail, status_code=201)
def record_inspection(body: InspectionIn, db: DB, principal: Caller) -> InspectionDetail:
    """Records an inspection of an organization in the caller's jurisdiction."""
    inspection = service.record_inspection(
        db,
        principal,
        service.InspectionRequest(
            org_id=body.org_id,
            inspected_on=body.inspected_on,
            result=body.result,
            findings=body.findings,
            facility_id=body.facility_id,
            growing_area_id=body.growing_area_id,
            packing_house_id=body.packing_house_id,
        ),
    )
    return _detail(db, inspection)


@router.get("/oversight/inspections", response_model=InspectionPage)
def list_inspections(
    db: DB,
    principal: Caller,
    org_id: uuid.UUID | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InspectionPage:
    """Inspections the caller may read (its own organization's, or those it oversees)."""
    rows, total = service.list_inspections(db, principal, org_id=org_id, offset=offset, limit=limit)
    return InspectionPage(
        items=[InspectionOut.model_validate(r) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/oversight/inspections/{inspection_id}", response_model=InspectionDetail)
def get_inspection(inspection_id: uuid.UUID, db: DB, principal: Caller) -> InspectionDetail:
    """One inspection with its violations."""
    return _detail(db, service.get_inspection(db, principal, inspection_id))


@router.post(
    "/oversight/inspections/{inspection_id}/photos",
    response_model=InspectionDetail,
    status_code=201,
)
def add_photo(
    inspection_id: uuid.UUID,
    db: DB,
    principal: Caller,
    settings: AppSettings,
    file: UploadFile = File(description="A JPEG, PNG or WebP photo taken on site"),
) -> InspectionDetail:
    """Adds a photo to an inspection (JPEG, PNG or WebP, checked by content and size)."""
    service.add_photo(
        db,
        principal,
        inspection_id,
        data=read_upload(file, settings),
        filename=file.filename,
        content_type=file.content_type,
        settings=settings,
    )
    return _detail(db, service.get_inspection(db, principal, inspection_id))


@router.post(
    "/oversight/inspections/{inspection_id}/violations",
    response_model=ViolationOut,
    status_code=201,
)
def record_violation(
    inspection_id: uuid.UUID, body: ViolationIn, db: DB, principal: Caller
) -> ViolationOut:
    """Records a violation found at an inspection, suspending a code or certificate if named."""
    violation = service.record_violation(
        db,
        principal,
        inspection_id,
        service.ViolationRequest(
            rule=body.rule,
            severity=body.severity,
            description=body.description,
            deadline=body.deadline,
            suspends_type=body.suspends_type,
            suspends_id=body.suspends_id,
        ),
    )
    return _violation(violation)


@router.get("/oversight/violations", response_model=ViolationPage)
def list_violations(
    db: DB,
    principal: Caller,
    state: ViolationState | None = None,
    overdue: bool | None = None,
    org_id: uuid.UUID | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ViolationPage:
    """Violations the caller may read, nearest deadline first; filter by state or overdue."""
    rows, total = service.list_violations(
        db, principal, state=state, overdue=overdue, org_id=org_id, offset=offset, limit=limit
    )
    return ViolationPage(
        items=[_violation(v) for v in rows], total=total, offset=offset, limit=limit
    )


@router.get("/oversight/violations/{violation_id}", response_model=ViolationOut)
def get_violation(violation_id: uuid.UUID, db: DB, principal: Caller) -> ViolationOut:
    """One violation."""
    return _violation(service.get_violation(db, principal, violation_id))


@router.post("/oversight/violations/{violation_id}/remedy", response_model=ViolationOut)
def record_remedy(
    violation_id: uuid.UUID, body: RemedyIn, db: DB, principal: Caller
) -> ViolationOut:
    """The inspected organization records what it did (open → remedied)."""
    return _violation(service.record_remedy(db, principal, violation_id, body.remedy))


@router.post("/oversight/violations/{violation_id}/verify", response_model=ViolationOut)
def verify_remedy(
    violation_id: uuid.UUID, body: VerificationIn, db: DB, principal: Caller
) -> ViolationOut:
    """An authority or inspector accepts the remedy (verified, suspension lifted) or rejects
    it (back to open, with the note)."""
    return _violation(
        service.verify_remedy(db, principal, violation_id, accept=body.accept, note=body.note)
    )
