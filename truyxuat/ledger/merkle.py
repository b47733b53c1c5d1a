"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs, and their verifiers.

Pure and database-free: the ledger's storage feeds leaf hashes in (or, for large trees, asks
`inclusion_ranges` / `consistency_ranges` which subtree hashes to read), and anyone holding a
checkpoint (tree size and root) can check a proof with nothing but this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# Domain separation prefixes (RFC 9162 section 2.1.1): a leaf can never be passed off as a node.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A Merkle proof did not verify; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    """Returns the RFC 9162 hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Returns the RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class CompactRange:
    """The hashes of the perfect subtrees covering leaves [0, size): enough to append and root.

    A tree of `size` leaves is the concatenation of one perfect subtree per set bit of `size`,
    largest first. Keeping only those hashes (at most 64) lets the log append a leaf in
    O(log n) and compute the root without touching earlier leaves, e.g. for batched appends
    that resume from stored state.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Starts from a stored state: `hashes` of the perfect subtrees, largest first."""
        if size < 0:
            raise ValueError("size must not be negative")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves needs {size.bit_count()} subtree hashes")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        """Adds one leaf hash at index `size`."""
        self.hashes.append(leaf)
        # Each trailing one bit of the old size is a left sibling the new subtree now completes.
        bits = self.size
        while bits & 1:
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            bits >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Adds leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """Returns the Merkle tree hash (MTH) of the leaves appended so far."""
        if not self.hashes:
            return EMPTY_ROOT
        # The smaller subtrees on the right fold together first, as MTH splits at the largest
        # power of two.
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Returns the Merkle tree hash MTH of a list of leaf hashes (SHA-256("") when empty)."""
    tree = CompactRange()
    tree.extend(leaf_hashes)
    return tree.root()


def _split(n: int) -> int:
    """Returns the largest power of two strictly less than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Returns the leaf ranges [start, end) whose hashes make PATH(index, D[0:size]), in order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    # Walk down from the root; the siblings met on the way are the path read from the top.
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Returns the leaf ranges [start, end) whose hashes make PROOF(first, D[0:second])."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    ranges: list[tuple[int, int]] = []
    start, end, m = 0, second, first
    # True while the old tree's part is a prefix of the whole old tree, whose root the
    # verifier already holds (the `b` flag of SUBPROOF in RFC 9162 section 2.1.4.1).
    known = True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            known = False
    if not known:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Returns the audit path PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
    if size > len(leaf_hashes):
        raise ValueError(f"tree size {size} exceeds the {len(leaf_hashes)} leaves given")
    return [root_hash(leaf_hashes[a:b]) for a, b in inclusion_ranges(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """Returns PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1 (empty when equal)."""
    if second > len(leaf_hashes):
        raise ValueError(f"tree size {second} exceeds the {len(leaf_hashes)} leaves given")
    return [root_hash(leaf_hashes[a:b]) for a, b in consistency_ranges(first, second)]


def _check_hash(value: bytes, what: str) -> None:
    """Raises ProofError unless `value` has the length of a SHA-256 hash."""
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _inclusion_length(index: int, size: int) -> int:
    """Returns how many hashes an inclusion proof of leaf `index` in a tree of `size` has."""
    # Below the level where index and the last leaf diverge every level has a sibling; above
    # it, only the levels where index is a right child do.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Returns the root an inclusion proof leads to (RFC 9162 section 2.1.3.2, steps 1-4)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    expected = _inclusion_length(index, size)
    if len(proof) != expected:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, expected {expected}")
    fn, sn, r = index, size - 1, leaf
    for position, p in enumerate(proof):
        _check_hash(p, f"proof hash {position}")
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # The last node of a level with no right sibling is promoted unchanged.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Checks that `leaf` is at `index` in the tree of `size` leaves with `root`."""
    _check_hash(root, "root")
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the tree root")


def _consistency_length(first: int, second: int) -> int:
    """Returns how many hashes a consistency proof from `first` to `second` (first < second) has."""
    inner = ((first - 1) ^ (second - 1)).bit_length()
    border = ((first - 1) >> inner).bit_count()
    # Levels below the old tree's rightmost perfect subtree are not needed; its hash is sent
    # as the proof's first element unless it is the whole old tree.
    shift = (first & -first).bit_length() - 1
    seed = 0 if first == 1 << shift else 1
    return seed + inner - shift + border


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Checks that the tree of `second` leaves extends the one of `first` (RFC 9162 2.1.4.2)."""
    if first < 1:
        raise ProofError("consistency with an empty tree proves nothing")
    if first > second:
        raise ProofError(f"first size {first} is larger than second size {second}")
    if first == second:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if first_root != second_root:
            raise ProofError("trees of equal size have different roots")
        return
    _check_hash(first_root, "first root")
    _check_hash(second_root, "second root")
    expected = _consistency_length(first, second)
    if len(proof) != expected:
        raise ProofError(f"consistency proof has {len(proof)} hashes, expected {expected}")
    for position, c in enumerate(proof):
        _check_hash(c, f"proof hash {position}")
    path = list(proof)
    # A power-of-two old tree is itself a subtree of the new one, so its root starts the path.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != first_root:
        raise ProofError(f"consistency proof does not lead to the root of the first tree ({first})")
    if sr != second_root:
        raise ProofError(
            f"consistency proof does not lead to the root of the second tree ({second})"
        )


# --- subtrees (draft-ietf-plants-merkle-tree-certs, section 4) ---------------------------------
# A subtree [start, end) is a node of some tree: the proofs below relate it to one of its leaves
# or to a whole tree containing it. RFC 9162 proofs are the special case start == 0.


def is_valid_subtree(start: int, end: int) -> bool:
    """True when [start, end) is a subtree: start is a multiple of BIT_CEIL(end - start)."""
    if not 0 <= start < end:
        return False
    ceiling = 1 << (end - start - 1).bit_length()
    return start % ceiling == 0


def root_from_subtree_inclusion(
    leaf: bytes, index: int, start: int, end: int, proof: Sequence[bytes]
) -> bytes:
    """Returns the subtree hash an inclusion proof of leaf `index` in [start, end) leads to."""
    if not is_valid_subtree(start, end):
        raise ProofError(f"[{start}, {end}) is not a subtree")
    if not start <= index < end:
        raise ProofError(f"leaf index {index} is not in the subtree [{start}, {end})")
    # Relative to the subtree the path is an ordinary one in a tree of end - start leaves.
    return root_from_inclusion(leaf, index - start, end - start, proof)


def verify_subtree_inclusion(
    leaf: bytes, index: int, start: int, end: int, proof: Sequence[bytes], subtree: bytes
) -> None:
    """Checks that `leaf` is at `index` in the subtree [start, end) whose hash is `subtree`."""
    _check_hash(subtree, "subtree hash")
    if root_from_subtree_inclusion(leaf, index, start, end, proof) != subtree:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the subtree hash")


def verify_subtree_consistency(
    start: int, end: int, size: int, subtree: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    """Checks that the subtree [start, end) with hash `subtree` is part of the tree of `size`
    leaves with `root` (draft-ietf-plants-merkle-tree-certs, section 4.4.3).

    An empty subtree (hash SHA-256("")) is part of any tree, with an empty proof, as in the
    reference implementation's test vectors; the hashes are compared, not length-checked, also
    as there.
    """
    if start == end and start >= 0:
        if proof:
            raise ProofError("an empty subtree needs an empty consistency proof")
        if subtree != EMPTY_ROOT:
            raise ProofError("an empty subtree's hash must be the empty tree hash")
        return
    if not is_valid_subtree(start, end):
        raise ProofError(f"[{start}, {end}) is not a subtree")
    if end > size:
        raise ProofError(f"subtree end {end} is beyond the tree size {size}")
    for position, c in enumerate(proof):
        _check_hash(c, f"proof hash {position}")
    fn, sn, tn = start, end - 1, size - 1
    if sn == tn:
        # The subtree ends where the tree does: climb to the node that is the subtree.
        while fn != sn:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    else:
        # Climb while the subtree's last node is a right child (its parent is inside it).
        while fn != sn and sn & 1:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    path = list(proof)
    if fn == sn:
        fr = sr = subtree
    else:
        if not path:
            raise ProofError("consistency proof is empty for a subtree that is not a node")
        fr = sr = path.pop(0)
    for c in path:
        if tn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not sn & 1 and sn != 0:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if tn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != subtree:
        raise ProofError("consistency proof does not lead to the subtree hash")
    if sr != root:
        raise ProofError("consistency proof does not lead to the tree root")
