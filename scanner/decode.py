"""Finds encoded text in a chunk (base64, percent-escapes, JSON string escapes,
HTML entities) and decodes it, with a map back to the encoded text, so that a
credential hidden inside is reported where the encoded text stands.
"""

from __future__ import annotations

import binascii
import codecs
import html.entities
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import overload

import regex

# How many encodings deep the engine looks: base64 in JSON in base64 (a k8s
# .dockerconfigjson holding an "auth") is two.
MAX_DEPTH = 2
# Per chunk, over every depth: at most this many regions, and at most
# min(DECODED_FACTOR x chunk length, MAX_DECODED_CHARS) decoded characters.
MAX_REGIONS = 4096
DECODED_FACTOR = 4
MAX_DECODED_CHARS = 16 * 1024 * 1024

ENCODINGS = ("base64", "percent", "json", "html")

# Base64 shorter than this is not looked for (24 bytes: the shortest token
# formats alone); longer than MAX_BASE64_RUN is decoded in pieces.
MIN_BASE64_RUN = 32
MAX_BASE64_RUN = 64 * 1024
# Base64 runs are found from these characters (each with 16 letters and
# digits beside it that read as base64 of text): rare in prose, code and logs,
# yet found so in every base64 of a bare token or docker config and in all
# but ~0.1% of base64 "user:token" (~1% for short GitLab tokens; measured in
# tests/test_decode.py). Finding them is a memchr each. Searching every chunk
# for runs, or for the base64 of every keyword at three alignments (one
# str.find pass each), would cost more than the rest of the detector. Values
# a context rule captured (docker "auth", .npmrc _auth, ...) are decoded
# whether they hold an anchor or not.
BASE64_ANCHORS = "QXYZ"
# Decoded bytes must be text: at most one in this many control characters or
# invalid UTF-8 sequences (random bytes, hashes and images fail at once).
_MAX_BAD_FRACTION = 10
_MIN_DECODED_BYTES = 12


class OffsetMap(Sequence[int]):
    """Decoded index -> index in the parent text, for every index 0..len(text)
    (``len(self) == len(text) + 1``; the last entry is the region's end).

    Stored as breakpoints: between two, decoded and parent text advance
    together, so memory grows with the number of escapes, not the length.
    """

    def __init__(self, decoded: list[int], parent: list[int], length: int) -> None:
        self._decoded = decoded
        self._parent = parent
        self._length = length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        k = bisect_right(self._decoded, index) - 1
        return self._parent[k] + (index - self._decoded[k])

    def __repr__(self) -> str:
        return f"OffsetMap({len(self._decoded)} breakpoints, {self._length} entries)"


@dataclass(frozen=True)
class DecodedRegion:
    """Encoded text at ``start:end`` of ``parent`` and what it decodes to.

    ``offsets`` maps every decoded index back into the parent (character-level
    encodings; built on first use, as few regions ever hold a match). For
    base64, whose characters do not line up with the decoded ones, it is None
    and a match anywhere inside belongs to the whole region.
    """

    start: int
    end: int
    text: str = field(repr=False)  # may hold a secret: never in a repr
    encoding: str
    parent: str = field(repr=False, compare=False)

    @cached_property
    def offsets(self) -> OffsetMap | None:
        decoder = _CHAR_DECODERS_BY_NAME.get(self.encoding)
        if decoder is None:
            return None
        return decoder.offsets(self.parent, self.start, self.end)

    def parent_span(self, start: int, end: int) -> tuple[int, int]:
        """Where the decoded ``start:end`` came from in the parent."""
        offsets = self.offsets
        if offsets is None:
            return self.start, self.end
        return offsets[start], offsets[end]


class DecodeBudget:
    """What one chunk may still spend on decoding, shared by every depth."""

    def __init__(self, text_length: int) -> None:
        self.chars = min(DECODED_FACTOR * text_length, MAX_DECODED_CHARS)
        self.regions = MAX_REGIONS

    @property
    def spent(self) -> bool:
        return self.regions <= 0 or self.chars <= 0

    def take(self, decoded_length: int) -> bool:
        """Reserve room for one region; False (and nothing taken) if none is left."""
        if self.regions <= 0 or decoded_length > self.chars:
            return False
        self.regions -= 1
        self.chars -= decoded_length
        return True


def find_encoded_regions(
    text: str,
    budget: DecodeBudget | None = None,
    encodings: Collection[str] = ENCODINGS,
    *,
    hints: Sequence[tuple[int, int]] = (),
    keyword_hits: Collection[Sequence[int]] = (),
) -> list[DecodedRegion]:
    """Every region of ``text`` worth decoding, decoded, ordered by start.

    ``hints`` are spans a context rule captured as a credential value: each
    is decoded if it is base64, however short. ``keyword_hits`` hold where
    rule keywords stand in ``text`` (one list per keyword): escapes on those
    lines are decoded; elsewhere only escapes of token characters are.
    """
    # Most text holds none of the characters that start a search: answer
    # that with a memchr per character (this runs for every chunk).
    anchors = [a for a in BASE64_ANCHORS if a in text] if "base64" in encodings else []
    decoders = [d for d in _CHAR_DECODERS if d.char in text and d.name in encodings]
    if not anchors and not decoders and not hints:
        return []
    budget = budget if budget is not None else DecodeBudget(len(text))
    if budget.spent:
        return []
    regions: list[DecodedRegion] = []
    if anchors or (hints and "base64" in encodings):
        regions.extend(_base64_regions(text, anchors, hints, budget))
    keywords_at: list[int] | None = None  # merged once, and only when needed
    for decoder in decoders:
        if budget.spent:
            break
        if keywords_at is None:
            keywords_at = sorted(set(chain.from_iterable(keyword_hits)))
        regions.extend(_char_regions(text, decoder, keywords_at, budget))
    regions.sort(key=lambda r: (r.start, r.end))
    return regions


def _scan(
    text: str,
    char: str,
    pattern: re.Pattern[str],
    start: int,
    visit: Callable[[re.Match[str]], int],
    *,
    when_dense: bool = True,
) -> None:
    """Call ``visit`` on every match of ``pattern`` (which starts with
    ``char``) from ``start``; ``visit`` returns where to go on from.

    Sparse occurrences of ``char`` are found with str.find (a memchr) and
    tried one by one. Past one per _DENSE_RATE characters re's own scan is
    cheaper (about 0.5 us per Python step against 0.3-0.5 ns per character):
    it takes over, or, unless ``when_dense``, the search stops there.
    """
    find = text.find
    match_at = pattern.match
    position = find(char, start)
    steps = 0
    while position >= 0:
        steps += 1
        if steps > _DENSE_AFTER and steps * _DENSE_RATE > position - start:
            if not when_dense:
                return
            search = pattern.search
            found = search(text, position)
            while found is not None:
                found = search(text, max(visit(found), found.start() + 1))
            return
        found = match_at(text, position)
        position = find(char, max(visit(found), position + 1) if found is not None else position + 1)


_DENSE_RATE = 2000
_DENSE_AFTER = 8


# --- base64 -------------------------------------------------------------------

_B64 = "A-Za-z0-9+/_-"  # both alphabets: a run may be standard or URL-safe
# The first character of each 4-character quantum holds the top six bits of
# a byte: for text (printable ASCII, tab, newline, the NUL of UTF-16) one of
# these 27 of the 64; random bytes put more than half of them elsewhere.
_TEXT_LEADS = b"ACDIJKLMNOPQRSTUVWXYZabcdef"


def _anchor_pattern(anchor: str) -> re.Pattern[str]:
    """``anchor`` with 16 letters and digits on one side that read as four
    quanta of base64 of text at one of the four alignments.

    True of nearly every anchor in base64 of text (its + / - _ are rare);
    false of the Q in QUERY, the Z of a timestamp, paths, snake_case, and of
    six in seven anchors in base64 of random bytes (hashes, images): re
    rejects those in C, before any Python step.
    """
    lead, alnum = "[ACDI-Za-f]", "[A-Za-z0-9]"
    quanta = f"(?:{lead}{alnum}{{3}}){{3}}{lead}"
    after = f"(?={alnum}{{16}})(?={alnum}{{0,3}}?{quanta})"
    # Lookbehinds are fixed-width: one per alignment, after a cheap test.
    alignments = "|".join(f"(?<={alnum * k}{quanta}{alnum * (3 - k)}{anchor})" for k in range(4))
    before = f"(?<={alnum}{{16}}{anchor})(?:{alignments})"
    return re.compile(f"{anchor}(?:{after}|{before})")


_ANCHOR_PATTERNS = {a: _anchor_pattern(a) for a in BASE64_ANCHORS}
_RUN_FORWARD = re.compile(rf"[{_B64}]*")
_RUN_BACKWARD = regex.compile(rf"[{_B64}]*", regex.REVERSE)
# A value a context rule captured is decoded down to this length.
_MIN_HINTED_RUN = 16
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_SRI_PREFIXES = ("sha1-", "sha256-", "sha384-", "sha512-")
_CONTROL_BYTES = bytes([*range(9), 11, 12, *range(14, 32), 127])
_DROP_CONTROLS = dict.fromkeys(_CONTROL_BYTES)


def _base64_regions(
    text: str, anchors: list[str], hints: Sequence[tuple[int, int]], budget: DecodeBudget
) -> Iterator[DecodedRegion]:
    runs = _Runs(text)
    for anchor in anchors:
        _scan(text, anchor, _ANCHOR_PATTERNS[anchor], 0, runs.visit)
    for start, end in hints:
        if end - start >= _MIN_HINTED_RUN:
            runs.hint(start)
    for start, end in runs.candidates():
        region = _decode_base64_run(text, start, end)
        if region is not None:
            if not budget.take(len(region.text)):
                return  # spent: the rest of the chunk stays as written
            yield region


class _Runs:
    """The base64 runs of one text looked at so far: disjoint, each at most
    MAX_BASE64_RUN long (a longer run is looked at in pieces)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] = []
        self._ends: dict[int, int] = {}
        self._hinted: set[int] = set()

    def visit(self, hit: re.Match[str]) -> int:
        return self.end_after(hit.start())

    def end_after(self, position: int) -> int:
        """The end of the run holding ``position``, found first if need be."""
        k = bisect_right(self._starts, position)
        if k:
            end = self._ends[self._starts[k - 1]]
            if position < end:
                return end
        return self._expand(position, k)

    def hint(self, position: int) -> None:
        self.end_after(position)
        self._hinted.add(self._starts[bisect_right(self._starts, position) - 1])

    def candidates(self) -> list[tuple[int, int]]:
        """Runs worth decoding, in text order (the budget goes to the first)."""
        return [
            (start, self._ends[start])
            for start in self._starts
            if self._ends[start] - start >= MIN_BASE64_RUN
            or (start in self._hinted and self._ends[start] - start >= _MIN_HINTED_RUN)
        ]

    def _expand(self, position: int, k: int) -> int:
        floor = self._ends[self._starts[k - 1]] if k else 0
        ceiling = self._starts[k] if k < len(self._starts) else len(self.text)
        backward = _RUN_BACKWARD.match(self.text, max(floor, position - MAX_BASE64_RUN), position)
        forward = _RUN_FORWARD.match(self.text, position, min(ceiling, position + MAX_BASE64_RUN))
        start = backward.start() if backward is not None else position
        end = max(forward.end() if forward is not None else position, position + 1)
        self._starts.insert(k, start)
        self._ends[start] = end
        return end


def _decode_base64_run(text: str, start: int, end: int) -> DecodedRegion | None:
    # Subresource-integrity hashes fill lockfiles: base64 of a digest.
    if text.startswith(_SRI_PREFIXES, start):
        return None
    run = text[start:end]
    # Hex digests, SNAKE_CASE and lower-case paths are single-case; paths and
    # identifiers are full of / _ -. Base64 of text has mixed case and few.
    if run.islower() or run.isupper():
        return None
    chars = run.encode("ascii")
    if len(chars) - len(chars.translate(None, b"+/-_")) > len(chars) // 10 + 1:
        return None
    if b"-" in chars or b"_" in chars:
        chars = chars.translate(_TO_STANDARD)
    padding = 0
    while padding < 2 and end + padding < len(text) and text[end + padding] == "=":
        padding += 1
    # The run may carry a prefix that is not base64 (sha512-, a key glued on):
    # try each alignment whose quanta look like text; it decodes at one at most.
    for phase in range(4):
        leads = chars[phase::4]
        if len(leads.translate(None, _TEXT_LEADS)) * 4 > len(leads):
            continue
        body = chars[phase:]
        body = body[: len(body) - 1] if len(body) % 4 == 1 else body
        try:
            raw = binascii.a2b_base64(body + b"=" * (-len(body) % 4))
        except binascii.Error:
            continue
        decoded = _as_text(raw)
        if decoded is not None:
            return DecodedRegion(start + phase, end + padding, decoded, "base64", text)
    return None


def _as_text(raw: bytes) -> str | None:
    """``raw`` as text if it is mostly printable UTF-8 (or UTF-16LE, as in
    PowerShell's -EncodedCommand), else None."""
    if len(raw) < _MIN_DECODED_BYTES:
        return None
    if raw[1::2].count(0) * 10 >= len(raw) // 2 * 9:
        decoded = raw.decode("utf-16-le", "replace")
        bad = len(decoded) - len(decoded.translate(_DROP_CONTROLS)) + decoded.count("\ufffd")
        return decoded if bad * _MAX_BAD_FRACTION <= len(decoded) else None
    bad = len(raw) - len(raw.translate(None, _CONTROL_BYTES))
    if bad * _MAX_BAD_FRACTION > len(raw):
        return None
    if raw.isascii():
        return raw.decode("ascii")
    decoded = raw.decode("utf-8", "replace")
    bad += decoded.count("\ufffd")
    return decoded if bad * _MAX_BAD_FRACTION <= len(decoded) else None


# --- character-level encodings ----------------------------------------------

# Escapes are decoded on a line (at most _REACH either side of them) when the
# line holds a rule keyword as written, or when one stands for a token
# character (letter, digit, _ or -) next to another (&#x6e;pm_..., npm%5F...):
# no real encoder escapes those, so they may hide a keyword (looked for where
# escapes are sparse). A line that follows within _MERGE_GAP joins the
# region, up to _MAX_CHAR_REGION.
_REACH = 1024
_MERGE_GAP = 512
_MAX_CHAR_REGION = 16 * 1024
_CUT_AT = " \t\"'<>"
# Hex and decimal forms of the code points of 0-9 A-Z a-z _ -.
_TOKEN_HEX = r"(?:3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|2[Dd])"
_TOKEN_DEC = r"(?:4[589]|5[0-7]|6[5-9]|[78][0-9]|9[057-9]|1[01][0-9]|12[0-2])"


class _Builder:
    """Decoded text and its OffsetMap, from verbatim stretches and decoded
    escapes appended left to right."""

    def __init__(self, text: str, start: int) -> None:
        self._text = text
        self._pieces: list[str] = []
        self._decoded = [0]
        self._parent = [start]
        self._length = 0
        self.cursor = start  # parent position consumed so far

    def copy_to(self, position: int) -> None:
        if position > self.cursor:
            self._pieces.append(self._text[self.cursor : position])
            self._length += position - self.cursor
            self.cursor = position

    def replace(self, escape_end: int, chars: str) -> None:
        """``text[cursor:escape_end]`` decodes to ``chars``; each of them maps
        to the start of the escape."""
        for j in range(len(chars)):
            self._point(self._length + j, self.cursor)
        self._pieces.append(chars)
        self._length += len(chars)
        self.cursor = escape_end
        self._point(self._length, escape_end)

    def finish(self, end: int) -> tuple[str, OffsetMap]:
        self.copy_to(end)
        return "".join(self._pieces), OffsetMap(self._decoded, self._parent, self._length + 1)

    def _point(self, decoded: int, parent: int) -> None:
        if self._parent[-1] + (decoded - self._decoded[-1]) == parent:
            return  # already where the previous breakpoint puts it
        if self._decoded[-1] == decoded:
            self._parent[-1] = parent
        else:
            self._decoded.append(decoded)
            self._parent.append(parent)


@dataclass(frozen=True)
class _CharDecoder:
    """One character-level encoding: ``escape`` finds every escape (its
    matches are decoded by ``chars``), ``hiding`` the escapes of token
    characters. Both start with ``char``."""

    name: str
    char: str
    escape: re.Pattern[str]
    hiding: re.Pattern[str]
    chars: Callable[[re.Match[str]], str | None]  # None: not an escape after all
    # For the map: (end, chars) pieces of one match when it holds several
    # escapes (a run of %XX); by default the whole match is one piece.
    pieces: Callable[[re.Match[str]], list[tuple[int, str]]] | None = None

    def decode(self, text: str, start: int, end: int) -> str:
        return self.escape.sub(self._replacement, text[start:end])

    def offsets(self, text: str, start: int, end: int) -> OffsetMap:
        """The same decoding as ``decode``, with its map (slower)."""
        out = _Builder(text, start)
        for match in self.escape.finditer(text, start, end):
            if self.pieces is not None:
                parts = self.pieces(match)
            else:
                chars = self.chars(match)
                parts = [] if chars is None else [(match.end(), chars)]
            if parts:
                out.copy_to(match.start())
            for piece_end, chars in parts:
                out.replace(piece_end, chars)
        return out.finish(end)[1]

    def _replacement(self, match: re.Match[str]) -> str:
        chars = self.chars(match)
        return match.group() if chars is None else chars


def _percent_chars(match: re.Match[str]) -> str:
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8", "replace")


def _percent_pieces(match: re.Match[str]) -> list[tuple[int, str]]:
    """One piece per character: each escape, or the escapes of one multi-byte
    UTF-8 character (decoded as _percent_chars decodes the whole run)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    raw = bytes.fromhex(match.group().replace("%", ""))
    pieces = []
    for index in range(len(raw)):
        chars = decoder.decode(raw[index : index + 1], final=index == len(raw) - 1)
        if chars:
            pieces.append((match.start() + 3 * (index + 1), chars))
    return pieces


_JSON_SIMPLE = {"/": "/", '"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_chars(match: re.Match[str]) -> str:
    high, low, code, simple = match.groups()
    if simple is not None:
        return _JSON_SIMPLE[simple]
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    value = int(code, 16)
    return "\ufffd" if 0xD800 <= value <= 0xDFFF else chr(value)


def _html_chars(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return html.entities.html5.get(name + ";")  # None: not an entity, left as written
    value = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return "\ufffd"
    return chr(value)


_CHAR_DECODERS = (
    _CharDecoder(
        "percent",
        "%",
        re.compile(r"(?:%[0-9A-Fa-f]{2})+"),
        re.compile(rf"%{_TOKEN_HEX}(?=[A-Za-z0-9_-]|%[0-9A-Fa-f]{{2}})"),
        _percent_chars,
        _percent_pieces,
    ),
    _CharDecoder(
        "json",
        "\\",
        re.compile(
            r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
            r'|\\u([0-9a-fA-F]{4})|\\([/"\\bfnrt])'
        ),
        re.compile(rf"\\u00{_TOKEN_HEX}(?=[A-Za-z0-9_-]|\\u[0-9A-Fa-f]{{4}})"),
        _json_chars,
    ),
    _CharDecoder(
        "html",
        "&",
        re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));"),
        re.compile(rf"&#(?:[xX]0*{_TOKEN_HEX}|0*{_TOKEN_DEC});(?=[A-Za-z0-9_-]|&#)"),
        _html_chars,
    ),
)
_CHAR_DECODERS_BY_NAME = {decoder.name: decoder for decoder in _CHAR_DECODERS}


def _char_regions(
    text: str, decoder: _CharDecoder, keywords_at: Sequence[int], budget: DecodeBudget
) -> Iterator[DecodedRegion]:
    first = text.find(decoder.char)
    spans = _keyword_lines_with_escapes(text, decoder, keywords_at, first)

    def add_line(match: re.Match[str]) -> int:
        spans.append(_around(text, match.start(), match.end()))
        return spans[-1][1]

    # Escapes of token characters are an obfuscation, rare anywhere: they
    # are not looked for where the escape character is dense (source code
    # full of % or \\, entity-heavy HTML), whose keyword lines still count.
    _scan(text, decoder.char, decoder.hiding, first, add_line, when_dense=False)
    for start, end in _merged(spans):
        decoded = decoder.decode(text, start, end)
        if decoded != text[start:end]:
            if not budget.take(len(decoded)):
                return
            yield DecodedRegion(start, end, decoded, decoder.name, text)


def _keyword_lines_with_escapes(
    text: str, decoder: _CharDecoder, keywords_at: Sequence[int], first: int
) -> list[tuple[int, int]]:
    """The lines around keywords that hold an escape of this encoding."""
    spans: list[tuple[int, int]] = []
    search = decoder.escape.search
    done = -1
    for position in keywords_at[bisect_left(keywords_at, first - _REACH) :]:
        if position < done:
            continue
        start, end = _around(text, position, position)
        if search(text, start, end) is not None:
            spans.append((start, end))
        done = end
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + _MERGE_GAP and end - merged[-1][0] <= _MAX_CHAR_REGION:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _around(text: str, start: int, end: int) -> tuple[int, int]:
    """The line holding ``start:end``, at most _REACH either side of it; a
    line cut short is cut at a space or quote so that no token is cut in two."""
    floor = max(0, start - _REACH)
    line_start = text.rfind("\n", floor, start) + 1
    if line_start == 0 and floor > 0:
        lowest = max(0, floor - 256)
        line_start = max(text.rfind(c, lowest, floor) for c in _CUT_AT) + 1 or floor
    ceiling = min(len(text), end + _REACH)
    line_end = text.find("\n", end, ceiling)
    if line_end < 0:
        line_end = ceiling
        if ceiling < len(text):
            cuts = [i for i in (text.find(c, ceiling, ceiling + 256) for c in _CUT_AT) if i >= 0]
            line_end = min(cuts) if cuts else ceiling
    return line_start, line_end
