"""Locators map offsets in rewritten text back to original places."""

from __future__ import annotations

import random

from scanner.locate import LocatorBuilder
from scanner.model import Chunk, Provenance
from scanner.pipeline import run
from scanner.sources.base import Source, SourceStats
from tests.tokenfactory import npm_token

LOG = Provenance(source="ci-log", path="job.log")


def test_offsets_after_a_removed_span_keep_their_original_column() -> None:
    # original line 7: "\x1b[32m2026-01-01T00:00:00Z token=abc" -> prefix and ANSI removed
    builder = LocatorBuilder()
    builder.add("token=", LOG, line=7, column=27)
    builder.add("abc\n", LOG, line=7, column=38)  # an ANSI code stood between
    builder.add("next line", LOG, line=8, column=22)
    text, locator = builder.text(), builder.locator()
    assert locator.place(text, 0) == (LOG, 7, 27)
    assert locator.place(text, 5) == (LOG, 7, 32)
    assert locator.place(text, 6) == (LOG, 7, 38)
    assert locator.place(text, 10) == (LOG, 8, 22)
    assert locator.place(text, 14) == (LOG, 8, 26)


def test_messages_joined_in_one_chunk_keep_their_own_provenance() -> None:
    first = Provenance(source="slack", path="#releases", extra=(("ts", "1"),))
    second = Provenance(source="slack", path="#releases", extra=(("ts", "2"),))
    builder = LocatorBuilder()
    builder.add("hello\nworld", first, 1, 1)
    builder.add_synthetic("\n\n")
    builder.add("line one\nline two", second, 1, 1)
    text, locator = builder.text(), builder.locator()
    assert locator.place(text, text.index("world")) == (first, 2, 1)
    assert locator.place(text, text.index("two")) == (second, 2, 6)
    # a continuing piece adds no anchor
    assert len(locator.anchors) == 2


class _Rewritten(Source):
    kind = "ci-log"

    def __init__(self, token: str) -> None:
        self.token = token

    def chunks(self, stats: SourceStats):  # type: ignore[no-untyped-def]
        builder = LocatorBuilder()
        builder.add("npm notice publishing\n", LOG, 3, 30)
        builder.add(f"//registry.npmjs.org/:_authToken={self.token}\n", LOG, 4, 41)
        yield Chunk(builder.text(), LOG, digest="x", locator=builder.locator())


def test_pipeline_reports_the_original_place(detector, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    from scanner.pipeline import build_judge

    token = npm_token(rng)
    for jobs in (1, 2):
        result = run([_Rewritten(token)], detector, build_judge(detector.rules), SourceStats(), jobs=jobs)
        [finding] = [f for f in result.findings if f.secret == token]
        [occurrence] = finding.occurrences
        column = 41 + len("//registry.npmjs.org/:_authToken=")
        assert (occurrence.provenance, occurrence.line, occurrence.column) == (LOG, 4, column)
        assert (occurrence.end_line, occurrence.end_column) == (4, column + len(token))
