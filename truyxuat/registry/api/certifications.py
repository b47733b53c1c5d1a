"""Registry API: certifications, their scanned documents and revocation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, File, Query, Response, UploadFile

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.api.products import AppSettings, read_upload
from truyxuat.registry.models import Certification, CertScheme, CertScope
from truyxuat.registry.schemas.certifications import (
    CertificationIn,
    CertificationOut,
    CertificationPatch,
    CertState,
    RevocationIn,
)
from truyxuat.registry.schemas.common import MAX_OFFSET, Page
from truyxuat.registry.service import certifications as service

router = APIRouter(tags=["registry"])


@router.post("/certifications", response_model=CertificationOut, status_code=201)
def create_certification(body: CertificationIn, db: DB, principal: Caller) -> Certification:
    """Registers a current certificate covering an object of the caller's organization."""
    return service.create_certification(db, principal, body)


@router.get("/certifications", response_model=Page[CertificationOut])
def list_certifications(
    db: DB,
    principal: Caller,
    scope_type: CertScope | None = None,
    scope_id: uuid.UUID | None = None,
    scheme: CertScheme | None = None,
    state: CertState | None = None,
    org_id: uuid.UUID | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[CertificationOut]:
    """Lists the certificates the caller may see."""
    items, total = service.list_certifications(
        db,
        principal,
        scope_type=scope_type,
        scope_id=scope_id,
        scheme=scheme,
        state=state,
        org_id=org_id,
        offset=offset,
        limit=limit,
    )
    return Page(
        items=[CertificationOut.model_validate(c) for c in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/certifications/{cert_id}", response_model=CertificationOut)
def get_certification(cert_id: uuid.UUID, db: DB, principal: Caller) -> Certification:
    """Returns one certificate."""
    return service.get_certification(db, principal, cert_id)


@router.patch("/certifications/{cert_id}", response_model=CertificationOut)
def update_certification(
    cert_id: uuid.UUID, body: CertificationPatch, db: DB, principal: Caller
) -> Certification:
    """Corrects a certificate's details or validity."""
    return service.update_certification(db, principal, cert_id, body)


@router.delete("/certifications/{cert_id}", status_code=204)
def delete_certification(cert_id: uuid.UUID, db: DB, principal: Caller) -> Response:
    """Deletes a certificate entered by mistake."""
    service.delete_certification(db, principal, cert_id)
    return Response(status_code=204)


@router.post("/certifications/{cert_id}/revoke", response_model=CertificationOut)
def revoke_certification(
    cert_id: uuid.UUID, db: DB, principal: Caller, body: RevocationIn | None = None
) -> Certification:
    """Revokes a certificate (its organization's admin, or the province's authority)."""
    return service.revoke_certification(db, principal, cert_id, body.reason if body else "")


@router.post("/certifications/{cert_id}/document", response_model=CertificationOut)
def attach_document(
    cert_id: uuid.UUID,
    db: DB,
    principal: Caller,
    settings: AppSettings,
    file: UploadFile = File(description="The certificate as PDF, JPEG or PNG"),
) -> Certification:
    """Uploads the certificate's scanned document, replacing any earlier one."""
    return service.attach_document(
        db,
        principal,
        cert_id,
        data=read_upload(file, settings),
        filename=file.filename,
        content_type=file.content_type,
        settings=settings,
    )
