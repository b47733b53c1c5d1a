"""Ledger tables: entries waiting for or holding a leaf, the tree's tiles, its state, signed
checkpoints with their cosignatures, and what this node saw of the logs it witnesses.

The tree itself lives in `ledger_tile` (C2SP tlog-tiles: 256 hashes per tile, one tile level
per 8 tree levels), so any proof reads one row per tile level: O(log n) rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); PostgreSQL wants 64 bits.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    """One thing logged: its kind, the hash it commits to, and the salt that hides that hash.

    `leaf_index` is NULL until the integrator gives the entry its place in the tree; the leaf
    is SHA-256 of salt, kind and payload (see `truyxuat.ledger.leaves`), so the public tree
    reveals nothing while whoever holds the salt can prove the entry.
    """

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(String(256), index=True)
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTile(Base):
    """Up to 256 hashes of tree level 8 * `level`, `idx` counting tiles from the left."""

    __tablename__ = "ledger_tile"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)
    nodes: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """For a full tile, its 255 inner nodes level by level (128, 64, ... 1 hashes), so proofs
    read them instead of hashing; a function of `hashes` that `ledger verify` recomputes."""


class LedgerState(Base):
    """The single row integrators lock: the tree's size and root hash."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerCheckpoint(Base):
    """A checkpoint this node signed: its note body and our signature line."""

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    vkey: Mapped[str] = mapped_column(Text)
    """The verifier key of the key that signed it (keys rotate; old checkpoints keep theirs)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerCosignature(Base):
    """A witness's cosignature line on one of our checkpoints."""

    __tablename__ = "ledger_cosignature"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("ledger_checkpoint.id"), index=True)
    witness: Mapped[str] = mapped_column(Text)
    """The witness's verifier key."""
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerWitnessed(Base):
    """As a witness: the latest checkpoint of another log this node cosigned."""

    __tablename__ = "ledger_witnessed"

    origin: Mapped[str] = mapped_column(String(256), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
