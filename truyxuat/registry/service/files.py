"""Uploaded files (product images, certificate scans): type sniffing and content-addressed storage.

Bytes live under `settings.data_dir / "files" / sha[:2] / sha`; a `StoredFile` row gives each
upload an owner, a sniffed content type and a name. Blobs are never deleted inside a request
(the transaction may still roll back, and several rows may share one blob).
Also home to two small ownership helpers every registry service uses (`writable_org`,
`owner_provinces`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import Principal, ensure_readable, ensure_writable
from truyxuat.config import Settings
from truyxuat.errors import N_, DomainError, NotFound
from truyxuat.registry.models import Certification, ProductImage, StoredFile
from truyxuat.registry.service.common import owner_provinces

log = logging.getLogger(__name__)

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP})
DOCUMENT_TYPES = frozenset({PDF, JPEG, PNG})
# Declared types that say nothing about the content; the sniffed type decides alone.
_UNINFORMATIVE = {"", "application/octet-stream", "binary/octet-stream"}
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}


class PayloadTooLarge(DomainError):
    """The upload is bigger than the configured limit."""

    status = 413
    type_slug = "payload-too-large"
    title = N_("Payload too large")


class UnsupportedMediaType(DomainError):
    """The upload is not one of the accepted file types, or is not what it claims to be."""

    status = 415
    type_slug = "unsupported-media-type"
    title = N_("Unsupported media type")


def sniff_content_type(data: bytes) -> str | None:
    """Recognises JPEG, PNG, WebP and PDF from their magic bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def _declared(content_type: str | None) -> str:
    """The declared media type without parameters, lowercased, with common aliases resolved."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def _clean_filename(filename: str | None) -> str:
    """Keeps only the last path component of a client-supplied name, at most 255 characters."""
    name = PurePath((filename or "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[:255]


def blob_path(settings: Settings, sha256: str) -> Path:
    """Where the bytes with this SHA-256 live."""
    return Path(settings.data_dir) / "files" / sha256[:2] / sha256


def _write_blob(path: Path, data: bytes) -> None:
    """Writes a blob once, atomically (a concurrent writer of the same bytes is harmless)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def check_upload(
    data: bytes, declared_content_type: str | None, allowed: frozenset[str] | set[str], limit: int
) -> str:
    """Checks size and type of an upload and returns its sniffed content type."""
    if len(data) > limit:
        raise PayloadTooLarge(N_("The file is larger than the limit of {limit} bytes"), limit=limit)
    if not data:
        raise UnsupportedMediaType(N_("The file is empty"))
    accepted = ", ".join(sorted(allowed))
    sniffed = sniff_content_type(data)
    if sniffed is None or sniffed not in allowed:
        raise UnsupportedMediaType(
            N_("The file's content is not an accepted type ({accepted})"), accepted=accepted
        )
    declared = _declared(declared_content_type)
    if declared not in _UNINFORMATIVE and declared != sniffed:
        raise UnsupportedMediaType(
            N_("The file claims to be {declared} but its content is {sniffed}"),
            declared=declared,
            sniffed=sniffed,
        )
    return sniffed


def store_file(
    session: Session,
    principal: Principal,
    org_id: uuid.UUID,
    data: bytes,
    filename: str | None,
    declared_content_type: str | None,
    allowed: frozenset[str] | set[str],
    settings: Settings,
) -> StoredFile:
    """Checks an upload and stores it for an organization the caller may write to."""
    ensure_writable(principal, org_id, owner_provinces(session, org_id))
    return save_upload(
        session, principal, org_id, data, filename, declared_content_type, allowed, settings
    )


def save_upload(
    session: Session,
    principal: Principal,
    org_id: uuid.UUID,
    data: bytes,
    filename: str | None,
    declared_content_type: str | None,
    allowed: frozenset[str] | set[str],
    settings: Settings,
) -> StoredFile:
    """Checks an upload and stores it for `org_id`; the caller has already checked who may.

    Inspectors use it for photos kept with the inspected organization, which they may not
    otherwise write to.
    """
    content_type = check_upload(data, declared_content_type, allowed, settings.max_upload_bytes)
    sha = hashlib.sha256(data).hexdigest()
    _write_blob(blob_path(settings, sha), data)
    row = StoredFile(
        org_id=org_id,
        sha256=sha,
        content_type=content_type,
        size=len(data),
        filename=_clean_filename(filename),
    )
    session.add(row)
    session.flush()
    auth_service.record(
        session,
        principal,
        "create",
        "stored_file",
        row.id,
        org_id,
        {"sha256": sha, "content_type": content_type, "size": len(data), "filename": row.filename},
    )
    return row


def get_file(session: Session, principal: Principal, file_id: uuid.UUID) -> StoredFile:
    """Returns a stored file's record if the caller may read its owner's data."""
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound()
    ensure_readable(principal, row.org_id, owner_provinces(session, row.org_id))
    return row


def open_file(
    session: Session, principal: Principal, file_id: uuid.UUID, settings: Settings
) -> tuple[StoredFile, Path]:
    """Returns a readable file's record and the path of its bytes, for serving."""
    row = get_file(session, principal, file_id)
    path = blob_path(settings, row.sha256)
    if not path.is_file():
        log.error("stored file %s has no blob at %s", row.id, path)
        raise NotFound()
    return row, path


def release_file(session: Session, principal: Principal, file_id: uuid.UUID) -> bool:
    """Deletes a file's record once nothing refers to it any more; True if it was deleted.

    Other domains may refer to stored files too (foreign keys RESTRICT), so the delete runs in
    a savepoint and a refusal by the database simply keeps the record.
    """
    if session.scalar(select(ProductImage.id).where(ProductImage.file_id == file_id).limit(1)):
        return False
    if session.scalar(
        select(Certification.id).where(Certification.document_file_id == file_id).limit(1)
    ):
        return False
    row = session.get(StoredFile, file_id)
    if row is None:
        return False
    org_id = row.org_id
    try:
        with session.begin_nested():
            session.delete(row)
            session.flush()
    except IntegrityError:
        return False
    auth_service.record(session, principal, "delete", "stored_file", file_id, org_id)
    return True
