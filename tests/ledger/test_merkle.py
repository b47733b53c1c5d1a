"""RFC 9162 Merkle proofs: the transparency-dev/merkle test vectors and exhaustive small trees."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from truyxuat.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_hash,
    verify_consistency,
    verify_inclusion,
    verify_subtree_consistency,
    verify_subtree_inclusion,
)

SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
TESTDATA = SHARED_DATA / "merkle" / "testdata"
INCLUSION_CASES = sorted((TESTDATA / "inclusion").rglob("*.json"))
CONSISTENCY_CASES = sorted((TESTDATA / "consistency").rglob("*.json"))
SUBTREE_INCLUSION_CASES = sorted((TESTDATA / "subtreeinclusion").rglob("*.json"))
SUBTREE_CONSISTENCY_CASES = sorted((TESTDATA / "subtreeconsistency").rglob("*.json"))
MAX_SIZE = 70


def load_case(path: Path) -> dict[str, Any]:
    """Reads one test vector; hashes are base64 and a missing proof is null."""
    case: dict[str, Any] = json.loads(path.read_text())
    return case


def b64(value: str) -> bytes:
    """Decodes a base64 hash from a test vector."""
    return base64.b64decode(value)


def case_id(path: Path) -> str:
    """Names a test vector by its path under testdata."""
    return str(path.relative_to(TESTDATA))


def reference_mth(leaves: Sequence[bytes]) -> bytes:
    """Computes MTH recursively, straight from the RFC 9162 definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


def make_leaves(size: int) -> list[bytes]:
    """Returns distinct leaf hashes for a tree of `size` entries."""
    return [leaf_hash(f"entry {i}".encode()) for i in range(size)]


def flipped(proof: list[bytes], position: int) -> list[bytes]:
    """Returns a copy of `proof` with one byte of one element changed."""
    element = bytearray(proof[position])
    element[position % len(element)] ^= 0x01
    return [*proof[:position], bytes(element), *proof[position + 1 :]]


LEAVES = make_leaves(MAX_SIZE)
ROOTS = [root_hash(LEAVES[:n]) for n in range(MAX_SIZE + 1)]


def test_testdata_is_present() -> None:
    """The shared test vectors are where the tests expect them."""
    assert len(INCLUSION_CASES) > 50
    assert len(CONSISTENCY_CASES) > 50


@pytest.mark.parametrize("path", INCLUSION_CASES, ids=case_id)
def test_inclusion_testdata(path: Path) -> None:
    """Each published inclusion case verifies, or fails with ProofError when it must."""
    case = load_case(path)
    args = (
        b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        [b64(p) for p in case["proof"] or []],
        b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_CASES, ids=case_id)
def test_consistency_testdata(path: Path) -> None:
    """Each published consistency case verifies, or fails with ProofError when it must."""
    case = load_case(path)
    args = (
        case["size1"],
        case["size2"],
        b64(case["root1"]),
        b64(case["root2"]),
        [b64(p) for p in case["proof"] or []],
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_hashes_follow_rfc_9162_prefixes() -> None:
    """Leaves hash with prefix 0x00, nodes with 0x01; the empty tree is SHA-256 of nothing."""
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_root_hash_matches_the_recursive_definition() -> None:
    """root_hash agrees with MTH computed recursively for every size up to the maximum."""
    for size in range(MAX_SIZE + 1):
        assert ROOTS[size] == reference_mth(LEAVES[:size])


def test_compact_range_appends_and_resumes_from_stored_hashes() -> None:
    """A compact range gives the right root after each append, also when restored mid-way."""
    tree = CompactRange()
    for size in range(1, MAX_SIZE + 1):
        tree.append(LEAVES[size - 1])
        assert tree.size == size
        assert len(tree.hashes) == size.bit_count()
        assert tree.root() == ROOTS[size]
        resumed = CompactRange(tree.size, tree.hashes)
        resumed.extend(LEAVES[size:MAX_SIZE])
        assert resumed.root() == ROOTS[MAX_SIZE]


def test_compact_range_rejects_a_state_with_the_wrong_number_of_hashes() -> None:
    """Restoring needs one subtree hash per set bit of the size."""
    with pytest.raises(ValueError):
        CompactRange(3, [EMPTY_ROOT])


def test_every_inclusion_proof_verifies_and_any_flipped_byte_fails() -> None:
    """For every leaf of every tree up to the maximum size, the proof verifies; tampering fails."""
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            proof = inclusion_proof(LEAVES, index, size)
            verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
            assert root_from_inclusion(LEAVES[index], index, size, proof) == ROOTS[size]
            for position in range(len(proof)):
                with pytest.raises(ProofError):
                    verify_inclusion(
                        LEAVES[index], index, size, flipped(proof, position), ROOTS[size]
                    )


def test_inclusion_rejects_wrong_leaf_index_size_or_length() -> None:
    """A proof fails for another leaf, another index, another size, or with hashes added or cut."""
    proof = inclusion_proof(LEAVES, 5, 13)
    verify_inclusion(LEAVES[5], 5, 13, proof, ROOTS[13])
    bad_calls = [
        (LEAVES[6], 5, 13, proof, ROOTS[13]),
        (LEAVES[5], 4, 13, proof, ROOTS[13]),
        (LEAVES[5], 5, 12, proof, ROOTS[12]),
        (LEAVES[5], 13, 13, proof, ROOTS[13]),
        (LEAVES[5], -1, 13, proof, ROOTS[13]),
        (LEAVES[5], 5, 13, proof[:-1], ROOTS[13]),
        (LEAVES[5], 5, 13, [*proof, ROOTS[13]], ROOTS[13]),
        (LEAVES[5], 5, 13, proof, ROOTS[13][:-1]),
    ]
    for call in bad_calls:
        with pytest.raises(ProofError):
            verify_inclusion(*call)


def test_every_consistency_proof_verifies_and_any_flipped_byte_fails() -> None:
    """For every pair of sizes m <= n up to the maximum, the proof verifies; tampering fails."""
    for second in range(1, MAX_SIZE + 1):
        for first in range(1, second + 1):
            proof = consistency_proof(LEAVES, first, second)
            verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)
            for position in range(len(proof)):
                with pytest.raises(ProofError):
                    verify_consistency(
                        first, second, ROOTS[first], ROOTS[second], flipped(proof, position)
                    )


def test_consistency_rejects_a_rewritten_history() -> None:
    """A tree that changed an old leaf is not consistent with the old root."""
    rewritten = [*LEAVES[:3], leaf_hash(b"forged"), *LEAVES[4:20]]
    proof = consistency_proof(rewritten, 7, 20)
    with pytest.raises(ProofError):
        verify_consistency(7, 20, ROOTS[7], root_hash(rewritten), proof)


def test_consistency_rejects_swapped_or_wrong_sizes() -> None:
    """A proof fails for swapped roots, other sizes, a shrinking tree or an empty first tree."""
    proof = consistency_proof(LEAVES, 6, 11)
    verify_consistency(6, 11, ROOTS[6], ROOTS[11], proof)
    bad_calls = [
        (6, 11, ROOTS[11], ROOTS[6], proof),
        (5, 11, ROOTS[5], ROOTS[11], proof),
        (6, 12, ROOTS[6], ROOTS[12], proof),
        (11, 6, ROOTS[11], ROOTS[6], proof),
        (0, 11, EMPTY_ROOT, ROOTS[11], proof),
        (6, 11, ROOTS[6], ROOTS[11], proof[:-1]),
        (6, 11, ROOTS[6], ROOTS[11], [*proof, ROOTS[11]]),
        (11, 11, ROOTS[11], ROOTS[11], proof),
    ]
    for call in bad_calls:
        with pytest.raises(ProofError):
            verify_consistency(*call)


def test_proof_generation_rejects_out_of_range_arguments() -> None:
    """Generating a proof outside the stored leaves is a caller error."""
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES[:4], 4, 4)
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES[:4], 0, 5)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES[:4], 0, 4)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES[:4], 3, 2)


def test_proof_ranges_name_the_subtrees_a_store_must_hash() -> None:
    """The ranges behind a proof are the sibling subtrees, deepest first."""
    # Tree of 7: leaf 5's siblings are leaf 4, leaf 6, then the left half [0, 4).
    assert inclusion_ranges(5, 7) == [(4, 5), (6, 7), (0, 4)]
    # RFC 9162 section 2.1.5: PROOF(3, D[7]) = [c, d, g, l], i.e. leaf 2, leaf 3, [0, 2), [4, 7).
    assert consistency_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert consistency_ranges(4, 7) == [(4, 7)]
    assert consistency_ranges(6, 7) == [(4, 6), (6, 7), (0, 4)]
    assert consistency_ranges(7, 7) == []


def test_proof_errors_name_the_reason() -> None:
    """A failed verification says what was wrong."""
    proof = inclusion_proof(LEAVES, 5, 13)
    with pytest.raises(ProofError, match="expected"):
        verify_inclusion(LEAVES[5], 5, 13, proof[:-1], ROOTS[13])
    with pytest.raises(ProofError, match="root"):
        verify_inclusion(LEAVES[6], 5, 13, proof, ROOTS[13])
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(LEAVES[5], 13, 13, proof, ROOTS[13])
    with pytest.raises(ProofError, match="first tree"):
        verify_consistency(6, 11, ROOTS[5], ROOTS[11], consistency_proof(LEAVES, 6, 11))


@pytest.mark.parametrize("path", SUBTREE_INCLUSION_CASES, ids=case_id)
def test_subtree_inclusion_testdata(path: Path) -> None:
    """Each subtree inclusion case (Merkle Tree Certificates draft) verifies or fails as it must."""
    case = load_case(path)
    args = (
        b64(case["leafHash"]),
        case["leafIdx"],
        case["start"],
        case["end"],
        [b64(p) for p in case["proof"] or []],
        b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_subtree_inclusion(*args)
    else:
        verify_subtree_inclusion(*args)


@pytest.mark.parametrize("path", SUBTREE_CONSISTENCY_CASES, ids=case_id)
def test_subtree_consistency_testdata(path: Path) -> None:
    """Each subtree consistency case verifies, or fails with ProofError when it must."""
    case = load_case(path)
    args = (
        case["start"],
        case["end"],
        case["size"],
        b64(case["root1"]),
        b64(case["root2"]),
        [b64(p) for p in case["proof"] or []],
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_subtree_consistency(*args)
    else:
        verify_subtree_consistency(*args)


def test_subtree_proofs_agree_with_rfc_9162_proofs_on_whole_trees() -> None:
    """A subtree starting at 0 is a whole tree, so RFC 9162 proofs verify as subtree proofs."""
    for size in range(1, 33):
        for index in range(size):
            proof = inclusion_proof(LEAVES, index, size)
            verify_subtree_inclusion(LEAVES[index], index, 0, size, proof, ROOTS[size])
        for first in range(1, size):
            proof = consistency_proof(LEAVES, first, size)
            verify_subtree_consistency(0, first, size, ROOTS[first], ROOTS[size], proof)
