"""JFrog Artifactory credentials (registry-credentials.md section 11): API keys
(``AKCp`` + base58), reference tokens (base64 of ``reftkn:01:<expiry>:<random>``)
and access/identity tokens (RS256 JWTs whose subject or issuer is a JFrog service).
"""

from __future__ import annotations

import base64
import binascii
import re

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.jwt import JwtError, expiry_verdict, malformed, numeric_date, parse_jwt, utc

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_API_KEY_LENGTH = 73
_API_KEY_BYTES = 54  # CredSweeper value_jfrog_token_check.py

_REFERENCE_LENGTH = 64
_REFERENCE = re.compile(r"reftkn:(\d{2}):(\d{1,10}):([\x21-\x7e]+)")

# JFrog service ids: jfrt (Artifactory), jfac (Access), jffe (front end), ...
_JFROG_SERVICE = re.compile(r"jf[a-z]{2,4}@[0-9a-z*]+(?:/|$)")
_USER = re.compile(r"/users/([^/]+)$")


def base58_decode(text: str) -> bytes:
    """Bitcoin-alphabet base58 (leading '1's are zero bytes); ValueError on a
    character outside the alphabet."""
    number = 0
    for char in text:
        digit = BASE58_ALPHABET.find(char)
        if digit < 0:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


class JFrogApiKey(Validator):
    """Deprecated Artifactory API key: ``AKCp`` + 69, all base58, 54 bytes decoded."""

    name = "jfrog-api-key"

    def check(self, secret: str) -> StructureResult:
        if len(secret) != _API_KEY_LENGTH or not secret.startswith("AKCp"):
            return StructureResult(Liveness.FAKE, reason="not AKCp + 69 characters (truncated?)")
        try:
            decoded = base58_decode(secret)
        except ValueError as exc:
            return StructureResult(Liveness.FAKE, reason=f"not base58: {exc} (fabricated?)")
        if len(decoded) != _API_KEY_BYTES:
            return StructureResult(Liveness.FAKE, reason=f"decodes to {len(decoded)} bytes, not {_API_KEY_BYTES}")
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="base58 decodes to 54 bytes",
            scope="JFrog Artifactory API key (deprecated): every repository its user may deploy to on that instance",
            breadth=Breadth.ACCOUNT,
        )


class JFrogReferenceToken(Validator):
    """Reference token: base64 of ``reftkn:01:<10-digit expiry>:<random>``;
    expiry 0 means none."""

    structured = True

    name = "jfrog-reference-token"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        if len(secret) != _REFERENCE_LENGTH:
            return StructureResult(Liveness.FAKE, reason=f"not {_REFERENCE_LENGTH} characters (truncated?)")
        try:
            decoded = base64.b64decode(secret, validate=True).decode("ascii")
        except (binascii.Error, ValueError) as exc:
            return StructureResult(Liveness.FAKE, reason=f"not base64 of text: {exc}")
        match = _REFERENCE.fullmatch(decoded)
        if match is None:
            return StructureResult(Liveness.FAKE, reason="does not decode to reftkn:<version>:<expiry>:<random>")
        expiry = int(match.group(2))
        if expiry == 0:
            scope = "JFrog reference token (no expiry): the permissions of the access token it stands for"
            return expiry_verdict(None, scope=scope, breadth=Breadth.ACCOUNT, what="reference token")
        scope = (
            f"JFrog reference token (expires {utc(expiry):%Y-%m-%d}): the permissions of the access token it stands for"
        )
        return expiry_verdict(expiry, now=self._now, scope=scope, breadth=Breadth.ACCOUNT, what="reference token")


def _jfrog_scope(claims: dict[str, object]) -> tuple[str, Breadth]:
    """Scope words and breadth from the ``sub`` and ``scp`` claims."""
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else ""
    user = _USER.search(str(subject))
    who = f" for user {user.group(1)}" if user else ""
    permissions = claims.get("scp") if isinstance(claims.get("scp"), str) else ""
    assert isinstance(permissions, str)
    words = permissions.split()
    if "applied-permissions/admin" in words:
        return f"JFrog access token{who}: instance administrator (scope {permissions})", Breadth.ACCOUNT
    if "applied-permissions/user" in words:
        return (
            f"JFrog access token{who}: every repository the user may deploy to (scope {permissions})",
            Breadth.ACCOUNT,
        )
    if any(
        w.startswith(("applied-permissions/groups", "applied-permissions/roles", "member-of-groups")) for w in words
    ):
        return (
            f"JFrog access token{who}: the permissions of named groups or roles (scope {permissions})",
            Breadth.PROJECT,
        )
    shown = f" (scope {permissions})" if permissions else ""
    return f"JFrog access token{who}{shown}", Breadth.UNKNOWN


class JFrogAccessToken(Validator):
    """JFrog access or identity token: a JWT whose ``sub`` or ``iss`` names a
    JFrog service (``jfac@…``, ``jfrt@…``); any other JWT is not JFrog's."""

    structured = True

    name = "jfrog-access-token"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        try:
            token = parse_jwt(secret)
        except JwtError as exc:
            return malformed(exc, "JWT")
        subject, issuer = token.claims.get("sub"), token.claims.get("iss")
        if not any(isinstance(v, str) and _JFROG_SERVICE.match(v) for v in (subject, issuer)):
            return StructureResult(Liveness.FAKE, reason="a JWT, but not issued by JFrog (no jf…@ subject or issuer)")
        scope, breadth = _jfrog_scope(token.claims)
        # exp absent (or 0) is how JFrog writes a non-expiring token.
        return expiry_verdict(
            numeric_date(token.claims.get("exp")) or None,
            now=self._now,
            scope=scope,
            breadth=breadth,
            what="JFrog access token",
        )
