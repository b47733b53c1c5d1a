"""Stamp services on both stores: issuing, ranges, the state machine, PIN checks and limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_authority, make_org, make_product
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from truyxuat.registry.models import Organization
from truyxuat.stamps import codes, service
from truyxuat.stamps.models import RunState, Stamp, StampKind, StampRun, StampState
from truyxuat.stamps.schemas import StampRunIn


def writer(org: Organization) -> Principal:
    """An organization administrator of `org`."""
    return Principal(label="test", grants=(Grant(org.id, Role.org_admin, org.province_code),))


def authority(org: Organization) -> Principal:
    """An authority principal of an authority organization."""
    return Principal(label="auth", grants=(Grant(org.id, Role.authority, org.province_code),))


def issue(
    db: Session, settings: Settings, org: Organization, count: int = 10, **fields: object
) -> service.Issued:
    """Issues a run for a new product of `org`."""
    product = make_product(db, org)
    body = StampRunIn(gtin=product.gtin, count=count, **fields)  # type: ignore[arg-type]
    return service.issue_run(db, writer(org), body, settings)


def serials(db: Session, run: StampRun) -> list[str]:
    """The run's serials in issue order."""
    return list(db.scalars(select(Stamp.serial).where(Stamp.run_id == run.id).order_by(Stamp.seq)))


def test_issue_creates_count_stamps_with_unique_serials_and_audits(
    db: Session, settings: Settings
) -> None:
    issued = issue(db, settings, make_org(db), count=25, lot="L1")
    run = issued.run
    assert run.state is RunState.generated and issued.pins == {}
    found = serials(db, run)
    assert len(found) == len(set(found)) == 25
    assert db.scalar(select(func.count()).where(AuditEntry.entity_id == str(run.id))) == 1


def test_anticounterfeit_run_returns_pins_once_and_stores_only_hashes(
    db: Session, settings: Settings
) -> None:
    issued = issue(db, settings, make_org(db), count=5, kind=StampKind.anticounterfeit)
    assert len(issued.pins) == 5
    for stamp in db.scalars(select(Stamp).where(Stamp.run_id == issued.run.id)):
        pin = issued.pins[stamp.serial]
        assert stamp.pin_hash and pin not in stamp.pin_hash and pin not in (stamp.pin_salt or "")


def test_issue_refuses_unknown_gtin_other_orgs_product_and_bad_counts(
    db: Session, settings: Settings
) -> None:
    org, other = make_org(db), make_org(db)
    theirs = make_product(db, other)
    mine = make_product(db, org)
    bad = [
        StampRunIn(gtin="8930000000019", count=1),
        StampRunIn(gtin=theirs.gtin, count=1),
        StampRunIn(product_id=theirs.id, count=1),
        StampRunIn(gtin=mine.gtin, count=0),
        StampRunIn(gtin=mine.gtin, count=settings.stamp_run_max + 1),
        StampRunIn(gtin=mine.gtin, count=1, lot="bad lot"),
    ]
    for body in bad:
        with pytest.raises(ValidationFailed):
            service.issue_run(db, writer(org), body, settings)
    assert db.scalar(select(func.count()).select_from(StampRun)) == 0


def test_serial_clash_with_existing_stamps_is_regenerated(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(db)
    first = issue(db, settings, org, count=3)
    taken = serials(db, first.run)
    real = codes.unique_serials
    calls = iter([taken + real(2)])
    monkeypatch.setattr(
        codes, "unique_serials", lambda n, taken=(): next(calls, None) or real(n, taken)
    )
    product_gtin = first.run.gtin
    again = service.issue_run(db, writer(org), StampRunIn(gtin=product_gtin, count=5), settings).run
    second = serials(db, again)
    assert len(second) == 5 and not set(second) & set(taken)


def test_authority_reads_runs_in_its_province_but_cannot_change_them(
    db: Session, settings: Settings
) -> None:
    org = make_org(db, province_code="24")
    run = issue(db, settings, org).run
    local, distant = make_authority(db, province_code="24"), make_authority(db, province_code="22")
    assert service.get_run(db, authority(local), run.id).id == run.id
    assert [r.id for r in service.list_runs(db, authority(local))[0]] == [run.id]
    assert service.list_runs(db, authority(distant))[1] == 0
    with pytest.raises(NotFound):
        service.get_run(db, authority(distant), run.id)
    with pytest.raises(Forbidden):
        service.activate(db, authority(local), run.id, lot="L1")


def test_other_organization_sees_nothing_and_cannot_activate(
    db: Session, settings: Settings
) -> None:
    run = issue(db, settings, make_org(db)).run
    stranger = writer(make_org(db))
    assert service.list_runs(db, stranger)[1] == 0
    for call in (
        lambda: service.get_run(db, stranger, run.id),
        lambda: service.activate(db, stranger, run.id, lot="L1"),
        lambda: service.void(db, stranger, run.id, reason="x"),
        lambda: service.list_stamps(db, stranger, run.id),
    ):
        with pytest.raises(NotFound):
            call()


def test_activate_a_range_in_issue_order_then_the_rest(db: Session, settings: Settings) -> None:
    org = make_org(db)
    run = issue(db, settings, org, count=10).run
    order = serials(db, run)
    _, changed = service.activate(
        db, writer(org), run.id, lot="L7", from_serial=order[6], to_serial=order[2]
    )
    assert changed == 5
    states = dict(db.execute(select(Stamp.seq, Stamp.state).where(Stamp.run_id == run.id)).all())
    assert [s is StampState.activated for _, s in sorted(states.items())] == [
        False, False, True, True, True, True, True, False, False, False,
    ]  # fmt: skip
    with pytest.raises(Conflict):
        service.activate(
            db, writer(org), run.id, lot="L7", from_serial=order[2], to_serial=order[3]
        )
    uri = service.stamp_uri(run, order[9], settings)
    _, changed = service.activate(
        db, writer(org), run.id, lot="L7", from_serial=order[7], to_serial=uri
    )
    assert changed == 3 and run.state is RunState.activated and run.activated_count == 8


def test_activate_refuses_unissued_serials_and_changes_nothing(
    db: Session, settings: Settings
) -> None:
    org = make_org(db)
    run = issue(db, settings, org, count=4).run
    other = issue(db, settings, org, count=2).run
    order = serials(db, run)
    for start, end in [
        (order[0], "NOSUCHSERIAL"),
        (order[0], serials(db, other)[0]),
        (order[0], None),
    ]:
        with pytest.raises(ValidationFailed):
            service.activate(db, writer(org), run.id, lot="L1", from_serial=start, to_serial=end)
    assert run.state is RunState.generated
    assert (
        db.scalar(
            select(func.count()).where(Stamp.run_id == run.id, Stamp.state != StampState.generated)
        )
        == 0
    )


def test_activation_lot_must_match_the_run_lot(db: Session, settings: Settings) -> None:
    org = make_org(db)
    run = issue(db, settings, org, count=2, lot="A1").run
    with pytest.raises(ValidationFailed):
        service.activate(db, writer(org), run.id, lot="B2")


def test_void_part_then_all_and_state_machine(db: Session, settings: Settings) -> None:
    org = make_org(db)
    run = issue(db, settings, org, count=4).run
    order = serials(db, run)
    assert service.mark_printed(db, writer(org), run.id).state is RunState.printed
    _, changed = service.void(
        db, writer(org), run.id, reason="hỏng khi in", from_serial=order[0], to_serial=order[1]
    )
    assert changed == 2 and run.state is RunState.printed
    _, changed = service.void(db, writer(org), run.id, reason="thu hồi")
    assert changed == 2 and run.state is RunState.voided and run.voided_count == 4
    for call in (
        lambda: service.activate(db, writer(org), run.id, lot="L1"),
        lambda: service.void(db, writer(org), run.id, reason="again"),
        lambda: service.mark_printed(db, writer(org), run.id),
    ):
        with pytest.raises(Conflict):
            call()


def test_stamp_records_stream_uris_and_pins_for_printing(db: Session, settings: Settings) -> None:
    org = make_org(db)
    issued = issue(db, settings, org, count=3, lot="L9", kind=StampKind.anticounterfeit)
    records = list(service.stamp_records(db, writer(org), issued.run.id, settings, issued.pins))
    assert [r.seq for r in records] == [1, 2, 3]
    for record in records:
        link = codes.parse_digital_link(record.uri)
        assert (link.gtin, link.lot, link.serial) == (issued.run.gtin, "L9", record.serial)
        assert record.pin == issued.pins[record.serial]


def test_right_pin_is_genuine_and_wrong_pins_lock_the_stamp_after_five(
    db: Session, settings: Settings
) -> None:
    issued = issue(db, settings, make_org(db), count=1, kind=StampKind.anticounterfeit)
    [(serial, pin)] = issued.pins.items()
    gtin = issued.run.gtin
    ok = service.verify_pin(db, settings, client="a", gtin=gtin, serial=serial, pin=pin)
    assert ok.genuine and ok.result == "genuine"
    wrong = f"{(int(pin) + 1) % 10**8:08d}"
    lefts = [
        service.verify_pin(
            db, settings, client=f"c{i}", gtin=gtin, serial=serial, pin=wrong
        ).attempts_left
        for i in range(5)
    ]
    assert lefts == [4, 3, 2, 1, 0]
    with pytest.raises(service.TooManyRequests):
        service.verify_pin(db, settings, client="fresh", gtin=gtin, serial=serial, pin=pin)
    later = utcnow() + timedelta(days=2)
    again = service.verify_pin(
        db, settings, client="z", gtin=gtin, serial=serial, pin=pin, now=later
    )
    assert again.genuine


def test_a_client_is_limited_to_five_wrong_pins_per_hour(db: Session, settings: Settings) -> None:
    issued = issue(db, settings, make_org(db), count=6, kind=StampKind.anticounterfeit)
    gtin = issued.run.gtin
    stamps = list(issued.pins.items())
    for serial, pin in stamps[:4]:
        wrong = f"{(int(pin) + 1) % 10**8:08d}"
        assert not service.verify_pin(
            db, settings, client="ip:1", gtin=gtin, serial=serial, pin=wrong
        ).genuine
    unknown = service.verify_pin(db, settings, client="ip:1", gtin=gtin, serial="NOPE", pin="1")
    assert unknown.result == "unknown"
    serial, pin = stamps[5]
    with pytest.raises(service.TooManyRequests):
        service.verify_pin(db, settings, client="ip:1", gtin=gtin, serial=serial, pin=pin)
    assert service.verify_pin(
        db, settings, client="ip:2", gtin=gtin, serial=serial, pin=pin
    ).genuine
    next_hour = utcnow() + timedelta(hours=1)
    assert service.verify_pin(
        db, settings, client="ip:1", gtin=gtin, serial=serial, pin=pin, now=next_hour
    ).genuine


def test_voided_stamp_with_right_pin_is_not_genuine(db: Session, settings: Settings) -> None:
    org = make_org(db)
    issued = issue(db, settings, org, count=1, kind=StampKind.anticounterfeit)
    service.void(db, writer(org), issued.run.id, reason="recall")
    [(serial, pin)] = issued.pins.items()
    uri = service.stamp_uri(issued.run, serial, settings)
    verdict = service.verify_pin(db, settings, client="a", uri=uri, pin=pin)
    assert verdict.result == "voided" and not verdict.genuine


def test_qr_stamp_has_no_pin_to_verify(db: Session, settings: Settings) -> None:
    issued = issue(db, settings, make_org(db), count=1)
    serial = serials(db, issued.run)[0]
    with pytest.raises(ValidationFailed):
        service.verify_pin(db, settings, client="a", gtin=issued.run.gtin, serial=serial, pin="1")
