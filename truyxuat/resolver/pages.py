"""The resolver at the site root: `/01/...` Digital Links, `/.well-known/gs1resolver`, the
product passport and its authenticity forms.

A browser asking for a Digital Link gets the passport directly (no redirect: one round trip
less on a slow phone); a client asking for `application/linkset+json` or `?linkType=all` gets
the linkset; any other link type is a 307 to its target with the query string passed on.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.convertors import Convertor, register_url_convertor

from truyxuat.auth.deps import DB, Caller
from truyxuat.config import Settings
from truyxuat.db import READ_ONLY
from truyxuat.errors import N_, DomainError, Forbidden, TooManyRequests, ValidationFailed, invalid
from truyxuat.gs1 import gtin_display
from truyxuat.registry.models import ProductImage, StoredFile
from truyxuat.resolver import authenticity, passport, scans, service
from truyxuat.resolver.item_html import ITEM_BLOCKS, ItemFacts, item_holes
from truyxuat.resolver.items import ItemRead
from truyxuat.resolver.languages import LANGUAGE_NAMES, PASSPORT_LANGUAGES, negotiate, translate
from truyxuat.resolver.linkset import (
    DATE_AIS,
    GS1_VOC,
    LINK_TYPES,
    LINKSET_CONTEXT,
    LINKSET_JSON,
    ItemKey,
    find,
    link_header,
    link_type_uri,
    linkset,
    parse_date,
    parse_path,
    read_path,
)
from truyxuat.web.templating import add_template_dir, environment

add_template_dir(Path(__file__).resolve().parent / "templates")

router = APIRouter(include_in_schema=False)
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Link, Location",
}
PIN_OUTCOMES = {
    "first": N_("Genuine: this is the first verification of this stamp."),
    "again": N_("Genuine stamp, but its PIN was already verified on {date}."),
    "wrong": N_("Wrong PIN. {left} attempts left for this stamp."),
    "voided": N_("This stamp was voided by the producer: it must not be on sale."),
    "unknown": N_("This stamp is unknown: it may be fake."),
    "no_pin": N_("This stamp has no PIN to check."),
}


def app_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def reading(db: Session) -> None:
    """Marks the request's next transaction as read-only (SQLite then lets readers overlap).

    On PostgreSQL a session of its own over the engine (the resolver's) reads without any
    transaction: each statement sees a committed state, and the BEGIN and ROLLBACK round
    trips around a few reads cost as much as the reads. (SQLite's deferred BEGIN is free, and
    its autocommit switch costs a PRAGMA each way.)
    """
    if not db.in_transaction():
        options: dict[str, Any] = {READ_ONLY: True}
        bind = db.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        db.connection(execution_options=options)


def _raw_path(request: Request) -> str:
    """The request path still percent-encoded (a lot may hold an encoded slash)."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path


def _dates(request: Request, compressed: dict[str, str] | None = None) -> dict[str, date]:
    """The AI 17/15/11/13 date qualifiers of the query string (or of a compressed path)."""
    found: dict[str, date] = {}
    for ai, kind in DATE_AIS.items():
        value = request.query_params.get(ai) or (compressed or {}).get(ai)
        if value is not None:
            found[kind] = parse_date(ai, value)
    return found


def _wants_linkset(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return (
        LINKSET_JSON in accept
        or ("application/json" in accept and "text/html" not in accept)
        or "application/ld+json" in accept
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    locale: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Renders a passport-family page in vi, en or zh."""
    return _html_response(
        _render_html(request, name, context, locale), locale, status_code, headers
    )


def _html_response(
    html: str, locale: str, status_code: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = locale
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


def _globals(locale: str) -> dict[str, Any]:
    """What every passport-family template is given: the language and its translations."""

    def _(message: str, **params: Any) -> str:
        return translate(locale, message, **params)

    return {
        "locale": locale,
        "languages": PASSPORT_LANGUAGES,
        "language_names": LANGUAGE_NAMES,
        "_": _,
        "gettext": _,
    }


def _render_html(request: Request, name: str, context: dict[str, Any], locale: str) -> str:
    return (
        environment().get_template(name).render({"request": request, **_globals(locale), **context})
    )


@router.get("/.well-known/gs1resolver")
def resolver_description(settings: AppSettings) -> JSONResponse:
    """The resolver description file (GS1 resolver spec 8.11)."""
    root = settings.resolver_base.rstrip("/")
    body = {
        "name": "truyxuat GS1 Digital Link resolver",
        "resolverRoot": root,
        "supportedPrimaryKeys": ["01"],
        "supportedKeyQualifiers": {"01": ["10", "21"]},
        "supportedDataAttributes": sorted(DATE_AIS),
        "supportedLinkType": [
            {
                "namespace": GS1_VOC,
                "prefix": "gs1:",
                "profile": "https://ref.gs1.org/voc/?show=linktypes",
            }
        ],
        "linkTypes": [f"gs1:{t}" for t in LINK_TYPES],
        "linkTypeDefaultCanBeAll": True,
        "supportedContextValuesEnumerated": [],
        "supportedLanguages": list(PASSPORT_LANGUAGES),
        "linkset": f"{root}/01/{{gtin}}?linkType=all",
        "contact": settings.public_base_url,
    }
    return JSONResponse(body, headers=CORS)


@router.options("/01/{rest:path}")
@router.options("/.well-known/gs1resolver")
def preflight() -> Response:
    """CORS preflight: any origin may read the resolver with GET or HEAD."""
    return Response(
        status_code=204,
        headers={
            **CORS,
            "Allow": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Accept, Accept-Language",
            "Access-Control-Max-Age": "86400",
        },
    )


class CompressedLink(Convertor[str]):
    """A whole compressed Digital Link path of a GTIN: base64url whose first bits are AI 01.

    "A" then one of Q-Z/a-f is how AI 01 (bits 00000001) starts in base64url; no page of the
    site is named like that, so the route cannot hide another one.
    """

    regex = "A[Q-Za-f][A-Za-z0-9_-]{8,}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("gs1compressed", CompressedLink())


# The app puts `/01/{rest:path}` first of all its routes itself (`truyxuat.app`).
@router.api_route("/{compressed:gs1compressed}", methods=["GET", "HEAD"])
async def resolve(request: Request) -> Response:
    """Resolves a GS1 Digital Link: passport, linkset, or a redirect to one link type.

    A (partly) compressed link is answered in place, its uncompressed form named in the Link
    header as owl:sameAs (GS1 resolvers should not redirect to it on the same resolver).

    Every consumer scan lands here, so this one route is a coroutine that reads the database
    in place: its reads are a few indexed lookups (the product and the lot come from the
    cache), and the hops to the thread pool and back that a plain route and its session
    dependency take cost more than the work itself, and queue scans behind each other.
    """
    opened: list[Session] = []

    def session() -> Session:
        # Opened on first use: a cached linkset, and a passport whose product and lot are
        # cached, are answered without one (the item's own read has a connection of its own).
        if not opened:
            db = request.app.state.loop_sessionmaker()
            opened.append(db)
            reading(db)
        return opened[0]

    try:
        return await _resolve(request, session, request.app.state.settings)
    finally:
        for db in opened:
            db.close()


async def _resolve(
    request: Request, session: Callable[[], Session], settings: Settings
) -> Response:
    key, compressed_dates, compressed = read_path(_raw_path(request))
    qualifiers = _dates(request, compressed_dates)
    locale = negotiate(request)
    link_type = request.query_params.get("linkType")
    # The item is read before any session is opened: a session held across this wait would
    # let other scans take the loop engine's connections meanwhile, and a scan waiting for
    # one blocks the loop, so the holder could never give it back.
    item = None
    if key.serial and _wants_page(request, link_type):
        item = await request.app.state.item_reader.read(key)
    cache = service.cache_of(request.app.state, settings)
    links = cache.get(("links", key, locale))
    if links is None:
        # A linkset of a known product needs no database at all: touch it only when needed.
        product, _producer = passport.cached_product(session, key.gtin, cache)
        contexts = service.contexts(key, product, settings, locale)
        # The linkset is sent already encoded: most resolutions ask for nothing else.
        body = json.dumps(linkset(contexts), ensure_ascii=False, separators=(",", ":"))
        links = (contexts, link_header(contexts, service.linkset_href(settings, key)), body)
        cache.put(("links", key, locale), links)
    contexts, header, encoded = links
    if compressed:
        header = f'<{key.uri()}>; rel="owl:sameAs", ' + header
    headers = {**CORS, "Link": header, "Vary": "Accept, Accept-Language"}
    if link_type == "all" or (link_type is None and _wants_linkset(request)):
        media_type = LINKSET_JSON
        if "application/ld+json" in request.headers.get("accept", ""):
            encoded = json.dumps(
                {**linkset(contexts), "@context": LINKSET_CONTEXT},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            media_type = "application/ld+json"
        # The body is the link list: repeating it in a Link header would double the answer.
        plain = {**CORS, "Vary": "Accept, Accept-Language"}
        if compressed:
            plain["Link"] = f'<{key.uri()}>; rel="owl:sameAs"'
        return Response(encoded, media_type=media_type, headers=plain)
    if link_type:
        uri = link_type_uri(link_type)
        if uri not in (GS1_VOC + "pip", GS1_VOC + "defaultLink"):
            target = find(contexts, link_type) if uri else None
            if target is None:
                target = find(contexts, "defaultLink")
            assert target is not None
            return RedirectResponse(
                _pass_query(target.href, request), status_code=307, headers=headers
            )
    return passport_page(
        request, session, settings, key, qualifiers, locale, headers, cache, item=item
    )


def _wants_page(request: Request, link_type: str | None) -> bool:
    """Whether the answer is the passport page (not the linkset or a redirect to a link)."""
    if link_type is None:
        return not _wants_linkset(request)
    return link_type_uri(link_type) in (GS1_VOC + "pip", GS1_VOC + "defaultLink")


def _pass_query(href: str, request: Request) -> str:
    """The target with the request's query (bar linkType) passed on, before any fragment."""
    passed = [(k, v) for k, v in request.query_params.multi_items() if k != "linkType"]
    if not passed:
        return href
    base, hash_mark, fragment = href.partition("#")
    joined = base + ("&" if "?" in base else "?") + urlencode(passed)
    return joined + hash_mark + fragment


def _lot_json_ld(view: passport.Passport, settings: Settings) -> str:
    """What the JSON-LD of a passport says of the lot (the same for each of its items)."""
    product = view.product
    names = product.names or {}
    data: dict[str, Any] = {
        "name": view.name("vi"),
        "gtin": product.gtin,
        "gs1:gtin": product.gtin,
        "gs1:productName": [{"@value": v, "@language": k} for k, v in names.items() if v],
        "manufacturer": {"@type": "Organization", "name": view.producer.name},
        "gs1:manufacturer": {
            "@type": "gs1:Organization",
            "gs1:organizationName": view.producer.name,
        },
        "countryOfOrigin": "VN",
        "gs1:countryOfOrigin": {"gs1:countryCode": "VN"},
    }
    if view.producer.gln:
        data["gs1:manufacturer"]["gs1:globalLocationNumber"] = view.producer.gln
    if product.net_content:
        data["gs1:netContent"] = product.net_content
    if view.lot:
        data["gs1:hasBatchLotNumber"] = view.lot
    if view.image_id:
        data["image"] = f"{settings.resolver_base.rstrip('/')}/passport/images/{view.image_id}"
    if "expiry" in view.dates:
        data["gs1:expirationDate"] = view.dates["expiry"].isoformat()
    if "best_before" in view.dates:
        data["gs1:bestBeforeDate"] = view.dates["best_before"].isoformat()
    if view.certificates:
        data["gs1:certification"] = [
            {
                "@type": "gs1:CertificationDetails",
                "gs1:certificationStandard": c.name,
                "gs1:certificationAgency": c.issuer,
                "gs1:certificationIdentification": c.number,
                "gs1:certificationStartDate": c.valid_from.isoformat(),
                "gs1:certificationEndDate": c.valid_to.isoformat(),
                "gs1:certificationStatus": c.status,
            }
            for c in view.certificates
        ]
        data["hasCertification"] = [
            {"@type": "Certification", "name": c.name, "identifier": c.number}
            for c in view.certificates
        ]
    return json.dumps(data, ensure_ascii=False)


def _json_ld(view: passport.Passport, settings: Settings, lot_part: str | None = None) -> str:
    """schema.org Product with the GS1 Web Vocabulary terms, as a JSON-LD data block: the
    item's identity, then what the lot's part says (given when the lot's page holds it)."""
    key = view.key
    head: dict[str, Any] = {
        "@context": {"@vocab": "https://schema.org/", "gs1": GS1_VOC},
        "@type": ["Product", "gs1:Product"],
        "@id": key.uri(),
        "url": settings.resolver_base.rstrip("/") + key.path,
    }
    if key.serial:
        head["serialNumber"] = key.serial
        head["gs1:hasSerialNumber"] = key.serial
    lot_part = lot_part or _lot_json_ld(view, settings)
    text = json.dumps(head, ensure_ascii=False)[:-1] + ", " + lot_part[1:]
    # "</" would end the script element early; JSON allows escaping the slash.
    return text.replace("</", "<\\/")


def _view(
    session: Callable[[], Session],
    settings: Settings,
    key: ItemKey,
    qualifiers: dict[str, date],
    *,
    scan: Any = None,
    cache: service.TTLCache | None = None,
    locale: str = "vi",
    item: ItemRead | None = None,
) -> dict[str, Any]:
    """The template context of a passport (loads everything the page shows).

    `scan` is this visit's scan, written after the page is rendered: it counts already.
    `session` is called only for what the cache does not hold.
    """
    view = passport.load(session, key, cache=cache, item=item)
    for kind, value in qualifiers.items():
        view.dates.setdefault(kind, value)
    recall = service.recall_notice(session, key.gtin, view.lot, cache)
    if view.scan_counts is not None:
        stats = scans.ScanStats(*view.scan_counts)
    else:
        stats = scans.stats(session(), key, view.lot)
    if scan is not None:
        stats = scans.ScanStats(stats.count + 1, stats.first_at or scan.scanned_at, stats.located)
    signs = scans.copy_signs(
        session,
        key,
        far_km=settings.resolver_copy_distance_km,
        long_days=settings.resolver_copy_days,
        first_at=stats.first_at,
        located=stats.located,
    )
    warnings = authenticity.warnings(key, view.stamp, signs, recall is not None)
    bundle = service.cached_bundle(session, view.last_event_hash, cache)
    today = datetime.now(UTC).date()
    expired = view.dates.get("expiry")
    return {
        "p": view,
        "key": key,
        "gtin_display": gtin_display(key.gtin),
        "recall": recall,
        "stats": stats,
        "warnings": warnings,
        "scan": scan,
        "has_pin": authenticity.has_pin(view.stamp),
        "bundle": bundle,
        "lot_html": _lot_html(view, bundle, locale, cache),
        "expired": expired is not None and expired < today,
        "local_time": passport.local_time,
        "vn": passport.at_offset,
        "severities": service.RECALL_SEVERITY,
        "reasons": authenticity.REPORT_REASONS,
        "linkset_href": service.linkset_href(settings, key),
    }


def _lot_html(
    view: passport.Passport, bundle: Any, locale: str, cache: service.TTLCache | None
) -> Markup:
    """The journey, map and certificates sections, rendered once per lot and language."""
    cache_key = ("html", view.product.gtin, view.lot, locale, view.last_event_hash, bool(bundle))
    found = cache.get(cache_key) if cache and view.shared else None
    if found is None:
        found = Markup(
            environment()
            .get_template("resolver/_lot_sections.html")
            .render(
                {
                    **_globals(locale),
                    "p": view,
                    "bundle": bundle,
                    "local_time": passport.local_time,
                }
            )
        )
        if cache and view.shared:
            cache.put(cache_key, found)
    return found


_MARKERS = {name: Markup(f"<!--hole:{name}-->") for name in (*ITEM_BLOCKS, "json_ld", "linkset")}
_HOLE = re.compile(r"<!--hole:(\w+)-->")


@dataclass(frozen=True)
class _LotPage:
    """A lot's passport page with holes for the item, and what it was rendered from."""

    sources: tuple[tuple[Any, ...], tuple[Any, ...]]
    segments: list[str]  # text, hole name, text, hole name, ..., text
    json_ld: str  # the lot's part of the JSON-LD


def _item_holes(context: dict[str, Any], locale: str, json_ld: str) -> dict[str, Markup]:
    """The parts of a passport that belong to the item and the scan, not to its lot."""
    view: passport.Passport = context["p"]
    stats: scans.ScanStats = context["stats"]
    scan = context["scan"]
    facts = ItemFacts(
        key=context["key"],
        locale=locale,
        stamp=view.stamp,
        warnings=context["warnings"],
        scans=stats.count,
        first_scan=passport.at_offset(stats.first_at) if stats.first_at else None,
        scan_id=scan.id if scan is not None else None,
        has_pin=context["has_pin"],
    )
    holes = item_holes(facts)
    holes["json_ld"] = Markup(json_ld)
    holes["linkset"] = escape(context["linkset_href"])
    return holes


def _lot_sources(context: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """What a lot's page is drawn from: parts held by the passport cache, where a part read
    afresh is another object (so they are compared by identity, and kept alive meanwhile),
    and plain values."""
    view: passport.Passport = context["p"]
    held = (
        view.product,
        view.producer,
        view.steps,
        view.certificates,
        view.facilities,
        view.area,
        view.packing_houses,
        context["recall"],
        context["bundle"],
        context["lot_html"],
    )
    values = (view.image_id, tuple(sorted(view.dates.items())), context["expired"])
    return held, values


def _same_sources(
    a: tuple[tuple[Any, ...], tuple[Any, ...]], b: tuple[tuple[Any, ...], tuple[Any, ...]]
) -> bool:
    return all(x is y for x, y in zip(a[0], b[0], strict=True)) and a[1] == b[1]


def passport_html(
    request: Request,
    context: dict[str, Any],
    locale: str,
    cache: service.TTLCache | None = None,
) -> str:
    """A passport page. A scan of a lot-level item fills the holes of its lot's page, which
    is rendered once per lot and language: the whole page would cost as much again as the
    rest of the resolution, and it is the same for every item of the lot but for the holes."""
    settings: Settings = request.app.state.settings
    view: passport.Passport = context["p"]
    # The form answers (PIN, report) come without a cache: they always render whole.
    if not cache or not view.shared:
        holes = _item_holes(context, locale, _json_ld(view, settings))
        return _render_html(request, "resolver/passport.html", {**context, "holes": holes}, locale)
    cache_key = ("lot-page", view.product.gtin, view.lot, locale)
    sources = _lot_sources(context)
    page: _LotPage | None = cache.get(cache_key)
    if page is None or not _same_sources(page.sources, sources):
        html = _render_html(
            request, "resolver/passport.html", {**context, "holes": _MARKERS}, locale
        )
        page = _LotPage(sources, _HOLE.split(html), _lot_json_ld(view, settings))
        cache.put(cache_key, page)
    holes = _item_holes(context, locale, _json_ld(view, settings, page.json_ld))
    segments = page.segments
    return "".join(holes[part] if i % 2 else part for i, part in enumerate(segments))


def passport_page(
    request: Request,
    session: Callable[[], Session],
    settings: Settings,
    key: ItemKey,
    qualifiers: dict[str, date],
    locale: str,
    headers: dict[str, str],
    cache: service.TTLCache | None = None,
    *,
    item: ItemRead | None = None,
) -> Response:
    """The passport; a never-issued serial answers 404 with its warning (not a 200 error).

    The scan is written after the page has been sent, in a transaction of its own: the
    consumer does not wait for it, and on SQLite the write lock is held for one insert only.
    """
    scan = None
    if request.method == "GET":
        scan = scans.new(key, key.lot, request.headers.get("user-agent", ""), locale)
    if item is None:
        item = request.app.state.item_reader.read_now(key)
    context = _view(
        session, settings, key, qualifiers, scan=scan, cache=cache, locale=locale, item=item
    )
    view: passport.Passport = context["p"]
    status = 404 if key.serial and view.stamp is None else 200
    response = _html_response(
        passport_html(request, context, locale, cache), locale, status, headers
    )
    if scan is not None:
        scan.lot = view.lot
        # Handed over once the page is sent and this request's session is closed; awaited,
        # so that a client of the app that waits for the whole exchange (the tests) finds
        # the scan logged, while the consumer does not wait for it.
        response.background = BackgroundTask(_log_scan, scans.writer_of(request.app.state), scan)
    return response


async def _log_scan(writer: scans.ScanWriter, scan: Any) -> None:
    await asyncio.wrap_future(writer.submit(scan))


def _key_from_form(values: dict[str, Any]) -> ItemKey:
    gtin = str(values.get("gtin", ""))
    path = f"/01/{gtin}"
    if values.get("lot"):
        path += f"/10/{quote(str(values['lot']), safe='')}"
    if values.get("serial"):
        path += f"/21/{quote(str(values['serial']), safe='')}"
    return parse_path(path)


def _same_site(request: Request) -> None:
    """Refuses a form another site makes the browser send (it could spend a stamp's PIN
    guesses or flood reports in the consumer's name); these forms carry no session to check."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden(N_("This form must be sent from the product passport"))


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/passport/pin")
async def check_pin(request: Request, db: DB, settings: AppSettings) -> Response:
    """The consumer types the scratch-off PIN; the passport answers with the verdict."""
    _same_site(request)
    form = dict((await request.form()).items())
    return await run_in_threadpool(_pin_page, request, db, settings, form)


def _pin_page(request: Request, db: Session, settings: Settings, form: dict[str, Any]) -> Response:
    key = _key_from_form(form)
    locale = negotiate(request)
    status = 200
    outcome: dict[str, Any]
    try:
        result = authenticity.check_pin(
            db, settings, client=_client(request), key=key, pin=str(form.get("pin", ""))
        )
        when = result.first_verified_at
        message = translate(
            locale,
            PIN_OUTCOMES[result.outcome],
            date=passport.at_offset(when).strftime("%d/%m/%Y %H:%M") if when else "",
            left=result.attempts_left or 0,
        )
        outcome = {"kind": result.outcome, "genuine": result.genuine, "message": message}
    except TooManyRequests as exc:
        status = 429
        outcome = {"kind": "limited", "genuine": False, "message": translate(locale, exc.message)}
    except ValidationFailed as exc:
        status = 422
        outcome = {
            "kind": "invalid",
            "genuine": False,
            "message": translate(locale, exc.errors[0].message, **exc.errors[0].params),
        }
    # Wrong guesses must count even though the page reports them: commit now.
    db.commit()
    context = _view(lambda: db, settings, key, {}, locale=locale)
    context["pin_outcome"] = outcome
    return _html_response(passport_html(request, context, locale), locale, status)


@router.post("/passport/report")
async def report_fake(request: Request, db: DB, settings: AppSettings) -> Response:
    """Stores a report of a suspected fake for the producer and the province's authority."""
    _same_site(request)
    form = await request.form()
    return await run_in_threadpool(_report_page, request, db, settings, form)


def _report_page(request: Request, db: Session, settings: Settings, form: Any) -> Response:
    values = dict(form.items())
    key = _key_from_form(values)
    locale = negotiate(request)
    view = passport.load(lambda: db, key)
    scan_id = None
    try:
        scan_id = uuid.UUID(str(values.get("scan_id", "")))
    except ValueError:
        scan_id = None
    context: dict[str, Any]
    try:
        authenticity.report_fake(
            db,
            product=view.product,
            producer=view.producer,
            key=key,
            lot=view.lot,
            reasons=[str(r) for r in form.getlist("reasons")],
            where_bought=str(values.get("where_bought", "")),
            message=str(values.get("message", "")),
            scan_id=scan_id,
        )
    except ValidationFailed as exc:
        context = _view(lambda: db, settings, key, {}, locale=locale)
        context["report_error"] = translate(locale, exc.errors[0].message, **exc.errors[0].params)
        return _html_response(passport_html(request, context, locale), locale, 422)
    context = _view(lambda: db, settings, key, {}, locale=locale)
    context["report_sent"] = True
    return _html_response(passport_html(request, context, locale), locale)


@router.post("/passport/scans/{scan_id}/place")
async def scan_place(
    scan_id: uuid.UUID, request: Request, db: DB, settings: AppSettings
) -> Response:
    """Attaches the consented coarse place to a scan; answers the warnings it now shows."""
    _same_site(request)
    try:
        body = await request.json()
        latitude, longitude = float(body["latitude"]), float(body["longitude"])
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid("latitude", N_("The place is not a valid latitude and longitude")) from exc
    try:
        scan = await run_in_threadpool(scans.set_place, db, scan_id, latitude, longitude)
    except ValidationFailed:
        # The scan is written just after its page was sent: give it a moment, once.
        db.rollback()
        await asyncio.sleep(0.3)
        scan = await run_in_threadpool(scans.set_place, db, scan_id, latitude, longitude)
    return await run_in_threadpool(_place_answer, request, db, settings, scan)


def _place_answer(request: Request, db: Session, settings: Settings, scan: Any) -> Response:
    locale = negotiate(request)
    key = ItemKey(scan.gtin, None if scan.serial else scan.lot, scan.serial)
    stamp = passport.load_stamp(db, key)
    stats = scans.stats(db, key, scan.lot)
    signs = scans.copy_signs(
        lambda: db,
        key,
        far_km=settings.resolver_copy_distance_km,
        long_days=settings.resolver_copy_days,
        first_at=stats.first_at,
    )
    cache = service.cache_of(request.app.state, settings)
    recall = service.recall_notice(lambda: db, key.gtin, scan.lot, cache)
    found = authenticity.warnings(key, stamp, signs, recall is not None)
    return JSONResponse(
        {
            "latitude": scan.latitude,
            "longitude": scan.longitude,
            "warnings": [
                {"kind": w.kind, "message": translate(locale, w.message, **w.params)} for w in found
            ],
        }
    )


@router.get("/passport/images/{image_id}")
def product_image(image_id: uuid.UUID, db: DB, settings: AppSettings) -> Response:
    """A product photo, public like the passport that shows it."""
    from fastapi.responses import FileResponse

    from truyxuat.registry.service.files import blob_path

    row = db.execute(
        select(StoredFile)
        .join(ProductImage, ProductImage.file_id == StoredFile.id)
        .where(ProductImage.id == image_id)
    ).scalar_one_or_none()
    if row is None:
        from truyxuat.errors import NotFound

        raise NotFound()
    path = blob_path(settings, row.sha256)
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={"Cache-Control": "public, max-age=86400", **CORS},
    )


@router.get("/passport/photo")
def photo_form(request: Request) -> Response:
    """The desktop page: upload a photo of a stamp to check it."""
    locale = negotiate(request)
    return render(request, "resolver/photo.html", {}, locale)


@router.post("/passport/photo")
async def photo_upload(
    request: Request, settings: AppSettings, photo: UploadFile = File(...)
) -> Response:
    """Decodes the stamp's QR code with zxing-cpp and resolves it."""
    from truyxuat.resolver import photo as photo_decoder

    locale = negotiate(request)
    data = await photo.read(settings.max_upload_bytes + 1)
    try:
        key = photo_decoder.key_from_photo(data, settings.max_upload_bytes)
    except DomainError as exc:
        message = exc.message
        params = exc.params
        if isinstance(exc, ValidationFailed) and exc.errors:
            message, params = exc.errors[0].message, exc.errors[0].params
        return render(
            request,
            "resolver/photo.html",
            {"error": translate(locale, message, **params)},
            locale,
            422,
        )
    return RedirectResponse(key.path + f"?lang={locale}", status_code=303)


@router.get("/resolver/reports")
def reports_page(request: Request, db: DB, principal: Caller) -> Response:
    """Reports of suspected fakes for the producer's products, or in the authority's province."""
    locale = negotiate(request)
    rows = authenticity.list_reports(db, principal)
    return render(
        request,
        "resolver/reports.html",
        {"rows": rows, "reasons": authenticity.REPORT_REASONS, "gtin_display": gtin_display},
        locale,
    )
