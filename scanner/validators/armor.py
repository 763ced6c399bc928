"""Undoing the ways a multi-line key block gets squeezed into one value.

CI variables, .env files and JSON hold PEM/armor blocks with ``\\n`` escapes,
YAML indents them, and people paste ``base64 -w0 key.asc`` into secrets; the
key validators (pgp, cosign) see the block as it stood in the file.
"""

from __future__ import annotations

import base64
import binascii
import re

_ESCAPED_NEWLINE = re.compile(r"(?:\\+r)?\\+n|\\+r")


def unescape_block(text: str) -> str:
    """``\\n`` escapes (also doubled, ``\\\\n``) become newlines, JSON's ``\\/``
    becomes ``/``, and CRLF becomes LF."""
    text = _ESCAPED_NEWLINE.sub("\n", text)
    return text.replace("\\/", "/").replace("\r\n", "\n").replace("\r", "\n")


def unwrap_base64(text: str, marker: str) -> str | None:
    """The text inside a base64-wrapped block (one line, or wrapped lines),
    or None when it does not decode to something holding ``marker``.

    Up to three trailing lines are dropped on later tries: short base64-looking
    words right after a wrapped value (``done``, ``fi``) can be caught with it.
    """
    pieces = text.split()
    for count in range(len(pieces), max(len(pieces) - 4, 0), -1):
        compact = "".join(pieces[:count])
        if not compact:
            break
        try:
            decoded = base64.b64decode(compact + "=" * (-len(compact) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if marker in decoded:
            return decoded
    return None
