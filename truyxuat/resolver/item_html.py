"""What a passport shows of this very item and this scan: the holes of its lot's page.

The lot's page is rendered once per lot and language from the templates (pages.py); these few
fragments change with every scan, and filling them through Jinja (a context, block
generators, a call per message) cost more than the rest of the resolution. They are plain
string building here, every value escaped, the static messages translated once per language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from truyxuat.errors import N_
from truyxuat.resolver.authenticity import Warning
from truyxuat.resolver.items import StampSeen
from truyxuat.resolver.languages import translate
from truyxuat.resolver.linkset import ItemKey
from truyxuat.resolver.passport import at_offset
from truyxuat.stamps.models import StampState

# The item's holes in its lot's page, in the order the page holds them.
ITEM_BLOCKS = ("check", "serial", "pin_form", "report_hidden")


@dataclass(frozen=True)
class ItemFacts:
    """What the holes are drawn from."""

    key: ItemKey
    locale: str
    stamp: StampSeen | None
    warnings: list[Warning]
    scans: int
    first_scan: datetime | None  # in Viet Nam's wall-clock time
    scan_id: Any  # this visit's scan, if one is being logged
    has_pin: bool


@functools.cache
def _said(locale: str, message: str) -> str:
    """A message without placeholders, translated and escaped, once per language."""
    return str(escape(translate(locale, message)))


def _say(locale: str, message: str, **params: Any) -> str:
    return str(escape(translate(locale, message, **params)))


# Where the scan's id goes in a summary kept by `_summary`.
_SCAN_MARK = "\x00scan\x00"


def _check(facts: ItemFacts) -> str:
    warnings = tuple((w.kind, w.message, tuple(sorted(w.params.items()))) for w in facts.warnings)
    first_day = facts.first_scan.strftime("%d/%m/%Y") if facts.first_scan else None
    with_scan = facts.scan_id is not None and bool(facts.key.serial)
    html = _summary(
        facts.locale,
        bool(facts.key.serial),
        facts.stamp,
        warnings,
        facts.scans,
        first_day,
        with_scan,
    )
    return html.replace(_SCAN_MARK, str(escape(facts.scan_id))) if with_scan else html


# Items of a lot scanned on one day mostly share their summary but for the scan's id (held
# out): it is built once per language and such facts, not on every scan.
@functools.lru_cache(maxsize=4096)
def _summary(
    locale: str,
    serialized: bool,
    stamp: StampSeen | None,
    warnings: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...],
    scans: int,
    first_day: str | None,
    with_scan: bool,
) -> str:
    def s(message: str) -> str:
        return _said(locale, message)

    warning = s(N_("Warning"))
    parts = [
        '<section class="pp-card pp-check',
        " pp-bad" if warnings else "",
        '" id="authenticity-summary" aria-live="polite" data-warning-title="⚠ ',
        warning,
        '">\n',
    ]
    if warnings:
        parts += [f"  <h2>⚠ {warning}</h2>\n", '  <ul class="pp-warnings">\n    ']
        parts += [
            f'<li data-warning="{escape(kind)}">{_say(locale, message, **dict(params))}</li>'
            for kind, message, params in warnings
        ]
        parts.append("\n  </ul>\n")
    elif serialized and stamp:
        parts.append(f"  <h2>✓ {s(N_('This code is genuine and active'))}</h2>\n")
    else:
        parts.append(f"  <h2>{s(N_('Product information'))}</h2>\n")
    parts.append('  <ul class="pp-warnings" id="scan-warnings" hidden></ul>\n')
    parts.append('  <dl class="pp-facts">\n')
    if serialized:
        exists = s(N_("Yes")) if stamp else s(N_("No"))
        parts.append(f'    <dt>{s(N_("Code exists"))}</dt><dd data-fact="exists">{exists}</dd>\n')
        if stamp:
            if stamp.activated_at and stamp.state is StampState.activated:
                day = _vn_day(stamp.activated_at)
                activated = _say(locale, N_("Yes, on {date}"), date=day)
            else:
                activated = s(N_("No"))
            parts.append(
                f'    <dt>{s(N_("Activated"))}</dt><dd data-fact="activated">{activated}</dd>\n'
            )
    if scans and first_day is not None:
        scanned = _say(locale, N_("{count} times since {date}"), count=scans, date=first_day)
    else:
        scanned = s(N_("Never scanned before"))
    parts.append(f"    <dt>{s(N_('Scans'))}</dt>\n")
    parts.append(f'    <dd data-fact="scans">{scanned}</dd>\n  </dl>\n')
    # Only a serialized stamp can be caught being copied by the places of its scans.
    if with_scan:
        parts.append(
            '  <p class="pp-consent">\n'
            '    <button type="button" class="pp-button pp-secondary" id="share-place" '
            f'data-scan="{_SCAN_MARK}" '
            f'data-done="{s(N_("Thank you: your approximate area was recorded."))}" '
            f'data-denied="{s(N_("Location was not shared."))}">'
            + s(N_("Share my approximate area (about 10 km) to help detect copied stamps"))
            + "</button>\n  </p>\n"
        )
    parts.append("</section>\n")
    return "".join(parts)


def _vn_day(moment: datetime) -> str:
    return at_offset(moment).strftime("%d/%m/%Y")


def _serial(facts: ItemFacts) -> str:
    if not facts.key.serial:
        return "\n"
    serial = _said(facts.locale, N_("Serial"))
    return f'<dt>{serial}</dt><dd class="pp-code">{escape(facts.key.serial)}</dd>\n'


def _hidden(name: str, value: Any) -> str:
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'


def _pin_form(facts: ItemFacts) -> str:
    if not facts.has_pin:
        return "\n"
    key, locale = facts.key, facts.locale
    lot = f"\n    {_hidden('lot', key.lot)}" if key.lot else ""
    return (
        f'\n  <form method="post" action="/passport/pin?lang={escape(locale)}" class="pp-form"'
        ' id="pin-form">\n'
        f"    {_hidden('gtin', key.gtin)}{lot}\n"
        f"    {_hidden('serial', key.serial)}\n"
        f'    <label for="pin">{_said(locale, N_("Scratch the stamp and type its PIN"))}</label>\n'
        '    <input id="pin" name="pin" inputmode="numeric" autocomplete="off" '
        'pattern="[0-9]*" maxlength="16" required>\n'
        f'    <button type="submit" class="pp-button">{_said(locale, N_("Check PIN"))}</button>\n'
        "  </form>\n"
    )


def _report_hidden(facts: ItemFacts) -> str:
    key = facts.key
    fields = [_hidden("gtin", key.gtin)]
    if key.lot:
        fields.append(_hidden("lot", key.lot))
    if key.serial:
        fields.append(_hidden("serial", key.serial))
    if facts.scan_id is not None:
        fields.append(_hidden("scan_id", facts.scan_id))
    return "\n" + "".join(f"      {field}\n" for field in fields)


_BLOCKS: dict[str, Callable[[ItemFacts], str]] = {
    "check": _check,
    "serial": _serial,
    "pin_form": _pin_form,
    "report_hidden": _report_hidden,
}


def item_holes(facts: ItemFacts) -> dict[str, Markup]:
    """Each of the item's blocks, as safe HTML."""
    return {name: Markup(_BLOCKS[name](facts)) for name in ITEM_BLOCKS}
