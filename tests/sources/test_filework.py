"""Folders matched on worker processes that read the files themselves give
exactly what one process gives: rules, places (log lines and columns, log
timestamps, archive members), duplicates and errors."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from scanner.config import ScanConfig
from scanner.pipeline import scan
from tests.tokenfactory import github_style, npm_token


def _view(result):  # type: ignore[no-untyped-def]
    return [
        (
            f.rule_id,
            f.secret,
            tuple(sorted((o.provenance.path, o.provenance.when, o.line, o.column, o.end_column) for o in f.occurrences)),
        )
        for f in result.findings
    ]


def _actions_log(rng: random.Random, token: str) -> str:
    lines = [f"2026-03-02T09:00:{i % 60:02d}.{i:07d}Z \x1b[32mstep {i} ok\x1b[0m" for i in range(400)]
    at = rng.randrange(10, 390)
    lines[at] = f"2026-03-02T09:00:{at % 60:02d}.{at:07d}Z \x1b[1mNPM_TOKEN={token}\x1b[0m npm publish"
    return "\n".join(lines) + "\n"


def _corpus(tmp_path: Path, rng: random.Random) -> Path:
    root = tmp_path / "corpus"
    shared = npm_token(rng)
    for number in range(40):
        folder = root / f"run-{number % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number}_build.log").write_text(_actions_log(rng, npm_token(rng)))
        (folder / f"notes{number}.txt").write_text(f"line\nregistry //registry.npmjs.org/:_authToken={shared}\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("build/3_Run npm publish.txt", _actions_log(rng, npm_token(rng)))
        archive.writestr("config.txt", f"GITHUB_TOKEN={github_style('ghp', rng)}\n")
    (root / "logs_run.zip").write_bytes(buffer.getvalue())
    (root / "copy.log").write_text((root / "run-0" / "0_build.log").read_text())
    (root / "binary.bin").write_bytes(bytes(range(256)) * 8)
    return root


def test_worker_read_folders_match_one_process(tmp_path: Path, rng: random.Random) -> None:
    root = _corpus(tmp_path, rng)
    one = scan(ScanConfig(paths=(str(root),), jobs=1))
    two = scan(ScanConfig(paths=(str(root),), jobs=2))
    assert _view(one) == _view(two)
    # 40 logs + 1 archived log + 1 archived config + the shared npmrc line
    assert len(_view(one)) == 43
    assert one.stats.duplicates_skipped == two.stats.duplicates_skipped >= 1
    assert (one.stats.inputs_scanned, one.stats.bytes_scanned) == (two.stats.inputs_scanned, two.stats.bytes_scanned)
    assert dict(one.stats.skipped) == dict(two.stats.skipped) == {"binary": 1}
    placed = {o.provenance.path: o for f in two.findings for o in f.occurrences}
    member = placed[f"{root}/logs_run.zip!build/3_Run npm publish.txt"]
    # The log's own timestamp, and the column in the original line (after the
    # timestamp prefix and the escape sequence) survive the trip from the worker.
    assert member.provenance.when is not None and member.column == 29 + len("\x1b[1m") + len("NPM_TOKEN=") + 1


def test_worker_read_folders_report_unreadable_inputs(tmp_path: Path, rng: random.Random) -> None:
    root = _corpus(tmp_path, rng)
    missing = str(tmp_path / "nowhere")
    one = scan(ScanConfig(paths=(str(root), missing), jobs=1))
    two = scan(ScanConfig(paths=(str(root), missing), jobs=2))
    assert one.stats.errors == two.stats.errors == (f"{missing}: no such file or directory",)
    assert _view(one) == _view(two)


def test_huge_files_are_shared_out_by_chunk_and_find_the_same(tmp_path: Path, rng: random.Random, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from scanner.sources import filework

    root = _corpus(tmp_path, rng)
    big = root / "run-0" / "0_build.log"
    # Files at least this big take the read-here, match-on-workers path.
    monkeypatch.setattr(filework, "SHARED_FILE_BYTES", big.stat().st_size)
    one = scan(ScanConfig(paths=(str(root),), jobs=1))
    two = scan(ScanConfig(paths=(str(root),), jobs=2))
    assert _view(one) == _view(two)
    assert (one.stats.inputs_scanned, one.stats.bytes_scanned) == (two.stats.inputs_scanned, two.stats.bytes_scanned)


def test_hostile_entries_are_handled_the_same_on_workers(tmp_path: Path, rng: random.Random) -> None:
    import os

    root = tmp_path / "tree"
    root.mkdir()
    (root / "ok.txt").write_text(f"NPM_TOKEN={npm_token(rng)}\n")
    os.mkfifo(root / "pipe")  # never opened: a read would block forever
    (root / "huge.log").write_bytes(b"x" * 3000)
    outside = tmp_path / "outside.txt"
    outside.write_text(f"GITHUB_TOKEN={github_style('ghp', rng)}\n")
    (root / "escape.txt").symlink_to(outside)
    (root / "dangling.txt").symlink_to(tmp_path / "missing")
    (root / "truncated.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    results = [scan(ScanConfig(paths=(str(root),), jobs=jobs, max_file_size=2048)) for jobs in (1, 2)]
    one, two = results
    assert _view(one) == _view(two)
    assert [f.rule_id for f in two.findings] == ["npm-access-token"]
    assert dict(one.stats.skipped) == dict(two.stats.skipped)
    assert one.stats.errors == two.stats.errors
    skipped = dict(two.stats.skipped)
    # the escaping link and the dangling one (its target is outside too)
    assert skipped.get("not a regular file") == 1 and skipped.get("symlink pointing out of the tree") == 2
    assert any("larger than" in reason for reason in skipped)
