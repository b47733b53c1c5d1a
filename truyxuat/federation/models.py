"""Federation tables: what a sender has had acknowledged upstream, and what a receiver holds of
each downstream node's log.

Sender side: `sync_cursor` is the acknowledged position in the node's own ledger per upstream
(the outbox is the ledger itself: every captured event and logged registry change got its
entry in the same transaction as the data, and leaf indexes are assigned once, in order, so
"everything below the cursor" is exact); `sync_sent` remembers the digest of each master-data
record last acknowledged, so only changed records travel again.

Receiver side: `sync_node` is a downstream log as verified so far (the compact range of the
leaves received, so each batch is checked against the sender's signed checkpoint), `sync_leaf`
which leaf of which node carried what, `sync_batch` each accepted batch by idempotency key,
and `sync_record` which node sent each master-data record.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from truyxuat.db import Base, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class SyncCursor(Base):
    """Sender: the next ledger leaf index an upstream has not acknowledged, and run health."""

    __tablename__ = "sync_cursor"

    upstream: Mapped[str] = mapped_column(String(300), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    acknowledged_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncSent(Base):
    """Sender: the digest of a master-data record as an upstream last acknowledged it."""

    __tablename__ = "sync_sent"

    upstream: Mapped[str] = mapped_column(String(300), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(80))


class SyncNode(Base):
    """Receiver: a downstream node's log, verified up to `next_index` leaves."""

    __tablename__ = "sync_node"

    origin: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    base_url: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(16), default="")
    vkey: Mapped[str] = mapped_column(Text, default="")
    next_index: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    """The compact range of leaves [0, next_index): one 32-byte hash per set bit."""
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    checkpoint: Mapped[str] = mapped_column(Text, default="")
    """The newest signed checkpoint of the node that a batch was verified against."""
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncLeaf(Base):
    """Receiver: one leaf of a downstream log, as received (what it logged, for whom)."""

    __tablename__ = "sync_leaf"

    origin: Mapped[str] = mapped_column(String(256), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(String(256), index=True)
    subject: Mapped[str | None] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary)


class SyncBatch(Base):
    """Receiver: one accepted batch, by the sender's idempotency key."""

    __tablename__ = "sync_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(256), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    first_index: Mapped[int] = mapped_column(BigInteger)
    next_index: Mapped[int] = mapped_column(BigInteger)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    sent_by: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncRecord(Base):
    """Receiver: the node a master-data record came from, and its digest as received."""

    __tablename__ = "sync_record"

    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(256), index=True)
    digest: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
