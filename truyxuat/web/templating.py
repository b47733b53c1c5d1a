"""Server-rendered pages: one Jinja environment, translated per request (no global locale)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from truyxuat.i18n import LOCALES, translations

TEMPLATE_DIRS = [Path(__file__).resolve().parent / "templates"]


def add_template_dir(path: Path) -> None:
    """Lets a domain keep its own templates folder next to its pages."""
    if path not in TEMPLATE_DIRS:
        TEMPLATE_DIRS.append(path)
        environment.cache_clear()


@lru_cache
def environment() -> Environment:
    """The Jinja environment (built once per process; templates are immutable)."""
    env = Environment(
        loader=FileSystemLoader([str(p) for p in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Renders a page in the request's language with the caller and CSRF token in context."""
    from truyxuat.auth.deps import request_locale

    locale = request_locale(request)
    trans = translations(locale)
    principal = getattr(request.state, "principal", None)

    def _(message: str, **params: Any) -> str:
        text = trans.gettext(message)
        return text % params if params else text

    def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
        text = trans.ngettext(singular, plural, n)
        return text % {"num": n, **params}

    template = environment().get_template(name)
    html = template.render(
        {
            "request": request,
            "locale": locale,
            "locales": LOCALES,
            "principal": principal,
            "csrf_token": principal.csrf_token if principal else "",
            "gettext": _,
            "_": _,
            "ngettext": ngettext,
            **context,
        }
    )
    return HTMLResponse(html, status_code=status_code)
