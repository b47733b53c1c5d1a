"""Anti-counterfeit PINs: generation and salted keyed hashes (pure)."""

from __future__ import annotations

from pathlib import Path

from truyxuat.stamps import pins

SECRET = "server-secret"


def test_pins_are_eight_digits() -> None:
    values = [*pins.new_pins(1000), pins.new_pin()]
    assert all(len(p) == pins.PIN_LENGTH and p.isdigit() for p in values)
    assert len(set(values)) > 990


def test_hash_never_contains_the_pin_and_differs_per_salt() -> None:
    (salt1, hash1), (salt2, hash2) = pins.hash_pins(SECRET, ["12345678", "12345678"])
    assert "12345678" not in hash1 and hash1 != hash2 and salt1 != salt2


def test_verify_accepts_the_right_pin_and_refuses_a_wrong_one() -> None:
    [(salt, digest)] = pins.hash_pins(SECRET, ["00012345"])
    assert pins.verify_pin(SECRET, salt, digest, "00012345")
    assert pins.verify_pin(SECRET, salt, digest, " 00012345 ")
    assert not pins.verify_pin(SECRET, salt, digest, "00012346")


def test_verify_fails_under_another_server_secret() -> None:
    salt = pins.new_salt()
    digest = pins.hash_pin(SECRET, salt, "11112222")
    assert not pins.verify_pin("other-secret", salt, digest, "11112222")


def test_signed_short_code_verifies_offline_and_rejects_tampering(tmp_path: Path) -> None:
    key = pins.load_or_create_signing_key(tmp_path / "k.pem")
    public = pins.public_key_bytes(key)
    code = pins.sign_stamp(key, "08930000000019", "ABCDEFGHJKMN")
    assert pins.verify_stamp(public, "08930000000019", "ABCDEFGHJKMN", code)
    assert not pins.verify_stamp(public, "08930000000019", "ABCDEFGHJKMP", code)
    # Flip a character inside the signature (the last one may only carry padding bits).
    tampered = code[:10] + ("B" if code[10] != "B" else "C") + code[11:]
    assert not pins.verify_stamp(public, "08930000000019", "ABCDEFGHJKMN", tampered)
    assert not pins.verify_stamp(public, "08930000000019", "ABCDEFGHJKMN", "not base64!")


def test_signing_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.pem"
    first = pins.public_key_bytes(pins.load_or_create_signing_key(path))
    assert path.stat().st_mode & 0o777 == 0o600
    assert pins.public_key_bytes(pins.load_or_create_signing_key(path)) == first
