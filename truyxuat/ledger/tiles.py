"""The Merkle tree stored as C2SP tlog-tiles: tile (L, N) holds up to 256 hashes of tree level
8L, the N-th run of 256 from the left.

Full tiles never change; the rightmost tile of each level grows until it is full. Any node of
the tree is the perfect-subtree hash of a run inside one tile, so a proof reads one tile per
tile level it touches, and appending reads only the rightmost tile of each level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from truyxuat.ledger.merkle import EMPTY_ROOT, HASH_SIZE
from truyxuat.ledger.models import LedgerTile

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
INNER_SIZE = (TILE_WIDTH - 1) * 32
_NODE = b"\x01"


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Returns the hash of a perfect subtree (a power-of-two count of hashes of one level)."""
    level = list(hashes)
    sha = hashlib.sha256
    while len(level) > 1:
        level = [sha(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def tile_levels(blob: bytes) -> list[list[bytes]]:
    """Every node level inside a full tile, from its 256 hashes up to its root."""
    levels = [split(blob)]
    sha = hashlib.sha256
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [sha(_NODE + below[i] + below[i + 1]).digest() for i in range(0, len(below), 2)]
        )
    return levels


# Full tiles never change: remembered by content for tiles stored without their inner nodes.
full_tile_levels = lru_cache(maxsize=256)(tile_levels)


def inner_nodes(blob: bytes) -> bytes:
    """The 255 inner nodes of a full tile, level by level from just above its hashes."""
    return b"".join(b"".join(level) for level in tile_levels(blob)[1:])


def split(blob: bytes) -> list[bytes]:
    """Cuts a tile's bytes into its hashes."""
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


class TileReader:
    """Reads tiles once per proof or verification and computes node hashes from them."""

    def __init__(self, db: Session, size: int) -> None:
        self.db = db
        self.size = size
        self.cache: dict[tuple[int, int], bytes] = {}
        self.inner: dict[tuple[int, int], bytes] = {}

    def load(self, wanted: Iterable[tuple[int, int]]) -> None:
        """Fetches the tiles (level, index) not cached yet, in one query."""
        missing = sorted({key for key in wanted if key not in self.cache})
        if not missing:
            return
        condition = or_(*(and_(LedgerTile.level == lv, LedgerTile.idx == ix) for lv, ix in missing))
        for level, idx, blob, inner in self.db.execute(
            select(LedgerTile.level, LedgerTile.idx, LedgerTile.hashes, LedgerTile.nodes).where(
                condition
            )
        ):
            self.cache[(level, idx)] = bytes(blob)
            if inner is not None and len(inner) == INNER_SIZE:
                self.inner[(level, idx)] = bytes(inner)

    @staticmethod
    def node_tile(height: int, index: int) -> tuple[int, int]:
        """The tile holding the hashes below node (height, index)."""
        level, rest = divmod(height, TILE_HEIGHT)
        return level, (index << rest) >> TILE_HEIGHT

    def node(self, height: int, index: int) -> bytes:
        """The hash of the perfect subtree of 2**height leaves starting at index << height."""
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        tile = self.cache.get((level, first >> TILE_HEIGHT))
        if tile is None:
            self.load([(level, first >> TILE_HEIGHT)])
            tile = self.cache.get((level, first >> TILE_HEIGHT))
        offset = (first % TILE_WIDTH) * HASH_SIZE
        count = 1 << rest
        if tile is None or len(tile) < offset + count * HASH_SIZE:
            raise LookupError(f"the tree has no node at height {height}, index {index}")
        if count == 1:
            return tile[offset : offset + HASH_SIZE]
        if len(tile) == TILE_WIDTH * HASH_SIZE:
            inner = self.inner.get((level, first >> TILE_HEIGHT))
            if inner is None:
                return full_tile_levels(tile)[rest][(first % TILE_WIDTH) >> rest]
            at = (
                TILE_WIDTH - (TILE_WIDTH >> (rest - 1)) + ((first % TILE_WIDTH) >> rest)
            ) * HASH_SIZE
            return inner[at : at + HASH_SIZE]
        return perfect_root(split(tile[offset : offset + count * HASH_SIZE]))

    @staticmethod
    def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
        """The perfect subtrees (height, index) making [start, end), largest first."""
        nodes: list[tuple[int, int]] = []
        while start < end:
            height = (end - start).bit_length() - 1
            if start:
                height = min(height, (start & -start).bit_length() - 1)
            nodes.append((height, start >> height))
            start += 1 << height
        return nodes

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end) for a range that is a subtree of the tree (as proofs use)."""
        if start == end:
            return EMPTY_ROOT
        nodes = [self.node(h, i) for h, i in self.range_nodes(start, end)]
        result = nodes[-1]
        for left in reversed(nodes[:-1]):
            result = hashlib.sha256(_NODE + left + result).digest()
        return result

    def hashes(
        self, ranges: Sequence[tuple[int, int]], also: Sequence[tuple[int, int]] = ()
    ) -> list[bytes]:
        """The hashes of the ranges a proof names, reading each needed tile once (in one
        query, with the tiles of the nodes (height, index) in `also`)."""
        self.load(
            [
                *(
                    self.node_tile(h, i)
                    for start, end in ranges
                    for h, i in self.range_nodes(start, end)
                ),
                *(self.node_tile(h, i) for h, i in also),
            ]
        )
        return [self.range_hash(start, end) for start, end in ranges]

    def root(self) -> bytes:
        """The root hash of the tree of `size` leaves."""
        return self.hashes([(0, self.size)])[0] if self.size else EMPTY_ROOT


def append_leaves(db: Session, size: int, leaves: Sequence[bytes]) -> None:
    """Writes the leaf hashes at [size, size + len(leaves)) and every node they complete."""
    level, count, new = 0, size, list(leaves)
    while new:
        completed = _append_level(db, level, count, new)
        level, count, new = level + 1, count >> TILE_HEIGHT, completed


def _append_level(db: Session, level: int, count: int, new: list[bytes]) -> list[bytes]:
    """Appends hashes to tile level `level` holding `count`; returns the roots of tiles filled."""
    first_tile, width = divmod(count, TILE_WIDTH)
    existing = b""
    if width:
        existing = (
            db.scalar(
                select(LedgerTile.hashes).where(
                    LedgerTile.level == level, LedgerTile.idx == first_tile
                )
            )
            or b""
        )
        existing = bytes(existing)[: width * HASH_SIZE]
    run = existing + b"".join(new)
    total = len(run) // HASH_SIZE
    completed: list[bytes] = []
    rows: list[dict[str, object]] = []
    for tile_offset in range(0, total, TILE_WIDTH):
        blob = run[tile_offset * HASH_SIZE : (tile_offset + TILE_WIDTH) * HASH_SIZE]
        idx = first_tile + tile_offset // TILE_WIDTH
        inner = None
        if len(blob) == TILE_WIDTH * HASH_SIZE:
            inner = inner_nodes(blob)
            completed.append(inner[-HASH_SIZE:])
        if tile_offset == 0 and width:
            db.execute(
                update(LedgerTile)
                .where(LedgerTile.level == level, LedgerTile.idx == idx)
                .values(hashes=blob, nodes=inner)
            )
        else:
            rows.append({"level": level, "idx": idx, "hashes": blob, "nodes": inner})
    if rows:
        db.execute(insert(LedgerTile), rows)
    return completed
