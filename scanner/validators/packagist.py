"""Private Packagist authentication tokens: ``packagist_<kind>_`` + 60 hex random +
8 hex checksum. The kind in the prefix says what the token may do.

Private Packagist documents the checksum as CRC-32 over prefix + random, in hex
(private-packagist-docs ``composer-authentication.md``); it has not been checked
against an issued token, so a mismatch only leaves the token unverifiable.
"""

from __future__ import annotations

import zlib

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

_RANDOM_LENGTH = 60
_CHECKSUM_LENGTH = 8
_HEX = frozenset("0123456789abcdef")

_KINDS: dict[str, tuple[str, Breadth]] = {
    "ort": ("Private Packagist organisation token, read-only: installs the organisation's packages", Breadth.READ_ONLY),
    "out": ("Private Packagist organisation token with update access: runs composer update", Breadth.ACCOUNT),
    "uut": ("Private Packagist user token with update access: all the user's organisations", Breadth.ACCOUNT),
    "cut": ("Private Packagist Conductor token: the organisation's automated dependency updates", Breadth.ACCOUNT),
}


def packagist_checksum(prefix: str, random: str) -> str:
    """The documented checksum: CRC-32 of ``prefix + random`` as 8 lowercase hex digits."""
    return f"{zlib.crc32((prefix + random).encode('ascii')):08x}"


class PackagistToken(Validator):
    """Names the token kind; reports the documented checksum when it matches."""

    name = "packagist-token"

    def check(self, secret: str) -> StructureResult:
        vendor, kind, body = (secret.split("_", 2) + ["", ""])[:3]
        if vendor != "packagist" or kind not in _KINDS or len(body) != _RANDOM_LENGTH + _CHECKSUM_LENGTH:
            return StructureResult(Liveness.FAKE, reason="not a Private Packagist token (truncated?)")
        if not set(body) <= _HEX:
            return StructureResult(Liveness.FAKE, reason="body is not lowercase hex")
        scope, breadth = _KINDS[kind]
        random, checksum = body[:_RANDOM_LENGTH], body[_RANDOM_LENGTH:]
        prefix = f"packagist_{kind}_"
        # The docs' "$prefix" may or may not carry the last underscore.
        if checksum in (packagist_checksum(prefix, random), packagist_checksum(prefix[:-1], random)):
            return StructureResult(
                Liveness.LIVE_LOOKING, reason="checksum matches the documented CRC-32", scope=scope, breadth=breadth
            )
        return StructureResult(
            Liveness.UNVERIFIABLE,
            reason="checksum does not match the documented CRC-32, which is not confirmed on issued tokens",
            scope=scope,
            breadth=breadth,
        )
