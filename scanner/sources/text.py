"""Turning raw bytes into scannable text, and content digests.

Binary detection and decoding live here so every source (files, archive
members, later git blobs) treats bytes the same way.
"""

from __future__ import annotations

import codecs
import hashlib

# How much of the start of a blob is inspected to call it binary.
_SNIFF_BYTES = 8192

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def content_digest(data: bytes) -> str:
    """Stable identifier of some content, used to scan identical content once."""
    return hashlib.sha256(data).hexdigest()


def _utf16_without_bom(head: bytes) -> str | None:
    """Recognise BOM-less UTF-16 (PowerShell and Windows tools write it): ASCII
    text then has a NUL in every other byte."""
    sample = head[: _SNIFF_BYTES - (_SNIFF_BYTES % 2)]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.9 * half and even_nuls < 0.1 * half:
        return "utf-16-le"
    if even_nuls > 0.9 * half and odd_nuls < 0.1 * half:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> str | None:
    """Decode ``data`` as text, or return None when it looks binary.

    UTF-8 is assumed; invalid bytes become U+FFFD (one character each way, so
    columns stay meaningful). A byte-order mark selects UTF-16/32.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        utf16 = _utf16_without_bom(head)
        if utf16 is None:
            return None
        return data.decode(utf16, errors="replace")
    return data.decode("utf-8", errors="replace")
