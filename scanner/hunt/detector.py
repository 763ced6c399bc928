"""The detector ``sprawl hunt`` plugs into every source: it finds known values
in all their forms (variants.py), or, given only sha256 digests, hashes every
candidate a chunk offers (rule matches, runs of token characters and their
pieces, escaped and base64 text decoded) and reports those that hash to one.

Matches carry the found value as their secret and a synthetic rule id per
encoding (``hunt:raw``, ``hunt:base64``, ...), at the encoded copy's place.
"""

from __future__ import annotations

import binascii
import hashlib
import html
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from functools import partial
from urllib.parse import unquote, unquote_plus

from scanner.decode import MAX_DEPTH, DecodeBudget, find_encoded_regions
from scanner.engine import Detector
from scanner.hunt.variants import (
    BASE64,
    HEX,
    HTML_ESCAPED,
    IN_BASE64,
    JSON_ESCAPED,
    RAW,
    URL_ENCODED,
    ValueForms,
    classify,
    forms_of,
    rule_id,
    unescape_js,
)
from scanner.keywords import KeywordIndex
from scanner.model import Chunk, Match, Rule

# (start, end, encoding label, value), positions relative to the text searched.
_Span = tuple[int, int, str, str]
# What a prefilter hit stands for: (value index, "pattern" | "base64" | "hex", form index).
_Handler = tuple[int, str, int]

# sha256 mode: candidates are pieces of a run of non-space text between
# these separators, joined up to _MAX_PIECES at a time (a value may hold a
# few of them: "a.b", "x/y+z=="), between these lengths.
_SEPARATORS = re.compile(r"[:=@/\"'`,;&?#|\\()\[\]{}<>!.]")
_RUN = re.compile(r"\S+")
_MAX_PIECES = 12
_MIN_CANDIDATE = 6
_MAX_CANDIDATE = 2048
# Base64 runs worth decoding for candidates, and how deep (base64 of a JSON
# that holds base64, as a k8s .dockerconfigjson does).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
_BASE64_DEPTH = 2
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=")
# First characters of the 4-character quanta of base64 of text (printable
# ASCII, tab, newline): 27 of the 64 (as in scanner/decode.py).
_TEXT_LEADS = b"ACDIJKLMNOPQRSTUVWXYZabcdef"
# Decoded bytes count as text when at most one character in ten is not printable.
_MAX_UNPRINTABLE = 10


class HuntDetector(Detector):
    """Finds ``values`` raw and encoded; finds values hashing to ``digests``.

    ``rules`` serve the digest search only (every rule match is a candidate);
    a value search needs none. Picklable through ``worker_factory``, so the
    parallel sources run it in their worker processes unchanged.
    """

    def __init__(
        self,
        values: Sequence[str] = (),
        digests: Collection[str] = (),
        rules: Sequence[Rule] = (),
        *,
        regex_timeout: float = 5.0,
        on_error: Callable[[str], None] | None = None,
        decode_depth: int = MAX_DEPTH,
        accelerate: bool = True,
        vectorise: bool = True,
    ) -> None:
        super().__init__(
            rules,
            regex_timeout=regex_timeout,
            on_error=on_error,
            decode_depth=decode_depth,
            accelerate=accelerate,
            vectorise=vectorise,
        )
        self._values = tuple(values)
        self._digests = frozenset(d.lower() for d in digests)
        self._forms = [forms_of(value) for value in self._values]
        self._patterns = [re.compile(forms.pattern) for forms in self._forms]
        handlers: dict[str, list[_Handler]] = {}
        for index, forms in enumerate(self._forms):
            if forms.anchor:
                handlers.setdefault(forms.anchor, []).append((index, "pattern", 0))
            for number, form in enumerate(forms.base64):
                handlers.setdefault(form.stable.lower(), []).append((index, "base64", number))
            handlers.setdefault(forms.hex, []).append((index, "hex", 0))
        self._handlers = handlers
        self._literals = KeywordIndex(handlers, accelerate=accelerate, vectorise=vectorise)
        self._unanchored = [index for index, forms in enumerate(self._forms) if not forms.anchor]

    @property
    def worker_factory(self) -> Callable[..., Detector]:
        return partial(
            HuntDetector,
            self._values,
            tuple(sorted(self._digests)),
            tuple(self.rules),
            decode_depth=self._decode_depth,
            accelerate=self._accelerate,
            vectorise=self._vectorise,
        )

    def detect(self, chunk: Chunk) -> list[Match]:
        text = chunk.content
        spans: set[_Span] = set()
        if self._values:
            spans.update(self._find_values(text))
        if self._digests:
            spans.update(self._find_digests(chunk))
        return _located(text, sorted(spans), chunk.first_line)

    # ------------------------------------------------------------ by value

    def _find_values(self, text: str) -> list[_Span]:
        """Every copy in ``text``, then copies inside its base64 runs in forms
        the direct search cannot see (base64 of base64, escapes in base64)."""
        direct = self._search(text)
        found = list(direct)
        for region in find_encoded_regions(text, DecodeBudget(len(text)), encodings=("base64",)):
            for _, _, label, value in self._search(region.text):
                if label == RAW:
                    continue  # the direct base64 search found this copy already
                overlapping = any(
                    v == value and s < region.end and region.start < e for s, e, _, v in direct
                )
                if not overlapping:
                    found.append((region.start, region.end, label + IN_BASE64, value))
        return found

    def _search(self, text: str) -> list[_Span]:
        found: list[_Span] = []
        for literal, positions in self._literal_hits(text).items():
            for index, kind, number in self._handlers[literal]:
                forms, value = self._forms[index], self._values[index]
                for position in positions:
                    if kind == "pattern":
                        found.extend(self._around(text, index, position, len(literal)))
                    elif kind == "base64":
                        form = forms.base64[number]
                        if text.startswith(form.stable, position):
                            start, end = form.span(text, position)
                            found.append((start, end, form.label, value))
                    else:
                        piece = text[position : position + len(forms.hex)]
                        if piece in (forms.hex, forms.hex.upper()):
                            found.append((position, position + len(piece), HEX, value))
        for index in self._unanchored:
            value = self._values[index]
            for match in self._patterns[index].finditer(text):
                found.append((match.start(), match.end(), classify(match.group(), value), value))
        return found

    def _literal_hits(self, text: str) -> dict[str, list[int]]:
        """Where each prefilter literal stands in ``text`` (case-insensitive)."""
        lowered = text.lower()
        if len(lowered) == len(text):
            return self._literals.hits(lowered, len(text))
        # A few non-ASCII characters change length when lower-cased: the
        # positions would be off, so each literal is looked for on its own.
        hits: dict[str, list[int]] = {}
        for literal in self._handlers:
            positions = [m.start() for m in re.finditer(re.escape(literal), text, re.IGNORECASE | re.ASCII)]
            if positions:
                hits[literal] = positions
        return hits

    def _around(self, text: str, index: int, position: int, length: int) -> Iterator[_Span]:
        """Copies of value ``index`` (as written or escaped) that hold the
        anchor found at ``position``."""
        forms: ValueForms = self._forms[index]
        start = max(0, position - forms.reach_before)
        end = min(len(text), position + length + forms.reach_after)
        for match in self._patterns[index].finditer(text, start, end):
            if match.start() <= position < match.end():
                yield match.start(), match.end(), classify(match.group(), forms.value), forms.value

    # ------------------------------------------------------------ by digest

    def _find_digests(self, chunk: Chunk) -> list[_Span]:
        """Copies of values that hash to a digest. Candidates come from each
        distinct run of text once (logs and exports repeat most of theirs);
        a value found is then placed at every run that yields it."""
        text = chunk.content
        memo: dict[str, bool] = {}

        def hit(candidate: str) -> bool:
            known = memo.get(candidate)
            if known is None:
                digest = hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).hexdigest()
                known = memo[candidate] = digest in self._digests
            return known

        found: list[_Span] = []
        # Every rule match, found as written or inside encoded text.
        for match in super().detect(chunk):
            if hit(match.secret):
                label = RAW if text[match.start : match.end] == match.secret else BASE64
                found.append((match.start, match.end, label, match.secret))
        raw: set[str] = set()
        decoded: dict[str, set[tuple[str, str]]] = {}  # run -> (label, value)
        for word in set(_RUN.findall(text)):
            raw.update(word[start:end] for start, end in _pieces(word) if hit(word[start:end]))
            for label, plain in _unescaped(word):
                for value in _hits_in(plain, hit):
                    decoded.setdefault(word, set()).add((label, value))
        for run in set(_BASE64_RUN.findall(text)):
            for value in _base64_hits(run, hit, _BASE64_DEPTH):
                decoded.setdefault(run, set()).add((BASE64, value))
        for value in raw:
            found.extend((start, start + len(value), RAW, value) for start in _positions(text, value))
        for run, items in decoded.items():
            for start in _positions(text, run, whole=True):
                found.extend((start, start + len(run), label, value) for label, value in items)
        return found


def _positions(text: str, needle: str, *, whole: bool = False) -> Iterator[int]:
    """Every start of ``needle`` in ``text``; with ``whole``, only where it is
    not part of a longer run of non-space (or base64) characters."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if not whole or (_standalone(text, start - 1, needle[0]) and _standalone(text, end, needle[-1])):
            yield start
        start = text.find(needle, start + 1)


def _standalone(text: str, index: int, edge: str) -> bool:
    """Whether ``text[index]``, next to a run ending in ``edge``, ends that run."""
    if index < 0 or index >= len(text):
        return True
    beside = text[index]
    if beside.isspace():
        return True
    # A base64 run may stand glued to other text ('"auth":"...'): it ends
    # where the base64 alphabet does.
    return edge in _BASE64_CHARS and beside not in _BASE64_CHARS


def _hits_in(text: str, hit: Callable[[str], bool]) -> Iterator[str]:
    for word in _RUN.findall(text):
        for start, end in _pieces(word):
            if hit(word[start:end]):
                yield word[start:end]


def _pieces(word: str) -> Iterator[tuple[int, int]]:
    """Spans of ``word`` that start and end at a separator (or its ends),
    spanning at most _MAX_PIECES pieces, of a plausible secret length."""
    cuts = [m.start() for m in _SEPARATORS.finditer(word)]
    if not cuts:
        if _MIN_CANDIDATE <= len(word) <= _MAX_CANDIDATE:
            yield 0, len(word)
        return
    starts = [0, *(cut + 1 for cut in cuts)]
    ends = [*cuts, len(word)]
    for i, start in enumerate(starts):
        for j in range(i, min(i + _MAX_PIECES, len(ends))):
            length = ends[j] - start
            if length > _MAX_CANDIDATE:
                break
            if length >= _MIN_CANDIDATE:
                yield start, ends[j]
    if len(ends) > _MAX_PIECES and _MIN_CANDIDATE <= len(word) <= _MAX_CANDIDATE:
        yield 0, len(word)


def _unescaped(word: str) -> Iterator[tuple[str, str]]:
    """``word`` with its percent, JSON/JavaScript or HTML escapes undone, for
    each kind it holds."""
    if "%" in word:
        for decoded in {unquote(word), unquote_plus(word)}:
            if decoded != word:
                yield URL_ENCODED, decoded
    if "\\" in word:
        decoded = unescape_js(word)
        if decoded != word:
            yield JSON_ESCAPED, decoded
    if "&" in word:
        decoded = html.unescape(word)
        if decoded != word:
            yield HTML_ESCAPED, decoded


def _base64_hits(run: str, hit: Callable[[str], bool], depth: int) -> Iterator[str]:
    """Values hashing to a digest in what a base64 run decodes to, and, below
    ``depth``, in the base64 runs inside that."""
    if run.isalnum() and (run.islower() or run.isupper()):
        return  # hex digests, words: base64 of text mixes cases
    decoded = _decoded_text(run)
    if decoded is None:
        return
    yield from _hits_in(decoded, hit)
    if depth > 1:
        for inner in set(_BASE64_RUN.findall(decoded)):
            yield from _base64_hits(inner, hit, depth - 1)


def _decoded_text(body: str) -> str | None:
    """A base64 run decoded (either alphabet, padded or not, at the first of
    its four alignments that gives text), or None if it is no text."""
    chars = body.rstrip("=").encode("ascii").translate(_TO_STANDARD)
    for phase in range(4):
        # The first character of each quantum of base64 of text is one of
        # few: random bytes (hashes, keys, ids) are ruled out without decoding.
        leads = chars[phase::4]
        if len(leads.translate(None, _TEXT_LEADS)) * 4 > len(leads):
            continue
        part = chars[phase:]
        part = part[: len(part) - 1] if len(part) % 4 == 1 else part
        try:
            raw = binascii.a2b_base64(part + b"=" * (-len(part) % 4))
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        unprintable = sum(1 for char in decoded if not char.isprintable() and char not in "\t\r\n")
        if len(decoded) >= _MIN_CANDIDATE and unprintable * _MAX_UNPRINTABLE <= len(decoded):
            return decoded
    return None


def _located(text: str, spans: list[_Span], first_line: int) -> list[Match]:
    """Sorted spans as Matches with 1-based lines and columns (only ``\\n``
    ends a line, as in the rule engine)."""
    matches: list[Match] = []
    line, cursor = first_line, 0
    for start, end, label, value in spans:
        line += text.count("\n", cursor, start)
        cursor = start
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        inner = text.count("\n", start, end)
        end_column = end - (text.rfind("\n", start, end) + 1) + 1 if inner else column + (end - start)
        matches.append(
            Match(
                rule_id=rule_id(label),
                secret=value,
                start=start,
                end=end,
                line=line,
                column=column,
                end_line=line + inner,
                end_column=end_column,
            )
        )
    return matches
