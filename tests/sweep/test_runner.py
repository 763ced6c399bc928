"""Whole sweeps over real repositories: incremental behaviour, forks, force
pushes, mirrors of file:// remotes, failures, resuming, --jobs."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.findings import secret_sha256
from scanner.sweep.report import ReportOptions, select
from scanner.sweep.runner import SweepOutcome
from scanner.sweep.state import StateDB
from scanner.sweep.targets import local_targets
from scanner.sweep.tasks import SweepSettings
from tests.gitbuild import Repo, git_env
from tests.sweep.conftest import Sweeper, clone, npmrc, repo_with
from tests.tokenfactory import github_style, npm_token, pypi_token

Place = tuple[str, str, int, int, str]


def places(outcome: SweepOutcome, token: str, status: str = "open") -> set[Place]:
    """(repository, path, line, column, state) of every occurrence of ``token``."""
    digest = secret_sha256(token)
    found = [f for f in outcome.findings if f.secret.sha256 == digest and f.status == status]
    assert len(found) <= 1
    return {
        (Path(o.repo).name, o.path, o.line, o.column, o.state if o.present else "gone")
        for f in found
        for o in f.occurrences
    }


def object_count(repo: Path) -> int:
    """Blobs, commits and tags in a repository's database."""
    listing = Repo(repo, init=False).git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)")
    return sum(kind in ("blob", "commit", "tag") for kind in listing.split())


def test_second_sweep_reads_nothing_when_nothing_changed(sweeper: Sweeper, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    repo_with(tmp_path / "clones" / "app", {".npmrc": npmrc(token)})
    repo_with(tmp_path / "clones" / "lib", {"lib.py": "print('hi')\n"})
    first = sweeper(tmp_path / "clones")
    assert (first.summary.scanned, first.summary.unchanged, first.summary.failed) == (2, 0, 0)
    assert first.summary.objects_scanned == object_count(tmp_path / "clones" / "app") + object_count(
        tmp_path / "clones" / "lib"
    )
    assert places(first, token) == {("app", ".npmrc", 2, 34, "still-present")}

    second = sweeper(tmp_path / "clones")
    summary = second.summary
    assert (summary.scanned, summary.unchanged, summary.objects_scanned, summary.bytes_scanned) == (0, 2, 0, 0)
    assert places(second, token) == {("app", ".npmrc", 2, 34, "still-present")}
    report = select(second.findings, ReportOptions(sweep_id=summary.sweep_id))
    assert [s.new for s in report.findings] == [False]
    assert select(second.findings, ReportOptions(sweep_id=summary.sweep_id, new_only=True)).findings == ()


def test_a_new_commit_is_all_that_is_read_and_new_only_reports_just_it(
    sweeper: Sweeper, tmp_path: Path, rng: random.Random
) -> None:
    old = npm_token(rng)
    app = repo_with(tmp_path / "clones" / "app", {".npmrc": npmrc(old)})
    repo_with(tmp_path / "clones" / "lib", {"lib.py": "x = 1\n"})
    sweeper(tmp_path / "clones")
    new = github_style("ghp", rng)
    app.write("ci/deploy.sh", f"#!/bin/sh\nexport GITHUB_TOKEN={new}\n")
    app.commit("deploy script")

    second = sweeper(tmp_path / "clones")
    assert (second.summary.scanned, second.summary.unchanged) == (1, 1)
    assert second.summary.objects_scanned == 2  # the new commit and its one new blob
    report = select(second.findings, ReportOptions(sweep_id=second.summary.sweep_id, new_only=True))
    assert [(s.finding.rule_id, s.finding.secret_sha256, s.new) for s in report.findings] == [
        ("github-classic-token", secret_sha256(new), True)
    ]
    [place] = report.findings[0].finding.occurrences
    assert (place.provenance.path, place.line, place.column, place.provenance.commit) == (
        "ci/deploy.sh",
        2,
        21,
        app.head(),
    )
    everything = select(second.findings, ReportOptions(sweep_id=second.summary.sweep_id))
    assert {s.finding.secret_sha256 for s in everything.findings} == {secret_sha256(old), secret_sha256(new)}


def test_forks_share_objects_read_once_and_the_finding_is_listed_in_each(
    sweeper: Sweeper, tmp_path: Path, rng: random.Random
) -> None:
    token = npm_token(rng)
    upstream = repo_with(tmp_path / "clones" / "upstream", {".npmrc": npmrc(token)})
    clone(upstream.path, tmp_path / "clones" / "fork")
    clone(upstream.path, tmp_path / "clones" / "mirror.git", bare=True)
    own = clone(upstream.path, tmp_path / "clones" / "fork-with-work")
    own.write("notes.txt", "fork-only work\n")
    own.commit("fork work")

    outcome = sweeper(tmp_path / "clones", jobs=2)
    shared = object_count(upstream.path)
    assert outcome.summary.objects_scanned == shared + 2  # fork-with-work adds a commit and a blob
    assert outcome.summary.objects_skipped == 3 * shared
    assert places(outcome, token) == {
        (name, ".npmrc", 2, 34, "still-present") for name in ("upstream", "fork", "mirror.git", "fork-with-work")
    }
    [finding] = outcome.findings
    assert {o.commit for o in finding.occurrences} == {upstream.head()}


def test_secret_force_pushed_away_everywhere_becomes_history_only(
    sweeper: Sweeper, tmp_path: Path, rng: random.Random
) -> None:
    token = pypi_token(rng)
    remote = Repo(tmp_path / "clones" / "origin.git", bare=True)
    work = Repo(tmp_path / "work")
    work.write("README.md", "app\n")
    work.commit("initial")
    work.write(".pypirc", f"[pypi]\nusername = __token__\npassword = {token}\n")
    work.commit("oops")
    work.git("push", "-q", str(remote.path), "main")
    first = sweeper(tmp_path / "clones")
    assert places(first, token) == {("origin.git", ".pypirc", 3, 12, "still-present")}

    work.git("reset", "-q", "--hard", "HEAD~1")
    work.git("push", "-q", "--force", str(remote.path), "main")
    second = sweeper(tmp_path / "clones")
    assert second.summary.scanned == 1 and second.summary.objects_scanned == 0
    assert places(second, token) == set()
    assert places(second, token, "history-only") == {("origin.git", ".pypirc", 3, 12, "gone")}
    default = select(second.findings, ReportOptions(sweep_id=second.summary.sweep_id))
    assert default.findings == () and default.history_only_total == 1
    shown = select(second.findings, ReportOptions(sweep_id=second.summary.sweep_id, include_history=True))
    assert [s.status for s in shown.findings] == ["history-only"]


def test_a_fork_that_keeps_the_secret_keeps_it_open(sweeper: Sweeper, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    upstream = repo_with(tmp_path / "clones" / "upstream", {".npmrc": npmrc(token)})
    clone(upstream.path, tmp_path / "clones" / "fork")
    sweeper(tmp_path / "clones")
    upstream.git("reset", "-q", "--hard", "HEAD~1")
    outcome = sweeper(tmp_path / "clones")
    assert places(outcome, token) == {("fork", ".npmrc", 2, 34, "still-present")}


def test_deleted_file_is_history_only_in_its_location_but_the_finding_stays_open(
    sweeper: Sweeper, tmp_path: Path, rng: random.Random
) -> None:
    token = npm_token(rng)
    app = repo_with(tmp_path / "clones" / "app", {".npmrc": npmrc(token)})
    sweeper(tmp_path / "clones")
    app.remove(".npmrc")
    app.commit("remove npmrc")
    outcome = sweeper(tmp_path / "clones")
    assert places(outcome, token) == {("app", ".npmrc", 2, 34, "history-only")}


def test_remote_is_mirrored_once_then_fetched(sweeper: Sweeper, tmp_path: Path, rng: random.Random) -> None:
    old = npm_token(rng)
    upstream = repo_with(tmp_path / "upstream", {".npmrc": npmrc(old)})
    url = f"file://{upstream.path}"
    listing = tmp_path / "targets.txt"
    listing.write_text(f"# remotes\n{url}\n", encoding="utf-8")
    first = sweeper(list_file=listing)
    assert first.summary.scanned == 1
    assert places(first, old) == {(upstream.path.name, ".npmrc", 2, 34, "still-present")}
    assert [o.repo for f in first.findings for o in f.occurrences] == [url]
    [mirror] = [p for p in Path(sweeper.settings.cache_dir).iterdir() if p.name.endswith(".git")]
    (mirror / "sprawl-test-marker").write_text("")

    new = github_style("ghp", rng)
    upstream.write("deploy.sh", f"export GITHUB_TOKEN={new}\n")
    upstream.commit("deploy")
    second = sweeper(list_file=listing)
    assert (second.summary.scanned, second.summary.objects_scanned) == (1, 2)
    assert (mirror / "sprawl-test-marker").exists()  # fetched into, not cloned again
    assert places(second, new) == {(upstream.path.name, "deploy.sh", 1, 21, "still-present")}

    third = sweeper(list_file=listing)
    assert (third.summary.scanned, third.summary.unchanged) == (0, 1)


def test_bad_url_is_one_error_and_the_rest_is_swept(sweeper: Sweeper, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    repo_with(tmp_path / "app", {".npmrc": npmrc(token)})
    listing = tmp_path / "targets.txt"
    bad = f"file://{tmp_path / 'no-such-repo.git'}"
    listing.write_text(f"{bad}\napp\n", encoding="utf-8")
    outcome = sweeper(list_file=listing)
    assert (outcome.summary.scanned, outcome.summary.failed) == (1, 1)
    [error] = sweeper.errors
    assert error.startswith(f"{bad}: git clone failed: ") and "\n" not in error
    assert outcome.summary.errors == (error,)
    assert places(outcome, token) == {("app", ".npmrc", 2, 34, "still-present")}


def test_changed_rules_read_everything_again(sweeper: Sweeper, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    repo_with(tmp_path / "clones" / "app", {".npmrc": npmrc(token)})
    first = sweeper(tmp_path / "clones")
    sweeper.settings = replace(
        sweeper.settings, rules=tuple(r for r in sweeper.settings.rules if r.id != "github-classic-token")
    )
    again = sweeper(tmp_path / "clones")
    assert again.summary.rules_changed and again.summary.scanned == 1
    assert again.summary.objects_scanned == first.summary.objects_scanned
    assert any("rules or sprawl version changed" in note for note in sweeper.notes)
    assert places(again, token) == {("app", ".npmrc", 2, 34, "still-present")}


def test_interrupted_sweep_resumes_without_the_finished_repositories(
    sweeper: Sweeper, tmp_path: Path, rng: random.Random
) -> None:
    tokens = [npm_token(rng) for _ in range(4)]
    for index, token in enumerate(tokens):
        repo_with(tmp_path / "clones" / f"repo{index}", {".npmrc": npmrc(token)})
    # What a killed sweep leaves: a running sweep row and two repositories done.
    from scanner.sweep.runner import settings_digest, targets_digest
    from scanner.sweep.tasks import ScanTask, SurveyTask, scan, survey

    targets = local_targets(str(tmp_path / "clones"))
    settings = replace(sweeper.settings, digest=settings_digest(sweeper.settings))
    db = StateDB.open(sweeper.state)
    db.check_rules(settings.digest)
    run = db.start_sweep(targets_digest(targets), len(targets))
    for target in targets[:2]:
        found = survey(settings, SurveyTask(target, None))
        db.record_scan(run.id, scan(settings, ScanTask(target, found.path, found.refs, found.candidates)))
    db.close()

    outcome = sweeper(tmp_path / "clones")
    summary = outcome.summary
    assert (summary.sweep_id, summary.resumed, summary.already_done, summary.scanned) == (run.id, True, 2, 2)
    assert summary.objects_scanned == 2 * object_count(tmp_path / "clones" / "repo2")
    assert sweeper.notes == [f"resuming sweep {run.id}, interrupted after 2 of 4 repositories"]
    # All four are new in the resumed sweep, found before or after the interruption.
    report = select(outcome.findings, ReportOptions(sweep_id=run.id, new_only=True))
    assert {s.finding.secret_sha256 for s in report.findings} == {secret_sha256(t) for t in tokens}
    with sqlite3.connect(sweeper.state) as raw:
        assert raw.execute("SELECT status FROM sweeps WHERE id = ?", (run.id,)).fetchone() == ("finished",)


def test_two_jobs_give_the_same_results_as_one(settings: SweepSettings, tmp_path: Path) -> None:
    rng = random.Random(7)
    clones = tmp_path / "clones"
    upstream = repo_with(clones / "upstream", {".npmrc": npmrc(npm_token(rng))})
    clone(upstream.path, clones / "fork")
    for index in range(4):
        repo_with(clones / f"app{index}", {"deploy.sh": f"export GITHUB_TOKEN={github_style('ghp', rng)}\n"})
    repo_with(clones / "clean", {"main.py": "print('clean')\n"})
    results = {}
    for run_jobs in (1, 2):
        sweep = Sweeper(settings, tmp_path / f"state-{run_jobs}.db")
        outcome = sweep(clones, jobs=run_jobs)
        results[run_jobs] = (
            outcome.summary.objects_scanned,
            outcome.summary.objects_skipped,
            sorted(
                (f.secret.fingerprint, o.repo, o.path, o.line, o.column, o.commit or "", o.state)
                for f in outcome.findings
                for o in f.occurrences
            ),
        )
    assert results[1] == results[2]
    assert len(results[1][2]) == 6  # four apps, upstream and fork


def test_state_recorded_under_another_key_is_refused(sweeper: Sweeper, tmp_path: Path) -> None:
    repo_with(tmp_path / "clones" / "app", {"a.txt": "x\n"})
    sweeper(tmp_path / "clones")
    sweeper.settings = replace(sweeper.settings, fingerprint_key=b"another key")
    with pytest.raises(ConfigError, match="different fingerprint key"):
        sweeper(tmp_path / "clones")
    assert os.path.exists(sweeper.state)


def _advance(repo: Repo) -> None:
    """A new empty commit on main without porcelain: the poisoned config's
    filters and hooks must not run while the test sets things up."""
    quiet = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]
    commit = repo.git(*quiet, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "another")
    repo.git(*quiet, "update-ref", "refs/heads/main", commit)


@pytest.mark.parametrize("how", ["in place", "mirrored"])
def test_a_hostile_repository_stays_inert(hostile: tuple[Repo, Path, str], tmp_path: Path, how: str) -> None:
    """The repository of tests/test_hostile_repo.py (fsmonitor, hooks,
    filters, pager, credential helper, ssh, gpg and upload-pack hook all
    pointing at a marker script), swept in place or cloned and then fetched
    as a file:// remote, by the command a cron job runs: nothing of it runs."""
    repo, marker, token = hostile
    listing = tmp_path / "list.txt"
    listing.write_text(f"{repo.path}\n" if how == "in place" else f"file://{repo.path}\n", encoding="utf-8")
    args = ["sweep", "--list", str(listing), "--state", str(tmp_path / "s.db"), "--cache", str(tmp_path / "cache")]
    # As a hook would have it: GIT_* variables in the environment must not steer git.
    env = git_env(GIT_DIR=str(repo.path / ".git"), GIT_INDEX_FILE=str(repo.path / ".git" / "index"))
    for _ in range(2):  # the second run fetches into the existing mirror
        _advance(repo)
        done = subprocess.run(
            [sys.executable, "-m", "scanner", *args, "--jobs", "1"],
            cwd=repo.path,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert not marker.exists(), f"sprawl sweep ({how}) ran: {marker.read_text()}"
        assert done.returncode == 1, done.stderr
        assert token not in done.stdout + done.stderr
