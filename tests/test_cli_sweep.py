"""`sprawl sweep` from the command line: reports and exit codes, a sweep
killed with SIGKILL and resumed, and two sweeps on one state file."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner.cli import app
from scanner.findings import secret_sha256
from scanner.sweep.lock import StateLock
from tests.gitbuild import Repo
from tests.tokenfactory import github_style, npm_token

runner = CliRunner()


def _repo(path: Path, files: dict[str, str]) -> Repo:
    repo = Repo(path)
    repo.write("README.md", f"{path.name}\n")
    repo.commit("initial")
    for name, text in files.items():
        repo.write(name, text)
    repo.commit("add files")
    return repo


def _sweep_args(tmp_path: Path, *extra: str, jobs: int = 1) -> list[str]:
    return ["sweep", str(tmp_path / "clones"), "--state", str(tmp_path / "state.db"), "--jobs", str(jobs), *extra]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "SPRAWL_BASELINE_KEY": "cli-test-key"}


def test_json_report_exit_codes_and_new_only(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    app_repo = _repo(tmp_path / "clones" / "app", {".npmrc": f"//registry.npmjs.org/:_authToken={token}\n"})
    _repo(tmp_path / "clones" / "lib", {"lib.py": "x = 1\n"})
    first = runner.invoke(app, _sweep_args(tmp_path, "--format", "json"), env=_env(tmp_path))
    assert first.exit_code == 1, first.output
    document = json.loads(first.stdout)
    assert document["sweep"]["repositories"]["scanned"] == 2
    [finding] = document["findings"]
    assert (finding["rule_id"], finding["status"], finding["new"], finding["secret_sha256"]) == (
        "npm-access-token",
        "open",
        True,
        secret_sha256(token),
    )
    [place] = finding["occurrences"]
    assert (place["extra"]["repository"], place["path"], place["line"], place["column"]) == (
        str(tmp_path / "clones" / "app"),
        ".npmrc",
        1,
        34,
    )
    assert token not in first.stdout and token not in first.stderr
    assert "sweep 1: 2 repositories (2 scanned, 0 unchanged, 0 failed)" in first.stderr
    assert "repositories/min" in first.stderr and "MB/s" in first.stderr
    # No plaintext anywhere in the state database either.
    assert token.encode() not in (tmp_path / "state.db").read_bytes()

    second = runner.invoke(app, _sweep_args(tmp_path, "--format", "json", "--new-only"), env=_env(tmp_path))
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["findings"] == []
    assert "0 new findings, 1 open" in second.stderr

    new = github_style("ghp", rng)
    app_repo.write("ci.sh", f"export GITHUB_TOKEN={new}\n")
    app_repo.commit("ci")
    third = runner.invoke(app, _sweep_args(tmp_path, "--format", "jsonl", "--new-only"), env=_env(tmp_path))
    assert third.exit_code == 1
    [line] = third.stdout.splitlines()
    assert json.loads(line)["secret_sha256"] == secret_sha256(new)


def test_table_report_and_usage_errors(tmp_path: Path, rng: random.Random) -> None:
    _repo(tmp_path / "clones" / "app", {".npmrc": f"//registry.npmjs.org/:_authToken={npm_token(rng)}\n"})
    table = runner.invoke(app, _sweep_args(tmp_path), env=_env(tmp_path))
    assert table.exit_code == 1
    assert f"{tmp_path / 'clones' / 'app'}: .npmrc:1:34" in table.stdout
    nothing = runner.invoke(app, ["sweep", "--state", str(tmp_path / "s.db")], env=_env(tmp_path))
    assert nothing.exit_code == 2
    assert nothing.stderr == "sprawl: error: name folders of clones, or a --list file of paths and URLs\n"
    bad = runner.invoke(app, _sweep_args(tmp_path, "--format", "sarif"), env=_env(tmp_path))
    assert bad.exit_code == 2 and "--format 'sarif' is not one of table, json, jsonl" in bad.stderr


def test_failed_repository_with_nothing_found_exits_2(tmp_path: Path) -> None:
    _repo(tmp_path / "clones" / "clean", {"a.txt": "nothing here\n"})
    listing = tmp_path / "list.txt"
    listing.write_text(f"file://{tmp_path / 'absent.git'}\n", encoding="utf-8")
    result = runner.invoke(app, [*_sweep_args(tmp_path), "--list", str(listing)], env=_env(tmp_path))
    assert result.exit_code == 2
    assert f"sprawl: error: file://{tmp_path / 'absent.git'}: git clone failed: " in result.stderr


def _sweep_process(tmp_path: Path, *extra: str, jobs: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scanner", *_sweep_args(tmp_path, *extra, jobs=jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )


def _count(state: Path, query: str) -> int:
    with sqlite3.connect(state, timeout=30) as db:
        return int(db.execute(query).fetchone()[0])


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_mid_sweep_resumes_without_rescanning_finished_repositories(tmp_path: Path, jobs: int) -> None:
    rng = random.Random(5)
    total = 40
    tokens = []
    for index in range(total):
        token = npm_token(rng)
        tokens.append(token)
        _repo(tmp_path / "clones" / f"repo{index:02d}", {".npmrc": f"//registry.npmjs.org/:_authToken={token}\n"})
    state = tmp_path / "state.db"
    killed = _sweep_process(tmp_path, "--format", "json", "-q", jobs=jobs)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and killed.poll() is None:
        if state.exists():
            try:
                done = _count(state, "SELECT coalesce(max(repos_done), 0) FROM sweeps")
            except sqlite3.OperationalError:
                done = 0  # schema not created yet
            if done >= 3:
                break
        time.sleep(0.005)
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    assert killed.returncode == -signal.SIGKILL
    finished = _count(state, "SELECT count(*) FROM repos WHERE last_sweep = 1")
    assert 3 <= finished < total, "the sweep must be killed mid-run"
    assert _count(state, "SELECT status = 'running' FROM sweeps WHERE id = 1") == 1
    # Only finished repositories' objects are recorded (each has 2 commits and 2 blobs).
    assert _count(state, "SELECT count(*) FROM objects") == 4 * finished

    # --no-wait: no worker of the killed sweep may still hold the lock.
    resumed = _sweep_process(tmp_path, "--format", "json", "--no-wait", jobs=jobs)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, err
    summary = json.loads(out)["sweep"]
    assert (summary["id"], summary["resumed"]) == (1, True)
    assert summary["repositories"]["already_done"] == finished
    assert summary["repositories"]["scanned"] == total - finished
    assert summary["objects_scanned"] == 4 * (total - finished)
    assert f"sprawl: resuming sweep 1, interrupted after {finished} of {total} repositories" in err
    findings = json.loads(out)["findings"]
    assert sorted(f["secret_sha256"] for f in findings) == sorted(secret_sha256(t) for t in tokens)
    assert all(f["new"] for f in findings)
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT status FROM sweeps").fetchall() == [("finished",)]


def test_second_sweep_on_one_state_waits_or_fails_with_no_wait(tmp_path: Path) -> None:
    _repo(tmp_path / "clones" / "app", {"a.txt": "clean\n"})
    state = tmp_path / "state.db"
    with StateLock(state, wait=True, notify=lambda _: None):
        refused = _sweep_process(tmp_path, "--no-wait")
        out, err = refused.communicate(timeout=120)
        assert refused.returncode == 2
        assert err == (
            f"sprawl: error: {state}: another sweep (pid {os.getpid()}) is using this state file (--no-wait given)\n"
        )
        waiting = _sweep_process(tmp_path, "--format", "json")
        assert waiting.stderr is not None
        first_line = waiting.stderr.readline()
        assert first_line == f"sprawl: waiting for the sweep already using {state} (pid {os.getpid()}) …\n"
        assert waiting.poll() is None
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert json.loads(out)["sweep"]["repositories"]["scanned"] == 1


def test_control_characters_in_messages_are_escaped(tmp_path: Path) -> None:
    _repo(tmp_path / "clones" / "app", {"a.txt": "clean\n"})
    listing = tmp_path / "list.txt"
    listing.write_text("evil\x1b[2Jname\n", encoding="utf-8")
    result = runner.invoke(app, [*_sweep_args(tmp_path), "--list", str(listing)], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert f"sprawl: error: {listing}:1: evil\\x1b[2Jname: not a folder\n" in result.stderr

