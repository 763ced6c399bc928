"""Checksum encodings used by self-checking token formats.

GitHub classic tokens and npm tokens end in a CRC-32 written in base62 with
the alphabet 0-9, A-Z, a-z (digits, then upper, then lower case), left-padded
with '0' to six characters (registry-credentials.md section 1).
"""

from __future__ import annotations

import zlib

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def to_base62(number: int, width: int) -> str:
    """``number`` in base62 (0-9A-Za-z), zero-padded on the left to ``width``."""
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def crc32_base62(text: str) -> str:
    """The six-character CRC-32/base62 checksum of ``text`` (ASCII)."""
    return to_base62(zlib.crc32(text.encode("ascii")), 6)
