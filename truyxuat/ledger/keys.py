"""The node's Ed25519 keys: from the environment (TRUYXUAT_LEDGER_KEY, ..._WITNESS_KEY) or
generated on first use into the data directory, never in the repository."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truyxuat.config import Settings
from truyxuat.ledger.notes import COSIGNATURE_V1, ED25519, NoteError, Signer, Verifier, parse_vkey


def _seed(value: str, path: Path) -> bytes:
    """The 32-byte seed from a setting, else from its file, creating the file if needed."""
    text = value.strip()
    if not text and path.exists():
        text = path.read_text().strip()
    if not text:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = base64.b64encode(os.urandom(32)).decode()
        # O_EXCL: two processes starting at once keep the first key written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _seed("", path)
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
    seed = base64.b64decode(text)
    if len(seed) != 32:
        raise ValueError(f"the ledger key in {path.name} is not a base64 32-byte Ed25519 seed")
    return seed


def log_signer(settings: Settings) -> Signer:
    """The key that signs this ledger's checkpoints, named by the ledger's origin."""
    seed = _seed(settings.ledger_key, settings.data_dir / "ledger_key")
    return Signer(settings.ledger_origin, ED25519, Ed25519PrivateKey.from_private_bytes(seed))


def witness_signer(settings: Settings) -> Signer:
    """The key this node cosigns other logs' checkpoints with."""
    seed = _seed(settings.ledger_witness_key, settings.data_dir / "ledger_witness_key")
    return Signer(
        settings.ledger_witness_name, COSIGNATURE_V1, Ed25519PrivateKey.from_private_bytes(seed)
    )


def _verifiers(keys: list[str], kind: int) -> list[Verifier]:
    """Parses configured verifier keys of one type."""
    result = [parse_vkey(key) for key in keys]
    for verifier in result:
        if verifier.kind != kind:
            raise NoteError(f"verifier key of {verifier.name} has the wrong type")
    return result


def witness_verifiers(settings: Settings) -> list[Verifier]:
    """The witnesses whose cosignatures this ledger accepts."""
    return _verifiers(settings.ledger_witnesses, COSIGNATURE_V1)


def witnessed_logs(settings: Settings) -> list[Verifier]:
    """The logs this node cosigns for."""
    return _verifiers(settings.ledger_witness_logs, ED25519)
