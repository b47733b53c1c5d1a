"""Imports: runs every row of a CSV/XLSX file through the registry services, all or nothing.

The whole file runs inside one SAVEPOINT and each row inside its own, so a bad row is rolled
back alone and later rows are still checked; if any row failed (or on a dry run) the outer
savepoint is rolled back and the database is exactly as before. Like every service this one
flushes and never commits: the request dependency or `session_scope()` owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from truyxuat.auth.models import Role
from truyxuat.auth.principal import Principal
from truyxuat.errors import N_, DomainError, FieldError, Forbidden, ValidationFailed, invalid
from truyxuat.gs1 import normalize_gln, normalize_gtin
from truyxuat.registry.import_specs import SPECS, KindSpec
from truyxuat.registry.imports import (
    MAX_ROWS,
    ColumnMap,
    FileRejected,
    ImportKind,
    ImportReport,
    RowError,
    choose_header,
    convert_row,
    find_duplicates,
    locate,
    map_headers,
    pydantic_errors,
    read_table,
)
from truyxuat.registry.models import (
    CertScope,
    Facility,
    GrowingArea,
    Organization,
    PackingHouse,
    Product,
)
from truyxuat.registry.schemas.certifications import CertificationIn
from truyxuat.registry.schemas.facilities import FacilityIn
from truyxuat.registry.schemas.growing_areas import GrowingAreaIn
from truyxuat.registry.schemas.organizations import OrganizationIn
from truyxuat.registry.schemas.packing_houses import PackingHouseIn
from truyxuat.registry.schemas.products import ProductIn
from truyxuat.registry.service import (
    certifications,
    facilities,
    growing_areas,
    organizations,
    packing_houses,
    products,
)
from truyxuat.registry.service.common import writable_org

Progress = Callable[[int, int], None]
# Turns a row's values into the schema's input, resolving codes to ids (may raise field errors).
Prepare = Callable[[Session, Organization | None, dict[str, Any]], None]


def _no_prepare(session: Session, org: Organization | None, values: dict[str, Any]) -> None:
    """Rows of most kinds need nothing resolved."""


def _resolve_facility(session: Session, org: Organization | None, values: dict[str, Any]) -> None:
    """Replaces a packing house's `facility_gln` by the id of that facility of the organization."""
    gln = values.pop("facility_gln", None)
    if gln is None or org is None:
        return
    found = session.scalar(
        select(Facility.id).where(
            Facility.org_id == org.id, Facility.gln == normalize_gln(gln, field="facility_gln")
        )
    )
    if found is None:
        raise invalid(
            "facility_gln", N_("No facility with GLN {gln} in this organization"), gln=gln
        )
    values["facility_id"] = found


def _resolve_scope(session: Session, org: Organization | None, values: dict[str, Any]) -> None:
    """Replaces a certificate's `scope_code` by the id of the organization's object it names.

    The code is a growing-area or packing-house code, a product's GTIN, a facility's GLN or
    an organization code; only the importing organization's own objects are found.
    """
    code = values.pop("scope_code", None)
    if code is None or org is None or "scope_type" not in values:
        return
    scope = CertScope(values["scope_type"])
    found: uuid.UUID | None
    if scope is CertScope.organization:
        found = org.id if code.strip().casefold() == org.code.casefold() else None
    elif scope is CertScope.facility:
        gln = normalize_gln(code, field="scope_code")
        found = session.scalar(
            select(Facility.id).where(Facility.org_id == org.id, Facility.gln == gln)
        )
    elif scope is CertScope.product:
        gtin = normalize_gtin(code, field="scope_code")
        found = session.scalar(
            select(Product.id).where(Product.org_id == org.id, Product.gtin == gtin)
        )
    else:
        model = GrowingArea if scope is CertScope.growing_area else PackingHouse
        found = session.scalar(
            select(model.id).where(model.org_id == org.id, model.code == code.strip().upper())
        )
    if found is None:
        raise invalid(
            "scope_code",
            N_("No {scope} with code {code} belongs to this organization"),
            scope=scope.value,
            code=code,
        )
    values["scope_id"] = found


@dataclass(frozen=True)
class Handler:
    """How rows of one kind are created: the service's input schema and create function."""

    schema: type[BaseModel]
    create: Callable[[Session, Principal, Any], Any]
    owned: bool = True  # rows belong to the importing organization (`org_id`)
    prepare: Prepare = _no_prepare


HANDLERS: dict[ImportKind, Handler] = {
    ImportKind.organizations: Handler(
        OrganizationIn, organizations.create_organization, owned=False
    ),
    ImportKind.facilities: Handler(FacilityIn, facilities.create_facility),
    ImportKind.growing_areas: Handler(GrowingAreaIn, growing_areas.create_growing_area),
    ImportKind.packing_houses: Handler(
        PackingHouseIn, packing_houses.create_packing_house, prepare=_resolve_facility
    ),
    ImportKind.products: Handler(ProductIn, products.create_product),
    ImportKind.certifications: Handler(
        CertificationIn, certifications.create_certification, prepare=_resolve_scope
    ),
}


def target_org(
    session: Session, principal: Principal, kind: ImportKind, org_id: uuid.UUID | None
) -> Organization | None:
    """The organization the rows are imported for, checked writable (None for organizations).

    Organizations are registered by the platform admin or by authorities, each row then
    checked against the authority's province by the service.
    """
    if not HANDLERS[kind].owned:
        if not (
            principal.is_platform_admin or principal.jurisdictions(frozenset({Role.authority}))
        ):
            raise Forbidden(N_("Only authorities and the platform admin register organizations"))
        return None
    return writable_org(session, principal, org_id)


def run_import(
    session: Session,
    principal: Principal,
    kind: ImportKind,
    data: bytes,
    filename: str = "",
    *,
    org_id: uuid.UUID | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Imports a file of one kind: every row, or none of them with every error found."""
    spec, handler = SPECS[kind], HANDLERS[kind]
    org = target_org(session, principal, kind, org_id)
    report = ImportReport(kind=kind, dry_run=dry_run)
    try:
        table = read_table(data, filename, sheet_names=(spec.kind.value, spec.title_vi))
        table = choose_header(spec, table)
    except FileRejected as exc:
        report.errors.append(exc.error)
        return report
    report.total_rows = len(table.rows)
    columns, file_errors = map_headers(spec, table)
    report.errors.extend(file_errors)
    if not table.rows:
        report.errors.append(
            RowError(table.header_row, None, N_("The file has a header row but no data rows"))
        )
    if len(table.rows) > MAX_ROWS:
        report.errors.append(
            RowError(None, None, N_("A file may hold at most {max} rows"), {"max": MAX_ROWS})
        )
    if report.errors:
        return report

    converted: list[tuple[int, dict[str, Any]]] = []
    # Fields already reported per row: such a row is still checked, never created.
    reported: dict[int, set[str]] = {}
    for number, cells in table.rows:
        values, errors = convert_row(columns, number, cells)
        converted.append((number, values))
        report.errors.extend(errors)
        if errors:
            reported[number] = {e.field or "" for e in errors}
    duplicates = find_duplicates(spec, columns, converted)
    report.errors.extend(duplicates)
    for error in duplicates:
        reported.setdefault(error.row or 0, set()).add(error.field or "")

    outer = session.begin_nested()
    try:
        for done, (number, values) in enumerate(converted, start=1):
            skip = reported.get(number)
            errors = _create_row(
                session, principal, spec, handler, org, columns, number, values, skip
            )
            report.errors.extend(errors)
            if not errors and skip is None:
                report.valid_rows += 1
            if progress is not None:
                progress(done, len(converted))
        if report.errors or dry_run:
            outer.rollback()
        else:
            outer.commit()
            report.created = report.valid_rows
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise
    return report


def _create_row(
    session: Session,
    principal: Principal,
    spec: KindSpec,
    handler: Handler,
    org: Organization | None,
    columns: ColumnMap,
    number: int,
    values: dict[str, Any],
    reported: set[str] | None = None,
) -> list[RowError]:
    """Creates one row in its own savepoint; returns its errors (the savepoint rolled back).

    A row with errors already `reported` on some fields is only checked (its schema and
    codes), and errors on those fields are not repeated.
    """
    try:
        handler.prepare(session, org, values)
        if org is not None:
            values["org_id"] = org.id
        data = handler.schema.model_validate(values)
        if reported is not None:
            return []
        with session.begin_nested():
            handler.create(session, principal, data)
    except ValidationError as exc:
        return _row_errors(spec, columns, number, pydantic_errors(exc), reported)
    except ValidationFailed as exc:
        return _row_errors(spec, columns, number, exc.errors, reported)
    except Forbidden:
        return [
            RowError(number, None, N_("You may not create this row (organization or province)"))
        ]
    except DomainError as exc:
        return [RowError(number, None, exc.message, exc.params)]
    except IntegrityError:
        return [RowError(number, None, N_("This row conflicts with data already registered"))]
    return []


def _row_errors(
    spec: KindSpec,
    columns: ColumnMap,
    number: int,
    errors: list[FieldError],
    reported: set[str] | None = None,
) -> list[RowError]:
    """Places field errors on the file's columns, leaving out fields already reported."""
    result: list[RowError] = []
    for error in errors:
        path, mapped = locate(spec, columns, error.loc)
        if reported and (mapped.key if mapped else path.split(".")[0]) in reported:
            continue
        result.append(
            RowError(
                number,
                mapped.header if mapped else None,
                error.message,
                error.params,
                path or None,
                mapped.index if mapped else None,
            )
        )
    return result
