"""`sprawl scan` on git repositories through the command line."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from scanner.cli import app
from tests.gitbuild import Repo
from tests.tokenfactory import npm_token

runner = CliRunner()


def _repo_with_history(tmp_path: Path, rng: random.Random) -> tuple[Repo, str, str]:
    repo = Repo(tmp_path / "repo")
    token = npm_token(rng)
    repo.write(".npmrc", f"//registry.npmjs.org/:_authToken={token}\n")
    commit = repo.commit("add npmrc", author="Bob Builder", email="bob@example.test")
    repo.remove(".npmrc")
    repo.commit("remove npmrc")
    return repo, token, commit


def test_json_report_carries_commit_author_date_and_state(tmp_path: Path, rng: random.Random) -> None:
    repo, token, commit = _repo_with_history(tmp_path, rng)
    result = runner.invoke(app, ["scan", str(repo.path), "--format", "json", "-q"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    [finding] = report["findings"]
    [place] = finding["occurrences"]
    assert (place["path"], place["line"], place["column"]) == (".npmrc", 1, 34)
    assert place["commit"] == commit and place["author"] == "Bob Builder <bob@example.test>"
    assert place["date"].startswith("2023-11-14T")
    assert place["extra"]["state"] == "history-only"
    assert finding["still_present"] is False
    assert token not in result.stdout


def test_table_says_history_only_and_how_to_purge(tmp_path: Path, rng: random.Random) -> None:
    repo, _, commit = _repo_with_history(tmp_path, rng)
    result = runner.invoke(app, ["scan", str(repo.path), "-q"])
    assert f".npmrc:1:34 @ {commit[:10]} (history only)" in result.stdout
    assert "purge it from history" in result.stdout


def test_unknown_branch_is_one_clear_error(tmp_path: Path, rng: random.Random) -> None:
    repo, _, _ = _repo_with_history(tmp_path, rng)
    result = runner.invoke(app, ["scan", str(repo.path), "--branch", "mian"])
    assert result.exit_code == 2
    assert f"sprawl: error: {repo.path}: --branch 'mian' is not a commit, branch or tag in this repository" in result.stderr


def test_option_shaped_ref_is_refused(tmp_path: Path, rng: random.Random) -> None:
    repo, _, _ = _repo_with_history(tmp_path, rng)
    result = runner.invoke(app, ["scan", str(repo.path), "--since-commit=--output=/tmp/x"])
    assert result.exit_code == 2
    assert "--since-commit '--output=/tmp/x' is not a ref or date git can take" in result.stderr


def test_no_git_scans_the_checkout_only(tmp_path: Path, rng: random.Random) -> None:
    repo, _, _ = _repo_with_history(tmp_path, rng)
    result = runner.invoke(app, ["scan", str(repo.path), "--no-git", "-q"])
    assert result.exit_code == 0  # the token was deleted from the working tree
