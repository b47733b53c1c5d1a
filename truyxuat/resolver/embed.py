"""The widget shops put on their product pages: an iframe card and the same facts as JSON.

Only `/embed/...` may be framed by other sites (app.py relaxes frame-ancestors there alone);
views of a widget are not consumer scans and are not logged.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truyxuat.auth.deps import DB
from truyxuat.resolver import passport, service
from truyxuat.resolver.languages import negotiate, translate
from truyxuat.resolver.linkset import parse_path
from truyxuat.resolver.pages import CORS, AppSettings, _raw_path, reading, render

router = APIRouter(include_in_schema=False)
PREFIX = "/embed"


def facts(view: passport.Passport, recall: Any, locale: str, passport_url: str) -> dict[str, Any]:
    """The JSON form of the widget."""
    return {
        "gtin": view.product.gtin,
        "lot": view.lot,
        "serial": view.key.serial,
        "name": view.name(locale),
        "names": view.product.names,
        "producer": view.producer.name,
        "ocop_stars": view.product.ocop_stars,
        "passport": passport_url,
        "certificates": [
            {
                "name": c.name,
                "number": c.number,
                "issuer": c.issuer,
                "valid_from": c.valid_from.isoformat(),
                "valid_to": c.valid_to.isoformat(),
                "status": c.status,
            }
            for c in view.certificates
        ],
        "journey": [
            {
                "step": s.term,
                "label": translate(locale, s.label),
                "time": s.at.isoformat(),
                "place": s.place,
                "organization": s.org,
            }
            for s in view.steps
        ],
        "dates": {k: v.isoformat() for k, v in view.dates.items()},
        "recall": None
        if recall is None
        else {
            "reason": recall.reason,
            "severity": recall.severity,
            "opened_at": recall.opened_at.isoformat(),
            "opened_by": recall.opened_by,
        },
    }


@router.api_route(PREFIX + "/01/{rest:path}", methods=["GET", "HEAD"])
def widget(request: Request, db: DB, settings: AppSettings) -> Response:
    """The widget of a product, a lot or an item: HTML for an iframe, or `?format=json`."""
    key = parse_path(_raw_path(request)[len(PREFIX) :])
    locale = negotiate(request)
    reading(db)
    cache = service.cache_of(request.app.state, settings)
    view = passport.load(lambda: db, key, cache=cache)
    recall = service.recall_notice(lambda: db, key.gtin, view.lot, cache)
    passport_url = settings.resolver_base.rstrip("/") + key.path
    accept = request.headers.get("accept", "")
    if request.query_params.get("format") == "json" or (
        "json" in accept and "text/html" not in accept
    ):
        return JSONResponse(facts(view, recall, locale, passport_url), headers=CORS)
    return render(
        request,
        "resolver/embed.html",
        {
            "p": view,
            "recall": recall,
            "passport_url": passport_url,
            "local_time": passport.local_time,
        },
        locale,
        headers={"Cache-Control": "public, max-age=300"},
    )
