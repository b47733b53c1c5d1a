"""Anti-counterfeit PINs, pure: generation and salted hashing (the PIN itself is never stored).

Why HMAC-SHA256 and not argon2: a run can hold a million stamps and argon2 costs ~50 ms per
hash (14 hours per run). The PIN space is small (10^8) so a slow hash would not save a stolen
table on its own anyway; what does is the server secret mixed in as the HMAC key — the stored
hashes are useless without it — plus a random salt per stamp so equal PINs hash differently.
Online guessing is stopped by the per-stamp lockout and per-client rate limit instead.
"""

from __future__ import annotations

import hmac
import os
import secrets

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
