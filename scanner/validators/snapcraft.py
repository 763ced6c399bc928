"""Snap Store login credentials from ``snapcraft export-login`` (registry-credentials.md section 20).

snapcraft >= 7 writes base64 of ``{"t": "u1-macaroon", "v": {"r": <root>, "d": <discharge>}}``
(two serialised macaroons, v1 text or v2 binary, base64url) or, for Candid,
``{"t": "macaroon", "v": <serialised macaroons>}``. Both macaroons must parse;
their signatures need the store's key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.pypi import MacaroonError, parse_v2

_SIGNATURE_LENGTH = 32
_V1_KEYS = {"location", "identifier", "cid", "vid", "cl", "signature"}
_CANDID_VALUE = re.compile(r"[A-Za-z0-9+/_=-]{40,}")
_SCOPE = (
    "Snap Store login (snapcraft export-login): uploads and releases the account's snaps "
    "(narrower only if exported with --snaps/--channels/--acls)"
)


def b64_any(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not; ValueError otherwise."""
    stripped = text.rstrip("=")
    try:
        return base64.b64decode(
            (stripped + "=" * (-len(stripped) % 4)).replace("-", "+").replace("_", "/"), validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def parse_v1(raw: bytes) -> list[tuple[str, bytes]]:
    """pymacaroons' v1 serialisation: packets of a 4-hex-digit length (counting
    the whole packet) then ``key value\\n``; it must end with a 32-byte signature."""
    packets: list[tuple[str, bytes]] = []
    offset = 0
    while offset < len(raw):
        try:
            length = int(raw[offset : offset + 4], 16)
        except ValueError as exc:
            raise MacaroonError("bad v1 packet length") from exc
        packet = raw[offset + 4 : offset + length]
        if length < 6 or offset + length > len(raw) or not packet.endswith(b"\n") or b" " not in packet:
            raise MacaroonError("truncated v1 packet")
        key, _, value = packet[:-1].partition(b" ")
        if key.decode("ascii", "replace") not in _V1_KEYS:
            raise MacaroonError("unknown v1 field")
        packets.append((key.decode("ascii"), value))
        offset += length
    if len(packets) < 2 or packets[0][0] != "location" or packets[1][0] != "identifier":
        raise MacaroonError("v1 macaroon must open with location and identifier")
    if packets[-1][0] != "signature" or len(packets[-1][1]) != _SIGNATURE_LENGTH:
        raise MacaroonError("v1 macaroon must end with a 32-byte signature")
    return packets


def check_macaroon(serialised: object) -> None:
    """Raise MacaroonError unless ``serialised`` is a base64 v1 or v2 macaroon."""
    if not isinstance(serialised, str) or not serialised:
        raise MacaroonError("macaroon missing")
    try:
        raw = b64_any(serialised)
    except ValueError as exc:
        raise MacaroonError("macaroon is not base64") from exc
    if raw[:1] == b"\x02":
        if len(parse_v2(raw).signature) != _SIGNATURE_LENGTH:
            raise MacaroonError("signature is not 32 bytes")
    else:
        parse_v1(raw)


def _judge_document(document: Any) -> StructureResult:
    kind = document.get("t") if isinstance(document, dict) else None
    value = document.get("v") if isinstance(document, dict) else None
    if kind == "u1-macaroon":
        if not isinstance(value, dict):
            raise MacaroonError("'v' holds no root and discharge")
        check_macaroon(value.get("r"))
        check_macaroon(value.get("d"))
        return StructureResult(
            Liveness.LIVE_LOOKING, reason="root and discharge macaroons parse", scope=_SCOPE, breadth=Breadth.ACCOUNT
        )
    if kind == "macaroon":
        # Candid exports: the macaroon serialisation inside is not pinned down
        # (UNCONFIRMED), so only its presence and alphabet are checked.
        if not isinstance(value, str) or not _CANDID_VALUE.fullmatch(value):
            raise MacaroonError("'v' holds no serialised macaroon")
        return StructureResult(
            Liveness.LIVE_LOOKING, reason="Candid login document parses", scope=_SCOPE, breadth=Breadth.ACCOUNT
        )
    raise MacaroonError("not a u1-macaroon or Candid login document")


class SnapcraftLogin(Validator):
    """``snapcraft export-login`` output: base64 JSON whose macaroons parse."""

    structured = True

    name = "snapcraft-login"

    def check(self, secret: str) -> StructureResult:
        try:
            document = json.loads(b64_any(secret))
            return _judge_document(document)
        except (ValueError, UnicodeDecodeError, MacaroonError) as exc:
            return StructureResult(Liveness.FAKE, reason=f"malformed login: {exc} (truncated?)")
