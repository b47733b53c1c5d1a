"""Every user-facing message has a Vietnamese translation, and both catalogs parse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from truyxuat.i18n import LOCALE_DIR, LOCALES, gettext, translations

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{(\w*)\}|%\((\w+)\)s")


def _method_map() -> list[tuple[str, str]]:
    """The extraction rules of babel.cfg, as [(glob, method)]."""
    rules: list[tuple[str, str]] = []
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        match = re.match(r"^\[(\w+):\s*(.+)\]$", line.strip())
        if match:
            rules.append((match.group(2), match.group(1)))
    return rules


def _source_msgids() -> set[str]:
    """Every message marked for translation in the code and templates, found afresh."""
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=_method_map()
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str) -> dict[str, str]:
    """A catalog's translations by msgid (plural forms by their singular)."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    out: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else message.string[0]
        out[key] = "" if message.fuzzy else (text or "")
    return out


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_parses(locale: str) -> None:
    assert _catalog(locale)
    assert translations(locale) is not None


def test_every_message_in_code_and_templates_is_translated_into_vietnamese() -> None:
    vi = _catalog("vi")
    missing = sorted(m for m in _source_msgids() if not vi.get(m))
    assert not missing, (
        "untranslated into Vietnamese (run `make i18n` and fill the vi catalog):\n"
        + "\n".join(missing)
    )


def test_vietnamese_translations_keep_every_placeholder() -> None:
    for msgid, text in _catalog("vi").items():
        if text:
            expected = sorted(PLACEHOLDER.findall(msgid))
            assert sorted(PLACEHOLDER.findall(text)) == expected, msgid


def test_english_catalog_lists_the_same_messages_as_vietnamese() -> None:
    assert set(_catalog("en")) == set(_catalog("vi"))


def test_vietnamese_is_used_for_messages_and_english_passes_through() -> None:
    assert gettext("vi", "Growing areas") == "Vùng trồng"
    assert gettext("en", "Growing areas") == "Growing areas"
    assert gettext("vi", "{value} is already registered", value="893") == "893 đã được đăng ký"
