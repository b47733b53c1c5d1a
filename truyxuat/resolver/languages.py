"""The passport's languages: the UI catalogs for vi and en, plus a Chinese catalog of its own.

Buyers in China read the passports of exported lychee and shrimp, so the passport (and only
it) speaks Chinese; its catalog sits next to this module and falls back to English.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi import Request

from truyxuat.auth.deps import LOCALE_COOKIE
from truyxuat.i18n import translations

PASSPORT_LANGUAGES = ("vi", "en", "zh")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "zh": "中文"}
ZH_CATALOG = Path(__file__).resolve().parent / "locale" / "zh" / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=1)
def zh_messages() -> dict[str, str]:
    """The passport's Chinese catalog (read once; immutable data)."""
    with ZH_CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def negotiate(request: Request) -> str:
    """?lang=, then the language cookie, then Accept-Language among vi/en/zh, else vi."""
    explicit = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if explicit in PASSPORT_LANGUAGES:
        return str(explicit)
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(request.headers.get("accept-language", "").split(",")):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        weighted.append((-weight, index, lang.split("-")[0].strip().lower()))
    for _, _, lang in sorted(weighted):
        if lang in PASSPORT_LANGUAGES:
            return lang
    return "vi"


def translate(locale: str, message: str, **params: Any) -> str:
    """A message in the passport language, its {placeholders} filled."""
    if locale == "zh":
        text = zh_messages().get(message) or message
    else:
        text = translations(locale).gettext(message)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text
