"""Tamper-evident ledger: an RFC 9162 Merkle log, checkpoints, proofs, witnesses, verification."""
