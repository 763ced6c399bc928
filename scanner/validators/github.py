"""GitHub-style CRC-32 tokens: GitHub classic (ghp_/gho_/ghu_/ghs_/ghr_) and npm (npm_).

The token is ``prefix_`` + 30 random base62 characters + a 6-character
CRC-32/base62 checksum of those 30 characters (the prefix is not included).
"""

from __future__ import annotations

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.checksums import crc32_base62

_BODY_LENGTH = 36
_RANDOM_LENGTH = 30

# What each prefix can do, for the report's scope column and for severity.
_SCOPES: dict[str, tuple[str, Breadth]] = {
    "ghp": ("GitHub personal access token (classic): every repository and package the user can write", Breadth.ACCOUNT),
    "gho": ("GitHub OAuth app token: the user's granted scopes", Breadth.ACCOUNT),
    "ghu": ("GitHub App user-to-server token (8 h): the user's access within the app", Breadth.ACCOUNT),
    "ghs": ("GitHub App installation token (1 h): the installation's repositories", Breadth.PROJECT),
    "ghr": ("GitHub App refresh token: mints new user-to-server tokens", Breadth.ACCOUNT),
    "npm": ("npm access token: publish rights of its owner (packages not encoded in the token)", Breadth.ACCOUNT),
}


class GitHubStyleChecksum(Validator):
    """Checks the CRC-32/base62 tail and names the token kind."""

    name = "github-crc32"

    def check(self, secret: str) -> StructureResult:
        prefix, _, body = secret.partition("_")
        if len(body) != _BODY_LENGTH or not body.isalnum() or not body.isascii():
            return StructureResult(Liveness.FAKE, reason=f"body is not {_BODY_LENGTH} base62 characters (truncated?)")
        expected = crc32_base62(body[:_RANDOM_LENGTH])
        if body[_RANDOM_LENGTH:] != expected:
            return StructureResult(Liveness.FAKE, reason="CRC-32 checksum does not match (fabricated or mistyped)")
        scope, breadth = _SCOPES.get(prefix, ("", Breadth.UNKNOWN))
        return StructureResult(
            Liveness.LIVE_LOOKING, reason="checksum valid", scope=scope or None, breadth=breadth
        )
