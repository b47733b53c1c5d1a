"""Accounts: users and memberships, password login, web sessions, API keys, the audit log.

Functions flush, never commit: the caller (request dependency or `session_scope`) owns the
transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.models import (
    ApiKey,
    AuditEntry,
    LoginFailureWindow,
    Membership,
    Role,
    User,
    WebSession,
)
from truyxuat.auth.principal import Grant, Principal
from truyxuat.db import utcnow
from truyxuat.errors import (
    N_,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    invalid,
)
from truyxuat.registry.models import Organization, OrgKind

API_KEY_PREFIX = "tx"
_hasher = PasswordHasher()
# Authority roles only make sense in an authority organization, and vice versa.
AUTHORITY_ONLY_ROLES = {Role.authority, Role.inspector}


def hash_password(password: str) -> str:
    """Hashes a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Checks a password against its argon2 hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_password_strength(password: str, *, field: str = "password") -> None:
    """Rejects passwords too short to resist guessing."""
    if len(password) < 10:
        raise invalid(field, N_("Password must have at least {n} characters"), n=10)


def create_user(
    session: Session, *, email: str, full_name: str, password: str, locale: str = "vi"
) -> User:
    """Creates a user account with an argon2-hashed password."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise invalid("email", N_("Enter a valid email address"))
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(N_("A user with email {email} already exists"), email=email)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def add_membership(session: Session, *, user: User, org: Organization, role: Role) -> Membership:
    """Gives a user a role in an organization (authority roles only in authority orgs)."""
    if role in AUTHORITY_ONLY_ROLES and org.kind is not OrgKind.authority:
        raise invalid("role", N_("Role {role} belongs to an authority organization"), role=role)
    if role is Role.platform_admin and org.kind is not OrgKind.platform:
        raise invalid("role", N_("Role {role} belongs to the platform organization"), role=role)
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.org_id == org.id, Membership.role == role
        )
    )
    if existing is not None:
        return existing
    membership = Membership(user_id=user.id, org_id=org.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def grants_for_user(session: Session, user_id: uuid.UUID) -> tuple[Grant, ...]:
    """Loads every role a user holds, with each organization's province."""
    rows = session.execute(
        select(Membership.org_id, Membership.role, Organization.province_code)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at)
    ).all()
    return tuple(Grant(org_id, role, province) for org_id, role, province in rows)


LOGIN_WINDOW = timedelta(minutes=15)
ACCOUNT_MAX_FAILURES = 5
"""Wrong passwords for one account per window before it is locked for the rest of the window."""
CLIENT_MAX_FAILURES = 30
"""Failed sign-ins from one client per window (password spraying across many accounts)."""


def _login_subjects(email: str, client: str | None) -> list[str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    subjects = [f"account:{account}"]
    if client:
        subjects.append(f"client:{client}"[:100])
    return subjects


def _login_window(now: datetime) -> datetime:
    minutes = int(LOGIN_WINDOW.total_seconds() // 60)
    return now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)


def _ensure_login_allowed(session: Session, subjects: list[str], window: datetime) -> None:
    """Refuses before any password is checked, so a locked account also costs no argon2 time."""
    counts = dict(
        session.execute(
            select(LoginFailureWindow.subject, LoginFailureWindow.count).where(
                LoginFailureWindow.subject.in_(subjects),
                LoginFailureWindow.window_start == window,
            )
        ).all()
    )
    minutes = int((window + LOGIN_WINDOW - utcnow()).total_seconds() // 60) + 1
    if counts.get(subjects[0], 0) >= ACCOUNT_MAX_FAILURES:
        raise TooManyRequests(
            N_("Too many failed sign-ins for this account; try again in {minutes} minutes"),
            minutes=minutes,
        )
    if len(subjects) > 1 and counts.get(subjects[1], 0) >= CLIENT_MAX_FAILURES:
        raise TooManyRequests(
            N_("Too many failed sign-ins from your device; try again in {minutes} minutes"),
            minutes=minutes,
        )


def _note_login_failure(session: Session, subjects: list[str], window: datetime) -> None:
    for subject in subjects:
        row = session.get(LoginFailureWindow, (subject, window))
        if row is None:
            session.add(LoginFailureWindow(subject=subject, window_start=window, count=1))
        else:
            row.count += 1
    session.flush()


def authenticate_password(
    session: Session, *, email: str, password: str, client: str | None = None
) -> User:
    """Returns the user for valid credentials; one vague error for every failure.

    Failures are counted per account and per client (`client`, e.g. the IP address); past the
    limits sign-in is refused until the window ends. The caller must commit after a failure
    too, or the count is lost (the login page answers the failure without raising).
    """
    subjects = _login_subjects(email, client)
    window = _login_window(utcnow())
    _ensure_login_allowed(session, subjects, window)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        if user is None:
            # Spend the same time as a real check so timing does not reveal which emails exist.
            verify_password(_DUMMY_HASH, password)
        _note_login_failure(session, subjects, window)
        raise Unauthorized(N_("Wrong email or password"))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


_DUMMY_HASH = _hasher.hash("not-a-real-password")


def start_web_session(session: Session, *, user: User, max_age: int) -> str:
    """Opens a browser session and returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    grants = grants_for_user(session, user.id)
    session.add(
        WebSession(
            token_hash=_sha256(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(24),
            active_org_id=grants[0].org_id if grants else None,
            expires_at=utcnow() + timedelta(seconds=max_age),
        )
    )
    session.flush()
    return token


def end_web_session(session: Session, token: str) -> None:
    """Logs a browser out."""
    row = session.get(WebSession, _sha256(token))
    if row is not None:
        session.delete(row)
        session.flush()


def principal_from_session_token(session: Session, token: str) -> Principal | None:
    """Resolves a session cookie to its principal, or None if unknown or expired."""
    row = session.get(WebSession, _sha256(token))
    if row is None or row.expires_at < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return Principal(
        label=user.email,
        grants=grants_for_user(session, user.id),
        user_id=user.id,
        active_org_id=row.active_org_id,
        csrf_token=row.csrf_token,
        locale=user.locale,
        extra={"full_name": user.full_name},
    )


def switch_active_org(
    session: Session, *, token: str, principal: Principal, org_id: uuid.UUID
) -> None:
    """Changes the organization a browser session acts for."""
    if org_id not in principal.member_org_ids():
        raise Forbidden()
    row = session.get(WebSession, _sha256(token))
    if row is None:
        raise Unauthorized()
    row.active_org_id = org_id
    session.flush()


def create_api_key(
    session: Session,
    *,
    org: Organization,
    role: Role,
    name: str = "",
    created_by: uuid.UUID | None = None,
) -> tuple[ApiKey, str]:
    """Creates an API key and returns it with the plain key, which is shown only once."""
    if role in AUTHORITY_ONLY_ROLES and org.kind is not OrgKind.authority:
        raise invalid("role", N_("Role {role} belongs to an authority organization"), role=role)
    if role is Role.platform_admin and org.kind is not OrgKind.platform:
        raise invalid("role", N_("Role {role} belongs to the platform organization"), role=role)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        org_id=org.id,
        role=role,
        name=name,
        prefix=prefix,
        secret_hash=_sha256(secret),
        created_by=created_by,
    )
    session.add(key)
    session.flush()
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


def principal_from_api_key(session: Session, plain: str) -> Principal | None:
    """Resolves a presented API key to its principal, or None if unknown or revoked."""
    parts = plain.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _sha256(parts[2])):
        return None
    org = session.get(Organization, key.org_id)
    if org is None:
        return None
    now = utcnow()
    # Avoid a write per request: touch last_used_at at most once a minute.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        key.last_used_at = now
    return Principal(
        label=f"apikey:{key.prefix}",
        grants=(Grant(org.id, key.role, org.province_code),),
        api_key_id=key.id,
        active_org_id=org.id,
    )


def revoke_api_key(session: Session, *, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    """Revokes an API key of one of the caller's organizations."""
    key = session.get(ApiKey, key_id)
    if key is None or not (
        principal.is_platform_admin or Role.org_admin in principal.roles_in(key.org_id)
    ):
        raise NotFound()
    key.revoked_at = key.revoked_at or utcnow()
    record(session, principal, "revoke", "api_key", key.id, key.org_id)
    return key


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    org_id: uuid.UUID | None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Appends one entry to the audit log, in the same transaction as the change."""
    entry = AuditEntry(
        org_id=org_id,
        actor_user_id=principal.user_id if principal else None,
        actor_api_key_id=principal.api_key_id if principal else None,
        actor_label=principal.label if principal else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=_jsonable(changes or {}),
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed, as {field: [old, new]} for the audit log."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
