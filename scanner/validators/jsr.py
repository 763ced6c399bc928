"""JSR tokens (``jsrp_``/``jsrw_``/``jsrd_``): 29 random base62 characters and a
6-character CRC-32/base62 taken over ``prefix + "_" + random`` — unlike GitHub
and npm, the prefix is inside the checksum (jsr-io/jsr ``api/src/token.rs``).
"""

from __future__ import annotations

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.checksums import crc32_base62

_BODY_LENGTH = 35
_RANDOM_LENGTH = 29

_SCOPES: dict[str, str] = {
    "jsrp": "JSR personal access token: publishes to the user's scopes and packages "
    "(permissions and expiry chosen at creation, not encoded)",
    "jsrw": "JSR web session token: acts as the signed-in user on jsr.io",
    "jsrd": "JSR device-flow token (CLI sign-in): acts as the user who authorised it",
}


class JsrChecksum(Validator):
    """Checks the CRC-32/base62 tail (prefix included) and names the token kind."""

    name = "jsr-crc32"

    def check(self, secret: str) -> StructureResult:
        prefix, _, body = secret.partition("_")
        if prefix not in _SCOPES or len(body) != _BODY_LENGTH or not (body.isascii() and body.isalnum()):
            return StructureResult(Liveness.FAKE, reason=f"body is not {_BODY_LENGTH} base62 characters (truncated?)")
        random = body[:_RANDOM_LENGTH]
        if body[_RANDOM_LENGTH:] != crc32_base62(f"{prefix}_{random}"):
            return StructureResult(Liveness.FAKE, reason="CRC-32 checksum does not match (fabricated or mistyped)")
        return StructureResult(
            Liveness.LIVE_LOOKING, reason="checksum valid", scope=_SCOPES[prefix], breadth=Breadth.ACCOUNT
        )
