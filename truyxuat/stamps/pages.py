"""Stamp web pages: order a print run, follow it, download its files, activate and void ranges.

Handlers are thin: they parse the form, call `truyxuat.stamps.service` (the same functions the
API and CLI use) and render the templates in `stamps/templates/stamps/`.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from truyxuat.auth.deps import DB, Caller, Locale
from truyxuat.auth.principal import Principal, can_write
from truyxuat.config import Settings
from truyxuat.errors import N_, Conflict, DomainError, invalid
from truyxuat.gs1 import gtin_display
from truyxuat.registry.models import Product
from truyxuat.registry.pages.common import (
    clean_offset,
    field_errors,
    form_values,
    org_names,
    page,
    pager,
    parse,
    redirect,
    reraise_unless_form_error,
    writable_orgs,
)
from truyxuat.registry.service import products as product_service
from truyxuat.stamps import carriers, printing, service
from truyxuat.stamps.models import RunState, Stamp, StampKind, StampRun, StampState
from truyxuat.stamps.schemas import StampRunIn
from truyxuat.web.forms import read_form
from truyxuat.web.templating import add_template_dir

add_template_dir(Path(__file__).resolve().parent / "templates")

router = APIRouter(include_in_schema=False)
BASE = "/stamps"
ORDER_FIELDS = ("product_id", "lot", "count", "kind")
RANGE_FIELDS = ("lot", "from_serial", "to_serial", "reason")
PREVIEW = 6
CHUNK = 64 * 1024

STATE_LABELS = {
    RunState.ordered: N_("Ordered"),
    RunState.generated: N_("Generated"),
    RunState.printed: N_("Printed"),
    RunState.activated: N_("Activated"),
    RunState.voided: N_("Voided"),
}
KIND_LABELS = {
    StampKind.qr: N_("QR traceability stamp"),
    StampKind.anticounterfeit: N_("Anti-counterfeit stamp (QR + scratch-off PIN)"),
}
RESULTS = {
    "issued": N_("The run was issued: %(n)s stamps generated."),
    "activated": N_("%(n)s stamps activated."),
    "voided": N_("%(n)s stamps voided."),
}


def app_settings(request: Request) -> Settings:
    """The running app's settings (resolver address, run limit, secret)."""
    settings: Settings = request.app.state.settings
    return settings


def product_name(product: Product | None, locale: str) -> str:
    """A product's name in the page's language, else in Vietnamese."""
    names = (product.names if product else None) or {}
    return str(names.get(locale) or names.get("vi") or next(iter(names.values()), ""))


def _products(db: Session, principal: Principal) -> list[Product]:
    """The active products the caller may order stamps for."""
    orgs = {o.id for o in writable_orgs(db, principal)}
    if not orgs:
        return []
    items, _total = product_service.list_products(db, principal, limit=500)
    return [p for p in items if p.org_id in orgs and p.is_active]


def _products_by_id(db: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Product]:
    """Products by id, for list columns."""
    if not ids:
        return {}
    return {p.id: p for p in db.scalars(select(Product).where(Product.id.in_(ids)))}


def _state_counts(db: Session, run: StampRun) -> dict[str, int]:
    """How many of the run's stamps are generated, activated and voided."""
    rows = db.execute(
        select(Stamp.state, func.count()).where(Stamp.run_id == run.id).group_by(Stamp.state)
    ).all()
    counts = {state.value: 0 for state in StampState}
    for state, n in rows:
        counts[StampState(state).value] = int(n)
    return counts


def _inline_svg(uri: str) -> str:
    """A stamp's QR code as an inline, scalable SVG element (no XML prologue)."""
    document = carriers.svg(uri, "qr")
    element = document[document.index("<svg") :]
    return re.sub(
        r'<svg width="(\d+)" height="(\d+)"',
        r'<svg viewBox="0 0 \1 \2" class="qr" role="img" aria-hidden="true"',
        element,
        count=1,
    )


def _pins_data_url(pins: Mapping[str, str]) -> str:
    """The serial,pin CSV as a data: address, so the PINs are downloaded but never stored."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["serial", "pin"])
    writer.writerows(pins.items())
    encoded = base64.b64encode(buffer.getvalue().encode()).decode()
    return f"data:text/csv;base64,{encoded}"


@router.get(BASE, response_class=HTMLResponse)
def list_page(
    request: Request, db: DB, principal: Caller, locale: Locale, state: str = "", offset: int = 0
) -> Response:
    """Lists the print runs the caller may see (an authority: its province's), newest first."""
    offset = clean_offset(offset)
    chosen = RunState(state) if state in RunState.__members__ else None
    runs, total = service.list_runs(db, principal, state=chosen, offset=offset, limit=20)
    products = _products_by_id(db, {r.product_id for r in runs})
    return page(
        request,
        "stamps/run_list.html",
        {
            "runs": [(r, product_name(products.get(r.product_id), locale)) for r in runs],
            "pager": pager(request, offset, total),
            "state": state,
            "states": list(RunState),
            "state_labels": STATE_LABELS,
            "kind_labels": KIND_LABELS,
            "org_names": org_names(db, {r.org_id for r in runs}),
            "can_order": bool(writable_orgs(db, principal)),
        },
    )


def _order_context(
    db: Session, principal: Principal, locale: str, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """What the order form needs."""
    return {
        "values": values,
        "errors": errors,
        "products": [
            (str(p.id), f"{product_name(p, locale)} — {gtin_display(p.gtin)}")
            for p in _products(db, principal)
        ],
        "kinds": [(k.value, KIND_LABELS[k]) for k in StampKind],
    }


@router.get(f"{BASE}/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Shows the form to order a print run."""
    values = {"kind": StampKind.qr.value, "count": "100"}
    return page(request, "stamps/run_form.html", _order_context(db, principal, locale, values, {}))


@router.post(f"{BASE}/new", response_class=HTMLResponse)
async def create(request: Request, db: DB, principal: Caller, locale: Locale) -> Response:
    """Orders a run and generates its stamps at once (the service issues synchronously)."""
    values = form_values(await read_form(request, principal), *ORDER_FIELDS)
    try:
        if not values["product_id"]:
            raise invalid("product_id", N_("Choose a product"))
        data = parse(StampRunIn, {**values, "kind": values["kind"] or StampKind.qr.value})
        issued = service.issue_run(db, principal, data, app_settings(request))
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        return page(
            request,
            "stamps/run_form.html",
            _order_context(db, principal, locale, values, field_errors(exc, locale, ORDER_FIELDS)),
            status_code=422,
        )
    if issued.pins:
        # Anti-counterfeit PINs exist only now: hand them over once, never store them.
        context = _detail_context(request, db, principal, locale, issued.run)
        context["pins_url"] = _pins_data_url(issued.pins)
        context["result"] = (RESULTS["issued"], issued.run.count)
        return page(request, "stamps/run_detail.html", context)
    return redirect(f"{BASE}/{issued.run.id}?done=issued&n={issued.run.count}")


def _detail_context(
    request: Request, db: Session, principal: Principal, locale: str, run: StampRun
) -> dict[str, Any]:
    """What the run page shows."""
    settings = app_settings(request)
    _run, first, _total = service.list_stamps(db, principal, run.id, limit=PREVIEW)
    preview = []
    for stamp in first:
        uri = service.stamp_uri(run, stamp.serial, settings)
        preview.append({"stamp": stamp, "uri": uri, "svg": _inline_svg(uri)})
    done = request.query_params.get("done", "")
    count = request.query_params.get("n", "")
    return {
        "run": run,
        "product_name": product_name(db.get(Product, run.product_id), locale),
        "gtin": gtin_display(run.gtin),
        "org_name": org_names(db, {run.org_id}).get(run.org_id, ""),
        "counts": _state_counts(db, run),
        "preview": preview,
        "can_edit": can_write(principal, run.org_id),
        "state_labels": STATE_LABELS,
        "kind_labels": KIND_LABELS,
        "result": (RESULTS[done], count) if done in RESULTS and count.isdigit() else None,
        "pins_url": None,
        "values": {"lot": run.lot},
        "errors": {},
        "form": "",
    }


@router.get(BASE + "/{run_id}", response_class=HTMLResponse)
def detail(
    request: Request, db: DB, principal: Caller, locale: Locale, run_id: uuid.UUID
) -> Response:
    """Shows one run: its state, counts, a preview of the first stamps and its downloads."""
    run = service.get_run(db, principal, run_id)
    return page(
        request, "stamps/run_detail.html", _detail_context(request, db, principal, locale, run)
    )


async def _range_action(
    request: Request, db: Session, principal: Principal, locale: str, run_id: uuid.UUID, form: str
) -> Response:
    """Runs the activate or void form and shows its result (or its errors, nothing changed)."""
    values = form_values(await read_form(request, principal), *RANGE_FIELDS)
    try:
        if form == "activate":
            if not values["lot"]:
                raise invalid("lot", N_("Give the lot the stamps are bound to"))
            _run, changed = service.activate(
                db,
                principal,
                run_id,
                lot=values["lot"],
                from_serial=values["from_serial"],
                to_serial=values["to_serial"],
            )
        else:
            _run, changed = service.void(
                db,
                principal,
                run_id,
                reason=values["reason"] or "",
                from_serial=values["from_serial"],
                to_serial=values["to_serial"],
            )
    except DomainError as exc:
        reraise_unless_form_error(exc, db)
        run = service.get_run(db, principal, run_id)
        context = _detail_context(request, db, principal, locale, run)
        context.update(
            values=values, errors=field_errors(exc, locale, RANGE_FIELDS), form=form, result=None
        )
        return page(request, "stamps/run_detail.html", context, status_code=422)
    done = "activated" if form == "activate" else "voided"
    return redirect(f"{BASE}/{run_id}?done={done}&n={changed}")


@router.post(BASE + "/{run_id}/activate", response_class=HTMLResponse)
async def activate(
    request: Request, db: DB, principal: Caller, locale: Locale, run_id: uuid.UUID
) -> Response:
    """Binds the whole run, or a serial range, to a lot and makes the stamps live."""
    return await _range_action(request, db, principal, locale, run_id, "activate")


@router.post(BASE + "/{run_id}/void", response_class=HTMLResponse)
async def void(
    request: Request, db: DB, principal: Caller, locale: Locale, run_id: uuid.UUID
) -> Response:
    """Voids the whole run or a serial range, with a reason."""
    return await _range_action(request, db, principal, locale, run_id, "void")


def _stream(handle: IO[bytes]) -> Iterator[bytes]:
    """Reads a finished temporary file back in chunks, then closes it."""
    try:
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()


def _download(
    request: Request,
    db: Session,
    principal: Principal,
    run_id: uuid.UUID,
    fmt: str,
    *,
    layout: str = "sheet",
    pins: Mapping[str, str] | None = None,
) -> Response:
    """Writes a run's PDF, CSV or XLSX to a spooled file and streams it as an attachment."""
    settings = app_settings(request)
    run = service.get_run(db, principal, run_id)
    if run.state is RunState.ordered:
        raise Conflict(N_("The run's stamps are not generated yet"))
    if fmt == "pdf" and run.kind is StampKind.anticounterfeit and not pins:
        raise Conflict(N_("Anti-counterfeit stamps print with their PINs: upload the PIN file"))
    name = product_name(db.get(Product, run.product_id), "vi")
    labels = (
        printing.StampLabel(
            uri=r.uri,
            gtin=r.gtin,
            serial=r.serial,
            lot=r.lot,
            product_name=name,
            pin=r.pin,
            kind=run.kind.value,
        )
        for r in service.stamp_records(db, principal, run_id, settings, pins)
    )
    # The file outlives this function: the streaming response reads it back, then closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    handle = cast(BinaryIO, spool)
    try:
        if fmt == "pdf":
            chosen = printing.RollLayout() if layout == "roll" else printing.SheetLayout()
            printing.render_pdf(labels, handle, layout=chosen)
            media, suffix = "application/pdf", f"-{layout}.pdf"
        elif fmt == "csv":
            printing.write_codes_csv(labels, handle)
            media, suffix = "text/csv; charset=utf-8", ".csv"
        else:
            printing.write_codes_xlsx(labels, handle)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            suffix = ".xlsx"
        if run.state is RunState.generated and can_write(principal, run.org_id):
            service.mark_printed(db, principal, run_id)
    except BaseException:
        handle.close()
        raise
    filename = f"stamps-{run.gtin}-{str(run.id)[:8]}{suffix}"
    return StreamingResponse(
        _stream(handle),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(BASE + "/{run_id}/stamps.pdf")
def download_pdf(
    request: Request, db: DB, principal: Caller, run_id: uuid.UUID, layout: str = "sheet"
) -> Response:
    """The run as a print-ready PDF: A4 label sheets, or one label per page for a roll."""
    return _download(request, db, principal, run_id, "pdf", layout=layout)


async def _read_pins(upload: Any) -> dict[str, str]:
    """Reads the serial,pin CSV handed over when an anti-counterfeit run was issued."""
    if not isinstance(upload, UploadFile):
        raise invalid("pins", N_("Choose the PIN file saved when the run was issued"))
    text = (await upload.read()).decode("utf-8-sig", errors="replace")
    try:
        rows = {
            row["serial"].strip(): row["pin"].strip()
            for row in csv.DictReader(io.StringIO(text))
            if row.get("serial") and row.get("pin")
        }
    except (KeyError, csv.Error):
        rows = {}
    if not rows:
        raise invalid("pins", N_("This is not a PIN file: it needs serial and pin columns"))
    return rows


@router.post(BASE + "/{run_id}/stamps.pdf")
async def download_pdf_with_pins(
    request: Request, db: DB, principal: Caller, locale: Locale, run_id: uuid.UUID
) -> Response:
    """The PDF of an anti-counterfeit run, its PINs read from the uploaded PIN file."""
    form = await read_form(request, principal)
    layout = "roll" if form.get("layout") == "roll" else "sheet"
    try:
        pins = await _read_pins(form.get("pins"))
    except DomainError as exc:
        run = service.get_run(db, principal, run_id)
        context = _detail_context(request, db, principal, locale, run)
        context.update(errors=field_errors(exc, locale, ("pins",)), form="pins")
        return page(request, "stamps/run_detail.html", context, status_code=422)
    return _download(request, db, principal, run_id, "pdf", layout=layout, pins=pins)


@router.get(BASE + "/{run_id}/codes.csv")
def download_csv(request: Request, db: DB, principal: Caller, run_id: uuid.UUID) -> Response:
    """The run's codes as CSV for industrial printers (never with PINs)."""
    return _download(request, db, principal, run_id, "csv")


@router.get(BASE + "/{run_id}/codes.xlsx")
def download_xlsx(request: Request, db: DB, principal: Caller, run_id: uuid.UUID) -> Response:
    """The run's codes as an Excel workbook for industrial printers (never with PINs)."""
    return _download(request, db, principal, run_id, "xlsx")
