"""Print runs and stamps: issue (bulk, collision-safe), activate and void ranges, verify PINs.

Functions flush, never commit: the request dependency or `session_scope` owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from truyxuat.auth import service as auth_service
from truyxuat.auth.principal import Principal, ensure_readable, ensure_writable, read_filter
from truyxuat.config import Settings
from truyxuat.db import new_id, utcnow
from truyxuat.errors import N_, Conflict, DomainError, NotFound, TooManyRequests, invalid
from truyxuat.gs1 import normalize_gtin, validate_lot
from truyxuat.ledger import service as ledger
from truyxuat.registry.models import Organization, Product
from truyxuat.stamps import codes, pins
from truyxuat.stamps.models import (
    PinAttemptWindow,
    RunState,
    Stamp,
    StampKind,
    StampRun,
    StampState,
)
from truyxuat.stamps.schemas import StampRunIn

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIGNING_KEY_FILE = "stamp_signing_key.pem"
CHUNK = 50_000
MAX_RETRIES = 20
STAMP_MAX_WRONG = 5
STAMP_LOCK = timedelta(hours=24)
CLIENT_MAX_WRONG_PER_HOUR = 5
_IN_SLICE = 5000
_COPY_COLUMNS = (
    "org_id, id, run_id, seq, gtin, serial, lot, state, pin_salt, pin_hash, pin_attempts"
)


@dataclass
class Issued:
    """A run just issued; `pins` maps serial → PIN for anti-counterfeit runs (shown once)."""

    run: StampRun
    pins: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one PIN check."""

    result: str
    genuine: bool
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    attempts_left: int | None = None


def _provinces(session: Session, org_id: uuid.UUID) -> tuple[str | None, ...]:
    return (session.scalar(select(Organization.province_code).where(Organization.id == org_id)),)


def _product(session: Session, principal: Principal, data: StampRunIn) -> Product:
    """The product a run is ordered for; unknown and other organizations' products look alike."""
    if data.product_id is not None:
        product = session.get(Product, data.product_id)
        loc = "product_id"
    elif data.gtin:
        gtin = normalize_gtin(data.gtin)
        product = session.scalar(select(Product).where(Product.gtin == gtin))
        loc = "gtin"
    else:
        raise invalid("gtin", N_("Give the product's GTIN or id"))
    try:
        if product is None:
            raise NotFound()
        ensure_writable(principal, product.org_id, _provinces(session, product.org_id))
    except DomainError as exc:
        raise invalid(loc, N_("No product of your organization has this GTIN or id")) from exc
    if not product.is_active:
        raise invalid(loc, N_("The product is deactivated"))
    return product


def order_run(
    session: Session, principal: Principal, data: StampRunIn, settings: Settings
) -> StampRun:
    """Records an order of stamps (state ordered), checking the product, lot and count."""
    product = _product(session, principal, data)
    if data.count < 1:
        raise invalid("count", N_("Order at least one stamp"))
    if data.count > settings.stamp_run_max:
        raise invalid("count", N_("A run holds at most {max} stamps"), max=settings.stamp_run_max)
    lot = validate_lot(data.lot) if data.lot is not None else None
    run = StampRun(
        org_id=product.org_id,
        product_id=product.id,
        gtin=product.gtin,
        lot=lot,
        kind=data.kind,
        count=data.count,
        state=RunState.ordered,
        created_by=principal.label,
    )
    session.add(run)
    session.flush()
    return run


def issue_run(
    session: Session,
    principal: Principal,
    data: StampRunIn,
    settings: Settings,
    *,
    progress: Callable[[int], None] | None = None,
) -> Issued:
    """Orders a run and generates its stamps at once; returns the PINs for printing."""
    run = order_run(session, principal, data, settings)
    issued = generate_stamps(session, run, settings, progress=progress)
    auth_service.record(
        session,
        principal,
        "issue",
        "stamp_run",
        run.id,
        run.org_id,
        {"gtin": run.gtin, "lot": run.lot, "count": run.count, "kind": run.kind},
    )
    return issued


def generate_stamps(
    session: Session,
    run: StampRun,
    settings: Settings,
    *,
    progress: Callable[[int], None] | None = None,
) -> Issued:
    """Creates the run's stamps in chunks (COPY on PostgreSQL); ordered → generated."""
    if run.state is not RunState.ordered:
        raise Conflict(N_("The run is {state}, not ordered"), state=run.state.value)
    secret = settings.resolved_secret_key().encode()
    issued = Issued(run)
    done = 0
    while done < run.count:
        n = min(CHUNK, run.count - done)
        serials = codes.unique_serials(n)
        chunk_pins = pins.new_pins(n) if run.kind is StampKind.anticounterfeit else None
        serials = _insert_chunk(session, run, done + 1, serials, chunk_pins, secret)
        if chunk_pins is not None:
            issued.pins.update(zip(serials, chunk_pins, strict=True))
        done += n
        if progress is not None:
            progress(n)
    run.state = RunState.generated
    session.flush()
    ledger.append_record(
        session,
        "stamps.run.issued",
        {"id": run.id, "gtin": run.gtin, "lot": run.lot, "count": run.count, "kind": run.kind},
        subject=str(run.org_id),
    )
    return issued


def _insert_chunk(
    session: Session,
    run: StampRun,
    first_seq: int,
    serials: list[str],
    chunk_pins: list[str] | None,
    secret: bytes,
) -> list[str]:
    """Inserts one chunk; regenerates serials another run took meanwhile and retries."""
    hashed = pins.hash_pins(secret, chunk_pins) if chunk_pins is not None else None
    for _ in range(MAX_RETRIES):
        try:
            with session.begin_nested():
                _write_stamps(session, run, first_seq, serials, hashed)
            return serials
        except Exception as exc:
            if not _is_clash(exc):
                raise
        taken = _existing_serials(session, run.gtin, serials)
        if taken:
            fresh = iter(codes.unique_serials(len(taken), taken=set(serials)))
            serials = [next(fresh) if s in taken else s for s in serials]
    raise Conflict(N_("Could not find free serials; try again"))


def _is_clash(exc: Exception) -> bool:
    """True for a unique violation or deadlock with a concurrent issue (worth a retry)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    name = type(orig).__name__
    if name in {"UniqueViolation", "DeadlockDetected"}:
        return True
    return name == "IntegrityError" and "UNIQUE" in str(orig)


def _existing_serials(session: Session, gtin: str, serials: list[str]) -> set[str]:
    """The serials of `serials` already stored for this GTIN."""
    taken: set[str] = set()
    for i in range(0, len(serials), _IN_SLICE):
        part = serials[i : i + _IN_SLICE]
        taken.update(
            session.scalars(select(Stamp.serial).where(Stamp.gtin == gtin, Stamp.serial.in_(part)))
        )
    return taken


def _write_stamps(
    session: Session,
    run: StampRun,
    first_seq: int,
    serials: list[str],
    hashed: list[tuple[str, str]] | None,
) -> None:
    """Writes stamp rows: COPY on PostgreSQL, executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        org, run_id, gtin = str(run.org_id), str(run.id), run.gtin
        lot = run.lot if run.lot is not None else "\\N"
        driver = connection.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY stamp ({_COPY_COLUMNS}) FROM STDIN") as copy,
        ):
            # Small blocks: the server loads one while Python formats the next.
            for start in range(0, len(serials), 5000):
                block = []
                for i in range(start, min(start + 5000, len(serials))):
                    salt, digest = hashed[i] if hashed is not None else ("\\N", "\\N")
                    block.append(
                        f"{org}\t{new_id()}\t{run_id}\t{first_seq + i}\t{gtin}\t{serials[i]}"
                        f"\t{lot}\tgenerated\t{salt}\t{digest}\t0\n"
                    )
                copy.write("".join(block))
        return
    rows = [
        {
            "org_id": run.org_id,
            "id": new_id(),
            "run_id": run.id,
            "seq": first_seq + i,
            "gtin": run.gtin,
            "serial": serial,
            "lot": run.lot,
            "state": StampState.generated,
            "pin_salt": hashed[i][0] if hashed is not None else None,
            "pin_hash": hashed[i][1] if hashed is not None else None,
            "pin_attempts": 0,
        }
        for i, serial in enumerate(serials)
    ]
    session.execute(insert(Stamp), rows)


def get_run(session: Session, principal: Principal, run_id: uuid.UUID) -> StampRun:
    """Returns a run the caller may read (authorities: runs of organizations in their province)."""
    run = session.get(StampRun, run_id)
    if run is None:
        raise NotFound()
    ensure_readable(principal, run.org_id, _provinces(session, run.org_id))
    return run


def _writable_run(session: Session, principal: Principal, run_id: uuid.UUID) -> StampRun:
    run = get_run(session, principal, run_id)
    ensure_writable(principal, run.org_id, _provinces(session, run.org_id))
    return run


def list_runs(
    session: Session,
    principal: Principal,
    *,
    org_id: uuid.UUID | None = None,
    state: RunState | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[StampRun], int]:
    """Lists the runs the caller may see, newest first."""
    query = select(StampRun).where(read_filter(principal, StampRun.org_id))
    if org_id is not None:
        query = query.where(StampRun.org_id == org_id)
    if state is not None:
        query = query.where(StampRun.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(
        session.scalars(
            query.order_by(StampRun.created_at.desc(), StampRun.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    return items, total


def list_stamps(
    session: Session, principal: Principal, run_id: uuid.UUID, *, offset: int = 0, limit: int = 100
) -> tuple[StampRun, list[Stamp], int]:
    """One page of a run's stamps in issue order."""
    run = get_run(session, principal, run_id)
    items = list(
        session.scalars(
            select(Stamp)
            .where(Stamp.run_id == run.id)
            .order_by(Stamp.seq)
            .offset(offset)
            .limit(limit)
        )
    )
    return run, items, run.count if run.state is not RunState.ordered else 0


def stamp_uri(run: StampRun, serial: str, settings: Settings) -> str:
    """The Digital Link printed on a stamp (with the lot when the run was ordered for one)."""
    return codes.digital_link(settings.resolver_base, run.gtin, run.lot, serial)


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The node's Ed25519 stamp-signing key (in the data folder, created on first use)."""
    return pins.load_or_create_signing_key(settings.data_dir / SIGNING_KEY_FILE)


def public_key(settings: Settings) -> bytes:
    """The raw public key that checks stamps' signed short codes offline."""
    return pins.public_key_bytes(signing_key(settings))


def stamp_records(
    session: Session,
    principal: Principal,
    run_id: uuid.UUID,
    settings: Settings,
    pins_by_serial: Mapping[str, str] | None = None,
    *,
    sign: bool = False,
) -> Iterator[codes.StampRecord]:
    """Streams a run's stamps in issue order as printable records (PIN from `pins_by_serial`).

    With `sign`, each record carries its Ed25519 short code (about 25 µs per stamp).
    """
    run = get_run(session, principal, run_id)
    key = signing_key(settings) if sign else None
    rows = session.execute(
        select(Stamp.seq, Stamp.serial, Stamp.lot)
        .where(Stamp.run_id == run.id)
        .order_by(Stamp.seq)
        .execution_options(yield_per=5000)
    )
    for seq, serial, lot in rows:
        yield codes.StampRecord(
            seq=seq,
            uri=stamp_uri(run, serial, settings),
            gtin=run.gtin,
            serial=serial,
            lot=lot,
            pin=pins_by_serial.get(serial) if pins_by_serial else None,
            signature=pins.sign_stamp(key, run.gtin, serial) if key is not None else None,
        )


def mark_printed(session: Session, principal: Principal, run_id: uuid.UUID) -> StampRun:
    """Records that a run's stamps were printed: generated → printed."""
    run = _writable_run(session, principal, run_id)
    if run.state not in (RunState.generated, RunState.printed):
        raise Conflict(
            N_("The run is {state}; only generated runs can be printed"), state=run.state.value
        )
    run.state = RunState.printed
    auth_service.record(session, principal, "print", "stamp_run", run.id, run.org_id, {})
    session.flush()
    return run


def _seq_of(session: Session, run: StampRun, value: str, field: str) -> int:
    """The issue position of a serial (or scanned Digital Link) inside this run."""
    serial = value.strip()
    if "/01/" in serial:
        link = codes.parse_digital_link(serial, field=field)
        if link.gtin != run.gtin or link.serial is None:
            raise invalid(field, N_("This stamp does not belong to the run"))
        serial = link.serial
    seq = session.scalar(select(Stamp.seq).where(Stamp.run_id == run.id, Stamp.serial == serial))
    if seq is None:
        raise invalid(field, N_("Serial {serial} was not issued in this run"), serial=serial)
    return seq


def _range(
    session: Session, run: StampRun, from_serial: str | None, to_serial: str | None
) -> tuple[int, int]:
    """The seq bounds of a range; both ends or neither (the whole run)."""
    if from_serial is None and to_serial is None:
        return 1, run.count
    if from_serial is None or to_serial is None:
        raise invalid(
            "from_serial" if from_serial is None else "to_serial",
            N_("Give both the first and the last serial of the range"),
        )
    first = _seq_of(session, run, from_serial, "from_serial")
    last = _seq_of(session, run, to_serial, "to_serial")
    return min(first, last), max(first, last)


def _in_range(run: StampRun, first: int, last: int) -> Any:
    return (Stamp.run_id == run.id) & Stamp.seq.between(first, last)


def activate(
    session: Session,
    principal: Principal,
    run_id: uuid.UUID,
    *,
    lot: str,
    from_serial: str | None = None,
    to_serial: str | None = None,
) -> tuple[StampRun, int]:
    """Binds a range of generated stamps to a lot and makes them live; returns how many."""
    run = _writable_run(session, principal, run_id)
    if run.state not in (RunState.generated, RunState.printed, RunState.activated):
        raise Conflict(N_("The run is {state}; it cannot be activated"), state=run.state.value)
    lot = validate_lot(lot)
    if run.lot is not None and lot != run.lot:
        raise invalid("lot", N_("The run was issued for lot {lot}"), lot=run.lot)
    first, last = _range(session, run, from_serial, to_serial)
    busy = session.scalar(
        select(func.count())
        .select_from(Stamp)
        .where(_in_range(run, first, last), Stamp.state != StampState.generated)
    )
    if busy:
        raise Conflict(N_("{n} stamps of the range are already activated or voided"), n=busy)
    now = utcnow()
    session.execute(
        update(Stamp)
        .where(_in_range(run, first, last))
        .values(state=StampState.activated, lot=lot, activated_at=now),
        execution_options={"synchronize_session": False},
    )
    changed = last - first + 1
    run.activated_count += changed
    run.state = RunState.activated
    auth_service.record(
        session,
        principal,
        "activate",
        "stamp_run",
        run.id,
        run.org_id,
        {"lot": lot, "from_serial": from_serial, "to_serial": to_serial, "count": changed},
    )
    session.flush()
    return run, changed


def void(
    session: Session,
    principal: Principal,
    run_id: uuid.UUID,
    *,
    reason: str,
    from_serial: str | None = None,
    to_serial: str | None = None,
) -> tuple[StampRun, int]:
    """Voids a range of stamps (damaged, lost, recalled); the run is voided once all are."""
    run = _writable_run(session, principal, run_id)
    if run.state in (RunState.ordered, RunState.voided):
        raise Conflict(N_("The run is {state}; it cannot be voided"), state=run.state.value)
    reason = reason.strip()
    if not reason:
        raise invalid("reason", N_("Say why the stamps are voided"))
    first, last = _range(session, run, from_serial, to_serial)
    now = utcnow()
    result = session.execute(
        update(Stamp)
        .where(_in_range(run, first, last), Stamp.state != StampState.voided)
        .values(state=StampState.voided, voided_at=now, void_reason=reason[:300]),
        execution_options={"synchronize_session": False},
    )
    changed = int(getattr(result, "rowcount", 0) or 0)
    if not changed:
        raise Conflict(N_("Every stamp of the range is already voided"))
    run.voided_count += changed
    if run.voided_count >= run.count:
        run.state = RunState.voided
    auth_service.record(
        session,
        principal,
        "void",
        "stamp_run",
        run.id,
        run.org_id,
        {"reason": reason, "from_serial": from_serial, "to_serial": to_serial, "count": changed},
    )
    session.flush()
    return run, changed


def _count_wrong(session: Session, client: str, window: datetime) -> None:
    """Adds one wrong guess to the client's hourly counter (an upsert, safe under concurrency)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.connection().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = upsert(PinAttemptWindow).values(client=client[:100], window_start=window, count=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["client", "window_start"],
            set_={"count": PinAttemptWindow.count + 1},
        )
    )


def verify_pin(
    session: Session,
    settings: Settings,
    *,
    client: str,
    pin: str,
    uri: str | None = None,
    gtin: str | None = None,
    serial: str | None = None,
    now: datetime | None = None,
) -> Verdict:
    """Checks a stamp's PIN for a consumer; wrong guesses are limited per stamp and per client.

    Wrong guesses are answered normally (not as errors) so their counters are committed.
    """
    now = now or utcnow()
    window = now.replace(minute=0, second=0, microsecond=0)
    spent = session.scalar(
        select(PinAttemptWindow.count).where(
            PinAttemptWindow.client == client[:100], PinAttemptWindow.window_start == window
        )
    )
    if spent is not None and spent >= CLIENT_MAX_WRONG_PER_HOUR:
        raise TooManyRequests(N_("Too many wrong PINs from your device; try again in an hour"))
    if uri:
        link = codes.parse_digital_link(uri)
        gtin, serial = link.gtin, link.serial
    if not gtin or not serial:
        raise invalid("uri", N_("Give the scanned stamp address, or its GTIN and serial"))
    stamp = session.scalar(
        select(Stamp).where(Stamp.gtin == normalize_gtin(gtin), Stamp.serial == serial.strip())
    )
    if stamp is None:
        _count_wrong(session, client, window)
        return Verdict("unknown", False)
    if stamp.pin_hash is None or stamp.pin_salt is None:
        raise invalid("pin", N_("This stamp has no PIN to check"))
    if stamp.locked_until is not None:
        if stamp.locked_until > now:
            raise TooManyRequests(N_("Too many wrong PINs for this stamp; it is locked"))
        stamp.locked_until = None
        stamp.pin_attempts = 0
    base = Verdict("unknown", False, stamp.gtin, stamp.serial, stamp.lot)
    if pins.verify_pin(settings.resolved_secret_key(), stamp.pin_salt, stamp.pin_hash, pin):
        stamp.pin_attempts = 0
        session.flush()
        if stamp.state is StampState.voided:
            return Verdict("voided", False, base.gtin, base.serial, base.lot)
        return Verdict("genuine", True, base.gtin, base.serial, base.lot)
    stamp.pin_attempts += 1
    if stamp.pin_attempts >= STAMP_MAX_WRONG:
        stamp.locked_until = now + STAMP_LOCK
    _count_wrong(session, client, window)
    session.flush()
    left = max(0, STAMP_MAX_WRONG - stamp.pin_attempts)
    return Verdict("wrong_pin", False, base.gtin, base.serial, base.lot, left)
