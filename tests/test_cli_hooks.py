"""``sprawl hook pre-commit`` and ``sprawl install-hook`` through the command
line, and real ``git commit`` runs through an installed hook."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scanner.cli import app
from tests.gitbuild import Repo, git_env
from tests.tokenfactory import github_style, npm_token

REPO_ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "project")
    repo.write("app.py", "".join(f"setting_{n} = {n}\n" for n in range(1, 8)))
    repo.commit("first")
    return repo


def _commit(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """A real ``git commit``, hooks enabled, as a user would run it."""
    return subprocess.run(
        ["git", "-C", str(repo.path), "commit", "-q", "-m", "change", *args],
        capture_output=True, text=True, env=git_env(), check=False,
    )


def test_hook_command_blocks_and_never_prints_the_value(tmp_path: Path, rng: random.Random) -> None:
    repo = _repo(tmp_path)
    token = github_style("ghp", rng)
    repo.write("app.py", (repo.path / "app.py").read_text() + f"GH = '{token}'\n")
    repo.git("add", "app.py")
    result = runner.invoke(app, ["hook", "pre-commit", str(repo.path)])
    assert result.exit_code == 1
    assert "github-classic-token" in result.stdout and "app.py:8:7" in result.stdout
    assert token not in result.stdout
    result = runner.invoke(app, ["hook", "pre-commit", str(repo.path), "--fail-on", "never"])
    assert result.exit_code == 0 and "commit goes ahead" in result.stdout


def test_hook_command_outside_a_repository(tmp_path: Path) -> None:
    result = runner.invoke(app, ["hook", "pre-commit", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("sprawl: error: ") and "not a git work tree" in result.stderr


def test_python_dash_m_fast_path(tmp_path: Path, rng: random.Random) -> None:
    """What installed hooks run: exit codes and output as through typer,
    without importing typer."""
    repo = _repo(tmp_path)
    hook = [sys.executable, "-P", "-m", "scanner", "hook", "pre-commit"]
    clean = subprocess.run(hook, cwd=repo.path, capture_output=True, text=True, check=False)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    token = npm_token(rng)
    repo.write("release.sh", f"npm config set //registry.npmjs.org/:_authToken {token}\n")
    repo.git("add", "release.sh")
    blocked = subprocess.run(hook, cwd=repo.path, capture_output=True, text=True, check=False)
    assert blocked.returncode == 1
    assert "release.sh:1:" in blocked.stdout and token not in blocked.stdout + blocked.stderr
    probe = (
        "import sys\nfrom scanner.hooks.entry import dispatch\n"
        "code = dispatch(['hook', 'pre-commit'])\n"
        "assert 'typer' not in sys.modules, 'typer imported'\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr


def test_installed_hook_blocks_a_real_commit(tmp_path: Path, rng: random.Random) -> None:
    repo = _repo(tmp_path)
    result = runner.invoke(app, ["install-hook", str(repo.path)])
    assert result.exit_code == 0
    assert str(repo.path / ".git" / "hooks" / "pre-commit") in result.stdout
    before = repo.head()
    token = npm_token(rng)
    repo.write(".npmrc", f"//registry.npmjs.org/:_authToken={token}\n")
    repo.git("add", ".npmrc")
    done = _commit(repo)
    assert done.returncode == 1
    assert ".npmrc:1:34" in done.stderr + done.stdout
    assert token not in done.stderr + done.stdout
    assert repo.head() == before  # no commit was made
    repo.write(".npmrc", "registry=https://registry.npmjs.org/\n")
    repo.git("add", ".npmrc")
    assert _commit(repo).returncode == 0
    assert repo.head() != before


def test_installed_hook_sees_the_temporary_index_of_commit_a(tmp_path: Path, rng: random.Random) -> None:
    """``git commit -a`` stages into a temporary index (GIT_INDEX_FILE): the
    token is in no index the hook could find without it."""
    repo = _repo(tmp_path)
    assert runner.invoke(app, ["install-hook", str(repo.path)]).exit_code == 0
    before = repo.head()
    token = npm_token(rng)
    lines = (repo.path / "app.py").read_text().splitlines(keepends=True)
    lines.insert(3, f"NPM_TOKEN = '{token}'\n")
    repo.write("app.py", "".join(lines))
    done = _commit(repo, "-a")
    assert done.returncode == 1, done.stderr
    assert "app.py:4:14" in done.stderr + done.stdout
    assert repo.head() == before
    lines[3] = f"NPM_TOKEN = '{token}'  # sprawl:allow documented sample\n"
    repo.write("app.py", "".join(lines))
    done = _commit(repo, "-a")
    assert done.returncode == 0, done.stderr + done.stdout
    assert repo.head() != before


def test_installed_hook_with_commit_of_named_paths(tmp_path: Path, rng: random.Random) -> None:
    """``git commit <path>`` also commits from a temporary index; a token in
    another, unnamed, staged file is not part of that commit."""
    repo = _repo(tmp_path)
    assert runner.invoke(app, ["install-hook", str(repo.path)]).exit_code == 0
    repo.write("other.txt", f"token {npm_token(rng)}\n")
    repo.git("add", "other.txt")
    repo.write("app.py", (repo.path / "app.py").read_text() + "setting_8 = 8\n")
    done = _commit(repo, "--", "app.py")
    assert done.returncode == 0, done.stderr + done.stdout


def test_install_hook_refuses_a_foreign_hook(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo.path / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\nmy-linter\n")
    result = runner.invoke(app, ["install-hook", str(repo.path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "was not written by sprawl" in result.stderr
    result = runner.invoke(app, ["install-hook", str(repo.path), "--force"])
    assert result.exit_code == 0 and "pre-commit.bak" in result.stdout


def test_install_hook_rejects_an_unknown_hook(tmp_path: Path) -> None:
    result = runner.invoke(app, ["install-hook", str(_repo(tmp_path).path), "--hook", "post-merge"])
    assert result.exit_code == 2 and "--hook 'post-merge'" in result.stderr


def _command_exists(words: list[str]) -> bool:
    return runner.invoke(app, [*words, "--help"]).exit_code == 0


def test_pre_commit_framework_manifest() -> None:
    manifest = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    hooks = {hook["id"]: hook for hook in manifest}
    assert set(hooks) == {"sprawl", "sprawl-pre-push"}
    main = hooks["sprawl"]
    assert main["entry"] == "sprawl hook pre-commit"
    assert (main["language"], main["pass_filenames"], main["always_run"], main["stages"]) == (
        "python", False, True, ["pre-commit"]
    )
    assert hooks["sprawl-pre-push"]["stages"] == ["pre-push"]
    assert hooks["sprawl-pre-push"]["pass_filenames"] is False
    for hook in hooks.values():
        assert {"id", "name", "entry", "language"} <= set(hook)
        program, *words = hook["entry"].split()
        assert program == "sprawl"
        assert _command_exists(words), hook["entry"]


def test_hook_never_reads_user_git_config(tmp_path: Path, rng: random.Random) -> None:
    """A user's global config that would change diff output (noprefix,
    external diff) does not reach the hook's git."""
    repo = _repo(tmp_path)
    user_config = tmp_path / "gitconfig"
    user_config.write_text("[diff]\n\tnoprefix = true\n\texternal = false\n[core]\n\tquotePath = true\n")
    repo.write("ü.txt", f"{npm_token(rng)}\n")
    repo.git("add", "-A")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(user_config)}
    done = subprocess.run([sys.executable, "-P", "-m", "scanner", "hook", "pre-commit"], cwd=repo.path,
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1 and "ü.txt:1:1" in done.stdout


def test_the_suggested_baseline_command_unblocks_the_commit(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    repo.write("ci/publish.env", f"NPM_TOKEN={npm_token(rng)}\n")
    repo.git("add", "-A")
    monkeypatch.chdir(repo.path)
    blocked = runner.invoke(app, ["hook", "pre-commit"])
    assert blocked.exit_code == 1
    [command] = [line.strip() for line in blocked.stdout.splitlines() if line.strip().startswith("sprawl baseline")]
    assert command == "sprawl baseline create ci/publish.env --baseline .sprawl-baseline.json --reason '<why>'"
    words = command.split()[1:-1] + ["documented test value"]
    assert runner.invoke(app, words).exit_code == 0
    assert runner.invoke(app, ["hook", "pre-commit"]).exit_code == 0
