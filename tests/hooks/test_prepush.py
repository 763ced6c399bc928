"""sprawl hook pre-push on real repositories with a real bare remote."""

from __future__ import annotations

import io
import os
import random
import subprocess
from pathlib import Path

import pytest

from scanner.hooks.install import install_hooks
from scanner.hooks.precommit import HookOptions
from scanner.hooks.prepush import parse_push_lines, push_revisions, run_pre_push
from tests.gitbuild import Repo, git_env
from tests.tokenfactory import npm_token

ZERO = "0" * 40


@pytest.fixture()
def clone(tmp_path: Path) -> Repo:
    remote = Repo(tmp_path / "remote.git", bare=True)
    subprocess.run(["git", "clone", "-q", str(remote.path), str(tmp_path / "work")], check=True, env=git_env())
    work = Repo(tmp_path / "work", init=False)
    work.git("checkout", "-q", "-b", "main")
    return work


def _push_line(repo: Repo, remote_oid: str) -> str:
    return f"refs/heads/main {repo.head()} refs/heads/main {remote_oid}\n"


def _hook(repo: Repo, stdin: str, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    monkeypatch.chdir(repo.path)
    out, err = io.StringIO(), io.StringIO()
    code = run_pre_push(
        repo.path, HookOptions(), stdin=io.StringIO(stdin), out=out, err=err, environ=environ or git_env()
    )
    return code, out.getvalue(), err.getvalue()


def test_pushed_commit_with_a_token_is_blocked_with_its_commit(clone: Repo, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = npm_token(rng), npm_token(rng)
    clone.write("old.txt", f"NPM_TOKEN={old}\n")
    clone.commit("already published")
    clone.git("push", "-q", "origin", "main", env=git_env())
    remote_head = clone.head()
    clone.write("docs/deploy.md", f"steps\n\nexport NPM_TOKEN={new}\n")
    offending = clone.commit("deploy notes")

    code, out, err = _hook(clone, _push_line(clone, remote_head), monkeypatch)

    assert code == 1, err
    assert "push blocked" in out
    assert "docs/deploy.md:3:18" in out and offending[:12] in out
    assert new not in out and old not in out
    assert "old.txt" not in out  # already on the remote: not this push's doing


def test_new_branch_scans_only_commits_no_remote_has(clone: Repo, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = npm_token(rng), npm_token(rng)
    clone.write("old.txt", f"NPM_TOKEN={old}\n")
    clone.commit("published")
    clone.git("push", "-q", "origin", "main", env=git_env())
    clone.git("checkout", "-q", "-b", "feature")
    clone.write("new.txt", f"NPM_TOKEN={new}\n")
    clone.commit("feature work")

    code, out, _ = _hook(clone, f"refs/heads/feature {clone.head()} refs/heads/feature {ZERO}\n", monkeypatch)

    assert code == 1
    assert "new.txt:1:11" in out and "old.txt" not in out


def test_deleting_a_branch_and_clean_pushes_pass(clone: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    clone.write("README.md", "hello\n")
    clone.commit("clean")
    assert _hook(clone, _push_line(clone, ZERO), monkeypatch)[0] == 0
    assert _hook(clone, f"(delete) {ZERO} refs/heads/gone {clone.head()}\n", monkeypatch)[0] == 0
    assert _hook(clone, "", monkeypatch)[0] == 0


def test_pre_commit_framework_variables(clone: Repo, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    clone.write("a.txt", f"NPM_TOKEN={npm_token(rng)}\n")
    clone.commit("token")
    environ = git_env(PRE_COMMIT_TO_REF=clone.head(), PRE_COMMIT_FROM_REF=ZERO)
    code, out, _ = _hook(clone, "", monkeypatch, environ)
    assert code == 1 and "a.txt:1:11" in out


def test_malformed_input_is_one_clear_error(clone: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    clone.write("a.txt", "x\n")
    clone.commit("x")
    code, _, err = _hook(clone, "refs/heads/main not-an-id\n", monkeypatch)
    assert code == 2
    assert err.startswith("sprawl: error: pre-push input line 1 ") and err.count("\n") == 1


def test_revisions_against_a_remote_id_this_clone_lacks(clone: Repo) -> None:
    clone.write("a.txt", "x\n")
    clone.commit("x")
    updates = parse_push_lines(_push_line(clone, "1" * 40))
    assert push_revisions(clone.path, updates) == [clone.head(), "--not", "--remotes"]


def test_real_git_push_is_blocked_by_the_installed_hook(clone: Repo, rng: random.Random) -> None:
    clone.write("README.md", "hello\n")
    clone.commit("start")
    clone.git("push", "-q", "origin", "main", env=git_env())
    published = clone.head()
    install_hooks(clone.path, ["pre-push"], force=False, environ={"GIT_CONFIG_GLOBAL": os.devnull})
    clone.write("ci.env", f"NPM_TOKEN={npm_token(rng)}\n")
    clone.commit("ci env")

    done = subprocess.run(
        ["git", "-C", str(clone.path), "push", "origin", "main"], capture_output=True, text=True, env=git_env(), check=False
    )

    assert done.returncode != 0
    assert "push blocked" in done.stdout + done.stderr and "ci.env:1:11" in done.stdout + done.stderr
    remote = Repo(clone.path.parent / "remote.git", init=False)
    assert remote.git("rev-parse", "refs/heads/main") == published  # nothing was pushed
