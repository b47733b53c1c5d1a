"""FastAPI dependencies: the request's database session, its caller and its language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from truyxuat.auth import service
from truyxuat.auth.principal import Principal
from truyxuat.errors import N_, Forbidden, Unauthorized
from truyxuat.i18n import negotiate

SESSION_COOKIE = "truyxuat_session"
LOCALE_COOKIE = "truyxuat_lang"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_db(request: Request) -> Iterator[Session]:
    """Opens the request's unit of work; commits once when the handler returns."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DB = Annotated[Session, Depends(get_db, scope="function")]


def request_locale(request: Request) -> str:
    """The UI language: ?lang=, then the language cookie, then Accept-Language, else vi."""
    explicit = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    return negotiate(request.headers.get("accept-language"), explicit)


def _api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


# Declared only so the OpenAPI document names the ways to authenticate; the values are read
# from the request below (a bad key must be a 401 problem, not FastAPI's plain 403).
_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key from `truyxuat apikey create`: `Authorization: Bearer tx_...`",
)
_SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web session cookie set by /login; unsafe requests need X-CSRF-Token",
)


def optional_principal(
    request: Request,
    db: DB,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
    _session: Annotated[str | None, Security(_SESSION)] = None,
) -> Principal | None:
    """The caller if authenticated by API key or session cookie, else None.

    A cookie-authenticated unsafe request must carry the session's CSRF token
    (form field `csrf_token` is checked by the page handlers, header `X-CSRF-Token` here).
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    plain = _api_key_from(request)
    if plain:
        principal = service.principal_from_api_key(db, plain)
        if principal is None:
            raise Unauthorized(N_("Invalid or revoked API key"))
    else:
        token = request.cookies.get(SESSION_COOKIE)
        principal = service.principal_from_session_token(db, token) if token else None
        if (
            principal is not None
            and request.method in UNSAFE_METHODS
            and request.url.path.startswith("/api/")
            and request.headers.get("x-csrf-token") != principal.csrf_token
        ):
            raise Forbidden(N_("Missing or wrong CSRF token"))
    request.state.principal = principal
    return principal


def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """The authenticated caller; 401 when there is none."""
    if principal is None:
        raise Unauthorized()
    return principal


Caller = Annotated[Principal, Depends(require_principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]
Locale = Annotated[str, Depends(request_locale)]
