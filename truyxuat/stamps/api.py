"""Stamp API: print runs (order, list, activate, void, stamps) and the public PIN check."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from truyxuat.auth.deps import DB, Caller
from truyxuat.config import Settings
from truyxuat.stamps import pins, service
from truyxuat.stamps.models import RunState
from truyxuat.stamps.schemas import (
    ActivateIn,
    IssuedRunOut,
    PinOut,
    PublicKeyOut,
    RangeOut,
    RunPage,
    StampOut,
    StampPage,
    StampRunIn,
    StampRunOut,
    VerifyIn,
    VerifyOut,
    VoidIn,
)

router = APIRouter(tags=["stamps"])


def app_settings(request: Request) -> Settings:
    """The running app's settings (resolver address, run limit, secret)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def client_key(request: Request) -> str:
    """Who is guessing PINs: the API key (hashed) when one is presented, else the IP address."""
    header = request.headers.get("authorization") or request.headers.get("x-api-key")
    if header:
        return "key:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "ip:" + (request.client.host if request.client else "unknown")


@router.post("/stamp-runs", response_model=IssuedRunOut, status_code=201)
def issue_run(body: StampRunIn, db: DB, principal: Caller, settings: AppSettings) -> IssuedRunOut:
    """Orders and generates a run of stamps; anti-counterfeit PINs are returned this once."""
    issued = service.issue_run(db, principal, body, settings)
    out = IssuedRunOut.model_validate(issued.run, from_attributes=True)
    if issued.pins:
        out.pins = [PinOut(serial=s, pin=p) for s, p in issued.pins.items()]
    return out


@router.get("/stamp-runs", response_model=RunPage)
def list_runs(
    db: DB,
    principal: Caller,
    org_id: uuid.UUID | None = None,
    state: RunState | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> RunPage:
    """Lists the runs the caller may see (an authority: its province's), newest first."""
    items, total = service.list_runs(
        db, principal, org_id=org_id, state=state, offset=offset, limit=limit
    )
    return RunPage(
        items=[StampRunOut.model_validate(r) for r in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/stamp-runs/{run_id}", response_model=StampRunOut)
def get_run(run_id: uuid.UUID, db: DB, principal: Caller) -> StampRunOut:
    """Returns one run."""
    return StampRunOut.model_validate(service.get_run(db, principal, run_id))


@router.get("/stamp-runs/{run_id}/stamps", response_model=StampPage)
def list_stamps(
    run_id: uuid.UUID,
    db: DB,
    principal: Caller,
    settings: AppSettings,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> StampPage:
    """One page of a run's stamps in issue order, with the Digital Link of each."""
    run, items, total = service.list_stamps(db, principal, run_id, offset=offset, limit=limit)
    key = service.signing_key(settings)
    return StampPage(
        items=[
            StampOut(
                seq=s.seq,
                serial=s.serial,
                lot=s.lot,
                state=s.state,
                uri=service.stamp_uri(run, s.serial, settings),
                signature=pins.sign_stamp(key, run.gtin, s.serial),
                activated_at=s.activated_at,
                voided_at=s.voided_at,
            )
            for s in items
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post("/stamp-runs/{run_id}/printed", response_model=StampRunOut)
def mark_printed(run_id: uuid.UUID, db: DB, principal: Caller) -> StampRunOut:
    """Records that the run was printed."""
    return StampRunOut.model_validate(service.mark_printed(db, principal, run_id))


@router.post("/stamp-runs/{run_id}/activate", response_model=RangeOut)
def activate(run_id: uuid.UUID, body: ActivateIn, db: DB, principal: Caller) -> RangeOut:
    """Binds the whole run, or a serial range, to a lot and makes the stamps live."""
    run, changed = service.activate(
        db, principal, run_id, lot=body.lot, from_serial=body.from_serial, to_serial=body.to_serial
    )
    return RangeOut(changed=changed, run=StampRunOut.model_validate(run))


@router.post("/stamp-runs/{run_id}/void", response_model=RangeOut)
def void(run_id: uuid.UUID, body: VoidIn, db: DB, principal: Caller) -> RangeOut:
    """Voids the whole run or a serial range."""
    run, changed = service.void(
        db,
        principal,
        run_id,
        reason=body.reason,
        from_serial=body.from_serial,
        to_serial=body.to_serial,
    )
    return RangeOut(changed=changed, run=StampRunOut.model_validate(run))


@router.post("/stamps/verify", response_model=VerifyOut)
def verify(body: VerifyIn, request: Request, db: DB, settings: AppSettings) -> VerifyOut:
    """Checks an anti-counterfeit stamp's PIN (public; wrong guesses are rate limited)."""
    verdict = service.verify_pin(
        db,
        settings,
        client=client_key(request),
        pin=body.pin,
        uri=body.uri,
        gtin=body.gtin,
        serial=body.serial,
    )
    return VerifyOut(**verdict.__dict__)


@router.get("/stamps/public-key", response_model=PublicKeyOut)
def public_key(settings: AppSettings) -> PublicKeyOut:
    """Publishes the Ed25519 key that checks stamps' signed short codes offline (public)."""
    raw = service.public_key(settings)
    return PublicKeyOut(public_key=base64.urlsafe_b64encode(raw).decode().rstrip("="))
