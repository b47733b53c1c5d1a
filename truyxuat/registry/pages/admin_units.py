"""Registry pages: small fragments swapped into pages by htmx (commune choices, org switcher)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from truyxuat.auth.deps import DB, Caller
from truyxuat.registry.pages.common import communes, org_names, page

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


@router.get("/registry/org-switcher", response_class=HTMLResponse)
def org_switcher(request: Request, db: DB, principal: Caller, next: str = "/") -> Response:
    """The header's choice of the organization a member of several acts for."""
    names = org_names(db, principal.member_org_ids())
    return page(
        request,
        "registry/_org_switcher.html",
        {
            "orgs": sorted(names.items(), key=lambda item: item[1]),
            "active": principal.default_org_id(),
            "next": next if next.startswith("/") and not next.startswith("//") else "/",
        },
    )
