"""PyPI / TestPyPI API tokens: ``pypi-`` + unpadded base64url of a v2 binary macaroon.

Decodes the macaroon fully (location, identifier, caveats, 32-byte signature)
to tell pypi.org from test.pypi.org, account-wide from project-scoped tokens,
trusted-publishing tokens, and expired ones. The signature itself cannot be
checked offline (it needs PyPI's key).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

_LOCATIONS = {"pypi.org": "PyPI", "test.pypi.org": "TestPyPI"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_SIGNATURE_LENGTH = 32
# Field types of the v2 binary format (pymacaroons binary_serializer).
_EOS, _LOCATION, _IDENTIFIER, _VID, _SIGNATURE = 0, 1, 2, 4, 6


class MacaroonError(ValueError):
    """The bytes are not a well-formed v2 macaroon."""


@dataclass
class Macaroon:
    location: str
    identifier: str
    caveats: list[bytes] = field(default_factory=list)
    signature: bytes = b""


def decode_token(secret: str) -> Macaroon:
    """Parse a ``pypi-`` token into its macaroon, or raise MacaroonError."""
    body = secret.removeprefix("pypi-")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MacaroonError("not base64url") from exc
    return parse_v2(raw)


def parse_v2(raw: bytes) -> Macaroon:
    """Parse the v2 binary serialisation; every byte must be accounted for."""
    reader = _Reader(raw)
    if reader.byte() != 2:
        raise MacaroonError("not a version-2 macaroon")
    header = reader.section()
    if _IDENTIFIER not in header:
        raise MacaroonError("no identifier")
    macaroon = Macaroon(
        location=header.get(_LOCATION, b"").decode("utf-8", "replace"),
        identifier=header[_IDENTIFIER].decode("utf-8", "replace"),
    )
    while True:
        caveat = reader.section()
        if not caveat:  # the empty section ends the caveat list
            break
        if _IDENTIFIER not in caveat:
            raise MacaroonError("caveat without identifier")
        macaroon.caveats.append(caveat[_IDENTIFIER])
    field_type, value = reader.field()
    if field_type != _SIGNATURE:
        raise MacaroonError("no signature")
    macaroon.signature = value
    if not reader.at_end():
        raise MacaroonError("trailing bytes after the signature")
    return macaroon


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._pos = 0

    def at_end(self) -> bool:
        return self._pos == len(self._raw)

    def byte(self) -> int:
        if self._pos >= len(self._raw):
            raise MacaroonError("truncated")
        value = self._raw[self._pos]
        self._pos += 1
        return value

    def varint(self) -> int:
        value = shift = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 35:
                raise MacaroonError("varint too long")

    def field(self) -> tuple[int, bytes]:
        field_type = self.varint()
        if field_type == _EOS:
            return _EOS, b""
        length = self.varint()
        end = self._pos + length
        if end > len(self._raw):
            raise MacaroonError("truncated")
        value = self._raw[self._pos : end]
        self._pos = end
        return field_type, value

    def section(self) -> dict[int, bytes]:
        fields: dict[int, bytes] = {}
        while True:
            field_type, value = self.field()
            if field_type == _EOS:
                return fields
            if field_type not in (_LOCATION, _IDENTIFIER, _VID) or field_type in fields:
                raise MacaroonError(f"unexpected field type {field_type}")
            fields[field_type] = value


@dataclass
class _Caveats:
    """What the caveats say, in the terms the report uses."""

    projects: list[str] = field(default_factory=list)
    project_ids: list[str] = field(default_factory=list)
    user: bool = False
    publisher: bool = False
    expires: int | None = None


def _read_caveats(caveats: list[bytes]) -> _Caveats:
    summary = _Caveats()
    for raw in caveats:
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MacaroonError("caveat is not JSON") from exc
        if isinstance(value, list) and value and isinstance(value[0], int):
            _read_current_caveat(value, summary)
        elif isinstance(value, dict):
            _read_legacy_caveat(value, summary)
        else:
            raise MacaroonError("unknown caveat shape")
    return summary


def _read_current_caveat(value: list[object], summary: _Caveats) -> None:
    tag = value[0]
    if tag == 0 and len(value) >= 2 and isinstance(value[1], int):
        summary.expires = value[1] if summary.expires is None else min(summary.expires, value[1])
    elif tag == 1 and len(value) >= 2 and isinstance(value[1], list):
        summary.projects.extend(str(name) for name in value[1])
    elif tag == 2 and len(value) >= 2 and isinstance(value[1], list):
        summary.project_ids.extend(str(pid) for pid in value[1])
    elif tag == 3:
        summary.user = True
    elif tag == 4:
        summary.publisher = True
    else:
        raise MacaroonError(f"unknown caveat tag {tag!r}")


def _read_legacy_caveat(value: dict[str, object], summary: _Caveats) -> None:
    permissions = value.get("permissions")
    if permissions == "user":
        summary.user = True
    elif isinstance(permissions, dict):
        projects = permissions.get("projects")
        if isinstance(projects, list):
            summary.projects.extend(str(name) for name in projects)
    exp = value.get("exp")
    if isinstance(exp, int):
        summary.expires = exp if summary.expires is None else min(summary.expires, exp)
    project_ids = value.get("project_ids")
    if isinstance(project_ids, list):
        summary.project_ids.extend(str(pid) for pid in project_ids)


def describe_scope(registry: str, caveats: _Caveats) -> tuple[str, Breadth]:
    """Scope in words plus breadth, from decoded caveats."""
    test = registry == "TestPyPI"
    if caveats.publisher:
        return f"{registry} trusted-publishing token (15 min)", Breadth.TEST if test else Breadth.PROJECT
    if caveats.projects:
        names = ", ".join(sorted(set(caveats.projects)))
        label = "project" if len(set(caveats.projects)) == 1 else "projects"
        return f"{registry}: {label} {names}", Breadth.TEST if test else Breadth.PROJECT
    if caveats.project_ids:
        return f"{registry}: project ids {', '.join(sorted(set(caveats.project_ids)))}", (
            Breadth.TEST if test else Breadth.PROJECT
        )
    if caveats.user:
        return f"{registry}: whole account", Breadth.TEST if test else Breadth.ACCOUNT
    return f"{registry}: scope not embedded in the token (treat as whole account)", (
        Breadth.TEST if test else Breadth.ACCOUNT
    )


class PyPIMacaroon(Validator):
    """Structure, scope and expiry of a PyPI/TestPyPI API token."""

    structured = True

    name = "pypi-macaroon"

    def __init__(self, now: float | None = None) -> None:
        self._now = now

    def check(self, secret: str) -> StructureResult:
        try:
            macaroon = decode_token(secret)
            registry = _LOCATIONS.get(macaroon.location)
            if registry is None:
                raise MacaroonError(f"location {macaroon.location!r} is not pypi.org or test.pypi.org")
            if not _UUID.fullmatch(macaroon.identifier):
                raise MacaroonError("identifier is not a UUID")
            if len(macaroon.signature) != _SIGNATURE_LENGTH:
                raise MacaroonError("signature is not 32 bytes")
            caveats = _read_caveats(macaroon.caveats)
        except MacaroonError as exc:
            return StructureResult(Liveness.FAKE, reason=f"malformed macaroon: {exc} (truncated or fabricated?)")
        scope, breadth = describe_scope(registry, caveats)
        if caveats.expires is not None:
            expires_at = datetime.fromtimestamp(caveats.expires, tz=UTC)
            now = self._now if self._now is not None else time.time()
            if caveats.expires < now:
                return StructureResult(
                    Liveness.EXPIRED, reason="expiry caveat is in the past", scope=scope,
                    breadth=breadth, expires_at=expires_at,
                )
            return StructureResult(
                Liveness.LIVE_LOOKING, reason="macaroon well-formed; expiry caveat in the future",
                scope=scope, breadth=breadth, expires_at=expires_at,
            )
        return StructureResult(Liveness.LIVE_LOOKING, reason="macaroon well-formed", scope=scope, breadth=breadth)
