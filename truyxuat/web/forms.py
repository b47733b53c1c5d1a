"""Helpers for HTML form handlers: CSRF checks and turning domain errors into form messages."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request

from truyxuat.auth.principal import Principal
from truyxuat.errors import N_, DomainError, Forbidden, Unauthorized, ValidationFailed
from truyxuat.i18n import gettext


async def read_form(request: Request, principal: Principal | None) -> dict[str, Any]:
    """Reads a posted form and checks its CSRF token against the caller's session."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in values:
            existing = values[key]
            values[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            values[key] = value
    if principal is None:
        raise Unauthorized()
    token = str(values.pop("csrf_token", ""))
    if not principal.csrf_token or not hmac.compare_digest(token, principal.csrf_token):
        raise Forbidden(N_("The form expired; reload the page and try again"))
    return values


def form_errors(exc: DomainError, locale: str) -> dict[str, str]:
    """Translated messages keyed by field name ('' for the whole form)."""
    if isinstance(exc, ValidationFailed):
        out: dict[str, str] = {}
        for err in exc.errors:
            key = str(err.loc[-1]) if err.loc else ""
            out.setdefault(key, gettext(locale, err.message, **err.params))
        return out
    return {"": gettext(locale, exc.message, **exc.params)}


def blank_to_none(values: dict[str, Any], *names: str) -> dict[str, Any]:
    """Turns empty form fields into None (a form cannot send 'absent')."""
    for name in names:
        if name in values and (values[name] is None or str(values[name]).strip() == ""):
            values[name] = None
    return values
