"""Matching on several processes gives exactly what one process gives."""

from __future__ import annotations

import random
from pathlib import Path

from scanner.config import ScanConfig, auto_jobs
from scanner.engine import Detector
from scanner.model import Chunk, Provenance, Rule, Severity
from scanner.parallel import detect_in_order
from scanner.pipeline import scan
from scanner.ruleset import load_rules
from tests.tokenfactory import github_style, npm_token, pypi_token


def _view(result):  # type: ignore[no-untyped-def]
    return [
        (f.rule_id, f.secret, f.liveness, tuple((o.provenance.path, o.line, o.column) for o in f.occurrences))
        for f in result.findings
    ]


def test_two_jobs_find_the_same_as_one(tmp_path: Path, rng: random.Random) -> None:
    shared = npm_token(rng)
    for number in range(60):
        folder = tmp_path / f"d{number % 7}"
        folder.mkdir(exist_ok=True)
        lines = [f"line {i}" for i in range(50)]
        lines[number % 50] = f"TOKEN={github_style('ghp', rng)} PYPI={pypi_token(rng)}"
        lines[(number * 7) % 50] += f" //registry.npmjs.org/:_authToken={shared}"
        (folder / f"f{number}.txt").write_text("\n".join(lines) + "\n")
        if number % 10 == 0:  # identical copies: matched once, reported everywhere
            (folder / f"copy{number}.txt").write_text("\n".join(lines) + "\n")
    one = scan(ScanConfig(paths=(str(tmp_path),), jobs=1))
    two = scan(ScanConfig(paths=(str(tmp_path),), jobs=2))
    assert _view(one) == _view(two)
    assert one.stats.duplicates_skipped == two.stats.duplicates_skipped == 6
    assert len(_view(one)) == 121


def test_worker_errors_reach_the_stats() -> None:
    rule = Rule(
        id="slow-rule", name="slow", registry="t", kind="t", pattern=r"(k(?:a|aa)+c)", keywords=("k",),
        severity=Severity.LOW, boundary=False,
    )
    chunks = [Chunk("k" + "a" * 5000 + "!", Provenance("file", f"slow{i}.txt"), str(i)) for i in range(3)]
    errors: list[str] = []
    results = list(detect_in_order(chunks, Detector([rule]), jobs=2, regex_timeout=0.05, on_error=errors.append))
    assert [c.provenance.path for c, _, _ in results] == ["slow0.txt", "slow1.txt", "slow2.txt"]
    assert sorted(e.split(":")[0] for e in errors) == ["slow0.txt", "slow1.txt", "slow2.txt"]


def test_auto_jobs(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert auto_jobs((str(tmp_path / "a.txt"),)) == 1
    assert auto_jobs((str(tmp_path),)) >= 1


def test_small_batches_keep_order_and_duplicates(monkeypatch, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    from scanner import parallel

    monkeypatch.setattr(parallel, "_BATCH_CHUNKS", 3)
    tokens = [npm_token(rng) for _ in range(10)]
    chunks = [
        Chunk(f"x\nTOKEN={tokens[i % 10]}\n", Provenance("file", f"f{i}.txt"), digest=f"d{i % 10}")
        for i in range(25)
    ]
    detector = Detector([r for r in load_rules() if r.id == "npm-access-token"])
    serial = list(detect_in_order(chunks, detector, jobs=1, regex_timeout=5, on_error=lambda _: None))
    batched = list(detect_in_order(chunks, detector, jobs=2, regex_timeout=5, on_error=lambda _: None))
    assert [(c.provenance.path, [m.secret for m in ms], d) for c, ms, d in batched] == [
        (c.provenance.path, [m.secret for m in ms], d) for c, ms, d in serial
    ]
    assert [d for _, _, d in batched] == [False] * 10 + [True] * 15
    assert [ms[0].secret for _, ms, _ in batched] == [tokens[i % 10] for i in range(25)]
