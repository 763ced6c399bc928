"""NaCl secretbox (XSalsa20-Poly1305) against the NaCl/libsodium test vector."""

from __future__ import annotations

import random

from scanner.validators.secretbox import open_box, poly1305, seal

# tests/secretbox.c of NaCl (also libsodium test/default/secretbox.c): "firstkey",
# the 24-byte nonce, the 131-byte message and the expected tag + ciphertext.
KEY = bytes.fromhex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
NONCE = bytes.fromhex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
MESSAGE = bytes.fromhex(
    "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129"
    "6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
    "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705"
)
BOX = bytes.fromhex(
    "f3ffc7703f9400e52a7dfb4b3d3305d9"  # Poly1305 tag
    "8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c972"
    "71d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da"
    "99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5"
)


def test_seal_matches_the_nacl_vector() -> None:
    assert seal(KEY, NONCE, MESSAGE) == BOX


def test_open_returns_the_message() -> None:
    assert open_box(KEY, NONCE, BOX) == MESSAGE


def test_open_rejects_a_wrong_key_or_changed_byte() -> None:
    assert open_box(bytes(32), NONCE, BOX) is None
    changed = bytearray(BOX)
    changed[40] ^= 1
    assert open_box(KEY, NONCE, bytes(changed)) is None


def test_open_rejects_bad_sizes() -> None:
    assert open_box(KEY[:31], NONCE, BOX) is None
    assert open_box(KEY, NONCE[:23], BOX) is None
    assert open_box(KEY, NONCE, BOX[:15]) is None


def test_poly1305_rfc8439_vector() -> None:
    # RFC 8439 section 2.5.2
    key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    tag = poly1305(key, b"Cryptographic Forum Research Group")
    assert tag.hex() == "a8061dc1305136c6c22b8baf0c0127a9"


def test_round_trip_of_random_lengths() -> None:
    rng = random.Random(7)
    for length in (0, 1, 15, 16, 17, 63, 64, 65, 200):
        key, nonce = rng.randbytes(32), rng.randbytes(24)
        message = rng.randbytes(length)
        assert open_box(key, nonce, seal(key, nonce, message)) == message
