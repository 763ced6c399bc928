"""Mapping positions in normalized text back to where they came from.

A source that rewrites what it reads before matching (ANSI codes and runner
prefixes stripped from a CI log, markup removed from a chat message, many
messages joined into one chunk) gives its chunk a Locator: anchor points that
say, for an offset in the text the detector saw, which place it came from
(provenance) and which original line and column it was.

Between two anchors the text is taken as copied verbatim: each character
after an anchor is one column further, and each ``\\n`` starts a new line at
column 1. A source adds an anchor wherever that stops being true (after a
removed span, at each message) — nothing more, so locators stay small.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from scanner.model import Chunk, Match, Provenance


class Placer(Protocol):
    """Anything that can place an offset of a chunk's text. Locator is the
    general one; a source may bring its own (a CI log reads the timestamp of
    the original line only for the lines that matched)."""

    def place(self, text: str, offset: int) -> tuple[Provenance, int, int]: ...


@dataclass(frozen=True)
class Anchor:
    """From ``offset`` in the normalized text on, text comes from
    ``provenances[place]`` starting at ``line``:``column`` (1-based)."""

    offset: int
    line: int
    column: int
    place: int = 0


@dataclass(frozen=True)
class Locator:
    """Anchors (ascending offsets) and the provenances they refer to."""

    anchors: tuple[Anchor, ...]
    provenances: tuple[Provenance, ...]
    _offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_offsets", tuple(a.offset for a in self.anchors))

    def place(self, text: str, offset: int) -> tuple[Provenance, int, int]:
        """(provenance, line, column) of ``offset`` in ``text``."""
        index = bisect.bisect_right(self._offsets, offset) - 1
        if index < 0:
            return self.provenances[0], 1, offset + 1
        anchor = self.anchors[index]
        newlines = text.count("\n", anchor.offset, offset)
        if newlines:
            column = offset - text.rfind("\n", anchor.offset, offset)
        else:
            column = anchor.column + (offset - anchor.offset)
        return self.provenances[anchor.place], anchor.line + newlines, column


class LocatorBuilder:
    """Collects normalized text and anchors piece by piece.

    ``add(text, provenance, line, column)`` appends text that came verbatim
    from that place; ``add_synthetic(text)`` appends text with no place of its
    own (a separator between messages), which keeps the previous anchor.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._anchors: list[Anchor] = []
        self._places: dict[Provenance, int] = {}
        self._provenances: list[Provenance] = []
        self._last: tuple[int, int, int, int] | None = None  # (offset, line, column, place) expected next

    def add(self, text: str, provenance: Provenance, line: int, column: int) -> None:
        if not text:
            return
        place = self._places.get(provenance)
        if place is None:
            place = self._places[provenance] = len(self._provenances)
            self._provenances.append(provenance)
        # Skip the anchor when this piece simply continues the previous one.
        if self._last != (self._length, line, column, place):
            self._anchors.append(Anchor(self._length, line, column, place))
        self._parts.append(text)
        self._length += len(text)
        newlines = text.count("\n")
        if newlines:
            end_line, end_column = line + newlines, len(text) - text.rfind("\n")
        else:
            end_line, end_column = line, column + len(text)
        self._last = (self._length, end_line, end_column, place)

    def add_synthetic(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)
        self._last = None

    @property
    def length(self) -> int:
        return self._length

    def text(self) -> str:
        return "".join(self._parts)

    def locator(self) -> Locator:
        if not self._provenances:
            raise ValueError("a locator needs at least one placed piece")
        return Locator(tuple(self._anchors), tuple(self._provenances))


class PlacedOffsets:
    """The places of the few offsets a worker process matched at, resolved
    there (where the original text is) and carried back with the matches."""

    __slots__ = ("_places",)

    def __init__(self, places: dict[int, tuple[Provenance, int, int]]) -> None:
        self._places = places

    def place(self, text: str, offset: int) -> tuple[Provenance, int, int]:
        return self._places[offset]


def without_content(chunk: Chunk, matches: Sequence[Match]) -> Chunk:
    """``chunk`` made small enough to send back from a worker process: no
    content, and instead of its locator (which may hold megabytes of original
    log) the places of just the offsets its matches need."""
    placer = chunk.locator
    if placer is None:
        return replace(chunk, content="")
    places: dict[int, tuple[Provenance, int, int]] = {}
    for match in matches:
        for offset in (match.start, max(match.start, match.end - 1)):
            if offset not in places:
                places[offset] = placer.place(chunk.content, offset)
    return replace(chunk, content="", locator=PlacedOffsets(places))
