"""The detector: keyword prefilter, then each rule's regex (with a timeout),
then an entropy gate.

A rule's regex runs only where one of its keywords occurs, and only over the
lines around each occurrence (unless the rule is ``multiline``), so a large
input with a rare keyword costs little more than the keyword search itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from scanner.model import Chunk, Match, Rule
from scanner.ruleset import compile_rule_pattern, shannon_entropy

# A window around a keyword hit runs from the start of its line to the end of
# its line, but never further than this from the hit: minified JSON or a log
# without newlines must not turn every window into the whole input.
_WINDOW_REACH = 4096
# Past this many hits of one rule's keywords, scanning the whole chunk once is
# cheaper than many small windows.
_MAX_WINDOWS = 2000


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    pattern: regex.Pattern[str]
    keywords: tuple[str, ...]  # lower-cased


class Detector:
    """Finds rule matches in chunks. Knows nothing of where chunks came from."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        regex_timeout: float = 5.0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._rules = [
            _CompiledRule(rule, compile_rule_pattern(rule), tuple(k.lower() for k in rule.keywords))
            for rule in rules
        ]
        self._keywords = sorted({k for compiled in self._rules for k in compiled.keywords})
        self._context_ids = frozenset(c.rule.id for c in self._rules if c.rule.context)
        self._timeout = regex_timeout
        self._on_error = on_error

    @property
    def rules(self) -> list[Rule]:
        return [compiled.rule for compiled in self._rules]

    def detect(self, chunk: Chunk) -> list[Match]:
        """Every match of every rule in ``chunk``, ordered by position."""
        text = chunk.content
        lowered = text.lower()
        # Lower-casing a few non-ASCII characters changes the length; keyword
        # positions would then be off, so such chunks are scanned whole.
        positions_valid = len(lowered) == len(text)
        hits = self._keyword_hits(lowered)
        if not hits:
            return []
        matches: list[tuple[int, int, str, str]] = []  # (start, end, rule id, secret)
        for compiled in self._rules:
            rule_hits = sorted(p for k in compiled.keywords for p in hits.get(k, ()))
            if not rule_hits:
                continue
            if compiled.rule.multiline or not positions_valid or len(rule_hits) > _MAX_WINDOWS:
                windows = [(0, len(text))]
            else:
                windows = _windows(text, rule_hits)
            matches.extend(self._run_rule(compiled, text, windows, chunk))
        return _locate(text, _prefer_token_rules(sorted(set(matches)), self._context_ids), chunk.first_line)

    def _keyword_hits(self, lowered: str) -> dict[str, list[int]]:
        hits: dict[str, list[int]] = {}
        for keyword in self._keywords:
            position = lowered.find(keyword)
            if position < 0:
                continue
            found = hits[keyword] = []
            while position >= 0 and len(found) <= _MAX_WINDOWS:
                found.append(position)
                position = lowered.find(keyword, position + 1)
        return hits

    def _run_rule(
        self, compiled: _CompiledRule, text: str, windows: list[tuple[int, int]], chunk: Chunk
    ) -> list[tuple[int, int, str, str]]:
        found: list[tuple[int, int, str, str]] = []
        pattern = compiled.pattern
        try:
            for start, end in windows:
                for match in pattern.finditer(text, start, end, timeout=self._timeout):
                    if match.end() == end and end < len(text):
                        # The window edge may have cut the token short: re-match
                        # at the same place against the whole text.
                        match = pattern.match(text, match.start(), timeout=self._timeout)
                        if match is None:
                            continue
                    secret = match.group(1)
                    if not secret or shannon_entropy(secret) < compiled.rule.min_entropy:
                        continue
                    found.append((match.start(1), match.end(1), compiled.rule.id, secret))
        except TimeoutError:
            if self._on_error is not None:
                self._on_error(
                    f"{chunk.provenance.path}: rule '{compiled.rule.id}' timed out after "
                    f"{self._timeout:g}s; matches of that rule in this input may be missing"
                )
        return found


def _prefer_token_rules(
    spans: list[tuple[int, int, str, str]], context_ids: frozenset[str]
) -> list[tuple[int, int, str, str]]:
    """Drop context-rule spans that overlap a token-format rule's span: the
    token rule knows what the value is; the context rule only where it stood."""
    if not context_ids:
        return spans
    specific = [(start, end) for start, end, rule_id, _ in spans if rule_id not in context_ids]
    if not specific:
        return spans
    return [
        span
        for span in spans
        if span[2] not in context_ids or not any(s < span[1] and span[0] < e for s, e in specific)
    ]


def _windows(text: str, hits: list[int]) -> list[tuple[int, int]]:
    """Merge the line-aligned windows around sorted keyword hits."""
    windows: list[tuple[int, int]] = []
    size = len(text)
    for hit in hits:
        floor = max(0, hit - _WINDOW_REACH)
        start = text.rfind("\n", floor, hit) + 1 or floor
        ceiling = min(size, hit + _WINDOW_REACH)
        end = text.find("\n", hit, ceiling)
        end = ceiling if end < 0 else end
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def _locate(text: str, spans: list[tuple[int, int, str, str]], first_line: int) -> list[Match]:
    """Attach 1-based line and column to sorted spans. Only ``\\n`` ends a line:
    a bare ``\\r`` (progress bars, GitLab section markers) does not."""
    matches: list[Match] = []
    line = first_line
    cursor = 0
    for start, end, rule_id, secret in spans:
        line += text.count("\n", cursor, start)
        cursor = start
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        inner_newlines = text.count("\n", start, end)
        if inner_newlines:
            end_column = end - (text.rfind("\n", start, end) + 1) + 1
        else:
            end_column = column + (end - start)
        matches.append(
            Match(
                rule_id=rule_id,
                secret=secret,
                start=start,
                end=end,
                line=line,
                column=column,
                end_line=line + inner_newlines,
                end_column=end_column,
            )
        )
    return matches
