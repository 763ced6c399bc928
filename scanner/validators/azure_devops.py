"""Azure DevOps personal access tokens (registry-credentials.md sections 1 and 12).

Legacy 52-character base32 PATs carry a CRC-32 XORed with a seed (user or
application token); 84-character "legacy CASK" PATs end in a Marvin32 checksum
seeded from the literal ``Default0``. Both follow microsoft/security-utilities
(``SEC101_102_AdoPat.cs``; ``LegacyCommonAnnotatedSecurityKey.TryCreate``).
The base64 form written to ``.npmrc`` ``_password=`` is unwrapped first.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator
from scanner.validators.checksums import BASE62_ALPHABET

USER_PAT_SEED = 0xE0B9692D
APPLICATION_PAT_SEED = 0x1019F92E
# IdentifiableSecrets.ComputeHisV1ChecksumSeed("Default0"): the ASCII bytes
# reversed, read as a little-endian uint64 - i.e. the bytes read big-endian.
CASK_CHECKSUM_SEED = int.from_bytes(b"Default0", "big")

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_LEGACY = re.compile(r"[a-z2-7]{52}")
# 52 random, JQQJ99, year + month, 12 platform + 4 provider-reserved
# characters (issued PATs carry AAAS there, not the AAAA of the fact sheet's
# regex), the AZDO signature and 4 checksum characters.
_CASK = re.compile(r"[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9][A-L][A-Za-z0-9]{16}AZDO[A-Za-z0-9]{4}")
_MASK32 = 0xFFFFFFFF


def base32_bytes(text: str) -> bytes:
    """RFC 4648 base32 (either case) into ``len * 5 // 8`` bytes, dropping the
    spare trailing bits, as the reference ``ConvertFromBase32`` does."""
    number = 0
    for char in text.lower():
        index = _BASE32.find(char)
        if index < 0:
            raise ValueError(f"{char!r} is not base32")
        number = number << 5 | index
    spare = len(text) * 5 % 8
    return (number >> spare).to_bytes(len(text) * 5 // 8, "big")


def legacy_pat_kind(pat: str) -> str | None:
    """'user' or 'application' when the 52-character PAT's embedded checksum
    matches that seed, else None."""
    b = base32_bytes(pat)[:32]
    data = b[0:2] + b[3:7] + b[9:22] + b[23:32]
    stored = int.from_bytes(bytes((b[22], b[8], b[7], b[2])), "little")
    crc = zlib.crc32(data)
    for kind, seed in (("user", USER_PAT_SEED), ("application", APPLICATION_PAT_SEED)):
        if stored == crc ^ seed:
            return kind
    return None


def _rotl(value: int, shift: int) -> int:
    return (value << shift | value >> (32 - shift)) & _MASK32


def _block(p0: int, p1: int) -> tuple[int, int]:
    p1 ^= p0
    p0 = _rotl(p0, 20)
    p0 = (p0 + p1) & _MASK32
    p1 = _rotl(p1, 9)
    p1 ^= p0
    p0 = _rotl(p0, 27)
    p0 = (p0 + p1) & _MASK32
    p1 = _rotl(p1, 19)
    return p0, p1


def marvin64(data: bytes, seed: int) -> int:
    """Marvin32's 64-bit result, ``p1 << 32 | p0`` (SymCrypt marvin32.c, .NET Marvin.cs)."""
    p0, p1 = seed & _MASK32, seed >> 32 & _MASK32
    whole = len(data) & ~3
    for offset in range(0, whole, 4):
        p0 = (p0 + int.from_bytes(data[offset : offset + 4], "little")) & _MASK32
        p0, p1 = _block(p0, p1)
    # The 0-3 leftover bytes, then a 0x80 marker byte, padded to one word.
    tail = data[whole:] + b"\x80"
    p0 = (p0 + int.from_bytes(tail.ljust(4, b"\0"), "little")) & _MASK32
    p0, p1 = _block(p0, p1)
    p0, p1 = _block(p0, p1)
    return p1 << 32 | p0


def marvin32(data: bytes, seed: int) -> int:
    """``Marvin.ComputeHash32``: the two halves of the 64-bit hash XORed (unsigned)."""
    value = marvin64(data, seed)
    return (value >> 32) ^ (value & _MASK32)


def base62_of_bytes(data: bytes) -> str:
    """Base62.Net's ``byte[].ToBase62()``: the bytes as one big-endian number in
    0-9A-Za-z, plus one '0' per leading zero byte (at most len - 1)."""
    number = int.from_bytes(data, "big")
    digits = ""
    while True:
        number, remainder = divmod(number, 62)
        digits = BASE62_ALPHABET[remainder] + digits
        if not number:
            break
    zeros = min(len(data) - len(data.lstrip(b"\0")), len(data) - 1)
    return "0" * zeros + digits


def cask_checksum_ok(key: str) -> bool:
    """The last 4 characters of an 84-character key are the leading characters
    of the Marvin32 checksum of the first 60 decoded bytes (= first 80
    characters), its 4 little-endian bytes written in base62 or in base64:
    the reference accepts both, and issued PATs use both."""
    raw = base64.b64decode(key, validate=True)
    checksum = marvin32(raw[:60], CASK_CHECKSUM_SEED).to_bytes(4, "little")
    tail = key[80:]
    return base64.b64encode(checksum).decode("ascii")[:4] == tail or base62_of_bytes(checksum).startswith(tail)


def _cask_created(key: str) -> str:
    """Creation month from the two date characters (year: 'A' = 2024; month A-L)."""
    year, month = key[58], key[59]
    if not "A" <= year <= "Z":
        return ""
    return f" (created {2024 + ord(year) - ord('A')}-{ord(month) - ord('A') + 1:02d})"


_SCOPE = "the scopes chosen at creation (Packaging read & write publishes to Azure Artifacts feeds)"


def _judge_raw(pat: str, wrapped: str) -> StructureResult:
    if _LEGACY.fullmatch(pat):
        kind = legacy_pat_kind(pat)
        if kind is None:
            return StructureResult(
                Liveness.FAKE, reason=f"CRC-32 checksum does not match{wrapped} (fabricated or mistyped)"
            )
        label = "personal access token" if kind == "user" else "application token"
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason=f"{kind}-token checksum valid{wrapped}",
            scope=f"Azure DevOps {label} (52-character format): {_SCOPE}",
            breadth=Breadth.ACCOUNT,
        )
    if _CASK.fullmatch(pat):
        if not cask_checksum_ok(pat):
            return StructureResult(
                Liveness.FAKE, reason=f"Marvin32 checksum does not match{wrapped} (fabricated or mistyped)"
            )
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason=f"Marvin32 checksum valid{wrapped}",
            scope=f"Azure DevOps personal access token{_cask_created(pat)}: {_SCOPE}",
            breadth=Breadth.ACCOUNT,
        )
    return StructureResult(Liveness.FAKE, reason=f"not a 52- or 84-character Azure DevOps PAT{wrapped} (truncated?)")


class AzureDevOpsPat(Validator):
    """Azure DevOps PAT, raw or base64-wrapped (``.npmrc`` ``_password``):
    CRC-32^seed for 52-character tokens, Marvin32 for 84-character ones."""

    name = "azure-devops-pat"

    def check(self, secret: str) -> StructureResult:
        if len(secret) in (52, 84):
            return _judge_raw(secret, "")
        try:
            inner = base64.b64decode(secret, validate=True).decode("ascii")
        except (binascii.Error, ValueError):
            return StructureResult(Liveness.FAKE, reason="neither a PAT nor base64 of one (truncated?)")
        return _judge_raw(inner, " (inside base64)")
