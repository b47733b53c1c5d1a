"""The ledger's store on both databases: appends, integration into tiles, proofs, checkpoints."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from truyxuat.config import Settings
from truyxuat.ledger import merkle, service
from truyxuat.ledger.models import LedgerEntry
from truyxuat.ledger.notes import parse_checkpoint, parse_vkey, split_note, verified_by
from truyxuat.ledger.tiles import TileReader, append_leaves


def leaves_of(db: Session) -> list[bytes]:
    """The leaf hashes recomputed from the entries, in leaf order."""
    rows = db.execute(
        select(LedgerEntry.salt, LedgerEntry.kind, LedgerEntry.payload)
        .where(LedgerEntry.leaf_index.is_not(None))
        .order_by(LedgerEntry.leaf_index)
    ).all()
    return [service.entry_leaf_hash(bytes(salt), kind, payload) for salt, kind, payload in rows]


def test_appends_wait_for_the_integrator_then_get_consecutive_leaves(db: Session) -> None:
    """Entries have no leaf until integrated; batches of any size build the RFC 9162 tree."""
    start = service.tree_size(db)
    for round_size in (1, 2, 5, 250, 7, 300):
        for n in range(round_size):
            service.append(db, "test.entry", f"payload {round_size} {n}".encode())
        pending = db.scalar(select(LedgerEntry).where(LedgerEntry.leaf_index.is_(None)).limit(1))
        assert pending is not None
        assert service.integrate(db, batch=200) == round_size
        leaves = leaves_of(db)
        size = service.tree_size(db)
        assert (
            size
            == len(leaves)
            == start + sum((1, 2, 5, 250, 7, 300)[: (1, 2, 5, 250, 7, 300).index(round_size) + 1])
        )
        assert TileReader(db, size).root() == merkle.root_hash(leaves)
    assert service.integrate(db) == 0


def test_proofs_from_tiles_verify_against_the_tree(db: Session) -> None:
    """Inclusion and consistency proofs read from tiles verify, across tile boundaries."""
    for n in range(600):
        service.append(db, "test.entry", f"proof {n}")
    service.integrate(db)
    leaves = leaves_of(db)
    size = len(leaves)
    roots = {s: merkle.root_hash(leaves[:s]) for s in (1, 255, 256, 257, 512, size)}
    for s in roots:
        for index in {0, s // 2, s - 1}:
            proof = service.inclusion_proof(db, index, s)
            merkle.verify_inclusion(leaves[index], index, s, proof, roots[s])
        for first in roots:
            if first <= s:
                proof = service.consistency_proof(db, first, s)
                merkle.verify_consistency(first, s, roots[first], roots[s], proof)


def test_tiles_of_a_tree_with_two_tile_levels(db: Session) -> None:
    """Nodes above the first 8 levels come from level-1 tiles and agree with the definition."""
    size = service.tree_size(db)
    assert size == 0 or pytest.skip("the tree of this store is not empty")
    leaves = [merkle.leaf_hash(n.to_bytes(4, "big")) for n in range(66_000)]
    append_leaves(db, 0, leaves[:40_000])
    append_leaves(db, 40_000, leaves[40_000:])
    reader = TileReader(db, len(leaves))
    assert reader.root() == merkle.root_hash(leaves)
    for index in (0, 65_535, 65_536, 65_999):
        proof = reader.hashes(merkle.inclusion_ranges(index, len(leaves)))
        merkle.verify_inclusion(leaves[index], index, len(leaves), proof, reader.root())
    db.rollback()


def test_checkpoints_are_signed_notes_that_extend_each_other(
    db: Session, settings: Settings
) -> None:
    """A checkpoint is a C2SP signed note of the tree; unchanged trees are not re-signed."""
    service.append(db, "test.entry", "one")
    service.integrate(db)
    first = service.sign_checkpoint(db, settings)
    assert service.sign_checkpoint(db, settings).id == first.id
    service.append(db, "test.entry", "two")
    service.integrate(db)
    second = service.sign_checkpoint(db, settings)
    assert second.tree_size == first.tree_size + 1
    note = service.checkpoint_note(db, second)
    body, signatures = split_note(note)
    checkpoint = parse_checkpoint(body)
    assert checkpoint.origin == settings.ledger_origin
    assert checkpoint.root == TileReader(db, second.tree_size).root()
    assert [s.name for s in signatures] == [settings.ledger_origin]
    assert settings.ledger_origin in verified_by(note, [parse_vkey(second.vkey)])
    assert (settings.data_dir / "ledger_key").exists()


def test_the_signer_refuses_a_tree_that_does_not_extend_the_last_checkpoint(
    db: Session, settings: Settings
) -> None:
    """A rolled-back state is never signed."""
    service.append(db, "test.entry", "rollback")
    service.integrate(db)
    signed = service.sign_checkpoint(db, settings)
    state = service.lock_state(db)
    state.tree_size = signed.tree_size - 1
    state.root_hash = TileReader(db, state.tree_size).root()
    db.flush()
    with pytest.raises(service.LedgerError):
        service.sign_checkpoint(db, settings)


def test_proof_bundle_verifies_offline_and_fails_when_altered(
    db: Session, settings: Settings
) -> None:
    """The bundle of an event hash checks out; any altered field makes it fail."""
    event_hash = "ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0"
    assert service.proof_bundle(db, event_hash) is None
    service.append(db, service.EVENT, event_hash)
    service.append(db, "test.entry", "another")
    service.integrate(db)
    assert service.proof_bundle(db, event_hash) is None  # no checkpoint covers it yet
    service.sign_checkpoint(db, settings)
    bundle = service.proof_bundle(db, event_hash)
    assert bundle is not None
    lines = service.verify_bundle(bundle, event_hash=event_hash)
    assert any("verified at checkpoint" in line for line in lines)
    salt = bytearray(base64.b64decode(bundle["salt"]))
    salt[0] ^= 1
    for key, value in (
        ("payload", event_hash.replace("ab", "ac", 1)),
        ("salt", base64.b64encode(salt).decode()),
        ("leaf_index", bundle["leaf_index"] + 1),
        ("kind", "other"),
        ("checkpoint", bundle["checkpoint"].replace("\n", "\n1", 1)),
    ):
        with pytest.raises(service.LedgerError):
            service.verify_bundle({**bundle, key: value})


def test_full_tiles_keep_their_inner_nodes_and_verify_checks_them(
    db: Session, settings: Settings
) -> None:
    """Proofs read a full tile's stored inner nodes; a tampered one is reported."""
    from sqlalchemy import text

    from truyxuat.ledger.verify import verify_ledger

    for n in range(300):
        service.append(db, "test.entry", f"inner {n}")
    service.integrate(db)
    service.sign_checkpoint(db, settings)
    assert verify_ledger(db, settings).ok
    inner = bytearray(
        db.execute(text("SELECT nodes FROM ledger_tile WHERE level = 0 AND idx = 0")).scalar_one()
    )
    assert len(inner) == 255 * 32
    inner[0] ^= 1
    db.execute(
        text("UPDATE ledger_tile SET nodes = :inner WHERE level = 0 AND idx = 0"),
        {"inner": bytes(inner)},
    )
    db.expire_all()
    assert "tile 0/0: its inner nodes are not its own" in verify_ledger(db, settings).problems
