"""The pre-commit check on real repositories: only what the commit adds is
reported, at the staged path and line; the message never shows the value."""

from __future__ import annotations

import io
import random
from datetime import date
from pathlib import Path

import pytest

from scanner.baseline import baseline_key, create_baseline, write_baseline
from scanner.config import ScanConfig
from scanner.hooks.precommit import HookOptions, run_pre_commit, scan_staged
from tests.gitbuild import Repo
from tests.tokenfactory import github_style, npm_token


def check(repo: Path, options: HookOptions | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_pre_commit(repo, options or HookOptions(), out=out, err=err, environ={}, today=date(2026, 1, 1))
    return code, out.getvalue(), err.getvalue()


def places(repo: Path) -> set[tuple[str, str, int, int]]:
    result = scan_staged(repo, ScanConfig(paths=(str(repo),)), environ={})
    return {(f.rule_id, o.provenance.path, o.line, o.column) for f in result.findings for o in f.occurrences}


@pytest.fixture()
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "project")
    repo.write("README.md", "# project\n")
    repo.write("src/app.py", "".join(f"value_{n} = {n}\n" for n in range(1, 11)))
    repo.commit("first")
    return repo


def test_token_on_an_added_line_blocks_with_its_place(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    lines = (repo.path / "src/app.py").read_text().splitlines(keepends=True)
    lines.insert(4, f"registry_token = '{token}'\n")
    repo.write("src/app.py", "".join(lines))
    repo.git("add", "src/app.py")
    code, out, err = check(repo.path)
    assert code == 1 and err == ""
    assert places(repo.path) == {("npm-access-token", "src/app.py", 5, 19)}
    assert "npm-access-token" in out
    assert "src/app.py:5:19" in out
    assert f"npm_…{token[-4:]}" in out
    assert token not in out and token[4:20] not in out
    # The three ways forward, concretely.
    assert "Remove it from the staged file (edit, then git add)" in out
    assert "sprawl:allow" in out
    assert "sprawl baseline create src/app.py --baseline .sprawl-baseline.json --reason" in out
    assert "--no-verify" in out


def test_token_on_an_unchanged_line_of_a_modified_file_is_not_reported(repo: Repo, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    repo.write("deploy.sh", f"#!/bin/sh\nexport GH_TOKEN='{token}'\necho deploy\n")
    repo.commit("with an old token")  # already in history: not this commit's business
    repo.write("deploy.sh", f"#!/bin/sh\nexport GH_TOKEN='{token}'\necho deploy\necho done\n")
    repo.git("add", "deploy.sh")
    assert check(repo.path) == (0, "", "")


def test_first_commit_of_a_repository(tmp_path: Path, rng: random.Random) -> None:
    repo = Repo(tmp_path / "fresh")
    repo.write(".npmrc", f"//registry.npmjs.org/:_authToken={npm_token(rng)}\n")
    repo.git("add", "-A")
    assert places(repo.path) == {("npm-access-token", ".npmrc", 1, 34)}
    assert check(repo.path)[0] == 1


def test_rename_with_an_unchanged_token_is_not_reported(repo: Repo, rng: random.Random) -> None:
    repo.write("config/old.env", "".join(f"SETTING_{n}=x\n" for n in range(12)) + f"TOKEN={npm_token(rng)}\n")
    repo.commit("token")
    repo.git("mv", "config/old.env", "config/new.env")
    assert check(repo.path) == (0, "", "")


def test_rename_plus_an_added_token_is_reported_at_the_new_path(repo: Repo, rng: random.Random) -> None:
    body = "".join(f"SETTING_{n}=x\n" for n in range(12))
    repo.write("config/old.env", body)
    repo.commit("settings")
    repo.git("mv", "config/old.env", "config/new.env")
    token = npm_token(rng)
    lines = body.splitlines(keepends=True)
    lines.insert(6, f"NPM={token}\n")
    repo.write("config/new.env", "".join(lines))
    repo.git("add", "-A")
    assert places(repo.path) == {("npm-access-token", "config/new.env", 7, 5)}
    code, out, _ = check(repo.path)
    assert code == 1 and "config/new.env:7:5" in out and token not in out


def test_deleting_a_file_with_a_token_is_fine(repo: Repo, rng: random.Random) -> None:
    repo.write("old.txt", f"token {npm_token(rng)}\n")
    repo.commit("token")
    repo.git("rm", "-q", "old.txt")
    assert check(repo.path) == (0, "", "")


def test_binary_file_is_skipped(repo: Repo, rng: random.Random) -> None:
    (repo.path / "blob.bin").write_bytes(b"\x00\x01\x02" + f" {npm_token(rng)} ".encode() + b"\x00" * 64)
    repo.git("add", "-A")
    result = scan_staged(repo.path, ScanConfig(paths=(str(repo.path),)), environ={})
    assert result.findings == ()
    assert dict(result.stats.skipped) == {"binary": 1}


def test_path_with_spaces_and_unicode(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write("docs/été notes/réglages.md", f"# Réglages\n\nnpm token: {token}\n")
    repo.git("add", "-A")
    assert places(repo.path) == {("npm-access-token", "docs/été notes/réglages.md", 3, 12)}
    code, out, _ = check(repo.path)
    assert code == 1
    assert "docs/été notes/réglages.md:3:12" in out
    assert "sprawl baseline create 'docs/été notes/réglages.md'" in out


def test_control_characters_in_a_path_are_escaped(repo: Repo, rng: random.Random) -> None:
    repo.write("evil\x1b[2Jname.txt", f"{npm_token(rng)}\n")
    repo.git("add", "-A")
    code, out, _ = check(repo.path)
    assert code == 1
    assert "\x1b" not in out and "evil\\x1b[2Jname.txt:1:1" in out


def test_allow_marker_on_the_line(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write("tests/fixture.py", f"FAKE = '{token}'  # sprawl:allow test fixture\n")
    repo.git("add", "-A")
    assert check(repo.path) == (0, "", "")
    repo.write("tests/fixture.py", f"FAKE = '{token}'  # sprawl:allow test fixture\nREAL = '{token}'\n")
    repo.git("add", "-A")
    assert places(repo.path) == {("npm-access-token", "tests/fixture.py", 2, 9)}


def test_repository_baseline_file_is_used_by_default(repo: Repo, rng: random.Random) -> None:
    repo.write("notes.txt", f"npm {npm_token(rng)}\n")
    repo.git("add", "-A")
    result = scan_staged(repo.path, ScanConfig(paths=(str(repo.path),)), environ={})
    key = baseline_key(None)
    write_baseline(repo.path / ".sprawl-baseline.json", create_baseline(result.findings, key, reason="test"))
    code, out, err = check(repo.path)
    assert (code, out, err) == (0, "", "")


def test_config_file_settings_apply(repo: Repo, rng: random.Random) -> None:
    repo.write("fixtures/sample.txt", f"npm {npm_token(rng)}\n")
    repo.git("add", "-A")
    assert check(repo.path)[0] == 1
    repo.write(".sprawl.yaml", "exclude-paths:\n  - fixtures/**\n")
    assert check(repo.path) == (0, "", "")
    repo.write(".sprawl.yaml", "disable-rules:\n  - npm-*\n")
    assert check(repo.path) == (0, "", "")
    repo.write(".sprawl.yaml", "max-file-size: 10\n")
    assert check(repo.path) == (0, "", "")
    repo.write(".sprawl.yaml", "fail-on: never\n")
    code, out, _ = check(repo.path)
    assert code == 0 and "commit goes ahead" in out and "fixtures/sample.txt:1:5" in out
    assert check(repo.path, HookOptions(fail_on="low"))[0] == 1  # the flag beats the file
    assert check(repo.path, HookOptions(use_config=False))[0] == 1


def test_submodule_entry_is_skipped(repo: Repo) -> None:
    commit = repo.head()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/lib")
    assert check(repo.path) == (0, "", "")


def test_not_a_repository_is_exit_2_with_one_line(tmp_path: Path) -> None:
    code, out, err = check(tmp_path)
    assert code == 2 and out == ""
    assert err.startswith("sprawl: error: ") and err.count("\n") == 1 and "not a git work tree" in err


def test_broken_config_is_exit_2(repo: Repo) -> None:
    repo.write(".sprawl.yaml", "fail-on: sometimes\n")
    code, _, err = check(repo.path)
    assert code == 2 and err.startswith("sprawl: error: ") and ".sprawl.yaml" in err


def test_nothing_from_the_repository_config_is_run(repo: Repo, rng: random.Random, tmp_path: Path) -> None:
    """fsmonitor, textconv, external diff, filters and pagers named in the
    repository's config or attributes never run: the scan stays inert."""
    token = npm_token(rng)
    repo.write("data.txt", f"token {token}\n")
    repo.git("add", "-A")
    marker = tmp_path / "ran"
    program = tmp_path / "evil.sh"
    program.write_text(f"#!/bin/sh\necho ran >> {marker}\ncat\n")
    program.chmod(0o755)
    for key in ("core.fsmonitor", "diff.evil.textconv", "diff.evil.command", "diff.external", "filter.evil.clean",
                "filter.evil.smudge", "filter.evil.process", "core.pager", "pager.diff-index", "core.hooksPath"):
        repo.git("config", key, str(program))
    repo.write(".gitattributes", "* diff=evil filter=evil\n")
    code, out, _ = check(repo.path)
    assert code == 1 and "data.txt:1:7" in out
    assert not marker.exists()


def test_unreadable_staged_object_is_exit_2(repo: Repo) -> None:
    missing = "1234567890" * 4
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{missing},ghost.txt")
    code, out, err = check(repo.path)
    assert code == 2 and out == ""
    assert err.startswith("sprawl: error: ") and missing in err and err.count("\n") == 1
