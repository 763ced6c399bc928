"""Compact JWT (3 parts) and JWE (5 parts) decoding, and the expiry verdicts built on it.

Shared by every self-expiring token format (registry-credentials.md section 1):
plain JWT access tokens, GitHub's 2026 installation tokens (``ghs_<app id>_<JWT>``)
and AWS CodeArtifact authorization tokens (JWE). Signatures cannot be checked
offline; shape, JSON and the stated expiry can.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

_B64URL = re.compile(r"[A-Za-z0-9_-]*")

# Signature sizes in bytes per JWS algorithm (RFC 7518 section 3). RSA
# signatures are as long as the modulus, so they get the usual modulus sizes.
_FIXED_SIGNATURE_BYTES = {
    "HS256": 32,
    "HS384": 48,
    "HS512": 64,
    "ES256": 64,
    "ES384": 96,
    "ES512": 132,
    "EdDSA": 64,
}
# 1024- to 8192-bit moduli; a signature cut short lands between these sizes.
_RSA_SIGNATURE_BYTES = frozenset({128, 192, 256, 384, 512, 768, 1024})
_MIN_UNKNOWN_SIGNATURE_BYTES = 16


class JwtError(ValueError):
    """The text is not a well-formed compact JWT/JWE."""


@dataclass(frozen=True)
class Jwt:
    """A decoded compact JWS: ``header.claims.signature``."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signature: bytes


@dataclass(frozen=True)
class Jwe:
    """A decoded compact JWE: ``header.encrypted_key.iv.ciphertext.tag``."""

    header: dict[str, Any]
    encrypted_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes


def b64url_decode(part: str) -> bytes:
    """Strict unpadded base64url (RFC 7515 section 2); raises JwtError."""
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise JwtError("not base64url (truncated?)")
    try:
        return base64.b64decode(part + "=" * (-len(part) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise JwtError("not base64url") from exc


def json_segment(part: str, what: str) -> dict[str, Any]:
    """A base64url segment holding a JSON object (a JOSE header or claims set)."""
    raw = b64url_decode(part)
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JwtError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise JwtError(f"{what} is not a JSON object")
    return value


def _check_signature_length(alg: object, signature: bytes) -> None:
    # A token cut short inside its signature is the commonest truncation;
    # the algorithm says exactly how long the signature must be.
    if isinstance(alg, str) and alg in _FIXED_SIGNATURE_BYTES:
        if len(signature) != _FIXED_SIGNATURE_BYTES[alg]:
            raise JwtError(f"{alg} signature is {len(signature)} bytes, not {_FIXED_SIGNATURE_BYTES[alg]} (truncated?)")
    elif isinstance(alg, str) and alg[:2] in ("RS", "PS"):
        if len(signature) not in _RSA_SIGNATURE_BYTES:
            raise JwtError(f"{alg} signature of {len(signature)} bytes is no RSA modulus size (truncated?)")
    elif len(signature) < _MIN_UNKNOWN_SIGNATURE_BYTES:
        raise JwtError("signature too short (truncated?)")


def parse_jwt(token: str) -> Jwt:
    """Decode a compact JWS; header and claims must be JSON objects and the
    signature as long as the header's ``alg`` requires."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError(f"{len(parts)} dot-separated parts, a JWT has 3")
    header = json_segment(parts[0], "header")
    if not isinstance(header.get("alg"), str):
        raise JwtError("header has no 'alg'")
    claims = json_segment(parts[1], "payload")
    signature = b64url_decode(parts[2])
    _check_signature_length(header["alg"], signature)
    return Jwt(header, claims, signature)


def parse_jwe(token: str) -> Jwe:
    """Decode a compact JWE (RFC 7516 section 7.1); the header must name ``alg``
    and ``enc``, and IV, ciphertext and tag must be present."""
    parts = token.split(".")
    if len(parts) != 5:
        raise JwtError(f"{len(parts)} dot-separated parts, a JWE has 5")
    header = json_segment(parts[0], "header")
    if not isinstance(header.get("alg"), str) or not isinstance(header.get("enc"), str):
        raise JwtError("header lacks 'alg' or 'enc'")
    encrypted_key, iv, ciphertext, tag = (b64url_decode(p) for p in parts[1:])
    if not iv or not ciphertext or not tag:
        raise JwtError("empty IV, ciphertext or tag (truncated?)")
    if header["enc"].endswith("GCM") and len(tag) != 16:
        raise JwtError(f"GCM tag is {len(tag)} bytes, not 16 (truncated?)")
    return Jwe(header, encrypted_key, iv, ciphertext, tag)


def numeric_date(value: object) -> int | None:
    """A JWT NumericDate (``exp``, ``iat``) as whole seconds, or None when absent
    or not a number (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def expiry_verdict(
    expires: float | None,
    *,
    now: float | None = None,
    scope: str | None = None,
    breadth: Breadth = Breadth.UNKNOWN,
    what: str = "token",
) -> StructureResult:
    """EXPIRED when ``expires`` (epoch seconds) has passed, else LIVE_LOOKING;
    ``expires`` None means the token states no expiry."""
    current = time.time() if now is None else now
    if expires is None:
        return StructureResult(Liveness.LIVE_LOOKING, f"{what} well-formed; states no expiry", scope, breadth)
    expires_at = utc(expires)
    if expires < current:
        return StructureResult(
            Liveness.EXPIRED, f"{what} expired {expires_at:%Y-%m-%d %H:%M} UTC", scope, breadth, expires_at
        )
    return StructureResult(
        Liveness.LIVE_LOOKING,
        f"{what} well-formed; expires {expires_at:%Y-%m-%d %H:%M} UTC",
        scope,
        breadth,
        expires_at,
    )


def malformed(exc: Exception, what: str) -> StructureResult:
    return StructureResult(Liveness.FAKE, reason=f"malformed {what}: {exc}")


class JwtExpiry(Validator):
    """A plain JWT access token: well-formed, and its ``exp`` not yet past."""

    structured = True

    name = "jwt-expiry"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        try:
            token = parse_jwt(secret)
        except JwtError as exc:
            return malformed(exc, "JWT")
        return expiry_verdict(numeric_date(token.claims.get("exp")), now=self._now, what="JWT")


_GITHUB_JWT = re.compile(r"ghs_([1-9][0-9]*)_(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")


class GitHubInstallationJwt(Validator):
    """GitHub's 2026 App installation token ``ghs_<app id>_<JWT>`` (section 3):
    the JWT must decode; its ``exp`` (1 h after issue) decides expiry."""

    structured = True

    name = "github-installation-jwt"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        match = _GITHUB_JWT.fullmatch(secret)
        if match is None:
            return StructureResult(Liveness.FAKE, reason="not ghs_<app id>_<JWT>")
        try:
            token = parse_jwt(match.group(2))
        except JwtError as exc:
            return malformed(exc, "installation token JWT")
        scope = f"GitHub App installation token (1 h), app id {match.group(1)}: the installation's repositories and packages"
        return expiry_verdict(
            numeric_date(token.claims.get("exp")),
            now=self._now,
            scope=scope,
            breadth=Breadth.PROJECT,
            what="installation token",
        )


# CodeArtifact's JWE header is compact JSON that always opens {"ver":1,"isu":
# (observed, section 13); the key is wrapped with AES-GCM (A128GCMKW), whose
# per-key IV (12 bytes) and tag (16 bytes) sit in the header.
_CODEARTIFACT_MAX_LIFETIME = 12 * 3600 + 300  # 12 h, plus clock slack


class CodeArtifactToken(Validator):
    """AWS CodeArtifact authorization token: a 5-part JWE whose header states
    issue (``isu``) and expiry (``exp``, at most 12 h later)."""

    structured = True

    name = "aws-codeartifact-jwe"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        try:
            jwe = parse_jwe(secret)
            issued, expires = self._times(jwe.header)
        except JwtError as exc:
            return malformed(exc, "CodeArtifact token")
        scope = (
            f"AWS CodeArtifact authorization token (issued {utc(issued):%Y-%m-%d %H:%M} UTC, "
            "at most 12 h): read and publish in the domain's repositories the minting IAM principal may use"
        )
        return expiry_verdict(expires, now=self._now, scope=scope, breadth=Breadth.PROJECT, what="CodeArtifact token")

    @staticmethod
    def _times(header: dict[str, Any]) -> tuple[int, int]:
        if header.get("ver") != 1:
            raise JwtError("header 'ver' is not 1")
        issued = numeric_date(header.get("isu"))
        expires = numeric_date(header.get("exp"))
        if issued is None or expires is None:
            raise JwtError("header lacks numeric 'isu' or 'exp'")
        if not 0 < expires - issued <= _CODEARTIFACT_MAX_LIFETIME:
            raise JwtError("lifetime is not within 12 hours")
        return issued, expires
