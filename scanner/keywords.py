"""Finding every rule keyword in a text: the detector's prefilter.

With a few hundred keywords, one ``str.find`` pass per keyword costs more
than everything else in a scan. When the optional C extension
``pyahocorasick`` is installed, one Aho-Corasick pass finds them all; the
pure-Python path gives exactly the same hits (tests compare the two).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _load_automaton_module() -> Any:
    try:
        import ahocorasick
    except ImportError:  # optional accelerator: fall back to str.find
        return None
    return ahocorasick


class KeywordIndex:
    """Lower-case keywords and where they occur in a lower-cased text."""

    def __init__(self, keywords: Iterable[str], *, accelerate: bool = True) -> None:
        self.keywords = sorted({k.lower() for k in keywords if k})
        module = _load_automaton_module() if accelerate else None
        self._automaton: Any = None
        if module is not None and self.keywords:
            automaton = module.Automaton()
            for keyword in self.keywords:
                automaton.add_word(keyword, (len(keyword), keyword))
            automaton.make_automaton()
            self._automaton = automaton

    @property
    def accelerated(self) -> bool:
        """True when the C automaton is in use."""
        return self._automaton is not None

    def hits(self, lowered: str, cap: int) -> dict[str, list[int]]:
        """Start positions of each keyword present, ascending; at most
        ``cap + 1`` per keyword (more than ``cap`` means "many")."""
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

