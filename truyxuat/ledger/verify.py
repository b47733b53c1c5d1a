"""`truyxuat ledger verify`: checks the whole ledger against the records and the signatures.

Trusts nothing stored but the node's (and its witnesses') public keys:

1. every stored EPCIS event's canonical hash is recomputed from its stored JSON and must
   equal the recorded hash and be logged by an entry of the log;
2. every entry's leaf is recomputed (salt, kind, payload) and must be the stored leaf at the
   entry's recorded index, with no index missing; an event entry must still have its event;
3. every stored tile above the leaves must hash the tiles below it;
4. the tree recomputed from the entries must have, at each checkpoint's size, that
   checkpoint's root, and no checkpoint may be larger than the tree;
5. every checkpoint's signature must verify under its key, the latest key must be this
   node's, and every cosignature must verify under a known witness key.

Each mismatch is reported as one line naming the record, leaf or checkpoint.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from truyxuat.config import Settings
from truyxuat.epcis.hashing import event_hash
from truyxuat.epcis.models import EpcisEvent
from truyxuat.ledger import service
from truyxuat.ledger.keys import log_signer, witness_verifiers
from truyxuat.ledger.merkle import HASH_SIZE, CompactRange
from truyxuat.ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerEntry, LedgerTile
from truyxuat.ledger.notes import NoteError, parse_checkpoint, parse_vkey, verified_by
from truyxuat.ledger.tiles import TILE_WIDTH, inner_nodes, perfect_root, split

_CHUNK = 5_000
_PARALLEL_FROM = 50_000


@dataclass
class Report:
    """What a verification found."""

    problems: list[str] = field(default_factory=list)
    events: int = 0
    leaves: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems


def _leaf_tiles(db: Session) -> Iterator[tuple[int, bytes]]:
    """The stored level-0 tiles in order."""
    rows = db.execute(
        select(LedgerTile.idx, LedgerTile.hashes)
        .where(LedgerTile.level == 0)
        .order_by(LedgerTile.idx)
        .execution_options(yield_per=256)
    )
    for idx, blob in rows:
        yield idx, bytes(blob)


def verify_ledger(db: Session, settings: Settings) -> Report:
    """Runs every check; returns the report (its problems name each mismatch)."""
    report = Report()
    checkpoints = list(db.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)))
    report.checkpoints = len(checkpoints)
    wanted_sizes = {c.tree_size for c in checkpoints}
    roots: dict[int, bytes] = {}
    logged_events: dict[tuple[str | None, str, str], int] = {}

    # Entries in leaf order against the stored leaves, and the tree rebuilt from the entries.
    tree = CompactRange()
    if 0 in wanted_sizes:
        roots[0] = tree.root()
    tiles = _leaf_tiles(db)
    tile_idx, tile = -1, b""
    expected_index = 0
    entries = db.execute(
        select(
            LedgerEntry.leaf_index,
            LedgerEntry.kind,
            LedgerEntry.payload,
            LedgerEntry.subject,
            LedgerEntry.salt,
        )
        .where(LedgerEntry.leaf_index.is_not(None))
        .order_by(LedgerEntry.leaf_index)
        .execution_options(yield_per=_CHUNK)
    )
    for row_index, kind, payload, subject, salt in entries:
        index: int = row_index or 0  # never NULL: the query excludes pending entries
        while expected_index < index:
            report.problems.append(f"leaf {expected_index}: no entry has this index")
            expected_index += 1
        expected_index = index + 1
        leaf = service.entry_leaf_hash(bytes(salt), kind, payload)
        while tile_idx < index // TILE_WIDTH:
            tile_idx, tile = next(tiles, (1 << 62, b""))
        offset = (index % TILE_WIDTH) * HASH_SIZE
        stored = tile[offset : offset + HASH_SIZE] if tile_idx == index // TILE_WIDTH else b""
        if stored != leaf:
            report.problems.append(
                f"leaf {index}: the stored leaf hash is not the hash of its entry "
                f"({kind} {payload})"
            )
        if kind in (service.EVENT, service.ERROR_DECLARATION):
            logged_events[(subject, kind, payload)] = index
        while tree.size < index:  # a missing index: keep sizes aligned with the stored tree
            tree.append(b"\0" * HASH_SIZE)
        tree.append(leaf)
        if tree.size in wanted_sizes:
            roots[tree.size] = tree.root()
    report.leaves = tree.size

    state_size = service.tree_size(db)
    if state_size != tree.size:
        report.problems.append(
            f"the ledger state says {state_size} leaves but entries hold {tree.size}"
        )
    _check_tiles(db, tree.size, report)
    _check_events(db, logged_events, report)
    _check_checkpoints(db, settings, checkpoints, roots, tree.size, report)
    return report


def _check_tiles(db: Session, size: int, report: Report) -> None:
    """Each full tile's stored inner nodes must be its own, and each tile above the leaves
    must hold the roots of the full tiles below it."""
    level = 0
    below: dict[int, bytes] = {}
    while level == 0 or size >> (8 * level):
        current: dict[int, bytes] = {}
        for idx, blob, inner in db.execute(
            select(LedgerTile.idx, LedgerTile.hashes, LedgerTile.nodes).where(
                LedgerTile.level == level
            )
        ):
            blob = bytes(blob)
            current[idx] = blob
            if len(blob) == TILE_WIDTH * HASH_SIZE and (
                inner is None or bytes(inner) != inner_nodes(blob)
            ):
                report.problems.append(f"tile {level}/{idx}: its inner nodes are not its own")
            if not level:
                continue
            for n, stored in enumerate(split(blob)):
                child = below.get(idx * TILE_WIDTH + n, b"")
                if len(child) != TILE_WIDTH * HASH_SIZE or perfect_root(split(child)) != stored:
                    report.problems.append(
                        f"tile {level}/{idx}: hash {n} is not the root of tile "
                        f"{level - 1}/{idx * TILE_WIDTH + n}"
                    )
        below = current
        level += 1


def hash_events(texts: list[str]) -> list[str]:
    """The canonical hashes of events given as JSON text; `!reason` for one that no longer
    hashes (a tampered event may not be an event any more). Runs in worker processes."""
    digests: list[str] = []
    for text in texts:
        try:
            digests.append(event_hash(json.loads(text)))
        except Exception as exc:
            digests.append(f"!{exc}")
    return digests


def _event_digests(
    rows: Iterator[Sequence[Any]], workers: int
) -> Iterator[tuple[Sequence[Any], str]]:
    """Each row with the hash of its event (last column, JSON text), computed in `workers`
    processes for big ledgers (hashing dominates a verification), in order. The workers are
    forked: they only hash, never touch the parent's database connection."""
    chunks = (list(chunk) for chunk in iter(lambda: list(islice(rows, _CHUNK)), []))
    if workers <= 1:
        for chunk in chunks:
            yield from zip(chunk, hash_events([row[-1] for row in chunk]), strict=True)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        pending: deque[tuple[list[Sequence[Any]], Future[list[str]]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(hash_events, [row[-1] for row in chunk])))
            if len(pending) > 2 * workers:
                done, future = pending.popleft()
                yield from zip(done, future.result(), strict=True)
        while pending:
            done, future = pending.popleft()
            yield from zip(done, future.result(), strict=True)


def _check_events(
    db: Session, logged: dict[tuple[str | None, str, str], int], report: Report
) -> None:
    """Every stored event hashes to its recorded hash and is logged; every logged event is
    still stored."""
    count = db.scalar(select(func.count()).select_from(EpcisEvent)) or 0
    workers = min(os.cpu_count() or 1, 8) if count >= _PARALLEL_FROM else 1
    rows = db.execute(
        select(
            EpcisEvent.org_id,
            EpcisEvent.id,
            EpcisEvent.event_hash,
            EpcisEvent.error_declared,
            cast(EpcisEvent.event, Text),
        ).execution_options(yield_per=_CHUNK)
    )
    for (org_id, row_id, recorded, declared, _), digest in _event_digests(iter(rows), workers):
        report.events += 1
        if digest.startswith("!"):
            report.problems.append(
                f"event {row_id}: its stored JSON no longer hashes ({digest[1:]})"
            )
            digest = recorded
        if digest != recorded:
            report.problems.append(
                f"event {row_id} (org {org_id}): its stored JSON hashes to {digest}, "
                f"not its recorded {recorded}"
            )
        kind = service.ERROR_DECLARATION if declared else service.EVENT
        if logged.pop((str(org_id), kind, digest), None) is None:
            report.problems.append(f"event {row_id} (org {org_id}, {digest}): not in the ledger")
    for (subject, kind, payload), index in sorted(logged.items(), key=lambda item: item[1]):
        report.problems.append(
            f"leaf {index}: logs {kind} {payload} of org {subject}, which is no longer stored"
        )


def _check_checkpoints(
    db: Session,
    settings: Settings,
    checkpoints: list[LedgerCheckpoint],
    roots: dict[int, bytes],
    size: int,
    report: Report,
) -> None:
    """Roots against the rebuilt tree, signatures against keys."""
    own = log_signer(settings).verifier.vkey()
    witnesses = {w.vkey(): w for w in witness_verifiers(settings)}
    cosignatures: dict[int, list[tuple[str, str]]] = {}
    for checkpoint_id, witness, line in db.execute(
        select(LedgerCosignature.checkpoint_id, LedgerCosignature.witness, LedgerCosignature.line)
    ):
        cosignatures.setdefault(checkpoint_id, []).append((witness, line))
    for n, checkpoint in enumerate(checkpoints):
        label = f"checkpoint {checkpoint.id} (size {checkpoint.tree_size})"
        try:
            body = parse_checkpoint(checkpoint.body)
        except NoteError as exc:
            report.problems.append(f"{label}: {exc}")
            continue
        if body.size != checkpoint.tree_size or body.root != bytes(checkpoint.root_hash):
            report.problems.append(f"{label}: its note and its recorded size or root differ")
        if body.size > size:
            report.problems.append(
                f"{label}: signed for {body.size} leaves but the tree has only {size}"
            )
        elif roots.get(body.size) != body.root:
            report.problems.append(
                f"{label}: the tree rebuilt from the entries has another root at this size"
            )
        try:
            log_key = parse_vkey(checkpoint.vkey)
            signed = verified_by(checkpoint.body + "\n" + checkpoint.signature, [log_key])
            if log_key.name not in signed:
                raise NoteError("its signature line is not from its key")
        except NoteError as exc:
            report.problems.append(f"{label}: signature does not verify ({exc})")
        if n == len(checkpoints) - 1 and checkpoint.vkey != own:
            report.problems.append(
                f"{label}: the latest checkpoint is not signed by this node's key"
            )
        for witness, line in cosignatures.get(checkpoint.id, []):
            verifier = witnesses.get(witness)
            try:
                if verifier is None:
                    raise NoteError("from a witness this node does not know")
                if verifier.name not in verified_by(checkpoint.body + "\n" + line, [verifier]):
                    raise NoteError("the line is not from the witness's key")
            except NoteError as exc:
                report.problems.append(f"{label}: cosignature does not verify ({exc})")
