"""Anti-counterfeit PINs, pure: generation and salted hashing (the PIN itself is never stored).

Why HMAC-SHA256 and not argon2: a run can hold a million stamps and argon2 costs ~50 ms per
hash (14 hours per run). The PIN space is small (10^8) so a slow hash would not save a stolen
table on its own anyway; what does is the server secret mixed in as the HMAC key — the stored
hashes are useless without it — plus a random salt per stamp so equal PINs hash differently.
Online guessing is stopped by the per-stamp lockout and per-client rate limit instead.

A stamp may also carry a signed short code (Ed25519 over `gtin|serial`) that an app checks
offline with the published public key. `cryptography` is imported only where it is used.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PIN_LENGTH = 8
SALT_BYTES = 16


def new_pin(length: int = PIN_LENGTH) -> str:
    """Returns a random PIN of `length` decimal digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def new_pins(count: int, length: int = PIN_LENGTH) -> list[str]:
    """Returns `count` random PINs, drawn in bulk from the OS random source."""
    raw = os.urandom(count * 8)
    modulus = 10**length
    # 64 random bits modulo 10^8: the bias is below 10^-11, negligible.
    return [
        f"{int.from_bytes(raw[i : i + 8], 'big') % modulus:0{length}d}"
        for i in range(0, count * 8, 8)
    ]


def new_salt() -> str:
    """Returns a random salt as hex."""
    return os.urandom(SALT_BYTES).hex()


def hash_pin(secret: str | bytes, salt: str, pin: str) -> str:
    """The keyed, salted hash of a PIN (HMAC-SHA256 under the server secret), as hex."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.digest(key, f"{salt}:{pin}".encode(), "sha256").hex()


def hash_pins(secret: str | bytes, pins: list[str]) -> list[tuple[str, str]]:
    """Salts and hashes many PINs; returns (salt, hash) pairs in the same order."""
    key = secret.encode() if isinstance(secret, str) else secret
    raw = os.urandom(len(pins) * SALT_BYTES)
    result = []
    for i, pin in enumerate(pins):
        salt = raw[i * SALT_BYTES : (i + 1) * SALT_BYTES].hex()
        result.append((salt, hmac.digest(key, f"{salt}:{pin}".encode(), "sha256").hex()))
    return result


def verify_pin(secret: str | bytes, salt: str, pin_hash: str, pin: str) -> bool:
    """Checks a PIN against its stored hash in constant time."""
    return hmac.compare_digest(hash_pin(secret, salt, pin.strip()), pin_hash)


def signed_message(gtin: str, serial: str) -> bytes:
    """The bytes a stamp's short code signs: `gtin|serial`."""
    return f"{gtin}|{serial}".encode()


def sign_stamp(private_key: Ed25519PrivateKey, gtin: str, serial: str) -> str:
    """The stamp's signed short code: an Ed25519 signature over gtin|serial, base64url."""
    return (
        base64.urlsafe_b64encode(private_key.sign(signed_message(gtin, serial)))
        .decode()
        .rstrip("=")
    )


def verify_stamp(public_key: bytes, gtin: str, serial: str, code: str) -> bool:
    """Checks a short code offline against the published raw Ed25519 public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        signature = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, signed_message(gtin, serial)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Reads the Ed25519 key from a PEM file, generating it (mode 600) on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key to publish."""
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
