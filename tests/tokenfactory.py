"""Builds token-shaped test values at run time, with correct checksums and
macaroon structure, so the repository never holds a credential literal.

Used by the tests and by benchmarks/. Every value is random (seeded when a
test needs repeatability) and has never been issued by any registry.
"""

from __future__ import annotations

import base64
import json
import random
import uuid

from scanner.validators.checksums import BASE62_ALPHABET, crc32_base62


def base62(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(BASE62_ALPHABET) for _ in range(length))


def github_style(prefix: str, rng: random.Random | None = None) -> str:
    """``prefix_`` + 30 random base62 + CRC-32/base62 (GitHub classic, npm)."""
    rng = rng or random.Random()
    body = base62(rng, 30)
    return f"{prefix}_{body}{crc32_base62(body)}"


def npm_token(rng: random.Random | None = None) -> str:
    return github_style("npm", rng)


def break_checksum(token: str) -> str:
    """The same token with its last character changed: checksum now fails."""
    last = token[-1]
    replacement = "A" if last != "A" else "B"
    return token[:-1] + replacement


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _packet(field_type: int, data: bytes) -> bytes:
    return _varint(field_type) + _varint(len(data)) + data


def macaroon_v2(location: str, identifier: str, caveats: list[bytes], signature: bytes) -> bytes:
    """Serialise a v2 binary macaroon the way pymacaroons does."""
    data = bytearray([2])
    data += _packet(1, location.encode())
    data += _packet(2, identifier.encode())
    data += b"\x00"
    for caveat in caveats:
        data += _packet(2, caveat)
        data += b"\x00"
    data += b"\x00"
    data += _packet(6, signature)
    return bytes(data)


def pypi_token(
    rng: random.Random | None = None,
    *,
    test_pypi: bool = False,
    caveats: list[object] | None = None,
) -> str:
    """A structurally valid PyPI (or TestPyPI) token. ``caveats`` are JSON
    values; by default a user-scoped token ``[[3, "<user uuid>"]]``."""
    rng = rng or random.Random()
    if caveats is None:
        caveats = [[3, str(uuid.UUID(int=rng.getrandbits(128), version=4))]]
    raw = macaroon_v2(
        "test.pypi.org" if test_pypi else "pypi.org",
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        [json.dumps(c, separators=(",", ":")).encode() for c in caveats],
        bytes(rng.getrandbits(8) for _ in range(32)),
    )
    return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
