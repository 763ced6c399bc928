"""Mirrors of remote repositories: cloned once, then fetched (file:// remotes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.sweep.mirrors import default_cache_dir, ensure_mirror, mirror_name, mirror_path
from scanner.sweep.targets import remote_target
from tests.gitbuild import Repo


def _refs(repo: Path) -> dict[str, str]:
    text = Repo(repo, init=False).git("for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ") for line in text.splitlines())


def test_mirror_names_are_safe_readable_and_distinct() -> None:
    a = mirror_name("https://git.example.test/team/app.git")
    b = mirror_name("https://git.example.test/team/app")
    assert a.startswith("git.example.test-team-app.git-") and a.endswith(".git")
    assert a != b
    hostile = mirror_name("file:///../../etc/passwd;rm -rf ~")
    assert "/" not in hostile and ".." not in hostile.split("-")[0] and " " not in hostile


def test_default_cache_dir_follows_xdg(tmp_path: Path) -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "sprawl" / "mirrors"
    assert default_cache_dir({}) == Path(os.path.expanduser("~")) / ".cache" / "sprawl" / "mirrors"


def test_cloned_once_then_fetched_with_prune(tmp_path: Path) -> None:
    upstream = Repo(tmp_path / "upstream")
    upstream.write("a.txt", "one\n")
    first = upstream.commit("one")
    upstream.git("branch", "feature")
    target = remote_target(f"file://{upstream.path}")
    cache = tmp_path / "cache"

    mirror = ensure_mirror(target, cache, timeout=60)
    assert mirror == mirror_path(cache, target)
    assert _refs(mirror) == {"refs/heads/main": first, "refs/heads/feature": first}
    assert Repo(mirror, init=False).git("rev-parse", "--is-bare-repository") == "true"
    (mirror / "marker").write_text("kept: the mirror is fetched into, not cloned again\n")

    upstream.write("a.txt", "two\n")
    second = upstream.commit("two")
    upstream.git("branch", "-D", "feature")
    assert ensure_mirror(target, cache, timeout=60) == mirror
    assert (mirror / "marker").exists()
    assert _refs(mirror) == {"refs/heads/main": second}
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == [mirror.name]


def test_the_mirror_follows_the_remote_default_branch(tmp_path: Path) -> None:
    upstream = Repo(tmp_path / "upstream")
    upstream.write("a.txt", "one\n")
    upstream.commit("one")
    target = remote_target(f"file://{upstream.path}")
    cache = tmp_path / "cache"
    mirror = ensure_mirror(target, cache, timeout=60)
    assert Repo(mirror, init=False).git("symbolic-ref", "HEAD") == "refs/heads/main"
    upstream.git("branch", "-m", "main", "trunk")  # the default branch renamed upstream
    ensure_mirror(target, cache, timeout=60)
    assert Repo(mirror, init=False).git("symbolic-ref", "HEAD") == "refs/heads/trunk"


def test_unreachable_url_is_one_error_naming_it_and_leaves_nothing(tmp_path: Path) -> None:
    target = remote_target(f"file://{tmp_path / 'gone.git'}")
    cache = tmp_path / "cache"
    with pytest.raises(SourceError) as caught:
        ensure_mirror(target, cache, timeout=60)
    message = str(caught.value)
    assert message.startswith(f"file://{tmp_path / 'gone.git'}: git clone failed: ")
    assert "\n" not in message
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == []
    assert not any(p.name.startswith(f".{mirror_name(target.key)}") for p in cache.iterdir())


def test_remote_hooks_never_run_while_mirroring(tmp_path: Path) -> None:
    """Hooks are not transferred by a clone, and the mirror's own hooks
    folder is ignored: a hook planted there after cloning does not run."""
    upstream = Repo(tmp_path / "upstream")
    upstream.commit("one")
    target = remote_target(f"file://{upstream.path}")
    mirror = ensure_mirror(target, tmp_path / "cache", timeout=60)
    marker = tmp_path / "hook-ran"
    for name in ("reference-transaction", "post-fetch", "pre-auto-gc"):
        hook = mirror / "hooks" / name
        hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
        hook.chmod(0o755)
    upstream.commit("two")
    ensure_mirror(target, tmp_path / "cache", timeout=60)
    assert not marker.exists()
    # Control: plain git fetching into the same mirror does run the hook.
    upstream.commit("three")
    Repo(mirror, init=False).git("fetch", "-q", "origin", "+refs/*:refs/*")
    assert marker.exists()


def test_credentials_in_a_url_never_reach_an_error_message(tmp_path: Path) -> None:
    secret = "tok3n-value-for-test"
    target = remote_target(f"https://ci:{secret}@127.0.0.1:9/team/repo.git")
    with pytest.raises(SourceError) as caught:
        ensure_mirror(target, tmp_path / "cache", timeout=60)
    assert str(caught.value).startswith("https://127.0.0.1:9/team/repo.git: git clone failed: ")
    assert secret not in str(caught.value)
