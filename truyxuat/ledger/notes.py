"""Signed notes (C2SP signed-note), checkpoints (C2SP tlog-checkpoint) and cosignatures
(C2SP tlog-cosignature, cosignature/v1) with Ed25519 keys.

A note is its text (lines ending in a newline), a blank line, and signature lines
`— <key name> base64(key ID || signature)`. A checkpoint is a note whose text is the log's
origin, its tree size and its base64 root hash. Key IDs bind a key to its name and use:
0x01 for a note signer, 0x04 for a cosigner (a witness).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
_DASH = "\u2014 "


class NoteError(ValueError):
    """A note, checkpoint, key or signature is malformed or does not verify."""


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """SHA-256(name || "\\n" || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte Ed25519 public key."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A public key under a name: a log's note key (0x01) or a witness's cosigner key (0x04)."""

    name: str
    kind: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        """The 4-byte ID that signature lines carry."""
        return key_id(self.name, self.kind, self.public)

    def vkey(self) -> str:
        """The verifier key string `<name>+<hex key ID>+<base64(type || key)>`."""
        material = base64.b64encode(bytes([self.kind]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify_line(self, body: bytes, signature: bytes) -> int | None:
        """Checks one signature (key ID stripped); returns the cosignature time or None for a
        note signature. Raises NoteError when it does not verify."""
        key = Ed25519PublicKey.from_public_bytes(self.public)
        timestamp: int | None = None
        message = body
        if self.kind == COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                raise NoteError(f"cosignature of {self.name} has the wrong length")
            (timestamp,) = struct.unpack(">Q", signature[:8])
            signature = signature[8:]
            message = cosigned_message(body, timestamp)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            raise NoteError(f"signature of {self.name} does not verify") from None
        return timestamp


def parse_vkey(text: str) -> Verifier:
    """Reads a verifier key string."""
    try:
        name, hex_id, material = text.strip().split("+", 2)
        raw = base64.b64decode(material, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (ValueError, binascii.Error):
        raise NoteError(f"not a verifier key: {text!r}") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"verifier key of {name} is not an Ed25519 key")
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.key_id != wanted:
        raise NoteError(f"verifier key of {name} has the wrong key ID")
    return verifier


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes (0x01) or cosigns checkpoints (0x04) under a name."""

    name: str
    kind: int
    key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        """Its public half."""
        return Verifier(self.name, self.kind, public_bytes(self.key))

    def sign_line(self, body: bytes, timestamp: int = 0) -> str:
        """The signature line (with its newline) for a note text."""
        if self.kind == COSIGNATURE_V1:
            signature = struct.pack(">Q", timestamp) + self.key.sign(
                cosigned_message(body, timestamp)
            )
        else:
            signature = self.key.sign(body)
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{_DASH}{self.name} {encoded}\n"


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: a header, the time, then the checkpoint text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + body


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes
    line: str


def split_note(note: str) -> tuple[str, list[Signature]]:
    """Splits a note into its text and its signature lines."""
    body, sep, tail = note.rpartition("\n\n")
    if not sep or not tail.endswith("\n"):
        raise NoteError("a note is its text, a blank line and its signature lines")
    body += "\n"
    signatures: list[Signature] = []
    for line in tail[:-1].split("\n"):
        if not line.startswith(_DASH):
            raise NoteError(f"not a signature line: {line!r}")
        name, _, encoded = line[len(_DASH) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError(f"signature of {name} is not base64") from None
        if not name or len(raw) < 5:
            raise NoteError(f"malformed signature line: {line!r}")
        signatures.append(Signature(name, raw[:4], raw[4:], line + "\n"))
    return body, signatures


@dataclass(frozen=True)
class Checkpoint:
    """The text of a tlog-checkpoint: origin, tree size and root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The note text."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """Reads a checkpoint's note text (extension lines are allowed and ignored)."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size_text, root_text = lines[:3]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
        raise NoteError("a checkpoint's tree size is a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteError("a checkpoint's root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("a checkpoint's root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)


def verified_by(note: str, verifiers: list[Verifier]) -> dict[str, int | None]:
    """The names of the verifiers whose signature on the note verifies (with cosignature time).

    Signature lines from unknown keys are ignored, as the signed-note format says; a line that
    claims a known key but does not verify raises NoteError.
    """
    body, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    result: dict[str, int | None] = {}
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        result[verifier.name] = verifier.verify_line(body.encode(), signature.signature)
    return result
