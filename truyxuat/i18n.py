"""Translations: Babel catalogs under web/locale, Vietnamese first, English second.

Catalogs are read from the .po files once per process (they are immutable data), so no
compile step is needed before `make run`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_DIR = Path(__file__).resolve().parent / "web" / "locale"
# Product data is multilingual beyond the UI languages.
CONTENT_LANGUAGES = ("vi", "en", "zh", "ja", "ko", "fr", "de", "es", "ru", "th")


class _POTranslations(Translations):
    """gettext translations built straight from a parsed .po catalog."""

    def __init__(self, messages: dict[Any, str]) -> None:
        super().__init__()
        self._catalog = dict(messages)
        self.plural = lambda n: int(n != 1)


@lru_cache(maxsize=8)
def translations(locale: str) -> Translations:
    """Returns the catalog for a UI locale (English msgids pass through untranslated)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale not in LOCALES or not po.exists():
        return _POTranslations({})
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    messages: dict[Any, str] = {}
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            strings = message.string if isinstance(message.string, tuple | list) else ()
            for index, text in enumerate(strings):
                if text:
                    messages[(message.id[0], index)] = text
        else:
            messages[message.id] = str(message.string)
    return _POTranslations(messages)


def gettext(locale: str, message: str, **params: Any) -> str:
    """Translates `message` into `locale` and fills its {placeholders}."""
    text = translations(locale).gettext(message)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def negotiate(accept_language: str | None, explicit: str | None = None) -> str:
    """Picks the UI locale: an explicit choice, else the best Accept-Language match, else vi."""
    if explicit in LOCALES:
        return explicit
    if accept_language:
        weighted: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            lang, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((weight, lang.split("-")[0].strip().lower()))
        for _, lang in sorted(weighted, key=lambda item: -item[0]):
            if lang in LOCALES:
                return lang
    return DEFAULT_LOCALE
