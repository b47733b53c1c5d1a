"""Uploaded files: type sniffing, size limit, content-addressed storage and who may read them."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_authority, make_org, make_product
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.errors import NotFound
from truyxuat.registry.models import StoredFile
from truyxuat.registry.service import files

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
JPEG = b"\xff\xd8\xff\xdb" + bytes(64)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(64)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (b"GIF89a" + bytes(10), None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_sniff_content_type_reads_magic_bytes(data: bytes, expected: str | None) -> None:
    assert files.sniff_content_type(data) == expected


def test_text_file_claiming_to_be_png_is_rejected_with_415(client: TestClient, db: Session) -> None:
    org = make_org(db)
    product = make_product(db, org)
    headers = api_headers(db, org)
    response = client.post(
        f"/api/v1/products/{product.id}/images",
        files={"file": ("anh.png", b"hello, I am plain text", "image/png")},
        headers=headers,
    )
    assert response.status_code == 415
    problem = response.json()
    assert problem["type"] == "/problems/unsupported-media-type"
    assert "image/png" in problem["detail"]
    assert db.scalar(select(StoredFile).where(StoredFile.org_id == org.id)) is None


def test_upload_rejects_mismatched_or_unaccepted_types(client: TestClient, db: Session) -> None:
    org = make_org(db)
    product = make_product(db, org)
    headers = api_headers(db, org)
    url = f"/api/v1/products/{product.id}/images"
    mismatch = client.post(url, files={"file": ("a.jpg", PNG, "image/jpeg")}, headers=headers)
    assert mismatch.status_code == 415
    assert "image/jpeg" in mismatch.json()["detail"]
    pdf = client.post(url, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=headers)
    assert pdf.status_code == 415
    empty = client.post(url, files={"file": ("a.png", b"", "image/png")}, headers=headers)
    assert empty.status_code == 415
    unlabelled = client.post(
        url, files={"file": ("a", WEBP, "application/octet-stream")}, headers=headers
    )
    assert unlabelled.status_code == 201, unlabelled.text
    assert unlabelled.json()["content_type"] == "image/webp"


def test_oversize_upload_is_rejected_with_413(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = make_org(db)
    product = make_product(db, org)
    settings.max_upload_bytes = 100
    headers = api_headers(db, org)
    url = f"/api/v1/products/{product.id}/images"
    big = PNG + bytes(200)
    response = client.post(url, files={"file": ("big.png", big, "image/png")}, headers=headers)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"
    small = client.post(url, files={"file": ("ok.png", PNG[:100], "image/png")}, headers=headers)
    assert small.status_code == 201, small.text


def test_files_are_stored_by_content_hash_once(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = make_org(db)
    first, second = make_product(db, org), make_product(db, org)
    headers = api_headers(db, org)
    a = client.post(
        f"/api/v1/products/{first.id}/images",
        files={"file": ("../../etc/passwd.png", PNG, "image/png")},
        headers=headers,
    ).json()
    b = client.post(
        f"/api/v1/products/{second.id}/images",
        files={"file": ("copy.png", PNG, "image/png")},
        headers=headers,
    ).json()
    assert a["file_id"] != b["file_id"]
    sha = hashlib.sha256(PNG).hexdigest()
    blob = settings.data_dir / "files" / sha[:2] / sha
    assert blob.read_bytes() == PNG
    assert [p.name for p in blob.parent.iterdir()] == [sha]
    row = db.get(StoredFile, uuid.UUID(a["file_id"]))
    assert row is not None
    assert row.sha256 == sha and row.size == len(PNG) and row.filename == "passwd.png"
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "stored_file", AuditEntry.entity_id == a["file_id"]
        )
    )
    assert entry is not None and entry.changes["sha256"] == sha
    # Removing one image keeps the shared blob for the other.
    client.delete(f"/api/v1/products/{first.id}/images/{a['id']}", headers=headers)
    assert blob.exists()
    assert client.get(b["url"], headers=headers).content == PNG


def test_file_is_served_to_readers_of_its_owner_only(client: TestClient, db: Session) -> None:
    owner_org = make_org(db, province_code="24")
    product = make_product(db, owner_org)
    image = client.post(
        f"/api/v1/products/{product.id}/images",
        files={"file": ("a.jpg", JPEG, "image/jpeg")},
        headers=api_headers(db, owner_org),
    ).json()
    url = image["url"]
    assert client.get(url, headers=api_headers(db, make_org(db))).status_code == 404
    near = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert client.get(url, headers=near).status_code == 200
    far = api_headers(db, make_authority(db, province_code="96"), Role.authority)
    assert client.get(url, headers=far).status_code == 404
    assert client.get(url).status_code == 401
    missing = "/api/v1/files/00000000-0000-7000-8000-000000000000"
    assert client.get(missing, headers=near).status_code == 404


def test_store_file_refuses_an_organization_the_caller_cannot_write(
    db: Session, settings: Settings
) -> None:
    mine, theirs = make_org(db), make_org(db)
    principal = Principal(label="test", grants=(Grant(mine.id, Role.org_staff, "24"),))
    with pytest.raises(NotFound):
        files.store_file(
            db, principal, theirs.id, PNG, "a.png", "image/png", files.IMAGE_TYPES, settings
        )
    stored = files.store_file(
        db, principal, mine.id, PNG, "a.png", "image/png", files.IMAGE_TYPES, settings
    )
    row, path = files.open_file(db, principal, stored.id, settings)
    assert row.id == stored.id and path.read_bytes() == PNG
    assert files.release_file(db, principal, stored.id) is True
    assert db.get(StoredFile, stored.id) is None
