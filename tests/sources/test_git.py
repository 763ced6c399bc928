"""Full-history scanning of real repositories built with the git CLI."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from scanner.config import HistoryScope, ScanConfig
from scanner.model import Finding, Occurrence, ScanResult
from scanner.pipeline import scan
from tests.gitbuild import Repo, git_env
from tests.tokenfactory import github_style, npm_token

RULE = "npm-access-token"


def npmrc(token: str) -> str:
    return f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={token}\n"


def run_scan(target: str, *, jobs: int = 1, **history: object) -> ScanResult:
    return scan(ScanConfig(paths=(target,), jobs=jobs, history=HistoryScope(**history)))  # type: ignore[arg-type]


def finding_for(result: ScanResult, secret: str) -> Finding:
    found = [f for f in result.findings if f.secret == secret]
    assert found, f"secret not found; findings: {[(f.rule_id, f.redacted) for f in result.findings]}"
    return found[0]


def places(finding: Finding) -> set[tuple[str, int, int, str | None, str | None]]:
    return {
        (o.provenance.path, o.line, o.column, o.provenance.commit, dict(o.provenance.extra).get("state"))
        for o in finding.occurrences
    }


def only(finding: Finding) -> Occurrence:
    assert len(finding.occurrences) == 1, places(finding)
    return finding.occurrences[0]


@pytest.fixture()
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_secret_deleted_later_is_history_only_with_its_commit(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write("README.md", "hello\n")
    repo.commit("start")
    repo.write(".npmrc", npmrc(token))
    added = repo.commit("add npm config", author="Bob Builder", email="bob@example.test")
    repo.remove(".npmrc")
    repo.commit("remove npm config")

    finding = finding_for(run_scan(str(repo.path)), token)

    occurrence = only(finding)
    assert (occurrence.provenance.path, occurrence.line, occurrence.column) == (".npmrc", 2, 34)
    assert occurrence.provenance.commit == added
    assert occurrence.provenance.author == "Bob Builder <bob@example.test>"
    assert occurrence.provenance.when is not None and occurrence.provenance.when.timestamp() == 1_700_000_000 + 7200
    assert dict(occurrence.provenance.extra)["state"] == "history-only"
    assert finding.still_present is False


def test_secret_still_in_the_tree_is_still_present_and_more_severe(tmp_path: Path, rng: random.Random) -> None:
    # A read-only feed token (medium): room to be raised one step.
    token = "glft-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(20))
    kept, deleted = Repo(tmp_path / "kept"), Repo(tmp_path / "deleted")
    for repo in (kept, deleted):
        repo.write("feeds.txt", f"https://gitlab.com/dashboard/issues.atom?feed_token={token}\n")
        repo.commit("add")
    deleted.remove("feeds.txt")
    deleted.commit("remove")

    present = finding_for(run_scan(str(kept.path)), token)
    history = finding_for(run_scan(str(deleted.path)), token)

    assert present.still_present is True
    assert dict(only(present).provenance.extra)["state"] == "still-present"
    assert present.severity > history.severity


def test_secret_on_an_unmerged_branch_is_found(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write("app.py", "print('hi')\n")
    repo.commit("start")
    repo.git("checkout", "-q", "-b", "feature/publish")
    repo.write("ci/release.sh", f"#!/bin/sh\nexport NPM_TOKEN={token}\nnpm publish\n")
    feature = repo.commit("release script")
    repo.git("checkout", "-q", "main")

    occurrence = only(finding_for(run_scan(str(repo.path)), token))

    assert (occurrence.provenance.path, occurrence.line, occurrence.provenance.commit) == ("ci/release.sh", 2, feature)
    assert dict(occurrence.provenance.extra)["state"] == "history-only"  # not in main's tree


def test_secret_only_a_merge_introduced_is_attributed_to_the_merge(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write("config/registry.txt", "registry=https://registry.npmjs.org/\n")
    repo.commit("start")
    repo.git("checkout", "-q", "-b", "left")
    repo.write("config/registry.txt", "registry=https://left.example/\n")
    repo.commit("left")
    repo.git("checkout", "-q", "main")
    repo.write("config/registry.txt", "registry=https://right.example/\n")
    repo.commit("right")
    repo.merge("left", no_commit=True)  # conflicts; resolved by hand below
    repo.write("config/registry.txt", npmrc(token))
    merge = repo.commit("merge left")
    assert len(repo.git("rev-list", "--parents", "-n1", "HEAD").split()) == 3

    occurrence = only(finding_for(run_scan(str(repo.path)), token))

    assert (occurrence.provenance.path, occurrence.line, occurrence.provenance.commit) == ("config/registry.txt", 2, merge)


def test_rename_reports_the_secret_at_both_paths(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write("old/.npmrc", npmrc(token))
    first = repo.commit("add")
    repo.git("mv", "old", "new")
    renamed = repo.commit("rename")

    found = places(finding_for(run_scan(str(repo.path)), token))

    assert found == {
        ("old/.npmrc", 2, 34, first, "history-only"),
        ("new/.npmrc", 2, 34, renamed, "still-present"),
    }


def test_same_blob_in_many_commits_is_scanned_once(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write(".npmrc", npmrc(token))
    repo.commit("add")
    for index in range(5):
        repo.write(f"file{index}.txt", f"{index}\n")
        repo.commit(f"more {index}")

    result = run_scan(str(repo.path))

    assert len(only(finding_for(result, token)).provenance.commit or "") == 40
    # 6 distinct blobs (npmrc + five files) and 6 commit messages, each read once
    assert result.stats.inputs_scanned == 12


def test_tag_reachable_content_tag_and_commit_messages(repo: Repo, rng: random.Random) -> None:
    in_tagged, in_tag_message, in_commit_message = (github_style("ghp", rng) for _ in range(3))
    repo.write("README.md", "hello\n")
    repo.commit("start")
    repo.git("checkout", "-q", "--orphan", "release-staging")
    repo.write("deploy.env", f"GITHUB_TOKEN={in_tagged}\n")
    tagged = repo.commit("staging")
    repo.git("tag", "-a", "v1.0-staging", "-m", f"release notes\n\ntoken used: {in_tag_message}")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "release-staging")  # now only the tag reaches it
    message_commit = repo.commit(f"fix ci\n\nthe ci token is {in_commit_message}", add=False)

    result = run_scan(str(repo.path))

    assert only(finding_for(result, in_tagged)).provenance.commit == tagged
    tag_occurrence = only(finding_for(result, in_tag_message))
    assert (tag_occurrence.provenance.path, tag_occurrence.line) == ("(tag message)", 3)
    commit_occurrence = only(finding_for(result, in_commit_message))
    assert (commit_occurrence.provenance.path, commit_occurrence.line, commit_occurrence.column) == ("(commit message)", 3, 17)
    assert commit_occurrence.provenance.commit == message_commit
    assert commit_occurrence.provenance.author == "Ada Author <ada@example.test>"


def test_every_stash_entry_and_notes_are_scanned(repo: Repo, rng: random.Random) -> None:
    older, newer, noted = npm_token(rng), npm_token(rng), npm_token(rng)
    repo.write("README.md", "hello\n")
    repo.commit("start")
    repo.write(".npmrc", npmrc(older))
    repo.git("stash", "push", "-q", "-u", "-m", "older")
    repo.write("README.md", f"hello\nNPM_TOKEN={newer}\n")
    repo.git("stash", "push", "-q", "-m", "newer")
    repo.git("notes", "add", "-m", f"deploy used NPM_TOKEN={noted}", "HEAD")

    result = run_scan(str(repo.path))

    for token in (older, newer, noted):
        assert finding_for(result, token).occurrences


def test_unreachable_commits_and_blobs_only_with_the_flag(repo: Repo, rng: random.Random) -> None:
    reset_away, loose_blob = npm_token(rng), npm_token(rng)
    repo.write("README.md", "hello\n")
    repo.commit("start")
    repo.write(".npmrc", npmrc(reset_away))
    lost = repo.commit("oops")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("reflog", "expire", "--expire=now", "--all")
    (repo.path / "loose.txt").write_text(npmrc(loose_blob))
    blob = repo.git("hash-object", "-w", "loose.txt")
    (repo.path / "loose.txt").unlink()

    default = run_scan(str(repo.path))
    assert not [f for f in default.findings if f.secret in (reset_away, loose_blob)]
    # ... but the user is told there is something to look at
    assert dict(default.stats.skipped)["unreachable git object with a candidate match (see it with --unreachable)"] == 2

    deep = run_scan(str(repo.path), unreachable=True)
    assert places(finding_for(deep, reset_away)) == {(".npmrc", 2, 34, lost, "unreachable")}
    assert places(finding_for(deep, loose_blob)) == {(f"(unreachable blob {blob[:12]})", 2, 34, None, "unreachable")}


def test_narrowing_by_branch_since_commit_and_date(repo: Repo, rng: random.Random) -> None:
    early, late, side = npm_token(rng), npm_token(rng), npm_token(rng)
    repo.write("a.txt", f"NPM_TOKEN={early}\n")
    base = repo.commit("early")  # 1_700_003_600
    repo.write("a.txt", f"NPM_TOKEN={late}\n")
    repo.commit("late")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("b.txt", f"NPM_TOKEN={side}\n")
    repo.commit("side")
    repo.git("checkout", "-q", "main")

    def secrets(**history: object) -> set[str]:
        return {f.secret for f in run_scan(str(repo.path), **history).findings}

    assert secrets() == {early, late, side}
    assert secrets(branch="main") == {early, late}
    assert secrets(since_commit=base) == {late, side}
    assert secrets(branch="main", since_commit=base) == {late}
    assert secrets(since="@1700005000") == {late, side}


def test_bare_clone_and_explicit_git_prefix(repo: Repo, tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write(".npmrc", npmrc(token))
    commit = repo.commit("add")
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(bare)], check=True, env=git_env())

    for target in (str(bare), f"git:{bare}"):
        occurrence = only(finding_for(run_scan(target), token))
        assert (occurrence.provenance.path, occurrence.provenance.commit) == (".npmrc", commit)
        assert dict(occurrence.provenance.extra)["state"] == "still-present"


def test_history_off_scans_the_folder_as_files(repo: Repo, rng: random.Random) -> None:
    token = npm_token(rng)
    repo.write(".npmrc", npmrc(token))
    repo.commit("add")
    result = scan(ScanConfig(paths=(str(repo.path),), history=HistoryScope(git=False)))
    occurrence = only(finding_for(result, token))
    assert occurrence.provenance.source == "file" and occurrence.provenance.commit is None


def test_committed_archive_members_are_scanned(repo: Repo, tmp_path: Path, rng: random.Random) -> None:
    import io
    import tarfile

    token = npm_token(rng)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = npmrc(token).encode()
        info = tarfile.TarInfo("package/.npmrc")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (repo.path / "dist").mkdir()
    (repo.path / "dist" / "pkg-1.0.0.tgz").write_bytes(buffer.getvalue())
    repo.commit("vendor a package")

    occurrence = only(finding_for(run_scan(str(repo.path)), token))
    assert (occurrence.provenance.path, occurrence.line) == ("dist/pkg-1.0.0.tgz!package/.npmrc", 2)


def test_two_workers_find_exactly_what_one_finds(repo: Repo, rng: random.Random) -> None:
    tokens = [npm_token(rng) for _ in range(30)]
    for index, token in enumerate(tokens):
        repo.write(f"pkg{index}/.npmrc", npmrc(token))
        repo.write(f"pkg{index}/README.md", "filler\n" * index)
        repo.commit(f"package {index}")

    one, two = run_scan(str(repo.path), jobs=1), run_scan(str(repo.path), jobs=2)

    assert {f.secret for f in one.findings} == set(tokens)
    assert [(f.id, places(f)) for f in one.findings] == [(f.id, places(f)) for f in two.findings]
    assert one.stats.inputs_scanned == two.stats.inputs_scanned


def test_not_a_repository_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    result = run_scan(f"git:{tmp_path / 'plain'}")
    assert result.stats.errors and "not a readable git repository" in result.stats.errors[0]
    assert str(tmp_path / "plain") in result.stats.errors[0]


# ------------------------------------------------------------ broken repositories


def _history_with_tokens(repo: Repo, rng: random.Random, count: int = 3) -> list[str]:
    tokens = [npm_token(rng) for _ in range(count)]
    for index, token in enumerate(tokens):
        repo.write(f"pkg{index}/.npmrc", npmrc(token) + f"# filler {index}\n" + "x" * 4000 * (index + 1) + "\n")
        repo.commit(f"package {index}")
    return tokens


def test_shallow_clone_is_scanned_and_marked_incomplete(repo: Repo, tmp_path: Path, rng: random.Random) -> None:
    old, new = _history_with_tokens(repo, rng, 2)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)], check=True, env=git_env())

    result = run_scan(str(shallow))

    assert {f.secret for f in result.findings} == {old, new}  # both still in the one commit's tree
    assert result.incomplete and not result.stats.errors
    assert any("shallow clone" in gap for gap in result.stats.gaps)


def test_partial_clone_never_fetches_and_names_what_is_missing(repo: Repo, tmp_path: Path, rng: random.Random) -> None:
    in_message = npm_token(rng)
    _history_with_tokens(repo, rng, 2)
    repo.commit(f"rotate\n\nold one was NPM_TOKEN={in_message}", add=False)
    repo.git("config", "uploadpack.allowFilter", "true")
    partial = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{repo.path}", str(partial)],
        check=True,
        env=git_env(),
    )
    before = Repo(partial, init=False).git("count-objects", "-v")

    result = run_scan(str(partial))

    assert {f.secret for f in result.findings} == {in_message}  # messages are there, blobs are not
    assert any("not in this clone" in gap and "never fetches" in gap for gap in result.stats.gaps)
    assert Repo(partial, init=False).git("count-objects", "-v") == before  # nothing was fetched
    assert not result.stats.errors


def test_corrupt_loose_object_is_named_and_the_rest_scanned(repo: Repo, rng: random.Random) -> None:
    tokens = _history_with_tokens(repo, rng)
    bad = repo.blob_id("HEAD:pkg1/.npmrc")
    loose = repo.path / ".git" / "objects" / bad[:2] / bad[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"this is not zlib data")

    result = run_scan(str(repo.path))

    assert {f.secret for f in result.findings} == {tokens[0], tokens[2]}
    assert any(bad in gap for gap in result.stats.gaps)
    assert not result.stats.errors


def _corrupt_in_pack(repo: Repo, oid: str) -> None:
    """Repack everything, then overwrite the middle of ``oid``'s compressed data."""
    repo.git("repack", "-adq")
    pack_index = next((repo.path / ".git" / "objects" / "pack").glob("*.idx"))
    listing = repo.git("verify-pack", "-v", str(pack_index))
    for line in listing.splitlines():
        fields = line.split()
        if fields and fields[0] == oid:
            size_in_pack, offset = int(fields[3]), int(fields[4])
            break
    else:
        raise AssertionError(f"{oid} not in pack")
    pack = pack_index.with_suffix(".pack")
    pack.chmod(0o644)
    data = bytearray(pack.read_bytes())
    for position in range(offset + size_in_pack // 3, offset + size_in_pack - 4):
        data[position] ^= 0x5A
    pack.write_bytes(bytes(data))


@pytest.mark.parametrize("jobs", [1, 2])
def test_corrupt_pack_object_is_named_and_the_rest_scanned(repo: Repo, rng: random.Random, jobs: int) -> None:
    tokens = _history_with_tokens(repo, rng, 4)
    bad = repo.blob_id("HEAD:pkg1/.npmrc")
    _corrupt_in_pack(repo, bad)

    result = run_scan(str(repo.path), jobs=jobs)

    assert {f.secret for f in result.findings} == {tokens[0], tokens[2], tokens[3]}
    assert any(bad in gap for gap in result.stats.gaps), result.stats.gaps
    assert not result.stats.errors


def test_broken_history_walk_falls_back_to_every_object(repo: Repo, rng: random.Random) -> None:
    tokens = _history_with_tokens(repo, rng)
    tree = repo.git("rev-parse", "HEAD~1^{tree}")
    loose = repo.path / ".git" / "objects" / tree[:2] / tree[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"broken tree")

    walked = run_scan(str(repo.path), branch="main")  # a narrowed scan walks the history
    whole = run_scan(str(repo.path))  # a whole-history scan reads the database

    # Every blob is still read from the object database, damaged tree or not.
    for result in (walked, whole):
        assert set(tokens) <= {f.secret for f in result.findings}
        assert not result.stats.errors
    assert any("fell back" in gap for gap in walked.stats.gaps)
    assert any(tree in gap for gap in whole.stats.gaps)  # the damage is still named


def test_empty_repository_is_clean_not_broken(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "empty")  # no commits at all
    result = run_scan(str(repo.path))
    assert not result.findings and not result.stats.errors and not result.stats.gaps


def test_repository_with_nothing_readable_is_an_error(repo: Repo, rng: random.Random) -> None:
    import shutil

    _history_with_tokens(repo, rng)
    objects = repo.path / ".git" / "objects"
    for child in objects.iterdir():
        if child.name not in ("info", "pack"):
            shutil.rmtree(child)

    result = run_scan(str(repo.path))

    assert result.stats.errors == (f"{repo.path}: nothing in this repository could be read",)
