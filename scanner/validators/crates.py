"""crates.io trusted-publishing tokens: ``cio_tp_`` + 31 random alphanumerics + one
check character, the alphabet ``A-Za-z0-9`` indexed by the XOR of the 31 bytes
mod 62 (rust-lang/crates.io ``crates/crates_io_trustpub/src/access_token.rs``).
"""

from __future__ import annotations

from functools import reduce

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

PREFIX = "cio_tp_"
_RAW_LENGTH = 31
# Not the base62 order of checksums.py: upper case first, digits last.
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def check_char(raw: str) -> str:
    """The check character that follows the 31 random characters ``raw``."""
    return _ALPHABET[reduce(lambda acc, byte: acc ^ byte, raw.encode("ascii"), 0) % len(_ALPHABET)]


class CratesTrustedPublishing(Validator):
    """Checks the XOR check character of a trusted-publishing token."""

    name = "crates-trusted-publishing"

    def check(self, secret: str) -> StructureResult:
        body = secret.removeprefix(PREFIX)
        if body == secret or len(body) != _RAW_LENGTH + 1 or not (body.isascii() and body.isalnum()):
            return StructureResult(Liveness.FAKE, reason=f"body is not {_RAW_LENGTH + 1} alphanumerics (truncated?)")
        if body[-1] != check_char(body[:-1]):
            return StructureResult(Liveness.FAKE, reason="check character does not match (fabricated or mistyped)")
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="check character valid; such tokens expire about 30 minutes after they are minted",
            scope="crates.io trusted-publishing token (short-lived, minted from a CI identity): "
            "publishes the crates whose trusted-publishing configuration issued it",
            breadth=Breadth.PROJECT,
        )
