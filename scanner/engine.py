"""The detector: keyword prefilter, then each rule's regex (with a timeout),
then an entropy gate; then the same again inside encoded text (decode.py).

A rule's regex runs only where one of its keywords occurs, and only over the
lines around each occurrence (unless the rule is ``multiline``), so a large
input with a rare keyword costs little more than the keyword search itself.
A match inside base64, percent-, JSON- or HTML-escaped text is reported at the
encoded text: exactly for character escapes, as the whole run for base64.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from functools import partial

import regex

from scanner.decode import MAX_DEPTH, DecodeBudget, DecodedRegion, find_encoded_regions
from scanner.keywords import KeywordIndex, vectorisable
from scanner.model import Chunk, Match, Rule
from scanner.ruleset import compile_rule_pattern, shannon_entropy

# (start, end, rule id, secret), positions relative to the text scanned.
_Span = tuple[int, int, str, str]

# A window around a keyword hit runs from the start of its line to the end of
# its line, but never further than this from the hit: minified JSON or a log
# without newlines must not turn every window into the whole input.
_WINDOW_REACH = 4096
# Past this many hits of one rule's keywords, scanning the whole chunk once is
# cheaper than many small windows.
_MAX_WINDOWS = 2000
# On the line where a match starts (typically in a comment), this marks the
# match as accepted: ``token = "..."  # sprawl:allow test fixture``.
ALLOW_MARKER = "sprawl:allow"


def prefilter_key(rule_id: str) -> str:
    """The name a rule's prefilter regex goes by among the keywords (no
    keyword can hold a NUL)."""
    return f"\x00prefilter:{rule_id}"


class _CompiledRule:
    """A rule with its lower-cased keywords; the pattern is compiled on the
    first keyword hit, so a scan of a few small files (a commit hook) does
    not pay for compiling rules it never needs."""

    __slots__ = ("_pattern", "keywords", "rule")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.keywords = tuple(k.lower() for k in rule.keywords)
        self._pattern: regex.Pattern[str] | None = None

    @property
    def pattern(self) -> regex.Pattern[str]:
        if self._pattern is None:
            self._pattern = compile_rule_pattern(self.rule)
        return self._pattern


class Detector:
    """Finds rule matches in chunks. Knows nothing of where chunks came from."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        regex_timeout: float = 5.0,
        on_error: Callable[[str], None] | None = None,
        decode_depth: int = MAX_DEPTH,
        accelerate: bool = True,
        vectorise: bool = True,  # False: skip Hyperscan (its set-up outweighs a few small inputs)
    ) -> None:
        self._rules = [
            _CompiledRule(rule)
            for rule in rules
        ]
        prefilters: dict[str, str] = {}
        if vectorisable((k for c in self._rules for k in c.keywords), accelerate=accelerate, vectorise=vectorise):
            # A rule with a prefilter is tried where its prefilter matches,
            # not at every occurrence of its (common) keywords, which then
            # need not be looked for at all unless another rule names them.
            for compiled in self._rules:
                if compiled.rule.prefilter:
                    compiled.keywords = (prefilter_key(compiled.rule.id),)
                    prefilters[compiled.keywords[0]] = compiled.rule.prefilter
        self._keywords = KeywordIndex(
            (k for c in self._rules for k in c.keywords if k not in prefilters),
            prefilters=prefilters,
            accelerate=accelerate,
            vectorise=vectorise,
        )
        self._context_ids = frozenset(c.rule.id for c in self._rules if c.rule.context)
        # A rule without keywords (imported gitleaks rules may have none) runs
        # over every chunk, as it would in gitleaks.
        self._unfiltered = any(not c.keywords for c in self._rules)
        # keyword -> indices of the rules that name it, so a chunk with a
        # few keyword hits runs only those rules instead of visiting all.
        self._by_keyword: dict[str, list[int]] = {}
        for index, compiled in enumerate(self._rules):
            for keyword in set(compiled.keywords):
                self._by_keyword.setdefault(keyword, []).append(index)
        self._keywordless = [index for index, c in enumerate(self._rules) if not c.keywords]
        self._timeout = regex_timeout
        self._on_error = on_error
        self._decode_depth = decode_depth  # 0: look at the text as written only
        self._accelerate = accelerate
        self._vectorise = vectorise

    @property
    def rules(self) -> list[Rule]:
        return [compiled.rule for compiled in self._rules]

    @property
    def worker_factory(self) -> Callable[..., Detector]:
        """A picklable callable that builds an equal detector in a worker
        process, called as ``factory(regex_timeout=..., on_error=...)``.

        Worker pools (parallel.py, git and chat-export sources) use it instead
        of rebuilding a plain Detector from ``rules``, so a subclass (the
        ``sprawl hunt`` detector) runs as itself in the workers too."""
        return partial(
            Detector,
            tuple(self.rules),
            decode_depth=self._decode_depth,
            accelerate=self._accelerate,
            vectorise=self._vectorise,
        )

    def detect(self, chunk: Chunk) -> list[Match]:
        """Every match of every rule in ``chunk``, ordered by position."""
        text = chunk.content
        spans = self._scan(text, chunk, 0, DecodeBudget(len(text)))
        return _locate(text, spans, chunk.first_line)

    def _scan(self, text: str, chunk: Chunk, depth: int, budget: DecodeBudget) -> list[_Span]:
        """Spans in ``text`` and, below the depth limit, inside the encoded
        regions of ``text``, mapped back onto ``text``."""
        direct, keyword_hits = self._scan_text(text, chunk)
        if depth >= self._decode_depth:
            return direct
        # A value a context rule captured is decoded whatever its shape: the
        # docker "auth" or .npmrc _auth may hold a token that is found then.
        hints = [(start, end) for start, end, rule_id, _ in direct if rule_id in self._context_ids]
        groups = [direct]
        for region in find_encoded_regions(text, budget, hints=hints, keyword_hits=keyword_hits):
            inner = self._scan(region.text, chunk, depth + 1, budget)
            if inner:
                groups.append([_to_parent(region, span) for span in inner])
        if len(groups) == 1:
            return direct
        return _merge_groups(groups, self._context_ids)

    def _scan_text(self, text: str, chunk: Chunk) -> tuple[list[_Span], Collection[list[int]]]:
        """Spans of every rule in ``text`` as written (context rules already
        yielding to overlapping token rules), and where keywords stand."""
        # Where hit positions are off (lower-casing a few non-ASCII characters
        # changes the length), chunks are scanned whole.
        hits, positions_valid = self._keywords.find(text, _MAX_WINDOWS)
        if not hits and not self._unfiltered:
            return [], ()
        matches: list[_Span] = []
        candidates = set(self._keywordless)
        for keyword in hits:
            candidates.update(self._by_keyword.get(keyword, ()))
        for index in sorted(candidates):  # rule order, as loaded
            compiled = self._rules[index]
            rule_hits = sorted(p for k in compiled.keywords for p in hits.get(k, ()))
            if not rule_hits and compiled.keywords:
                continue
            if not compiled.keywords or not positions_valid or len(rule_hits) > _MAX_WINDOWS:
                windows = [(0, len(text))]
            elif compiled.rule.multiline:
                windows = _windows(text, rule_hits, around=compiled.rule.span)
            else:
                windows = _windows(text, rule_hits)
            matches.extend(self._run_rule(compiled, text, windows, chunk))
        spans = _prefer_token_rules(sorted(set(matches)), self._context_ids)
        return spans, hits.values() if positions_valid else ()

    def _run_rule(
        self, compiled: _CompiledRule, text: str, windows: list[tuple[int, int]], chunk: Chunk
    ) -> list[_Span]:
        found: list[_Span] = []
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


def _prefer_token_rules(spans: list[_Span], context_ids: frozenset[str]) -> list[_Span]:
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


def _to_parent(region: DecodedRegion, span: _Span) -> _Span:
    start, end = region.parent_span(span[0], span[1])
    return (start, end, span[2], span[3])


def _merge_groups(groups: list[list[_Span]], context_ids: frozenset[str]) -> list[_Span]:
    """Union of the spans found in the text itself (group 0) and in each
    decoded region (one group each), identical spans once.

    Within a group, context rules have already yielded to token rules where
    the two overlapped in the text they were found in. Across groups, a
    context span yields to an overlapping token span of another group: the
    docker "auth" value yields to the npm token found by decoding it.
    """
    tokens: list[tuple[list[int], list[int]]] = []  # per group: sorted starts, running max of ends
    for group in groups:
        spans = sorted((s, e) for s, e, rule_id, _ in group if rule_id not in context_ids)
        running, highest = [], -1
        for _, end in spans:
            highest = max(highest, end)
            running.append(highest)
        tokens.append(([s for s, _ in spans], running))

    def overlaps_other_group(span: _Span, own: int) -> bool:
        for index, (starts, max_ends) in enumerate(tokens):
            if index == own:
                continue
            before = bisect_left(starts, span[1])  # tokens starting before span ends
            if before and max_ends[before - 1] > span[0]:
                return True
        return False

    kept = {
        span
        for index, group in enumerate(groups)
        for span in group
        if span[2] not in context_ids or not overlaps_other_group(span, index)
    }
    return sorted(kept)


def _windows(text: str, hits: list[int], around: int = 0) -> list[tuple[int, int]]:
    """Merge the line-aligned windows around sorted keyword hits: the hit's
    own line, widened by ``around`` characters each way (multi-line rules)."""
    windows: list[tuple[int, int]] = []
    size = len(text)
    for hit in hits:
        floor = max(0, hit - around - _WINDOW_REACH)
        start = text.rfind("\n", floor, max(0, hit - around)) + 1 or floor
        ceiling = min(size, hit + around + _WINDOW_REACH)
        end = text.find("\n", min(size, hit + around), ceiling)
        end = ceiling if end < 0 else end
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def _locate(text: str, spans: list[_Span], first_line: int) -> list[Match]:
    """Attach 1-based line and column to sorted spans. Only ``\\n`` ends a line:
    a bare ``\\r`` (progress bars, GitLab section markers) does not."""
    matches: list[Match] = []
    line = first_line
    cursor = 0
    # Spans are sorted, so matches on one line come together: the line is
    # searched for the allow marker once, not once per match (a minified file
    # may hold thousands of matches on one very long line).
    marked_line, marked = -1, False
    for start, end, rule_id, secret in spans:
        line += text.count("\n", cursor, start)
        cursor = start
        line_start = text.rfind("\n", 0, start) + 1
        column = start - line_start + 1
        if line_start != marked_line:
            line_end = text.find("\n", start)
            marked_line = line_start
            marked = text.find(ALLOW_MARKER, line_start, len(text) if line_end < 0 else line_end) >= 0
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
                allowed=marked,
            )
        )
    return matches
