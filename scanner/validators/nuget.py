"""NuGet API keys (v4): 46 lowercase RFC 4648 base32 characters, base32(``"v4"`` +
10 random non-zero id bytes) followed by base32(16-byte password); so every key
starts ``oy2`` (NuGetGallery ``ApiKeyV4.cs``).
"""

from __future__ import annotations

import base64
import binascii

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

_LENGTH = 46
_ID_LENGTH = 20  # base32 of the 12 id bytes, padding removed
_ID_PREFIX = b"v4"
_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def _b32decode(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


class NuGetApiKeyV4(Validator):
    """Decodes the id part: it must read ``v4`` and then non-zero bytes."""

    name = "nuget-apikey-v4"

    def check(self, secret: str) -> StructureResult:
        if len(secret) != _LENGTH or not set(secret) <= _ALPHABET:
            # NuGet writes keys in lower case; mixed case is a copy that was altered.
            return StructureResult(Liveness.FAKE, reason=f"not {_LENGTH} lowercase base32 characters")
        try:
            id_bytes = _b32decode(secret[:_ID_LENGTH])
            _b32decode(secret[_ID_LENGTH:])
        except (binascii.Error, ValueError):
            return StructureResult(Liveness.FAKE, reason="does not decode as base32")
        if not id_bytes.startswith(_ID_PREFIX):
            return StructureResult(Liveness.FAKE, reason="id part does not decode to 'v4'")
        if 0 in id_bytes[len(_ID_PREFIX) :]:
            # The gallery draws the id bytes with GetNonZeroBytes.
            return StructureResult(Liveness.FAKE, reason="id part holds a zero byte, which NuGet never issues")
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="id part decodes to a v4 key",
            scope="NuGet API key: push and unlist rights of its owner on nuget.org; it may be limited to "
            "selected packages or a glob pattern (scope not encoded); keys expire within 365 days",
            breadth=Breadth.ACCOUNT,
        )
