"""Helpers shared by the registry pages: form parsing, paging, choices, labels and re-rendering."""

from __future__ import annotations

import enum
import math
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import pydantic
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.auth.deps import request_locale
from truyxuat.auth.models import Role
from truyxuat.auth.principal import WRITE_ROLES, Principal
from truyxuat.errors import N_, DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from truyxuat.i18n import gettext
from truyxuat.registry.models import (
    AdminUnit,
    CertScheme,
    CertScope,
    CodeStatus,
    FacilityKind,
    MoitGroup,
    Organization,
    OrgKind,
    OrgStatus,
)
from truyxuat.web.forms import form_errors
from truyxuat.web.templating import render

M = TypeVar("M", bound=pydantic.BaseModel)
PAGE_SIZE = 20

# Labels of the stored enum values, translated in the templates with _(labels.x[value]).
LABELS: dict[str, dict[str, str]] = {
    "org_kind": {
        OrgKind.enterprise: N_("Enterprise"),
        OrgKind.cooperative: N_("Cooperative"),
        OrgKind.household: N_("Household"),
        OrgKind.authority: N_("Authority"),
        OrgKind.platform: N_("Platform"),
    },
    "org_status": {
        OrgStatus.pending: N_("Pending"),
        OrgStatus.approved: N_("Approved"),
        OrgStatus.suspended: N_("Suspended"),
    },
    "status": {
        CodeStatus.pending: N_("Pending"),
        CodeStatus.approved: N_("Approved"),
        CodeStatus.suspended: N_("Suspended"),
        CodeStatus.revoked: N_("Revoked"),
    },
    "facility_kind": {
        FacilityKind.farm: N_("Farm"),
        FacilityKind.packing_house: N_("Packing house"),
        FacilityKind.factory: N_("Factory"),
        FacilityKind.warehouse: N_("Warehouse"),
        FacilityKind.store: N_("Store"),
        FacilityKind.port: N_("Port"),
        FacilityKind.pond: N_("Pond"),
        FacilityKind.office: N_("Office"),
        FacilityKind.other: N_("Other"),
    },
    "moit_group": {
        MoitGroup.beer: N_("Beer"),
        MoitGroup.alcohol: N_("Alcohol and alcoholic drinks"),
        MoitGroup.soft_drinks: N_("Soft drinks"),
        MoitGroup.processed_milk: N_("Processed milk"),
        MoitGroup.vegetable_oil: N_("Vegetable oil"),
        MoitGroup.flour_starch: N_("Flour and starch"),
        MoitGroup.confectionery: N_("Confectionery"),
        MoitGroup.food_packaging: N_("Food packaging materials"),
    },
    "cert_scheme": {
        CertScheme.vietgap: "VietGAP",
        CertScheme.globalgap: "GlobalG.A.P.",
        CertScheme.organic: N_("Organic"),
        CertScheme.haccp: "HACCP",
        CertScheme.iso22000: "ISO 22000",
        CertScheme.ocop: "OCOP",
        CertScheme.asc: "ASC",
        CertScheme.bap: "BAP",
        CertScheme.halal: "Halal",
        CertScheme.other: N_("Other"),
    },
    "cert_scope": {
        CertScope.organization: N_("Organization"),
        CertScope.facility: N_("Facility"),
        CertScope.growing_area: N_("Growing area"),
        CertScope.packing_house: N_("Packing house"),
        CertScope.product: N_("Product"),
    },
    "cert_state": {
        "valid": N_("Valid"),
        "expiring": N_("Expiring soon"),
        "expired": N_("Expired"),
        "revoked": N_("Revoked"),
        "suspended": N_("Suspended"),
        "not_yet_valid": N_("Not yet valid"),
    },
}

# Pydantic's error types, as translatable messages (its own English text is not translated).
_PYDANTIC_MESSAGES = {
    "missing": N_("This field is required"),
    "string_too_short": N_("Too short: at least {min_length} characters"),
    "string_too_long": N_("Too long: at most {max_length} characters"),
    "too_short": N_("Too short: at least {min_length} items"),
    "too_long": N_("Too long: at most {max_length} items"),
    "string_pattern_mismatch": N_("Invalid format"),
    "enum": N_("Choose one of the listed values"),
    "literal_error": N_("Choose one of the listed values"),
    "uuid_parsing": N_("Choose one of the listed values"),
    "uuid_type": N_("Choose one of the listed values"),
    "int_parsing": N_("Enter a whole number"),
    "int_from_float": N_("Enter a whole number"),
    "int_type": N_("Enter a whole number"),
    "float_parsing": N_("Enter a number"),
    "float_type": N_("Enter a number"),
    "finite_number": N_("Enter a number"),
    "greater_than": N_("Must be greater than {gt}"),
    "greater_than_equal": N_("Must be at least {ge}"),
    "less_than": N_("Must be less than {lt}"),
    "less_than_equal": N_("Must be at most {le}"),
    "date_parsing": N_("Enter a date as YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD"),
    "date_type": N_("Enter a date as YYYY-MM-DD"),
    "json_invalid": N_("Not valid JSON"),
    "json_type": N_("Not valid JSON"),
    "dict_type": N_("Not valid JSON"),
    "bool_parsing": N_("Choose yes or no"),
}


def parse(schema: type[M], values: dict[str, Any], *, drop_blank: bool = True) -> M:
    """Validates form values with an API schema, raising ValidationFailed naming each field.

    Blank fields are left out (so the schema's defaults apply) unless `drop_blank` is False,
    as for a patch, where a blank field clears the stored value.
    """
    if drop_blank:
        values = {k: v for k, v in values.items() if v is not None}
    try:
        return schema.model_validate(values)
    except pydantic.ValidationError as exc:
        raise ValidationFailed(pydantic_errors(exc)) from None


def pydantic_errors(exc: pydantic.ValidationError) -> list[FieldError]:
    """Turns pydantic's errors into field errors with translatable messages."""
    out: list[FieldError] = []
    for err in exc.errors():
        loc: list[str | int] = [p for p in err["loc"] if isinstance(p, str | int)]
        kind = err["type"]
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float)}
        if err.get("input", "") is None and kind.endswith("_type"):
            out.append(FieldError(loc, N_("This field is required")))
        elif kind in _PYDANTIC_MESSAGES:
            out.append(FieldError(loc, _PYDANTIC_MESSAGES[kind], ctx))
        elif kind in ("value_error", "assertion_error"):
            error = (err.get("ctx") or {}).get("error")
            message = str(error) if error is not None else err["msg"]
            out.append(FieldError(loc, message, getattr(error, "params", {}) or {}))
        else:
            out.append(FieldError(loc, N_("Invalid value")))
    return out


def field_errors(exc: DomainError, locale: str, fields: tuple[str, ...]) -> dict[str, str]:
    """Translated messages by form field; errors on fields the form lacks go to the top ('').

    A location such as ["owners", 2, "area_ha"] is shown on the "owners" field as "Line 3: ...".
    """
    if not isinstance(exc, ValidationFailed):
        return form_errors(exc, locale)
    out: dict[str, str] = {}
    for err in exc.errors:
        loc = [p for p in err.loc if p not in ("body", "query")]
        message = gettext(locale, err.message, **_readable(err.params, locale))
        key = next((str(p) for p in loc if isinstance(p, str) and p in fields), "")
        row = _after(loc, key) if key else None
        if isinstance(row, int):
            message = gettext(locale, N_("Line {n}: {error}"), n=row + 1, error=message)
        elif not key and loc:
            message = f"{loc[-1]}: {message}"
        out[key] = f"{out[key]} · {message}" if key in out else message
    return out


# Shapely's validity reasons ("Self-intersection[106.551 21.381]"), in words a grower reads.
_SHAPELY_REASONS = [
    (
        re.compile(r"^(?:Ring )?Self-intersection\[(\S+) (\S+)\]"),
        N_("the boundary crosses itself near latitude {lat}, longitude {lon}"),
    ),
    (
        re.compile(r"^Hole lies outside shell\[(\S+) (\S+)\]"),
        N_("a hole lies outside the outer boundary near latitude {lat}, longitude {lon}"),
    ),
    (
        re.compile(r"^(?:Nested shells|Nested holes|Duplicate Rings)\[(\S+) (\S+)\]"),
        N_("rings overlap near latitude {lat}, longitude {lon}"),
    ),
    (
        re.compile(r"^Interior is disconnected\[(\S+) (\S+)\]"),
        N_("holes split the plot apart near latitude {lat}, longitude {lon}"),
    ),
]


def _readable(params: dict[str, Any], locale: str) -> dict[str, Any]:
    """Rewrites a geometry validity reason from shapely into the page's language."""
    reason = params.get("reason")
    if not isinstance(reason, str):
        return params
    for pattern, message in _SHAPELY_REASONS:
        match = pattern.match(reason)
        if match:
            lon, lat = (f"{float(v):.5f}" for v in match.groups())
            return {**params, "reason": gettext(locale, message, lon=lon, lat=lat)}
    return params


def _after(loc: list[str | int], key: str) -> str | int | None:
    """The location part right after `key` (a row index for list fields)."""
    index = [str(p) for p in loc].index(key)
    return loc[index + 1] if index + 1 < len(loc) else None


def reraise_unless_form_error(exc: DomainError, db: Session) -> None:
    """Undoes the failed change; errors that a form cannot fix propagate to the error page."""
    db.rollback()
    if isinstance(exc, NotFound | Forbidden) or exc.status in (401, 403, 404):
        raise exc


def form_values(values: dict[str, Any], *names: str) -> dict[str, Any]:
    """Picks named fields from a posted form as stripped strings, blanks as None."""
    out: dict[str, Any] = {}
    for name in names:
        value = values.get(name)
        if isinstance(value, list):
            value = value[-1]
        text = str(value).strip() if value is not None else ""
        out[name] = text or None
    return out


def as_text(value: Any) -> str | None:
    """A stored value as a form shows it (None for empty), to tell which fields changed."""
    if value is None or value == "":
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def changed_only(values: dict[str, Any], obj: Any) -> dict[str, Any]:
    """The posted fields whose value differs from the stored object's (a patch's content)."""
    return {k: v for k, v in values.items() if v != as_text(getattr(obj, k, None))}


def to_uuid(value: Any) -> uuid.UUID | None:
    """Reads an id from a query or form value (None when blank or malformed)."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def provinces(db: Session) -> list[tuple[str, str]]:
    """The provinces as (code, name), for select boxes and list columns."""
    rows = db.execute(
        select(AdminUnit.code, AdminUnit.name)
        .where(AdminUnit.level == "province")
        .order_by(AdminUnit.name)
    ).all()
    return [(code, name) for code, name in rows]


def communes(db: Session, province_code: str | None) -> list[tuple[str, str]]:
    """The communes of one province as (code, name)."""
    if not province_code:
        return []
    rows = db.execute(
        select(AdminUnit.code, AdminUnit.name)
        .where(AdminUnit.parent_code == province_code)
        .order_by(AdminUnit.name)
    ).all()
    return [(code, name) for code, name in rows]


def writable_orgs(db: Session, principal: Principal) -> list[Organization]:
    """Organizations the caller may register things for (their own; all for a platform admin)."""
    query = select(Organization).order_by(Organization.name)
    if not principal.is_platform_admin:
        ids = principal.writable_org_ids()
        if not ids:
            return []
        query = query.where(Organization.id.in_(ids))
    else:
        query = query.where(Organization.kind.not_in([OrgKind.authority, OrgKind.platform]))
    return list(db.scalars(query.limit(500)))


def org_names(db: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of organizations by id, for list columns."""
    if not ids:
        return {}
    rows = db.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {org_id: name for org_id, name in rows}


def is_decider(principal: Principal) -> bool:
    """True when the caller may approve codes somewhere (an authority or the platform admin)."""
    return principal.is_platform_admin or any(g.role is Role.authority for g in principal.grants)


def can_register(principal: Principal) -> bool:
    """True when the caller may create registry records for some organization."""
    return principal.is_platform_admin or any(g.role in WRITE_ROLES for g in principal.grants)


@dataclass(frozen=True)
class Pager:
    """Where a listing page sits in the whole result, with links to its neighbours."""

    offset: int
    limit: int
    total: int
    base: str
    params: tuple[tuple[str, str], ...]

    @property
    def first(self) -> int:
        """1-based index of the first row shown."""
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        """1-based index of the last row shown."""
        return min(self.offset + self.limit, self.total)

    def _link(self, offset: int) -> str:
        query = [(k, v) for k, v in self.params if k != "offset" and v]
        if offset:
            query.append(("offset", str(offset)))
        return f"{self.base}?{urlencode(query)}" if query else self.base

    @property
    def prev_url(self) -> str | None:
        """The previous page's address, if any."""
        return self._link(max(self.offset - self.limit, 0)) if self.offset > 0 else None

    @property
    def next_url(self) -> str | None:
        """The next page's address, if any."""
        more = self.offset + self.limit < self.total
        return self._link(self.offset + self.limit) if more else None


def pager(request: Request, offset: int, total: int, limit: int = PAGE_SIZE) -> Pager:
    """Builds the pager of a listing from its request (keeping the filters in the links)."""
    return Pager(
        offset=offset,
        limit=limit,
        total=total,
        base=request.url.path,
        params=tuple((k, v) for k, v in request.query_params.multi_items()),
    )


def clean_offset(offset: int) -> int:
    """A listing offset that cannot be negative."""
    return max(offset, 0)


def redirect(url: str, notice: str | None = None) -> Response:
    """Answers a successful form post by sending the browser on (303 See Other)."""
    if notice:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode({'notice': notice})}"
    return RedirectResponse(url, status_code=303)


NOTICES = {
    "created": N_("Saved. The record was created."),
    "saved": N_("Saved."),
    "decided": N_("Decision recorded."),
    "imported": N_("Import finished."),
    "deleted": N_("Deleted."),
    "revoked": N_("The certificate was revoked."),
}


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Renders a registry page with the shared labels, number formatting and the notice."""
    locale = request_locale(request)

    def num(value: float | None, digits: int = 2) -> str:
        """A number in the page's language (5,17 in Vietnamese, 5.17 in English)."""
        if value is None:
            return "—"
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(value, format=pattern, locale=locale)

    def when(value: datetime | date | None) -> str:
        """A date or time, written the same way in both languages (ISO 8601)."""
        if value is None:
            return "—"
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return value.isoformat()

    notice_key = request.query_params.get("notice", "")
    return render(
        request,
        template,
        {"labels": LABELS, "notice": NOTICES.get(notice_key), "num": num, "when": when, **context},
        status_code=status_code,
    )


def geometry_svg(geojson: dict[str, Any] | None, size: int = 240) -> dict[str, Any] | None:
    """A tiny local map of a plot: SVG polygon points (or a dot) scaled to a square box."""
    if not geojson or not isinstance(geojson.get("coordinates"), list):
        return None
    kind, coords = geojson.get("type"), geojson["coordinates"]
    if kind == "Point":
        return {"point": (size / 2, size / 2), "rings": [], "size": size}
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    rings = [ring for polygon in polygons for ring in polygon]
    positions = [p for ring in rings for p in ring]
    if not positions:
        return None
    lons, lats = [p[0] for p in positions], [p[1] for p in positions]
    mid_lat = math.radians((min(lats) + max(lats)) / 2)
    width = (max(lons) - min(lons)) * math.cos(mid_lat) or 1e-9
    height = (max(lats) - min(lats)) or 1e-9
    scale = (size - 20) / max(width, height)
    off_x = (size - width * scale) / 2
    off_y = (size - height * scale) / 2

    def xy(p: list[float]) -> str:
        x = off_x + (p[0] - min(lons)) * math.cos(mid_lat) * scale
        y = off_y + (max(lats) - p[1]) * scale
        return f"{x:.1f},{y:.1f}"

    return {"point": None, "rings": [" ".join(xy(p) for p in ring) for ring in rings], "size": size}
