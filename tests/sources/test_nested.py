"""A folder that holds repositories and exports is read as its parts: each
repository's history (not its working tree), each export with its channels
and pages, the rest as files — exactly as when each is named on its own."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scanner.config import HistoryScope, ScanConfig
from scanner.hunt.run import hunt
from scanner.hunt.targets import HuntTargets
from scanner.pipeline import scan
from scanner.sources.nested import is_repository
from tests.gitbuild import Repo
from tests.hunt import corpus
from tests.hunt.corpus import Corpus
from tests.hunt.test_run import expected_places, places
from tests.tokenfactory import npm_token


@pytest.fixture(scope="module")
def value() -> str:
    return corpus.password(random.Random("nested corpus"))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, value: str) -> Corpus:
    return corpus.build(tmp_path_factory.mktemp("nested"), value)


@pytest.mark.parametrize("jobs", [1, 2])
def test_one_folder_finds_what_its_parts_named_one_by_one_find(mixed: Corpus, value: str, jobs: int) -> None:
    whole = hunt(ScanConfig(paths=(str(mixed.root),), jobs=jobs), HuntTargets(values=(value,)))
    # Besides its history, a repository's working tree is read as files like
    # the rest of the folder: the docker config is there too.
    in_tree = {
        (rule, "file", str(mixed.repo / path), line, column, None, ())
        for rule, source, path, line, column, _, extra in expected_places(mixed, value)
        if source == "git" and extra == (("state", "still-present"),)
    }
    assert len(in_tree) == 1
    assert places(whole) == expected_places(mixed, value) | in_tree


def test_without_history_a_repository_is_its_working_tree(mixed: Corpus, value: str) -> None:
    config = ScanConfig(paths=(str(mixed.root),), history=HistoryScope(git=False))
    found = places(hunt(config, HuntTargets(values=(value,))))
    git = {place for place in found if place[1] == "git"}
    assert git == set()
    # The deleted file and the commit message are history: gone without it;
    # the docker config is in the working tree and is read as a file.
    assert {(place[1], Path(place[2]).name) for place in found if "repo" in place[2]} == {("file", "config.json")}


def test_bare_repositories_and_secrets_only_in_history_are_found(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    work = Repo(tmp_path / "corpus" / "projects" / "app")
    work.write(".npmrc", f"//registry.npmjs.org/:_authToken={token}\n")
    added = work.commit("publish settings")
    work.remove(".npmrc")
    work.commit("drop .npmrc")
    bare = tmp_path / "corpus" / "mirrors" / "app.git"
    bare.parent.mkdir(parents=True)
    work.git("clone", "-q", "--bare", str(work.path), str(bare))
    result = scan(ScanConfig(paths=(str(tmp_path / "corpus"),)))
    assert [f.rule_id for f in result.findings] == ["npm-access-token"]
    seen = {(dict(o.provenance.extra)["repository"], o.provenance.path, o.provenance.commit, o.line) for o in result.findings[0].occurrences}
    assert seen == {(str(work.path), ".npmrc", added, 1), (str(bare), ".npmrc", added, 1)}


def test_untracked_and_ignored_files_of_a_nested_clone_are_read(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    work = Repo(tmp_path / "corpus" / "app")
    work.write(".gitignore", ".env\n")
    work.commit("ignore .env")
    work.write(".env", f"NPM_TOKEN={token}\n")  # in no commit
    result = scan(ScanConfig(paths=(str(tmp_path / "corpus"),)))
    assert [(f.rule_id, [(o.provenance.source, o.provenance.path, o.line) for o in f.occurrences]) for f in result.findings] == [
        ("npm-access-token", [("file", str(work.path / ".env"), 1)])
    ]


def test_what_counts_as_a_repository() -> None:
    assert is_repository(frozenset({".git", "src"}), frozenset({"README.md"}))
    assert is_repository(frozenset(), frozenset({".git"}))  # submodule or worktree
    assert is_repository(frozenset({"objects", "refs"}), frozenset({"HEAD", "config"}))
    assert not is_repository(frozenset({"objects"}), frozenset({"HEAD"}))
    assert not is_repository(frozenset({"src"}), frozenset({"HEAD"}))
