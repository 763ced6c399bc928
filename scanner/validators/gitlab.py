"""GitLab tokens: the routable format's CRC-32/base36 checksum and length field,
and its routing payload (organisation, user, project ... ids) read for the scope.

Routable token = prefix + P + ``.`` + [version ``.``] + LL + C (registry-credentials.md
section 5; gitlab ``lib/authn/token_field/generator/routable_token.rb``).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

_CRC_LENGTH = 7
_RANDOM_BYTES = 16
_MIN_PAYLOAD, _MAX_PAYLOAD = 27, 300
_CURRENT_VERSION = "01"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_ROUTABLE = re.compile(r"(?P<head>[A-Za-z0-9_-]+)\.(?:(?P<version>[0-9a-z]{2})\.)?(?P<length>[0-9a-z]{2})[0-9a-z]{7}")
# Routing keys in the order GitLab's HTTP router weighs them, with their meaning
# (GitLab handbook, "Cells: Routable Tokens"). ``t`` appears in newer generators
# without a documented meaning, so it is shown by its letter.
_ROUTING_KEYS = {"o": "organisation", "g": "group", "p": "project", "u": "user", "c": "cell", "t": "t"}
_ROUTING_VALUE = re.compile(r"[A-Za-z0-9_]+")
PAT_PREFIX = "glpat-"


def to_base36(number: int, width: int) -> str:
    """``number`` in lowercase base36, zero-padded on the left to ``width``."""
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 36)
        digits.append(_BASE36[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def routable_crc(text: str) -> str:
    """The 7-character CRC-32/base36 that follows ``text`` in a routable token."""
    return to_base36(zlib.crc32(text.encode("ascii")), _CRC_LENGTH)


@dataclass(frozen=True)
class Routable:
    """A routable token whose checksum and length field check out."""

    prefix: str
    payload: str  # P, the base64url part
    version: str | None  # None for the unversioned form
    routing: dict[str, str] | None  # decoded routing keys, None if P did not decode


class RoutableError(ValueError):
    """The value has the routable shape but fails its checksum or length field."""


def parse_routable(secret: str, prefix: str | None = None) -> Routable | None:
    """The routable parts of ``secret``; None when it is not in the routable form.

    ``prefix`` is the literal prefix when known (``glpat-``); otherwise P is
    taken from the end of the head by the length field. Raises RoutableError
    when the form is there but the checksum or the length field is wrong.
    """
    match = _ROUTABLE.fullmatch(secret)
    if match is None:
        return None
    # CRC over everything before it, prefix included.
    if secret[-_CRC_LENGTH:] != routable_crc(secret[:-_CRC_LENGTH]):
        raise RoutableError("CRC-32 checksum does not match (fabricated or mistyped)")
    head, length = match["head"], int(match["length"], 36)
    if prefix is not None:
        if not head.startswith(prefix) or len(head) - len(prefix) != length:
            raise RoutableError("length field does not match the payload (truncated or altered)")
    elif length >= len(head):
        raise RoutableError("length field does not match the payload (truncated or altered)")
    payload = head[len(head) - length :]
    if not _MIN_PAYLOAD <= length <= _MAX_PAYLOAD or length % 4 == 1:
        raise RoutableError(f"payload of {length} characters is not a routable payload")
    version = match["version"]
    return Routable(head[: len(head) - length], payload, version, decode_routing(payload, version is not None))


def decode_routing(payload: str, versioned: bool) -> dict[str, str] | None:
    """The ``k:v`` routing lines inside P, or None when they do not decode.

    Two layouts were issued: payload + 16 random bytes + byte 16 (the
    unversioned form, 2024-11 to 2025-04), then 16 random bytes + payload +
    one byte holding the payload's length (version 01). Both are tried, the
    form's own first.
    """
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        return None
    layouts = (_random_first, _payload_first) if versioned else (_payload_first, _random_first)
    for layout in layouts:
        routing = _parse_routing(layout(raw))
        if routing is not None:
            return routing
    return None


def _random_first(raw: bytes) -> bytes:
    body = raw[_RANDOM_BYTES:-1]
    return body if len(raw) > _RANDOM_BYTES + 1 and raw[-1] == len(body) else b""


def _payload_first(raw: bytes) -> bytes:
    return raw[: -_RANDOM_BYTES - 1] if len(raw) > _RANDOM_BYTES + 1 and raw[-1] == _RANDOM_BYTES else b""


def _parse_routing(text: bytes) -> dict[str, str] | None:
    try:
        lines = text.decode("ascii").split("\n") if text else []
    except UnicodeDecodeError:
        return None
    routing: dict[str, str] = {}
    for line in lines:
        key, colon, value = line.partition(":")
        if not colon or key not in _ROUTING_KEYS or key in routing or not _ROUTING_VALUE.fullmatch(value):
            return None
        routing[key] = value
    # GitLab writes the keys sorted; anything else is not its payload.
    if not routing or list(routing) != sorted(routing):
        return None
    return routing


def routing_words(routing: dict[str, str]) -> str:
    """``organisation 1, user 12345``: integer ids are written in base36 in the token."""
    parts = []
    for key, label in _ROUTING_KEYS.items():
        value = routing.get(key)
        if value is None:
            continue
        shown = str(int(value, 36)) if value.isascii() and value.isalnum() and value == value.lower() else value
        parts.append(f"{label} {shown}")
    return ", ".join(parts)


def _routable_reason(token: Routable) -> str:
    form = f"version {token.version}" if token.version else "unversioned"
    reason = f"routable token ({form}): checksum and length field valid"
    if token.version not in (None, _CURRENT_VERSION):
        reason += "; version not known to sprawl"
    if token.routing is None:
        reason += "; routing payload not decoded"
    return reason


class GitLabRoutablePat(Validator):
    """Routable personal access tokens: checksum, length field, routing payload."""

    name = "gitlab-routable"

    def check(self, secret: str) -> StructureResult:
        try:
            token = parse_routable(secret, PAT_PREFIX)
        except RoutableError as exc:
            return StructureResult(Liveness.FAKE, reason=str(exc))
        if token is None:
            return StructureResult(Liveness.FAKE, reason="not a routable token (malformed)")
        where = f": {routing_words(token.routing)}" if token.routing else ""
        scope = (
            f"GitLab personal access token (routable){where}; the API, Git and package registries "
            "within its scopes (scopes not encoded; project and group access tokens share the prefix)"
        )
        return StructureResult(
            Liveness.LIVE_LOOKING, reason=_routable_reason(token), scope=scope, breadth=Breadth.ACCOUNT
        )


class GitLabPrefixed(Validator):
    """Other ``gl…-`` tokens: checked only when they carry the routable tail.

    The plain form has nothing to check offline; scope and breadth come from
    the rule.
    """

    name = "gitlab-prefixed"

    def check(self, secret: str) -> StructureResult:
        try:
            token = parse_routable(secret)
        except RoutableError as exc:
            return StructureResult(Liveness.FAKE, reason=str(exc))
        if token is None:
            return StructureResult(Liveness.UNVERIFIABLE, reason="no checksum in this form")
        reason = _routable_reason(token)
        if token.routing:
            reason += f"; routing: {routing_words(token.routing)}"
        return StructureResult(Liveness.LIVE_LOOKING, reason=reason)
