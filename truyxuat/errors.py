"""The domain errors every layer raises; `app.py` maps them once to RFC 9457 problem+json.

Messages are English msgids marked with `N_` and translated when rendered, so the same error
reads in Vietnamese or English depending on the caller's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Marks a message for translation without translating it (Babel extracts it)."""
    return message


@dataclass
class FieldError:
    """One invalid field: `loc` is the path to it (e.g. ["body", "gtin"] or ["row 3", "gln"])."""

    loc: list[str | int]
    message: str
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    type_slug = "bad-request"
    title = N_("Bad request")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.message = message or self.title
        self.params = params
        super().__init__(self.message.format(**params) if params else self.message)


class NotFound(DomainError):
    """The object does not exist, or the caller may not know it exists."""

    status = 404
    type_slug = "not-found"
    title = N_("Not found")


class Unauthorized(DomainError):
    """No valid credentials were given."""

    status = 401
    type_slug = "unauthorized"
    title = N_("Authentication required")


class Forbidden(DomainError):
    """The caller is known but lacks the role or tenant for this action."""

    status = 403
    type_slug = "forbidden"
    title = N_("Forbidden")


class Conflict(DomainError):
    """The change clashes with existing data (duplicate code, wrong state)."""

    status = 409
    type_slug = "conflict"
    title = N_("Conflict")


class TooManyRequests(DomainError):
    """The caller tried too often (sign-in failures, PIN guesses) and must wait."""

    status = 429
    type_slug = "too-many-requests"
    title = N_("Too many requests")


class NotConfigured(DomainError):
    """The node lacks a file or setting this operation needs (its operator must supply it)."""

    status = 503
    type_slug = "not-configured"
    title = N_("Not configured")


class ValidationFailed(DomainError):
    """The input broke one or more rules; `errors` names each field."""

    status = 422
    type_slug = "validation-error"
    title = N_("Validation failed")

    def __init__(self, errors: list[FieldError], message: str | None = None, **params: Any) -> None:
        self.errors = errors
        super().__init__(message, **params)


def invalid(loc: list[str | int] | str, message: str, **params: Any) -> ValidationFailed:
    """Builds a one-field validation error."""
    path: list[str | int] = [loc] if isinstance(loc, str) else list(loc)
    return ValidationFailed([FieldError(path, message, params)])
