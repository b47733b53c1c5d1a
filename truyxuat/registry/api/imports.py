"""Registry API: CSV/XLSX imports of master data (all or nothing) and their blank templates."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.errors import N_
from truyxuat.registry.import_specs import SPECS
from truyxuat.registry.imports import ImportKind, template_csv, template_xlsx, translate
from truyxuat.registry.service import imports as service
from truyxuat.registry.service.files import PayloadTooLarge
from truyxuat.web.problems import PROBLEM_JSON

router = APIRouter(tags=["registry"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post(
    "/imports/{kind}",
    responses={422: {"description": "The file was rejected: nothing imported; errors per row"}},
)
async def import_file(
    kind: ImportKind,
    request: Request,
    db: DB,
    principal: Caller,
    locale: Locale,
    file: Annotated[UploadFile, File(description="A .csv (UTF-8) or .xlsx file")],
    dry_run: bool = Query(False, description="Check every row, write nothing"),
    org_id: uuid.UUID | None = Query(None, description="Organization to import for"),
) -> Response:
    """Imports every row of a file, or none: a 422 problem lists each row's and column's errors."""
    limit = request.app.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(N_("The file is larger than {max} bytes"), max=limit)
    report = service.run_import(
        db, principal, kind, data, file.filename or "", org_id=org_id, dry_run=dry_run
    )
    body: dict[str, Any] = report.render(locale)
    if not report.rejected:
        return JSONResponse(body)
    # RFC 9457 problem with the report's counts as extension members.
    return JSONResponse(
        {
            "type": "/problems/import-rejected",
            "title": translate(locale, N_("Import rejected")),
            "status": 422,
            "instance": request.url.path,
            "detail": translate(
                locale, N_("{count} error(s): nothing was imported"), count=len(report.errors)
            ),
            **body,
        },
        status_code=422,
        media_type=PROBLEM_JSON,
    )


@router.get(
    "/imports/{kind}/template",
    response_class=Response,
    responses={
        200: {
            "description": "The blank template",
            "content": {"text/csv": {}, XLSX: {}},
        }
    },
)
def import_template(
    kind: ImportKind,
    locale: Locale,
    fmt: Literal["csv", "xlsx"] = Query("csv", alias="format", description="csv or xlsx"),
) -> Response:
    """A blank file with the header row of `kind`, headers in Vietnamese or English."""
    spec = SPECS[kind]
    name = f"{kind.value}-template-{locale}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "xlsx":
        return Response(template_xlsx(spec, locale), media_type=XLSX, headers=disposition)
    return Response(
        template_csv(spec, locale), media_type="text/csv; charset=utf-8", headers=disposition
    )
