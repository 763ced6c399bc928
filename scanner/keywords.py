"""Finding every rule keyword in a text: the detector's prefilter.

With a few hundred keywords, one ``str.find`` pass per keyword costs more
than everything else in a scan. Three ways, fastest first, all giving exactly
the same hits (tests compare them): Hyperscan (vectorised, about 2 GB/s here,
case-insensitive on the text's UTF-8 so the text need not be lower-cased
first; byte offsets turned into characters for non-ASCII text), an
Aho-Corasick automaton (pyahocorasick, about 85 MB/s), and one ``str.find``
loop per keyword.

Where Hyperscan serves, a rule may also name a ``prefilter`` regex: a looser
form of its pattern whose matches stand in for the keyword hits of a keyword
that is everywhere (``://``, ``http``, ``password`` in build logs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import accumulate, repeat
from operator import sub
from typing import Any

from scanner.errors import RuleError


def _load_hyperscan() -> Any:
    try:
        import hyperscan
    except ImportError:  # optional: only built for some platforms
        return None
    return hyperscan


def _load_automaton_module() -> Any:
    try:
        import ahocorasick
    except ImportError:  # optional accelerator: fall back to str.find
        return None
    return ahocorasick


def _failing_prefilter(hyperscan: Any, prefilters: Mapping[str, str]) -> str:
    """Which prefilter Hyperscan refuses, and why."""
    for name, pattern in prefilters.items():
        try:
            hyperscan.Database().compile(expressions=[pattern.encode("ascii")], ids=[0], elements=1, flags=[0])
        except hyperscan.error as exc:
            return f"{name.rsplit(':', 1)[-1]}: {exc}"
    return "the combined database failed"


def vectorisable(keywords: Iterable[str], *, accelerate: bool = True, vectorise: bool = True) -> bool:
    """Whether a KeywordIndex built with these arguments is served by
    Hyperscan (and so uses prefilters)."""
    return accelerate and vectorise and all(k.isascii() for k in keywords) and _load_hyperscan() is not None


class KeywordIndex:
    """Lower-case keywords (and, with Hyperscan, prefilter regexes) and where
    they occur in a text."""

    def __init__(
        self,
        keywords: Iterable[str],
        *,
        prefilters: Mapping[str, str] | None = None,
        accelerate: bool = True,
        vectorise: bool = True,
    ) -> None:
        self.keywords = sorted({k.lower() for k in keywords if k})
        self._prefilters = dict(prefilters or {})
        module = _load_automaton_module() if accelerate else None
        self._automaton: Any = None
        if module is not None and self.keywords:
            automaton = module.Automaton()
            for keyword in self.keywords:
                automaton.add_word(keyword, (len(keyword), keyword))
            automaton.make_automaton()
            self._automaton = automaton
        self._hyperscan: Any = None
        self._scratch: Any = None
        self._names: list[str] = []
        self._back: list[int] = []
        hyperscan = _load_hyperscan() if accelerate and vectorise else None
        if hyperscan is not None and (self.keywords or self._prefilters) and all(k.isascii() for k in self.keywords):
            # Each keyword as escaped bytes: a literal, whatever characters it
            # holds; case-insensitive, as the lower-cased keyword in a lower-cased text.
            expressions = ["".join(f"\\x{byte:02x}" for byte in k.encode()).encode() for k in self.keywords]
            flags = [hyperscan.HS_FLAG_CASELESS] * len(self.keywords)
            self._names = [*self.keywords, *self._prefilters]
            # A prefilter reports where its match ends; (?m): ^ and $ at line ends.
            expressions += [pattern.encode("ascii") for pattern in self._prefilters.values()]
            flags += [hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_MULTILINE] * len(self._prefilters)
            # Literal hits are keyed by where they start, prefilter hits by their last character.
            self._back = [len(k) for k in self.keywords] + [1] * len(self._prefilters)
            database = hyperscan.Database()
            try:
                database.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), flags=flags)
            except hyperscan.error as exc:
                raise RuleError(f"a rule's prefilter does not compile: {_failing_prefilter(hyperscan, self._prefilters)}") from exc
            self._hyperscan = database
            self._scratch = hyperscan.Scratch(database)

    @property
    def accelerated(self) -> bool:
        """True when a compiled matcher (Hyperscan or the automaton) is in use."""
        return self._automaton is not None or self._hyperscan is not None

    @property
    def vectorised(self) -> bool:
        """True when Hyperscan serves (and prefilters are in use)."""
        return self._hyperscan is not None

    def find(self, text: str, cap: int) -> tuple[dict[str, list[int]], bool]:
        """Hits in ``text`` as written (see :meth:`hits`), and whether their
        positions are positions in ``text``: lower-casing a few non-ASCII
        characters changes the length, which only the slower paths need."""
        if self._hyperscan is not None:
            # Case-insensitive matching on the bytes: no lower-cased copy.
            if text.isascii():
                return self._hits_by_hyperscan(text.encode("ascii"), cap), True
            encoded = text.encode("utf-8", "surrogatepass")
            return _character_offsets(self._hits_by_hyperscan(encoded, cap), encoded), True
        lowered = text.lower()
        return self.hits(lowered, cap), len(lowered) == len(text)

    def hits(self, lowered: str, cap: int) -> dict[str, list[int]]:
        """Start positions of each keyword present, ascending; at most
        ``cap + 1`` per keyword (more than ``cap`` means "many")."""
        if self._hyperscan is not None:
            if lowered.isascii():
                return self._hits_by_hyperscan(lowered.encode("ascii"), cap)
            # Keywords are ASCII, so they match the UTF-8 bytes exactly where
            # they match the text; only the offsets need turning into characters.
            encoded = lowered.encode("utf-8", "surrogatepass")
            return _character_offsets(self._hits_by_hyperscan(encoded, cap), encoded)
        if self._automaton is None:
            return self._hits_by_find(lowered, cap, self.keywords)
        hits: dict[str, list[int]] = {}
        for end, (length, keyword) in self._automaton.iter(lowered):
            found = hits.get(keyword)
            if found is None:
                hits[keyword] = [end - length + 1]
            elif len(found) <= cap:
                found.append(end - length + 1)
        return hits

    def _hits_by_hyperscan(self, lowered: bytes, cap: int) -> dict[str, list[int]]:
        hits: dict[str, list[int]] = {}
        names, back = self._names, self._back

        def on_match(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
            name = names[index]
            found = hits.get(name)
            if found is None:
                hits[name] = [end - back[index]]
            elif len(found) <= cap:
                found.append(end - back[index])

        # Matches arrive by end offset: for one keyword that is start order
        # too; a prefilter may end twice at one place (once per start).
        self._hyperscan.scan(lowered, match_event_handler=on_match, scratch=self._scratch)
        return hits

    @staticmethod
    def _hits_by_find(lowered: str, cap: int, keywords: list[str]) -> dict[str, list[int]]:
        hits: dict[str, list[int]] = {}
        for keyword in keywords:
            position = lowered.find(keyword)
            if position < 0:
                continue
            found = hits[keyword] = []
            while position >= 0 and len(found) <= cap:
                found.append(position)
                position = lowered.find(keyword, position + 1)
        return hits


# UTF-8 continuation bytes (10xxxxxx) marked 1, every other byte 0.
_CONTINUATION = bytes(1 if 0x80 <= byte < 0xC0 else 0 for byte in range(256))


def _character_offsets(hits: dict[str, list[int]], encoded: bytes) -> dict[str, list[int]]:
    """Byte offsets of hits in UTF-8 ``encoded`` turned into character offsets:
    each continuation byte before an offset is part of an earlier character.
    (Counted with map/accumulate: C loops, not a Python step per hit.)"""
    if not hits:
        return hits
    marks = encoded.translate(_CONTINUATION)
    offsets = sorted({offset for found in hits.values() for offset in found})
    continued = accumulate(map(marks.count, repeat(1), [0, *offsets[:-1]], offsets))
    characters = dict(zip(offsets, map(sub, offsets, continued), strict=True))
    return {keyword: list(map(characters.__getitem__, found)) for keyword, found in hits.items()}
