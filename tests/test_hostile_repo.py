"""A hostile repository stays inert: no sprawl command that touches git runs
anything the repository (its config, hooks or attributes) names.

The repository's fsmonitor, every hook, a clean/smudge/process filter, a
textconv and external diff driver, the pager, a credential helper, the ssh
command, askpass and the gpg program all point at one script that appends
to a marker file. A control test proves plain git does run them; then every
sprawl command is run against the repository and the marker must not appear.
"""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitbuild import Repo, git_env
from tests.tokenfactory import npm_token

_HOOKS = (
    "pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "pre-push", "post-checkout",
    "post-merge", "pre-rebase", "pre-auto-gc", "reference-transaction", "post-rewrite", "fsmonitor-watchman",
    "post-index-change", "push-to-checkout", "pre-receive", "update", "post-update",
)


def _evil_script(path: Path, marker: Path) -> Path:
    path.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\ncat\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Repo, Path, str]:
    """A repository with history, a staged change, then a poisoned config."""
    rng = random.Random("hostile")
    marker = tmp_path / "MARKER"
    evil = _evil_script(tmp_path / "evil.sh", marker)
    repo = Repo(tmp_path / "repo")
    token = npm_token(rng)
    repo.write(".gitattributes", "* filter=evil diff=evil merge=evil\n")
    repo.write("README.md", "hello\n")
    repo.commit("start")
    repo.write("deploy/.npmrc", f"//registry.npmjs.org/:_authToken={token}\n")
    repo.commit("add npmrc")
    # A commit carrying a signature header, so log.showSignature would call gpg.
    tree = repo.git("rev-parse", "HEAD^{tree}")
    parent = repo.head()
    signed = (
        f"tree {tree}\nparent {parent}\nauthor A <a@example.test> 1700000000 +0000\n"
        "committer A <a@example.test> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n"
        " iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned commit\n"
    )
    commit = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=signed)
    repo.git("update-ref", "refs/heads/main", commit)
    # Stage a change without running any filter (plumbing, --no-filters).
    staged = repo.write("staged.env", f"NPM_TOKEN={token}\n")
    blob = repo.git("hash-object", "-w", "--no-filters", str(staged))
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob},staged.env")
    repo.git("remote", "add", "origin", f"ext::{evil} %S")
    hooks = tmp_path / "evil-hooks"
    hooks.mkdir()
    for name in _HOOKS:
        _evil_script(hooks / name, marker)
        _evil_script(repo.path / ".git" / "hooks" / name, marker)
    settings = {
        "core.fsmonitor": str(evil),
        "core.hooksPath": str(hooks),
        "core.pager": str(evil),
        "pager.log": str(evil),
        "core.askPass": str(evil),
        "core.sshCommand": str(evil),
        "core.gitProxy": str(evil),
        "core.editor": str(evil),
        "core.alternateRefsCommand": str(evil),
        "credential.helper": f"!{evil}",
        "diff.external": str(evil),
        "diff.evil.textconv": str(evil),
        "diff.evil.command": str(evil),
        "filter.evil.clean": str(evil),
        "filter.evil.smudge": str(evil),
        "filter.evil.process": str(evil),
        "filter.evil.required": "true",
        "merge.evil.driver": str(evil),
        "log.showSignature": "true",
        "gpg.program": str(evil),
        "protocol.ext.allow": "always",
        "gc.auto": "1",
        "gc.autoDetach": "false",
        "uploadpack.packObjectsHook": str(evil),
    }
    for key, value in settings.items():
        repo.git("config", key, value)
    assert not marker.exists(), "setting up must not have triggered anything"
    return repo, marker, token


def _sprawl(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # The user's environment may hold GIT_* variables; a hook would too.
    env = git_env(GIT_DIR=str(cwd / ".git"), GIT_INDEX_FILE=str(cwd / ".git" / "index"))
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env,
        check=False,
    )


def test_plain_git_does_run_the_hostile_programs(hostile: tuple[Repo, Path, str]) -> None:
    """The control: without sprawl's protections these settings fire, so the
    test below can fail."""
    repo, marker, _ = hostile
    repo.git("status", check=False)  # fsmonitor, the clean filter
    repo.git("log", "-1", check=False)  # gpg for the signature, the pager setting
    assert marker.exists() and marker.read_text().strip()


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "."],
        ["scan", "git:.", "--unreachable", "--format", "json"],
        ["scan", ".", "--branch", "main", "--since-commit", "HEAD~2", "--since", "2000-01-01"],
        ["scan", ".", "--no-git"],
        ["hook", "pre-commit"],
        ["hook", "pre-push", "origin", "ext::whatever"],
        ["install-hook", ".", "--hook", "all", "--force"],
        ["baseline", "create", ".", "--baseline", "../baseline.json", "--reason", "test"],
        ["config", "show", "."],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_no_sprawl_command_runs_anything_from_the_repository(hostile: tuple[Repo, Path, str], args: list[str]) -> None:
    repo, marker, token = hostile
    stdin = f"refs/heads/main {repo.head()} refs/heads/main {'0' * 40}\n" if args[:2] == ["hook", "pre-push"] else ""

    done = _sprawl(args, repo.path, stdin)

    assert not marker.exists(), f"sprawl {' '.join(args)} ran: {marker.read_text()}"
    assert done.returncode in (0, 1), done.stderr
    assert token not in done.stdout + done.stderr
    if args[0] in ("scan", "hook") and "--no-git" not in args:
        assert done.returncode == 1, "the planted token must still be found"
    if os.name == "posix" and args[0] == "install-hook":
        assert (repo.path.parent / "evil-hooks" / "pre-commit").read_text().find("sprawl") >= 0
