"""Registry pages: the commune choices of a province, swapped into forms by htmx."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.pages.common import communes, page

router = APIRouter(include_in_schema=False)


@router.get("/registry/communes", response_class=HTMLResponse)
def commune_options(
    request: Request, db: DB, principal: Caller, province_code: str = "", commune_code: str = ""
) -> Response:
    """The <option>s of the communes of one province."""
    return page(
        request,
        "registry/_commune_options.html",
        {"communes": communes(db, province_code), "selected": commune_code},
    )
