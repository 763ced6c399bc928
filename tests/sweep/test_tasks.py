"""The per-repository work: survey (refs, candidates) and scan (match,
fingerprint, locate), on real repositories."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

from scanner.baseline import fingerprint
from scanner.findings import secret_sha256
from scanner.sweep.targets import local_targets
from scanner.sweep.tasks import (
    RepoScan,
    ScanTask,
    Survey,
    SurveyTask,
    SweepSettings,
    existing_objects,
    scan,
    survey,
)
from tests.gitbuild import Repo
from tests.sweep.conftest import KEY, clone, npmrc, repo_with
from tests.tokenfactory import github_style, npm_token


def _full(settings: SweepSettings, path: Path, known: tuple[tuple[str, str], ...] | None = None) -> tuple[Survey, RepoScan]:
    [target] = local_targets(str(path))
    found = survey(settings, SurveyTask(target, known))
    assert found.error is None
    return found, scan(settings, ScanTask(target, found.path, found.refs, found.candidates))


def test_results_hold_fingerprints_never_the_secret(settings: SweepSettings, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    repo = repo_with(tmp_path / "app", {".npmrc": npmrc(token)})
    found, result = _full(settings, repo.path)
    assert token.encode() not in pickle.dumps(found) + pickle.dumps(result)
    [secret] = result.secrets
    assert secret.fingerprint == fingerprint(KEY, "npm-access-token", token)
    assert secret.sha256 == secret_sha256(token)
    assert secret.redacted.startswith("npm_") and secret.redacted.endswith(token[-4:])
    assert secret.liveness == "live-looking"
    [match] = result.matches
    blob = repo.blob_id("HEAD:.npmrc")
    assert (match.oid, match.kind, match.member, match.line, match.column) == (blob, "blob", "", 2, 34)
    [location] = result.locations
    assert (location.oid, location.path, location.commit, location.state) == (blob, ".npmrc", repo.head(), "still-present")
    assert location.author == "Ada Author <ada@example.test>"
    # Every object read is reported, so a later sweep can skip it.
    assert {oid for oid, _ in result.scanned} == {c.oid for c in found.candidates}
    assert {kind for _, kind in result.scanned} == {"blob", "commit"}


def test_unchanged_refs_short_cut_and_new_commits_list_only_new_objects(
    settings: SweepSettings, tmp_path: Path, rng: random.Random
) -> None:
    repo = repo_with(tmp_path / "app", {"a.txt": "hello\n"})
    first, _ = _full(settings, repo.path)
    [target] = local_targets(str(repo.path))
    again = survey(settings, SurveyTask(target, first.refs))
    assert again.unchanged and again.candidates == ()

    repo.write("deploy.sh", f"export GITHUB_TOKEN={github_style('ghp', rng)}\n")
    commit = repo.commit("deploy script")
    later = survey(settings, SurveyTask(target, first.refs))
    assert not later.unchanged
    assert {c.oid for c in later.candidates} == {commit, repo.blob_id("HEAD:deploy.sh")}
    assert dict(later.refs)["refs/heads/main"] == commit


def test_known_match_is_located_in_a_fork_without_reading_it(
    settings: SweepSettings, tmp_path: Path, rng: random.Random
) -> None:
    token = npm_token(rng)
    upstream = repo_with(tmp_path / "upstream", {".npmrc": npmrc(token)})
    fork = clone(upstream.path, tmp_path / "fork")
    fork.write("extra.txt", "fork work\n")
    fork.commit("fork work")
    blob = upstream.blob_id("HEAD:.npmrc")
    [target] = local_targets(str(fork.path))
    found = survey(settings, SurveyTask(target, None))
    result = scan(settings, ScanTask(target, found.path, found.refs, (), known=((blob, "blob"),)))
    assert result.scanned == () and result.matches == ()
    assert [(loc.oid, loc.path, loc.commit, loc.state) for loc in result.locations] == [
        (blob, ".npmrc", upstream.head(), "still-present")
    ]


def test_known_blob_no_ref_reaches_gets_no_location(settings: SweepSettings, tmp_path: Path, rng: random.Random) -> None:
    repo = repo_with(tmp_path / "app", {".npmrc": npmrc(npm_token(rng))})
    blob = repo.blob_id("HEAD:.npmrc")
    repo.git("reset", "-q", "--hard", "HEAD~1")  # the secret now lives in the reflog only
    assert existing_objects(str(repo.path), [blob]) == {blob}
    [target] = local_targets(str(repo.path))
    found = survey(settings, SurveyTask(target, None))
    result = scan(settings, ScanTask(target, found.path, found.refs, (), known=((blob, "blob"),)))
    assert result.locations == ()
    assert dict(result.skipped) == {"unreachable git object with a candidate match": 1}


def test_commit_message_secret_is_located_at_its_commit(settings: SweepSettings, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    repo = Repo(tmp_path / "app")
    repo.write("a.txt", "x\n")
    commit = repo.commit(f"ci: use token {token}", author="Eve Example", email="eve@example.test")
    found, result = _full(settings, repo.path)
    [location] = result.locations
    assert (location.kind, location.path, location.commit, location.state) == ("commit", "(commit message)", commit, "message")
    assert location.author == "Eve Example <eve@example.test>"
    # Known from an earlier scan: located again, author read from the object.
    [target] = local_targets(str(repo.path))
    again = scan(settings, ScanTask(target, found.path, found.refs, (), known=((commit, "commit"),)))
    assert [(loc.commit, loc.author, loc.when) for loc in again.locations] == [
        (commit, location.author, location.when)
    ]


def test_allowed_lines_are_counted_not_recorded(settings: SweepSettings, tmp_path: Path, rng: random.Random) -> None:
    repo = repo_with(tmp_path / "app", {".npmrc": npmrc(npm_token(rng)).rstrip("\n") + "  # sprawl:allow\n"})
    _, result = _full(settings, repo.path)
    assert result.allowed_inline == 1
    assert result.matches == () and result.secrets == () and result.locations == ()


def test_missing_repository_is_a_survey_error(settings: SweepSettings, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "app")
    [target] = local_targets(str(repo.path))
    (repo.path / ".git" / "HEAD").unlink()
    (repo.path / ".git").rename(tmp_path / "moved")
    found = survey(settings, SurveyTask(target, None))
    assert found.error is not None and found.error.startswith(str(repo.path))
