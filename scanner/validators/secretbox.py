"""NaCl secretbox (XSalsa20 + Poly1305) in pure Python, for offline checks only.

cosign/sigstore private keys are sealed with it (go-securesystemslib
``encrypted``). Opening one with an empty password proves the key is usable by
anyone; the inputs are a few hundred bytes, so speed does not matter.
"""

from __future__ import annotations

import hmac
import struct

KEY_SIZE = 32
NONCE_SIZE = 24
TAG_SIZE = 16
_SIGMA = b"expand 32-byte k"
_MASK = 0xFFFFFFFF


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) & _MASK) | (value >> (32 - shift))


def _double_rounds(state: list[int]) -> list[int]:
    x = list(state)
    for _ in range(10):
        # column round, then row round (Salsa20 specification, section 4-6)
        for a, b, c, d in ((0, 4, 8, 12), (5, 9, 13, 1), (10, 14, 2, 6), (15, 3, 7, 11),
                           (0, 1, 2, 3), (5, 6, 7, 4), (10, 11, 8, 9), (15, 12, 13, 14)):
            x[b] ^= _rotl((x[a] + x[d]) & _MASK, 7)
            x[c] ^= _rotl((x[b] + x[a]) & _MASK, 9)
            x[d] ^= _rotl((x[c] + x[b]) & _MASK, 13)
            x[a] ^= _rotl((x[d] + x[c]) & _MASK, 18)
    return x


def _initial_state(key: bytes, sixteen: bytes) -> list[int]:
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", sixteen)
    s = struct.unpack("<4I", _SIGMA)
    return [s[0], k[0], k[1], k[2], k[3], s[1], n[0], n[1], n[2], n[3], s[2], k[4], k[5], k[6], k[7], s[3]]


def hsalsa20(key: bytes, sixteen: bytes) -> bytes:
    """The HSalsa20 core: derives XSalsa20's subkey from the nonce's first 16 bytes."""
    x = _double_rounds(_initial_state(key, sixteen))
    return struct.pack("<8I", *(x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)))


def _salsa20_block(key: bytes, nonce8: bytes, counter: int) -> bytes:
    state = _initial_state(key, nonce8 + struct.pack("<Q", counter))
    mixed = _double_rounds(state)
    return struct.pack("<16I", *(((a + b) & _MASK) for a, b in zip(mixed, state, strict=True)))


def xsalsa20_stream(key: bytes, nonce: bytes, length: int) -> bytes:
    """``length`` bytes of XSalsa20 key stream."""
    subkey = hsalsa20(key, nonce[:16])
    blocks = (_salsa20_block(subkey, nonce[16:24], i) for i in range((length + 63) // 64))
    return b"".join(blocks)[:length]


def poly1305(key: bytes, message: bytes) -> bytes:
    """The Poly1305 one-time authenticator (RFC 8439 2.5)."""
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:32], "little")
    p = (1 << 130) - 5
    accumulator = 0
    for start in range(0, len(message), 16):
        block = message[start : start + 16] + b"\x01"
        accumulator = (accumulator + int.from_bytes(block, "little")) * r % p
    return ((accumulator + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def seal(key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    """Tag + ciphertext, as Go's ``secretbox.Seal`` writes them."""
    stream = xsalsa20_stream(key, nonce, 32 + len(plaintext))
    ciphertext = bytes(a ^ b for a, b in zip(plaintext, stream[32:], strict=True))
    return poly1305(stream[:32], ciphertext) + ciphertext


def open_box(key: bytes, nonce: bytes, box: bytes) -> bytes | None:
    """The plaintext, or None when the tag does not verify (wrong key)."""
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE or len(box) < TAG_SIZE:
        return None
    tag, ciphertext = box[:TAG_SIZE], box[TAG_SIZE:]
    stream = xsalsa20_stream(key, nonce, 32 + len(ciphertext))
    if not hmac.compare_digest(poly1305(stream[:32], ciphertext), tag):
        return None
    return bytes(a ^ b for a, b in zip(ciphertext, stream[32:], strict=True))
