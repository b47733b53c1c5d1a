"""The ledger's service: append entries in the caller's transaction, integrate them into the
tree, sign checkpoints, build proofs and offline bundles, and cosign other logs as a witness.

Appending only inserts a row (so a rolled-back capture leaves nothing and a committed one is
never missing from the log); the integrator, one at a time under a lock on the state row,
gives pending entries their leaf indexes in batches and writes the tiles.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from truyxuat.config import Settings
from truyxuat.db import utcnow
from truyxuat.errors import N_, Conflict, DomainError, NotFound, invalid
from truyxuat.ledger import merkle
from truyxuat.ledger.keys import log_signer, witness_signer, witness_verifiers, witnessed_logs
from truyxuat.ledger.models import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerState,
    LedgerWitnessed,
)
from truyxuat.ledger.notes import (
    Checkpoint,
    NoteError,
    parse_checkpoint,
    parse_vkey,
    split_note,
    verified_by,
)
from truyxuat.ledger.tiles import TileReader, append_leaves

BUNDLE_FORMAT = "truyxuat-ledger-bundle/v1"
EVENT = "epcis.event"
ERROR_DECLARATION = "epcis.error_declaration"
_BATCH = 50_000
_SALT_BYTES = 16
_COPY_FROM = 200


class LedgerError(Exception):
    """The stored tree does not agree with itself or with what was signed before."""


# --- leaves -------------------------------------------------------------------------------


def payload_text(payload_hash: bytes | str) -> str:
    """The stored form of a payload hash: text as given, bytes in lowercase hex."""
    return payload_hash.hex() if isinstance(payload_hash, bytes) else payload_hash


def leaf_data(salt: bytes, kind: str, payload: str) -> bytes:
    """The leaf's data d: SHA-256(salt || kind || "\\n" || payload), revealing neither."""
    return hashlib.sha256(salt + kind.encode() + b"\n" + payload.encode()).digest()


def entry_leaf_hash(salt: bytes, kind: str, payload: str) -> bytes:
    """The RFC 9162 leaf hash of an entry."""
    return merkle.leaf_hash(leaf_data(salt, kind, payload))


# --- appending ----------------------------------------------------------------------------


def append(
    db: Session, kind: str, payload_hash: bytes | str, *, subject: str | None = None
) -> None:
    """Enqueues one entry in the caller's transaction; the integrator gives it a leaf.

    `kind` names what is logged (e.g. "registry.growing_area.approved"), `payload_hash` is the
    hash of the record as the caller's domain defines it, `subject` optionally names whose
    record it is (an organization ID) so a verifier can match entries to records.
    """
    append_many(db, [(kind, payload_text(payload_hash), subject)])


def record_hash(record: Mapping[str, Any]) -> str:
    """`sha-256:<hex>` of a record's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return "sha-256:" + hashlib.sha256(text.encode()).hexdigest()


def append_record(
    db: Session, kind: str, record: Mapping[str, Any], *, subject: str | None = None
) -> None:
    """Enqueues a registry change (approval, certificate, stamp run, recall) by the hash of
    its canonical JSON; keep the record to prove it later."""
    append(db, kind, record_hash(record), subject=subject)


def append_many(db: Session, entries: Iterable[tuple[str, str, str | None]]) -> None:
    """Enqueues (kind, payload, subject) entries in one statement."""
    now = utcnow()
    rows = [
        {
            "kind": kind,
            "payload": payload,
            "subject": subject,
            "salt": os.urandom(_SALT_BYTES),
            "created_at": now,
        }
        for kind, payload, subject in entries
    ]
    if not rows:
        return
    connection = db.connection()
    if len(rows) < _COPY_FROM or connection.dialect.name != "postgresql":
        db.execute(insert(LedgerEntry), rows)
        return
    # A capture of thousands of events: COPY is several times faster than INSERT.
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = ("kind", "payload", "subject", "salt", "created_at")
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY ledger_entry ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[column] for column in columns])


def append_events(
    db: Session, org_id: uuid.UUID, stored: Sequence[tuple[Mapping[str, Any], str]]
) -> None:
    """Enqueues the events just stored for an organization: (event, canonical hash) pairs."""
    subject = str(org_id)
    append_many(
        db,
        (
            (ERROR_DECLARATION if "errorDeclaration" in event else EVENT, digest, subject)
            for event, digest in stored
        ),
    )


# --- integrating --------------------------------------------------------------------------


def lock_state(db: Session) -> LedgerState:
    """The state row, locked until the transaction ends (SQLite holds its write lock already)."""
    state = db.scalar(select(LedgerState).where(LedgerState.id == 1).with_for_update())
    if state is None:
        state = LedgerState(id=1, tree_size=0, root_hash=merkle.EMPTY_ROOT, updated_at=utcnow())
        db.add(state)
        db.flush()
    return state


def integrate(db: Session, *, batch: int = _BATCH) -> int:
    """Gives every pending entry its leaf index and writes the tree; returns how many."""
    state = lock_state(db)
    total = 0
    while True:
        pending = db.execute(
            select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.payload, LedgerEntry.salt)
            .where(LedgerEntry.leaf_index.is_(None))
            .order_by(LedgerEntry.id)
            .limit(batch)
        ).all()
        if not pending:
            break
        size = state.tree_size
        leaves = [entry_leaf_hash(bytes(salt), kind, payload) for _, kind, payload, salt in pending]
        _set_indexes(db, [row[0] for row in pending], size)
        append_leaves(db, size, leaves)
        state.tree_size = size + len(leaves)
        state.root_hash = TileReader(db, state.tree_size).root()
        state.updated_at = utcnow()
        db.flush()
        total += len(pending)
        if len(pending) < batch:
            break
    return total


def _set_indexes(db: Session, ids: list[int], first: int) -> None:
    """Writes leaf indexes first, first + 1, ... to the entries `ids` in order."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            # The IDs travel as one text value: binding a 50,000-element array costs more.
            cursor.execute(
                "UPDATE ledger_entry AS e SET leaf_index = %s + v.n - 1 "
                "FROM unnest(string_to_array(%s, ',')::bigint[]) WITH ORDINALITY AS v(id, n) "
                "WHERE e.id = v.id",
                (first, ",".join(map(str, ids))),
            )
        return
    db.execute(
        update(LedgerEntry.__table__)  # type: ignore[arg-type]
        .where(LedgerEntry.__table__.c.id == bindparam("entry_id"))
        .values(leaf_index=bindparam("index")),
        [{"entry_id": entry_id, "index": first + n} for n, entry_id in enumerate(ids)],
    )


def tree_size(db: Session) -> int:
    """The number of leaves integrated."""
    return db.scalar(select(LedgerState.tree_size).where(LedgerState.id == 1)) or 0


# --- checkpoints --------------------------------------------------------------------------


def latest_checkpoint(db: Session) -> LedgerCheckpoint | None:
    """The newest checkpoint this node signed."""
    return db.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1))


def sign_checkpoint(db: Session, settings: Settings) -> LedgerCheckpoint:
    """Signs a checkpoint of the current tree, or returns the latest when nothing changed.

    Refuses (LedgerError) to sign a tree that does not extend the last signed checkpoint, so
    this node never signs two inconsistent checkpoints, whatever happened to its tables.
    """
    state = lock_state(db)
    size = state.tree_size
    reader = TileReader(db, size)
    root = reader.root()
    if root != bytes(state.root_hash):
        raise LedgerError("the stored tree's root does not match the ledger state")
    last = latest_checkpoint(db)
    signer = log_signer(settings)
    if last is not None:
        if size < last.tree_size:
            raise LedgerError(
                f"the tree has {size} leaves, fewer than the {last.tree_size} already signed"
            )
        if last.tree_size:
            proof = reader.hashes(merkle.consistency_ranges(last.tree_size, size))
            try:
                merkle.verify_consistency(last.tree_size, size, bytes(last.root_hash), root, proof)
            except merkle.ProofError as exc:
                raise LedgerError(f"the tree does not extend the last checkpoint: {exc}") from None
        if (
            size == last.tree_size
            and last.vkey == signer.verifier.vkey()
            and parse_checkpoint(last.body).origin == settings.ledger_origin
        ):
            return last
    body = Checkpoint(settings.ledger_origin, size, root).body()
    checkpoint = LedgerCheckpoint(
        tree_size=size,
        root_hash=root,
        body=body,
        signature=signer.sign_line(body.encode()),
        vkey=signer.verifier.vkey(),
        created_at=utcnow(),
    )
    db.add(checkpoint)
    db.flush()
    return checkpoint


def checkpoint_note(db: Session, checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint as a signed note: our signature, then every cosignature."""
    lines = db.scalars(
        select(LedgerCosignature.line)
        .where(LedgerCosignature.checkpoint_id == checkpoint.id)
        .order_by(LedgerCosignature.id)
    ).all()
    return checkpoint.body + "\n" + checkpoint.signature + "".join(lines)


def checkpoint_witnesses(db: Session, checkpoint: LedgerCheckpoint) -> list[str]:
    """The verifier keys of the witnesses that cosigned a checkpoint."""
    return list(
        db.scalars(
            select(LedgerCosignature.witness)
            .where(LedgerCosignature.checkpoint_id == checkpoint.id)
            .order_by(LedgerCosignature.id)
        )
    )


def add_cosignature(
    db: Session, settings: Settings, checkpoint: LedgerCheckpoint, line: str
) -> str:
    """Stores a witness's cosignature line on a checkpoint after checking it; returns its name."""
    note = checkpoint.body + "\n" + (line if line.endswith("\n") else line + "\n")
    try:
        _, (signature,) = split_note(note)
        witnesses = witness_verifiers(settings)
        verified = verified_by(note, witnesses)
    except (NoteError, ValueError) as exc:
        raise invalid(
            ["cosignature"], N_("Not a valid cosignature: {reason}"), reason=str(exc)
        ) from None
    if signature.name not in verified:
        raise invalid(["cosignature"], N_("The cosignature is not from a known witness"))
    (witness,) = [w for w in witnesses if w.name == signature.name]
    db.add(
        LedgerCosignature(
            checkpoint_id=checkpoint.id,
            witness=witness.vkey(),
            line=signature.line,
            created_at=utcnow(),
        )
    )
    db.flush()
    return witness.name


# --- proofs -------------------------------------------------------------------------------


def inclusion_proof(db: Session, leaf_index: int, size: int) -> list[bytes]:
    """The audit path of a leaf in the tree of `size` leaves (at most the current size)."""
    missing = NotFound(
        N_("No leaf {leaf_index} in a tree of {tree_size} leaves"),
        leaf_index=leaf_index,
        tree_size=size,
    )
    if not 0 <= leaf_index < size:
        raise missing
    # Tiles only grow, so a tree larger than the stored one is simply missing a node.
    reader = TileReader(db, size)
    try:
        # The last leaf's tile comes in the same query: it shows the tree has that size.
        proof = reader.hashes(merkle.inclusion_ranges(leaf_index, size), also=[(0, size - 1)])
        reader.node(0, size - 1)
        return proof
    except LookupError:
        raise missing from None


def consistency_proof(db: Session, first: int, second: int) -> list[bytes]:
    """The proof that the tree of `second` leaves extends the one of `first` leaves."""
    current = tree_size(db)
    if not 0 < first <= second <= current:
        raise NotFound(
            N_("No consistency proof from {first} to {second} leaves"), first=first, second=second
        )
    if first == second:
        return []
    return TileReader(db, second).hashes(merkle.consistency_ranges(first, second))


def find_entry(db: Session, payload: str) -> LedgerEntry | None:
    """The integrated entry logging a payload hash (an event first, then any kind)."""
    entries = db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.payload == payload, LedgerEntry.leaf_index.is_not(None))
        .order_by(LedgerEntry.leaf_index)
    ).all()
    for entry in entries:
        if entry.kind == EVENT:
            return entry
    return entries[0] if entries else None


def b64(value: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(value).decode()


def proof_bundle(db: Session, event_hash: str) -> dict[str, Any] | None:
    """An offline-checkable proof that an event hash is in the log, or None when it is not yet.

    The bundle holds the entry (kind, payload, salt), its leaf index, the inclusion proof to
    the newest cosigned checkpoint covering it (else the newest), that checkpoint as a signed
    note with its cosignatures, and the verifier keys of the log and of its witnesses. Anyone
    can check it with `truyxuat ledger verify-bundle` or in a browser (ledger-verify.js).
    """
    entry = find_entry(db, event_hash)
    if entry is None or entry.leaf_index is None:
        return None
    # The newest witnessed checkpoint that covers the leaf, else the newest one.
    covering = select(LedgerCheckpoint).where(LedgerCheckpoint.tree_size > entry.leaf_index)
    checkpoint = db.scalar(
        covering.where(
            select(LedgerCosignature.id)
            .where(LedgerCosignature.checkpoint_id == LedgerCheckpoint.id)
            .exists()
        )
        .order_by(LedgerCheckpoint.id.desc())
        .limit(1)
    ) or db.scalar(covering.order_by(LedgerCheckpoint.id.desc()).limit(1))
    if checkpoint is None:
        return None
    proof = inclusion_proof(db, entry.leaf_index, checkpoint.tree_size)
    return {
        "format": BUNDLE_FORMAT,
        "kind": entry.kind,
        "payload": entry.payload,
        "salt": b64(bytes(entry.salt)),
        "leaf_index": entry.leaf_index,
        "tree_size": checkpoint.tree_size,
        "inclusion_proof": [b64(p) for p in proof],
        "checkpoint": checkpoint_note(db, checkpoint),
        "log_key": checkpoint.vkey,
        "witness_keys": checkpoint_witnesses(db, checkpoint),
    }


def verify_bundle(bundle: Mapping[str, Any], *, event_hash: str | None = None) -> list[str]:
    """Checks an offline bundle; returns what it proves, raising LedgerError naming a failure.

    Trust comes from the keys: a caller should compare `log_key` and `witness_keys` with
    keys it obtained independently (the returned lines name them).
    """
    try:
        if bundle.get("format") != BUNDLE_FORMAT:
            raise LedgerError(f"not a {BUNDLE_FORMAT} bundle")
        payload = str(bundle["payload"])
        if event_hash is not None and payload != event_hash:
            raise LedgerError("the bundle is for another event hash")
        salt = base64.b64decode(bundle["salt"], validate=True)
        leaf = entry_leaf_hash(salt, str(bundle["kind"]), payload)
        index, size = int(bundle["leaf_index"]), int(bundle["tree_size"])
        proof = [base64.b64decode(p, validate=True) for p in bundle["inclusion_proof"]]
        log_key = parse_vkey(str(bundle["log_key"]))
        witnesses = [parse_vkey(str(k)) for k in bundle.get("witness_keys", [])]
        note = str(bundle["checkpoint"])
        body, _ = split_note(note)
        checkpoint = parse_checkpoint(body)
        if checkpoint.origin != log_key.name:
            raise LedgerError("the checkpoint's origin is not the log key's name")
        if checkpoint.size != size:
            raise LedgerError("the bundle's tree size is not the checkpoint's")
        signed = verified_by(note, [log_key, *witnesses])
        if log_key.name not in signed:
            raise LedgerError("the checkpoint carries no signature of the log key")
        merkle.verify_inclusion(leaf, index, size, proof, checkpoint.root)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, LedgerError):
            raise
        raise LedgerError(f"bundle rejected: {exc}") from None
    cosigners = [name for name in signed if name != log_key.name]
    return [
        f"entry {payload} ({bundle['kind']}) is leaf {index} of {checkpoint.origin}",
        f"verified at checkpoint {size}, signed by {log_key.vkey()}",
        "cosigned by " + (", ".join(cosigners) if cosigners else "no witness"),
    ]


# --- witnessing ---------------------------------------------------------------------------


def cosign(
    db: Session, settings: Settings, *, old_size: int, proof: Sequence[bytes], note: str
) -> str:
    """As a witness: cosigns another log's checkpoint if it extends the last one cosigned.

    Conflict (409) when `old_size` is not the size this witness last cosigned (its
    `tree_size` param says which) or the consistency proof does not hold.
    """
    try:
        body, _ = split_note(note)
        checkpoint = parse_checkpoint(body)
        logs = [v for v in witnessed_logs(settings) if v.name == checkpoint.origin]
        if not logs:
            raise NotFound(
                N_("This witness does not follow the log {origin}"), origin=checkpoint.origin
            )
        if checkpoint.origin not in verified_by(note, logs):
            raise NoteError("the checkpoint carries no signature of the log's key")
    except NoteError as exc:
        raise invalid(
            ["checkpoint"], N_("Not a valid checkpoint: {reason}"), reason=str(exc)
        ) from None
    seen = db.scalar(
        select(LedgerWitnessed).where(LedgerWitnessed.origin == checkpoint.origin).with_for_update()
    )
    known = seen.tree_size if seen is not None else 0
    if old_size != known:
        raise Conflict(
            N_("This witness last cosigned the log at tree size {tree_size}"), tree_size=known
        )
    if seen is not None:
        try:
            if checkpoint.size < seen.tree_size:
                raise merkle.ProofError("the checkpoint is older than the one cosigned")
            if seen.tree_size:
                merkle.verify_consistency(
                    seen.tree_size, checkpoint.size, bytes(seen.root_hash), checkpoint.root, proof
                )
        except merkle.ProofError as exc:
            raise Conflict(
                N_("The checkpoint is not consistent with the one cosigned before: {reason}"),
                reason=str(exc),
                tree_size=known,
            ) from None
        seen.tree_size = checkpoint.size
        seen.root_hash = checkpoint.root
        seen.updated_at = utcnow()
    else:
        db.add(
            LedgerWitnessed(
                origin=checkpoint.origin,
                tree_size=checkpoint.size,
                root_hash=checkpoint.root,
                updated_at=utcnow(),
            )
        )
    db.flush()
    return witness_signer(settings).sign_line(body.encode(), int(time.time()))


def request_cosignature(db: Session, settings: Settings, base_url: str, http: httpx.Client) -> str:
    """Asks the witness at `base_url` to cosign the latest checkpoint (C2SP tlog-witness
    add-checkpoint body) and stores its cosignature; returns the witness's name.

    The first try claims the size the witness saw is 0; if it answers 409 with the size it
    knows, the request is sent again with the consistency proof from that size.
    """
    latest = latest_checkpoint(db)
    if latest is None:
        raise LedgerError("no checkpoint to cosign yet")
    note = latest.body + "\n" + latest.signature
    old = 0
    for _attempt in range(2):
        proof = consistency_proof(db, old, latest.tree_size) if old else []
        body = f"old {old}\n" + "".join(b64(p) + "\n" for p in proof) + "\n" + note
        response = http.post(f"{base_url.rstrip('/')}/ledger/cosign", content=body)
        known = response.headers.get("Ledger-Tree-Size", "")
        if response.status_code == 409 and known.isdigit() and int(known) != old:
            if not 0 < int(known) <= latest.tree_size:
                break
            old = int(known)
            continue
        break
    if response.status_code != 200:
        raise LedgerError(f"the witness refused ({response.status_code}): {response.text}")
    try:
        return add_cosignature(db, settings, latest, response.text)
    except DomainError as exc:
        raise LedgerError(f"unusable cosignature: {exc}") from None
