"""Tampering behind the application's back, in SQL, on both stores: `ledger verify` names it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from tests.ledger.conftest import capture
from truyxuat.config import Settings
from truyxuat.epcis.models import EpcisEvent
from truyxuat.ledger.models import LedgerEntry
from truyxuat.ledger.verify import verify_ledger


@pytest.fixture
def logged(db: Session, settings: Settings) -> Session:
    """Six captured events in two captures (two checkpoints), all verified clean."""
    capture(db, settings, 3)
    capture(db, settings, 3, first=3)
    report = verify_ledger(db, settings)
    assert report.ok, report.problems
    assert (report.events, report.leaves, report.checkpoints) == (6, 6, 2)
    return db


def by_id(sql: str) -> TextClause:
    """A statement whose :id is an event row's UUID (bound as each store stores it)."""
    return text(sql).bindparams(bindparam("id", type_=Uuid()))


def problems(db: Session, settings: Settings) -> list[str]:
    """The verification's findings after the tampering."""
    db.expire_all()
    report = verify_ledger(db, settings)
    assert not report.ok
    return report.problems


def first_event(db: Session) -> EpcisEvent:
    """The first stored event."""
    row = db.scalar(select(EpcisEvent).order_by(EpcisEvent.event_time).limit(1))
    assert row is not None
    return row


def test_the_ledger_logs_every_stored_event_in_its_transaction(logged: Session) -> None:
    """Each stored event has one entry (salted) committing to its canonical hash."""
    entries = logged.scalars(select(LedgerEntry).order_by(LedgerEntry.leaf_index)).all()
    hashes = set(logged.scalars(select(EpcisEvent.event_hash)))
    assert {e.payload for e in entries} == hashes
    assert len({bytes(e.salt) for e in entries}) == len(entries)


def test_a_changed_event_field_is_reported(logged: Session, settings: Settings) -> None:
    """Editing the stored JSON makes its hash differ from the recorded and logged one."""
    row = first_event(logged)
    if logged.get_bind().dialect.name == "postgresql":
        sql = "UPDATE epcis_event SET event = jsonb_set(event, '{bizStep}', '\"receiving\"')"
    else:
        sql = "UPDATE epcis_event SET event = json_set(event, '$.bizStep', 'receiving')"
    logged.execute(by_id(sql + " WHERE id = :id"), {"id": row.id})
    found = problems(logged, settings)
    assert any(f"event {row.id}" in p and "hashes to" in p for p in found), found
    assert any(f"event {row.id}" in p and "not in the ledger" in p for p in found), found


def test_a_deleted_event_is_reported(logged: Session, settings: Settings) -> None:
    """A logged event that is no longer stored is named by its leaf and hash."""
    row = first_event(logged)
    digest = row.event_hash
    for table in ("epcis_event_epc", "epcis_event_party", "epcis_sensor_reading"):
        try:
            with logged.begin_nested():
                logged.execute(
                    by_id(f"DELETE FROM {table} WHERE event_row_id = :id"), {"id": row.id}
                )
        except Exception:  # the table belongs to a feature not in this schema
            continue
    logged.execute(by_id("DELETE FROM epcis_event WHERE id = :id"), {"id": row.id})
    found = problems(logged, settings)
    assert any(digest in p and "no longer stored" in p for p in found), found


def test_reordered_leaves_are_reported(logged: Session, settings: Settings) -> None:
    """Swapping two entries' leaf indexes breaks both leaves."""
    swap = "UPDATE ledger_entry SET leaf_index = :new WHERE leaf_index = :old"
    logged.execute(text(swap), {"old": 0, "new": -1})
    logged.execute(text(swap), {"old": 1, "new": 0})
    logged.execute(text(swap), {"old": -1, "new": 1})
    found = problems(logged, settings)
    assert any(p.startswith("leaf 0:") for p in found), found
    assert any(p.startswith("leaf 1:") for p in found), found


def test_a_changed_stored_leaf_is_reported(logged: Session, settings: Settings) -> None:
    """A flipped byte in a stored leaf hash is named by its index."""
    blob = bytearray(
        logged.execute(
            text("SELECT hashes FROM ledger_tile WHERE level = 0 AND idx = 0")
        ).scalar_one()
    )
    blob[2 * 32] ^= 0x01
    logged.execute(
        text("UPDATE ledger_tile SET hashes = :blob WHERE level = 0 AND idx = 0"),
        {"blob": bytes(blob)},
    )
    found = problems(logged, settings)
    assert any(p.startswith("leaf 2: the stored leaf hash") for p in found), found


def test_a_rolled_back_tree_is_reported(logged: Session, settings: Settings) -> None:
    """Taking leaves off the end leaves a checkpoint larger than the tree."""
    logged.execute(text("UPDATE ledger_entry SET leaf_index = NULL WHERE leaf_index >= 4"))
    logged.execute(text("UPDATE ledger_state SET tree_size = 4"))
    blob = logged.execute(
        text("SELECT hashes FROM ledger_tile WHERE level = 0 AND idx = 0")
    ).scalar_one()
    logged.execute(
        text("UPDATE ledger_tile SET hashes = :blob WHERE level = 0 AND idx = 0"),
        {"blob": bytes(blob)[: 4 * 32]},
    )
    found = problems(logged, settings)
    assert any("signed for 6 leaves but the tree has only 4" in p for p in found), found


def test_a_swapped_checkpoint_signature_is_reported(logged: Session, settings: Settings) -> None:
    """Exchanging two checkpoints' signature lines fails both signatures."""
    rows = logged.execute(text("SELECT id, signature FROM ledger_checkpoint ORDER BY id")).all()
    (first_id, first_sig), (second_id, second_sig) = rows[-2:]
    update = "UPDATE ledger_checkpoint SET signature = :sig WHERE id = :id"
    logged.execute(text(update), {"sig": second_sig, "id": first_id})
    logged.execute(text(update), {"sig": first_sig, "id": second_id})
    found = problems(logged, settings)
    for checkpoint_id in (first_id, second_id):
        assert any(
            p.startswith(f"checkpoint {checkpoint_id} ") and "signature does not verify" in p
            for p in found
        ), found


def test_a_bundle_round_trips_through_json(logged: Session, settings: Settings) -> None:
    """A bundle written to a file and read back still verifies (what verify-bundle reads)."""
    from truyxuat.ledger import service

    digest = first_event(logged).event_hash
    bundle = service.proof_bundle(logged, digest)
    assert bundle is not None
    assert service.verify_bundle(json.loads(json.dumps(bundle)), event_hash=digest)


def test_event_hashes_computed_in_worker_processes_match_the_sequential_ones() -> None:
    """Big ledgers hash events in forked workers; the results and their order are the same."""
    from tests.ledger.conftest import make_event
    from truyxuat.ledger.verify import _event_digests

    rows = [(n, json.dumps(make_event(n))) for n in range(12_000)] + [(-1, "not json")]
    sequential = list(_event_digests(iter(rows), 1))
    parallel = list(_event_digests(iter(rows), 2))
    assert parallel == sequential
    assert [row[0] for row, _ in parallel] == [row[0] for row in rows]
    assert parallel[-1][1].startswith("!")
