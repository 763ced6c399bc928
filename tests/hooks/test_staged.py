"""Which files and lines a commit adds, read from real repositories built
with the git CLI, and the patch parser on its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.hooks.staged import (
    StagedFile,
    diff_base,
    hook_env,
    parse_patch,
    read_blobs,
    repo_root,
    staged_files,
    unquote_path,
)
from tests.gitbuild import Repo, git_env


def _staged(repo: Repo) -> dict[str, StagedFile]:
    return {f.path: f for f in staged_files(repo.path, {})}


def test_first_commit_every_line_is_added(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("a.txt", "one\ntwo\nthree\n")
    repo.write("empty.txt", "")
    repo.git("add", "-A")
    files = _staged(repo)
    assert set(files) == {"a.txt"}  # an empty file adds no line
    assert files["a.txt"].added == ((1, 3),)
    assert files["a.txt"].blob == repo.git("rev-parse", ":a.txt")
    assert files["a.txt"].mode == "100644"


def test_empty_tree_is_hashed_not_hard_coded(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    assert diff_base(repo.path, {}) == repo.git("hash-object", "-t", "tree", "/dev/null")
    repo.write("a.txt", "x\n")
    head = repo.commit("first")
    assert diff_base(repo.path, {}) == head


def test_modified_file_reports_only_new_lines(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("a.txt", "".join(f"line {n}\n" for n in range(1, 11)))
    repo.commit("first")
    lines = [f"line {n}\n" for n in range(1, 11)]
    lines[2] = "changed 3\n"
    lines.insert(7, "inserted\n")
    lines.append("appended\n")
    repo.write("a.txt", "".join(lines))
    repo.git("add", "a.txt")
    assert _staged(repo)["a.txt"].added == ((3, 3), (8, 8), (12, 12))


def test_pure_rename_adds_nothing_rename_with_edit_adds_its_line(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    body = "".join(f"config value {n}\n" for n in range(20))
    repo.write("old/same.txt", body)
    repo.write("old/edited.txt", body.replace("value", "setting"))
    repo.commit("first")
    (repo.path / "new").mkdir()
    repo.git("mv", "old/same.txt", "new/same.txt")
    repo.git("mv", "old/edited.txt", "new/edited.txt")
    repo.write("new/edited.txt", body.replace("value", "setting") + "one more line\n")
    repo.git("add", "-A")
    files = _staged(repo)
    assert set(files) == {"new/edited.txt"}
    assert files["new/edited.txt"].added == ((21, 21),)
    assert files["new/edited.txt"].old_path == "old/edited.txt"


def test_deleted_and_mode_only_changes_add_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("gone.txt", "bye\n")
    repo.write("run.sh", "echo hi\n")
    repo.commit("first")
    repo.git("rm", "-q", "gone.txt")
    repo.git("update-index", "--chmod=+x", "run.sh")
    assert _staged(repo) == {}


def test_paths_with_spaces_tabs_quotes_and_unicode(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    names = ["with space.txt", "tab\there.txt", 'quote".txt', "ünïcödé/日本.txt", "back\\slash.txt"]
    for name in names:
        repo.write(name, f"content of {name}\n")
    repo.git("add", "-A")
    files = _staged(repo)
    assert set(files) == set(names)
    assert all(f.added == ((1, 1),) for f in files.values())


def test_binary_file_is_listed_with_its_blob(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    (repo.path / "image.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 4)
    repo.git("add", "-A")
    files = _staged(repo)
    [(_, data)] = list(read_blobs(repo.path, {}, [files["image.bin"]], 1 << 20))
    assert data == (repo.path / "image.bin").read_bytes()


def test_submodule_is_marked_by_its_mode(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("a.txt", "x\n")
    commit = repo.commit("first")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/lib")
    assert _staged(repo)["vendor/lib"].mode == "160000"


def test_staged_content_not_worktree_content(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("a.txt", "staged line\n")
    repo.git("add", "a.txt")
    repo.write("a.txt", "staged line\nunstaged line\n")
    files = _staged(repo)
    assert files["a.txt"].added == ((1, 1),)
    [(_, data)] = list(read_blobs(repo.path, {}, [files["a.txt"]], 1 << 20))
    assert data == b"staged line\n"


def test_large_blob_gives_its_size(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.write("big.txt", "x" * 5000 + "\n")
    repo.write("small.txt", "y\n")
    repo.git("add", "-A")
    files = _staged(repo)
    wanted = [files["big.txt"], files["small.txt"]]
    results = {f.path: data for f, data in read_blobs(repo.path, {}, wanted, 1000)}
    assert results == {"big.txt": 5001, "small.txt": b"y\n"}


def test_temporary_index_named_by_git_index_file(tmp_path: Path) -> None:
    """``git commit -a`` stages into a temporary index and names it in
    GIT_INDEX_FILE; the hook must read that index, not .git/index."""
    repo = Repo(tmp_path / "r")
    repo.write("a.txt", "one\n")
    repo.commit("first")
    repo.write("a.txt", "one\ntwo\n")
    temp_index = repo.path / ".git" / "other-index"
    env = git_env(GIT_INDEX_FILE=str(temp_index))
    subprocess.run(["git", "-C", str(repo.path), "read-tree", "HEAD"], env=env, check=True)
    subprocess.run(["git", "-C", str(repo.path), "add", "a.txt"], env=env, check=True)
    assert staged_files(repo.path, {}) == []  # the real index is untouched
    relative = hook_env({"GIT_INDEX_FILE": ".git/other-index"}, repo.path)
    assert relative == {"GIT_INDEX_FILE": str(temp_index)}
    assert [(f.path, f.added) for f in staged_files(repo.path, relative)] == [("a.txt", ((2, 2),))]


def test_hook_env_passes_only_repository_variables(tmp_path: Path) -> None:
    env = hook_env(
        {"GIT_DIR": "/abs/.git/worktrees/w", "GIT_INDEX_FILE": "idx", "GIT_EDITOR": "vim", "GIT_SSH_COMMAND": "evil"},
        tmp_path,
    )
    assert env == {"GIT_DIR": "/abs/.git/worktrees/w", "GIT_INDEX_FILE": str(tmp_path / "idx")}


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a git work tree"):
        repo_root(tmp_path, {})


def test_worktree_root(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    (repo.path / "sub").mkdir()
    assert repo_root(repo.path / "sub", {}) == repo.path.resolve()


# ------------------------------------------------------------ the parser


def test_parser_counts_hunk_lines_so_content_cannot_fake_headers() -> None:
    blob = "1" * 40
    patch = (
        "diff --git a/x.txt b/x.txt\n"
        f"index {'0' * 40}..{blob} 100644\n"
        "--- a/x.txt\n"
        "+++ b/x.txt\n"
        "@@ -1,0 +2,3 @@ context\n"
        "++++ b/other.txt\n"
        "+diff --git a/y b/y\n"
        "+@@ -1 +1,50 @@\n"
        "\\ No newline at end of file\n"
    ).encode()
    assert parse_patch(patch) == [StagedFile("x.txt", blob, "100644", ((2, 4),))]


def test_parser_reads_quoted_names_new_modes_and_trailing_tabs() -> None:
    blob = "2" * 40
    patch = (
        'diff --git "a/t\\tq.txt" "b/t\\tq.txt"\n'
        "new file mode 100755\n"
        f"index {'0' * 40}..{blob}\n"
        "--- /dev/null\n"
        '+++ "b/t\\tq.txt"\n'
        "@@ -0,0 +1 @@\n"
        "+x\n"
        "diff --git a/a b.txt b/c d.txt\n"
        "similarity index 90%\n"
        "rename from a b.txt\n"
        "rename to c d.txt\n"
        f"index {'3' * 40}..{blob} 100644\n"
        "--- a/a b.txt\t\n"
        "+++ b/c d.txt\t\n"
        "@@ -5 +5 @@\n"
        "-old\n"
        "+new\n"
        "diff --git a/gone b/gone\n"
        "deleted file mode 100644\n"
        f"index {blob}..{'0' * 40}\n"
        "--- a/gone\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-bye\n"
    ).encode()
    assert parse_patch(patch) == [
        StagedFile("t\tq.txt", blob, "100755", ((1, 1),)),
        StagedFile("c d.txt", blob, "100644", ((5, 5),), old_path="a b.txt"),
    ]


def test_unquote_octal_bytes() -> None:
    assert unquote_path(b'"b/\\303\\274.txt"') == "b/ü.txt"
    assert unquote_path(b"plain name.txt") == "plain name.txt"
    with pytest.raises(ValueError):
        unquote_path(b'"b/\\q"')


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [(1, 1, False), (2, 2, True), (4, 4, True), (5, 6, False), (5, 7, True), (6, 6, False), (9, 9, True), (10, 12, False)],
)
def test_touches(first: int, last: int, expected: bool) -> None:
    staged = StagedFile("f", "0" * 40, "100644", ((2, 4), (7, 9)))
    assert staged.touches(first, last) is expected
