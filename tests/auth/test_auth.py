"""Accounts: passwords, web sessions with CSRF, API keys, roles and the audit log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.factories import PASSWORD, api_headers, make_authority, make_org, make_user
from truyxuat.auth import service
from truyxuat.auth.models import ApiKey, Role, User
from truyxuat.errors import TooManyRequests, Unauthorized, ValidationFailed
from truyxuat.registry.models import OrgKind


def test_password_is_stored_as_argon2_hash(db: Session) -> None:
    org = make_org(db)
    user = make_user(db, org, Role.org_admin)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert service.authenticate_password(db, email=user.email, password=PASSWORD).id == user.id


def test_wrong_password_and_unknown_email_get_the_same_error(db: Session) -> None:
    org = make_org(db)
    user = make_user(db, org, Role.org_admin)
    with pytest.raises(Unauthorized) as wrong:
        service.authenticate_password(db, email=user.email, password="nope-nope-nope")
    with pytest.raises(Unauthorized) as unknown:
        service.authenticate_password(db, email="ghost@example.vn", password=PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_short_password_is_rejected(db: Session) -> None:
    with pytest.raises(ValidationFailed) as exc:
        service.create_user(db, email="a@b.vn", full_name="A", password="short")
    assert exc.value.errors[0].loc == ["password"]


def test_authority_role_only_in_authority_org(db: Session) -> None:
    org = make_org(db)
    with pytest.raises(ValidationFailed):
        make_user(db, org, Role.authority)


def test_api_key_is_shown_once_and_only_its_hash_is_stored(db: Session) -> None:
    org = make_org(db)
    key, plain = service.create_api_key(db, org=org, role=Role.org_staff)
    db.flush()
    secret = plain.split("_", 2)[2]
    stored = db.scalar(select(ApiKey).where(ApiKey.id == key.id))
    assert stored is not None and secret not in stored.secret_hash
    principal = service.principal_from_api_key(db, plain)
    assert principal is not None and principal.roles_in(org.id) == {Role.org_staff}


def test_revoked_api_key_gets_401(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    key = db.scalars(select(ApiKey).where(ApiKey.org_id == org.id)).one()
    key.revoked_at = key.created_at
    db.flush()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_garbage_api_key_gets_401(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer tx_abc_def"})
    assert response.status_code == 401


def test_org_admin_creates_api_key_for_own_org_only(client: TestClient, db: Session) -> None:
    a, b = make_org(db), make_org(db)
    headers = api_headers(db, a, Role.org_admin)
    created = client.post(
        "/api/v1/api-keys", json={"org_id": str(a.id), "role": "org_staff"}, headers=headers
    )
    assert created.status_code == 201
    new_key = created.json()["key"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_key}"}).json()
    assert me["grants"][0]["role"] == "org_staff"
    other = client.post(
        "/api/v1/api-keys", json={"org_id": str(b.id), "role": "org_admin"}, headers=headers
    )
    assert other.status_code == 404


def test_org_staff_cannot_create_api_keys(client: TestClient, db: Session) -> None:
    a = make_org(db)
    headers = api_headers(db, a, Role.org_staff)
    response = client.post(
        "/api/v1/api-keys", json={"org_id": str(a.id), "role": "org_admin"}, headers=headers
    )
    assert response.status_code == 403


def test_login_sets_session_and_logout_needs_csrf(client: TestClient, db: Session) -> None:
    org = make_org(db)
    user = make_user(db, org, Role.org_admin)
    db.flush()
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["user_id"] == str(user.id)
    # A cookie-authenticated API write without the CSRF header is refused.
    refused = client.post("/api/v1/api-keys", json={"org_id": str(org.id), "role": "org_staff"})
    assert refused.status_code == 403
    forged = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_login_with_wrong_password_shows_readable_message(client: TestClient, db: Session) -> None:
    org = make_org(db)
    user = make_user(db, org, Role.org_admin)
    response = client.post("/login?lang=en", data={"email": user.email, "password": "x" * 12})
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_login_redirect_refuses_other_sites(client: TestClient, db: Session) -> None:
    org = make_org(db)
    user = make_user(db, org, Role.org_admin)
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_audit_log_is_append_only(db: Session) -> None:
    org = make_org(db)
    entry = service.record(db, None, "create", "organization", org.id, org.id, {"x": 1})
    db.flush()
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(
            text("UPDATE audit_log SET action = 'forged' WHERE id = :id"),
            {"id": entry.id if db.bind.dialect.name == "postgresql" else entry.id.hex},
        )
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("DELETE FROM audit_log"))


def test_audit_entries_visible_to_own_org_only(client: TestClient, db: Session) -> None:
    a, b = make_org(db), make_org(db)
    service.record(db, None, "create", "organization", a.id, a.id)
    service.record(db, None, "create", "organization", b.id, b.id)
    db.flush()
    entries = client.get("/api/v1/audit", headers=api_headers(db, a)).json()
    assert {e["org_id"] for e in entries} == {str(a.id)}


def test_national_authority_is_created_in_authority_org(db: Session) -> None:
    moit = make_authority(db, province_code=None)
    assert moit.kind is OrgKind.authority
    user = make_user(db, moit, Role.authority)
    assert isinstance(user, User)


def test_account_is_locked_after_repeated_wrong_passwords(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "ACCOUNT_MAX_FAILURES", 2)  # each failure costs an argon2 check
    org = make_org(db)
    user = make_user(db, org, Role.org_admin)
    other = make_user(db, org, Role.org_staff)
    for _ in range(service.ACCOUNT_MAX_FAILURES):
        wrong = client.post("/login?lang=en", data={"email": user.email, "password": "x" * 12})
        assert wrong.status_code == 401
    # Past the limit even the right password is refused until the window ends ...
    locked = client.post("/login?lang=en", data={"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this account" in locked.text
    vi = client.post("/login?lang=vi", data={"email": user.email, "password": PASSWORD})
    assert "Đăng nhập sai quá nhiều lần" in vi.text
    # ... while other accounts keep working from the same device.
    fine = client.post(
        "/login", data={"email": other.email, "password": PASSWORD}, follow_redirects=False
    )
    assert fine.status_code == 303


def test_one_client_spraying_many_accounts_is_slowed_down(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "CLIENT_MAX_FAILURES", 3)  # each failure costs an argon2 check
    for n in range(service.CLIENT_MAX_FAILURES):
        with pytest.raises(Unauthorized):
            service.authenticate_password(
                db, email=f"ghost{n}@example.vn", password="x" * 12, client="203.0.113.9"
            )
    with pytest.raises(TooManyRequests):
        service.authenticate_password(
            db, email="ghost-last@example.vn", password="x" * 12, client="203.0.113.9"
        )
    with pytest.raises(Unauthorized):  # another client is not affected
        service.authenticate_password(
            db, email="ghost-last@example.vn", password="x" * 12, client="198.51.100.7"
        )
