"""Buildkite Packages registry and temporary tokens (registry-credentials.md section 20).

``bkpt_`` + base64 of a Rails-signed JSON envelope ``{"_rails":{"data":…,"exp":"…"}}``
+ ``--`` + a 40-hex digest. The digest needs Buildkite's secret; the envelope
and its expiry can be read offline.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.jwt import expiry_verdict

_TOKEN = re.compile(r"bkpt_([A-Za-z0-9+/_=-]+)--[0-9a-f]{40}")


def decode_envelope(encoded: str) -> dict[str, Any]:
    """The ``_rails`` envelope of the base64 (standard or URL-safe) message."""
    padded = encoded.rstrip("=") + "=" * (-len(encoded.rstrip("=")) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        message = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError("message is not base64 JSON") from exc
    envelope = message.get("_rails") if isinstance(message, dict) else None
    # Rails >= 7.1 writes "data"; 5.2-7.0 wrote "message".
    if not isinstance(envelope, dict) or not ("data" in envelope or "message" in envelope):
        raise ValueError("no Rails '_rails' envelope with data")
    return envelope


def rails_expiry(envelope: dict[str, Any]) -> float | None:
    """The envelope's ``exp`` (ISO 8601 string) as epoch seconds; None if absent."""
    value = envelope.get("exp")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("'exp' is not a timestamp string")  # noqa: TRY004 - a malformed token, not a caller error
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("'exp' is not ISO 8601") from exc
    if moment.tzinfo is None:
        raise ValueError("'exp' has no time zone")
    return moment.timestamp()


class BuildkitePackagesToken(Validator):
    """A ``bkpt_`` token's signed envelope decodes; its ``exp`` decides expiry."""

    structured = True

    name = "buildkite-packages-token"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        match = _TOKEN.fullmatch(secret)
        if match is None:
            return StructureResult(Liveness.FAKE, reason="not bkpt_<message>--<40 hex digest> (truncated?)")
        try:
            expires = rails_expiry(decode_envelope(match.group(1)))
        except ValueError as exc:
            return StructureResult(Liveness.FAKE, reason=f"malformed token: {exc}")
        # Registry tokens (install) and temporary tokens (publish) share the
        # prefix and the envelope; the token does not say which it is.
        return expiry_verdict(
            expires,
            now=self._now,
            scope="Buildkite Packages registry or temporary token: install from (registry token) "
            "or publish to (temporary token) one registry",
            breadth=Breadth.PROJECT,
            what="Buildkite Packages token",
        )
