"""Resolver decisions: the links of a Digital Link, the recall lookup, the ledger proof.

The recall and ledger modules are looked up lazily: the passport works without them, and
shows the recall banner and the ledger badge once they are installed.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from truyxuat.config import Settings
from truyxuat.errors import N_
from truyxuat.registry.models import Product
from truyxuat.resolver.languages import translate
from truyxuat.resolver.linkset import ItemKey, Link, LinkContext

PASSPORT_LANGUAGES = ("vi", "en", "zh")
RECALL_SECONDS = 5.0
# The recall module's own words for its severities (same messages, same translations).
RECALL_SEVERITY = {
    "class_i": N_("Class I — may cause serious harm"),
    "class_ii": N_("Class II — may cause temporary harm"),
    "class_iii": N_("Class III — unlikely to cause harm"),
}
LINK_TITLES = {
    "pip": N_("Product passport"),
    "traceability": N_("Journey of this item"),
    "epcis": N_("EPCIS events"),
    "certificationInfo": N_("Certificates"),
    "recallStatus": N_("Recall status"),
    "masterData": N_("Product master data"),
    "verificationService": N_("Check this stamp"),
}


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        found: Callable[..., Any] | None = getattr(importlib.import_module(module), name, None)
        return found
    except ImportError:
        return None


def recall_notice(
    session: Callable[[], Session], gtin: str, lot: str | None, cache: Any = None
) -> Any:
    """The live recall reaching this GTIN and lot, if the recall module knows one.

    Through the cache it is remembered for RECALL_SECONDS only: a new recall must reach the
    passports of its lot within seconds. `session` is called on a miss only.
    """
    lookup = _optional("truyxuat.recall.service", "recall_notice")
    if lookup is None:
        return None
    found = cache.get(("recall", gtin, lot)) if cache else None
    if found is None:
        found = (lookup(session(), gtin, lot),)
        if cache:
            cache.put(("recall", gtin, lot), found, seconds=RECALL_SECONDS)
    return found[0]


def proof_bundle(db: Session, event_hash: str | None) -> Any:
    """The ledger's inclusion proof of an event, once the ledger module provides it."""
    if not event_hash:
        return None
    lookup = _optional("truyxuat.ledger.service", "proof_bundle")
    return lookup(db, event_hash) if lookup else None


def cached_bundle(session: Callable[[], Session], event_hash: str | None, cache: Any) -> Any:
    """`proof_bundle` through the passport cache (a checkpoint is minutes apart anyway)."""
    if not event_hash:
        return None
    if not cache:
        return proof_bundle(session(), event_hash)
    found = cache.get(("bundle", event_hash))
    if found is None:
        bundle = proof_bundle(session(), event_hash)
        # Not in a checkpoint yet: asked again a few seconds later, so the badge shows soon
        # after the next checkpoint without every scan of the lot searching the log meanwhile.
        found = (bundle,)
        cache.put(("bundle", event_hash), found, seconds=None if bundle else RECALL_SECONDS)
    return found[0]


def _title(kind: str, locale: str, name: str) -> str:
    text = translate(locale, LINK_TITLES[kind])
    return f"{text}: {name}" if name else text


def contexts(
    key: ItemKey,
    product: Product,
    settings: Settings,
    locale: str,
) -> list[LinkContext]:
    """The links of each level of the key, most specific first (GS1 resolver spec 8.7.4)."""
    base = settings.resolver_base.rstrip("/")
    api = settings.public_base_url.rstrip("/")
    names = product.names or {}
    name = str(names.get(locale) or names.get("vi") or "")
    out: list[LinkContext] = []
    for level in key.levels():
        page = base + level.path
        certificates = Link(
            "certificationInfo", page + "#certificates", _title("certificationInfo", locale, "")
        )
        links = [
            Link("pip", page, _title("pip", locale, name), "text/html", PASSPORT_LANGUAGES),
            Link("defaultLink", page, _title("pip", locale, name), "text/html", PASSPORT_LANGUAGES),
        ]
        if level.lot or level.serial:
            parameter = "MATCH_anyEPC" if level.serial else "MATCH_anyEPCClass"
            events = f"{api}/epcis/events?{parameter}={quote(level.uri(), safe='')}"
            links += [
                Link("traceability", page + "#journey", _title("traceability", locale, "")),
                Link("epcis", events, _title("epcis", locale, ""), "application/ld+json"),
                certificates,
                Link(
                    "recallStatus",
                    f"{base}/embed{level.path}?format=json",
                    _title("recallStatus", locale, ""),
                    "application/json",
                ),
            ]
            if level.serial:
                links.append(
                    Link(
                        "verificationService",
                        page + "#authenticity",
                        _title("verificationService", locale, ""),
                    )
                )
        else:
            links += [
                certificates,
                Link(
                    "masterData",
                    f"{base}/embed{level.path}?format=json",
                    _title("masterData", locale, name),
                    "application/json",
                ),
            ]
        description = name
        if level.lot:
            description += f", {translate(locale, 'Lot').lower()} {level.lot}"
        if level.serial:
            description += f", {translate(locale, 'Serial').lower()} {level.serial}"
        out.append(LinkContext(level.uri(), description, links))
    return out


def linkset_href(settings: Settings, key: ItemKey) -> str:
    """The URL of the key's linkset."""
    return f"{settings.resolver_base.rstrip('/')}{key.path}?linkType=all"


class TTLCache:
    """A small time-limited cache of passport parts for one app (one database).

    Entries live `seconds`; the oldest is dropped when `size` is reached. Values are shared
    between threads and must not be changed by readers.
    """

    def __init__(self, seconds: float, size: int = 4096) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def __bool__(self) -> bool:
        return self.seconds > 0

    def get(self, key: tuple[Any, ...]) -> Any:
        found = self._entries.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: tuple[Any, ...], value: Any, seconds: float | None = None) -> None:
        if self.seconds <= 0:
            return
        life = self.seconds if seconds is None else min(seconds, self.seconds)
        if len(self._entries) >= self.size:
            try:
                self._entries.pop(next(iter(self._entries)))
            except (StopIteration, KeyError, RuntimeError):
                self._entries.clear()
        self._entries[key] = (time.monotonic() + life, value)


def cache_of(app_state: Any, settings: Settings) -> TTLCache:
    """The app's passport cache (created on first use)."""
    cache = getattr(app_state, "resolver_cache", None)
    if cache is None:
        cache = TTLCache(settings.resolver_cache_seconds)
        app_state.resolver_cache = cache
    return cache
