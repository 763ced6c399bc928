"""Generic JSONL input (scanner/sources/jsonlines.py)."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.base import SourceStats
from scanner.sources.exporttree import CHUNK_CHARS
from scanner.sources.formats import ExportOptions
from scanner.sources.jsonlines import JSONL, JsonLinesSource
from tests.tokenfactory import github_style, npm_token

OPTIONS = ExportOptions(max_file_size=10 << 20)


def occurrences(result: ScanResult) -> list[tuple[str, Occurrence]]:
    return sorted(
        ((f.rule_id, o) for f in result.findings for o in f.occurrences),
        key=lambda pair: (pair[1].provenance.path, pair[1].line, pair[0]),
    )


def write_jsonl(path: Path, records: list[object]) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


def test_each_match_gets_its_records_provenance_and_line(tmp_path: Path, rng: random.Random) -> None:
    first, second = npm_token(rng), github_style("ghp", rng)
    target = tmp_path / "export.jsonl"
    write_jsonl(
        target,
        [
            {
                "content": f"deploying\nNPM_TOKEN={first}\n",
                "provenance": {
                    "source": "slack",
                    "path": "general/2026-01-02.json",
                    "when": "2026-01-02T10:00:00+01:00",
                    "url": "https://example.slack.test/archives/C1/p1",
                    "author": "Dana",
                    "extra": {"channel": "#releases", "ts": "1767344400.000100"},
                },
            },
            {"content": "nothing here"},
            {
                "content": f"    token = '{second}'",
                "provenance": {"source": "git", "path": "src/app.py", "commit": "a" * 40, "line": 40, "column": 1},
            },
        ],
    )
    assert JSONL.recognize(str(target))
    result = scan(ScanConfig(paths=(str(target),)))
    (npm, github) = occurrences(result)
    assert npm[0] == "npm-access-token"
    place = npm[1]
    assert (place.provenance.source, place.provenance.path, place.line, place.column) == (
        "slack",
        "general/2026-01-02.json",
        2,
        11,
    )
    assert place.provenance.when == datetime(2026, 1, 2, 10, tzinfo=timezone(timedelta(hours=1)))
    assert place.provenance.author == "Dana"
    assert place.provenance.url == "https://example.slack.test/archives/C1/p1"
    assert place.provenance.extra == (("channel", "#releases"), ("ts", "1767344400.000100"))
    assert github[0] == "github-classic-token"
    assert (github[1].provenance.path, github[1].provenance.commit, github[1].line, github[1].column) == (
        "src/app.py",
        "a" * 40,
        40,
        14,
    )
    assert result.stats.errors == ()


def test_record_without_path_is_named_by_its_line(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    target = tmp_path / "in.jsonl"
    write_jsonl(target, [{"content": "a"}, {"content": f"x {token}", "provenance": {"when": "2026-03-01T08:00:00"}}])
    result = scan(ScanConfig(paths=(f"jsonl:{target}",)))
    ((_, place),) = occurrences(result)
    assert (place.provenance.source, place.provenance.path, place.line, place.column) == ("jsonl", str(target), 1, 3)
    assert place.provenance.extra == (("jsonl_line", "2"),)
    assert place.provenance.when == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_content_base64_text_and_document(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    html = f"<p>key: <span>{token[:10]}</span><span>{token[10:]}</span></p>".encode()
    target = tmp_path / "b64.jsonl"
    write_jsonl(
        target,
        [
            {"content_base64": base64.b64encode(f"\n\nGH={token}".encode()).decode(), "provenance": {"path": "a.txt"}},
            {"content_base64": base64.b64encode(html).decode(), "provenance": {"path": "wiki/page.html"}},
            {"content_base64": base64.b64encode(b"\x00\x01\x02binary").decode(), "provenance": {"path": "x.bin"}},
        ],
    )
    result = scan(ScanConfig(paths=(str(target),)))
    assert [(o.provenance.path, o.line, o.column) for _, o in occurrences(result)] == [
        ("a.txt", 3, 4),
        ("wiki/page.html", 1, 6),
    ]
    assert dict(result.stats.skipped)["binary JSONL content"] == 1


def test_stdin(rng: random.Random) -> None:
    token = npm_token(rng)
    data = json.dumps({"content": f"NPM_TOKEN={token}", "provenance": {"path": "piped"}}).encode() + b"\n"
    stats = SourceStats()
    (chunk,) = JsonLinesSource("-", OPTIONS, stdin=io.BytesIO(data)).chunks(stats)
    assert chunk.content == f"NPM_TOKEN={token}\n"
    assert chunk.provenance.path == "<stdin>"
    assert chunk.locator is not None
    assert chunk.locator.place(chunk.content, 10)[0].path == "piped"
    assert stats.inputs_scanned == 1


def test_bad_lines_are_named_once_counted_and_the_rest_scanned(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    target = tmp_path / "mixed.jsonl"
    target.write_text(
        json.dumps({"content": "ok"})
        + "\n"
        + "{not json\n"
        + json.dumps({"text": "no content key"})
        + "\n"
        + json.dumps({"content": f"t={token}", "provenance": {"path": "good"}})
        + "\n"
        + json.dumps({"content": "x", "provenance": {"when": "yesterday"}})
        + "\n"
        + '{"content": "truncated'
    )
    result = scan(ScanConfig(paths=(str(target),)))
    assert [(o.provenance.path, o.line) for _, o in occurrences(result)] == [("good", 1)]
    (error,) = result.stats.errors
    assert error.startswith(f"{target}:2: not valid JSON")
    assert error.endswith(
        "(expected one JSON object per line with content or content_base64; 4 bad lines skipped in all)"
    )
    assert dict(result.stats.skipped)["bad JSONL record"] == 4


def test_masked_values_are_not_findings(tmp_path: Path) -> None:
    target = tmp_path / "masked.jsonl"
    write_jsonl(target, [{"content": "NPM_TOKEN=npm_" + "*" * 36}, {"content": "GH_TOKEN=ghp_" + "X" * 36}])
    result = scan(ScanConfig(paths=(str(target),)))
    assert result.findings == ()


def test_many_records_share_few_chunks(rng: random.Random) -> None:
    token = npm_token(rng)
    lines = [json.dumps({"content": "filler " * 20, "provenance": {"path": f"f{i}"}}) for i in range(3000)]
    lines[2500] = json.dumps({"content": f"k={token}", "provenance": {"path": "needle", "line": 7}})
    stats = SourceStats()
    chunks = list(JsonLinesSource("-", OPTIONS, stdin=io.BytesIO("\n".join(lines).encode())).chunks(stats))
    assert len(chunks) == 1 and len(chunks[0].content) < CHUNK_CHARS
    chunk = chunks[0]
    assert chunk.locator is not None
    offset = chunk.content.index(token)
    place, line, column = chunk.locator.place(chunk.content, offset)
    assert (place.path, line, column) == ("needle", 7, 3)


def test_recognize_only_jsonl_with_content(tmp_path: Path) -> None:
    good, other, named = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.txt"
    write_jsonl(good, [{"content_base64": ""}])
    write_jsonl(other, [{"event": "x"}])
    write_jsonl(named, [{"content": "x"}])
    assert JSONL.recognize(str(good))
    assert not JSONL.recognize(str(other))
    assert not JSONL.recognize(str(named))
    assert not JSONL.recognize(str(tmp_path / "missing.jsonl"))
