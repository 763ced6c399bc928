"""Terminal escape sequences in logs: removing them from a whole log fast
(on its UTF-8 bytes), and from one line with a map back to the original
columns.

Every pattern here is ASCII and stays within one line (none can match a
``\\n``), so removing them from a whole text keeps its line count: line N of
the result is line N of the original with the same removals applied, and the
bytes and text versions of a pattern remove the same characters.
"""

from __future__ import annotations

import re

# Jenkins "console notes": a serialized, gzipped Java object between
# ``ESC[8mha:`` and ``ESC[0m``, hidden from people by the conceal attribute.
# It is markup, not output, and its base64 would only feed the decoders noise.
_NOTE = r"\x1b\[8mha:[^\x1b\n]*\x1b\[0m"

# ECMA-48 escape sequences, in explicit ASCII ranges (much faster than
# \d-style classes):
#   CSI        ESC [ params intermediates final   (colours, erase line: ESC[32m, ESC[0K)
#   OSC / APC / DCS / PM / SOS, terminated by BEL or ST
#              (hyperlinks ESC]8;;url BEL, Buildkite timestamps ESC_bk;t=... BEL)
#   nF / Fp / Fe two- and three-byte escapes       (ESC(B, ESC=, ESC7)
# An OSC without terminator on its line falls to the last branch, which
# removes only "ESC ]": nothing printable is ever lost.
_ESCAPE = r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[\]_P^X][^\x07\x1b\n]*(?:\x07|\x1b\\)|[ -/]*[0-~])"

JENKINS_NOTE = re.compile(_NOTE)
ESCAPE = re.compile(_ESCAPE)
JENKINS_NOTE_BYTES = re.compile(_NOTE.encode())
ESCAPE_BYTES = re.compile(_ESCAPE.encode())


def strip_escapes(text: str) -> str:
    """``text`` without escape sequences (and Jenkins console notes)."""
    if "\x1b" not in text:
        return text
    if "\x1b[8mha:" in text:
        text = JENKINS_NOTE.sub("", text)
    return ESCAPE.sub("", text)


def strip_escape_bytes(data: bytes, *, notes: bool = True) -> bytes:
    """:func:`strip_escapes` on UTF-8 bytes (``notes``: look for Jenkins
    console notes too; a pass over the data saved where none can be)."""
    if b"\x1b" not in data:
        return data
    if notes and b"\x1b[8mha:" in data:
        data = JENKINS_NOTE_BYTES.sub(b"", data)
    return ESCAPE_BYTES.sub(b"", data)


class MappedLine:
    """One line being rewritten, remembering for each remaining character the
    column (0-based) it had in the original line."""

    __slots__ = ("positions", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions: list[int] = list(range(len(text)))

    def remove(self, pattern: re.Pattern[str], *, at_start: bool = False) -> re.Match[str] | None:
        """Delete every match of ``pattern`` (only one at column 0 when
        ``at_start``); return the first match."""
        if at_start:
            first = pattern.match(self.text)
            matches = [first] if first is not None and first.end() > 0 else []
        else:
            matches = [m for m in pattern.finditer(self.text) if m.end() > m.start()]
        if not matches:
            return None
        kept_text: list[str] = []
        kept_positions: list[int] = []
        cursor = 0
        for found in matches:
            start, end = found.span()
            kept_text.append(self.text[cursor:start])
            kept_positions.extend(self.positions[cursor:start])
            cursor = end
        kept_text.append(self.text[cursor:])
        kept_positions.extend(self.positions[cursor:])
        self.text = "".join(kept_text)
        self.positions = kept_positions
        return matches[0]

    def strip_escapes(self, *, notes: bool = True) -> None:
        """The per-line twin of :func:`strip_escape_bytes`."""
        if "\x1b" not in self.text:
            return
        if notes and "\x1b[8mha:" in self.text:
            self.remove(JENKINS_NOTE)
        self.remove(ESCAPE)

    def original_column(self, column: int, original_length: int) -> int:
        """The 0-based original column of 0-based ``column`` in the rewritten
        line (the end of the original line past the last character)."""
        if column < len(self.positions):
            return self.positions[column]
        return original_length
