"""What a commit adds: the staged files, their staged blobs and which of their
lines are new, read from ``git diff-index --cached`` against HEAD (or the
empty tree before the first commit). Git runs only through scanner.gitcmd.
"""

from __future__ import annotations

import os
import re
import sys
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import SourceError
from scanner.gitcmd import git_error, run_git

# Variables git sets for a hook that say which repository and index the
# commit is about; gitcmd drops every inherited GIT_* variable, so these are
# handed back explicitly. ``git commit -a`` and ``git commit <paths>`` build a
# temporary index and name it in GIT_INDEX_FILE (sometimes as a relative path).
_HOOK_PATH_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")
_HOOK_LIST_VARIABLES = ("GIT_ALTERNATE_OBJECT_DIRECTORIES",)

SUBMODULE_MODE = "160000"

_HUNK = re.compile(rb"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_C_ESCAPES = {
    ord("a"): 0x07,
    ord("b"): 0x08,
    ord("t"): 0x09,
    ord("n"): 0x0A,
    ord("v"): 0x0B,
    ord("f"): 0x0C,
    ord("r"): 0x0D,
    ord('"'): 0x22,
    ord("\\"): 0x5C,
}


@dataclass(frozen=True)
class StagedFile:
    """One file as the commit will record it, with the line ranges
    (first, last; 1-based, inclusive) that the commit adds to it."""

    path: str
    blob: str
    mode: str
    added: tuple[tuple[int, int], ...]
    old_path: str | None = None

    def touches(self, first: int, last: int) -> bool:
        """True when any line in first..last is an added line."""
        index = bisect_right(self.added, (first, sys.maxsize)) - 1
        if index >= 0 and self.added[index][1] >= first:
            return True
        return index + 1 < len(self.added) and self.added[index + 1][0] <= last


def hook_env(environ: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The GIT_* variables of a running hook worth passing to git, made
    absolute (git may hand a hook ``GIT_INDEX_FILE=.git/index``)."""
    env: dict[str, str] = {}
    for name in _HOOK_PATH_VARIABLES:
        value = environ.get(name)
        if value:
            env[name] = str(cwd / value)
    for name in _HOOK_LIST_VARIABLES:
        value = environ.get(name)
        if value:
            env[name] = os.pathsep.join(str(cwd / part) for part in value.split(os.pathsep) if part)
    return env


def unquote_path(raw: bytes) -> str:
    """A path as git prints it in a patch header: C-quoted ("a\\tb", octal
    escapes for bytes) when it holds special characters, plain otherwise."""
    if not raw.startswith(b'"'):
        return raw.decode("utf-8", "replace")
    if len(raw) < 2 or not raw.endswith(b'"'):
        raise ValueError(f"unterminated quoted path {raw[:80]!r}")
    out = bytearray()
    body = raw[1:-1]
    index = 0
    while index < len(body):
        byte = body[index]
        if byte != 0x5C:
            out.append(byte)
            index += 1
            continue
        escape = body[index + 1 : index + 2]
        if escape.isdigit():
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
        elif escape and escape[0] in _C_ESCAPES:
            out.append(_C_ESCAPES[escape[0]])
            index += 2
        else:
            raise ValueError(f"bad escape in quoted path {raw[:80]!r}")
    return out.decode("utf-8", "replace")


@dataclass
class _FileHeader:
    """What the header lines of one file's patch said so far."""

    path: str | None = None
    old_path: str | None = None
    blob: str | None = None
    mode: str | None = None
    deleted: bool = False

    def finish(self, added: list[tuple[int, int]]) -> StagedFile | None:
        if self.deleted or self.path is None or self.blob is None or not added:
            return None
        return StagedFile(
            path=self.path,
            blob=self.blob,
            mode=self.mode or "100644",
            added=tuple(added),
            old_path=self.old_path if self.old_path != self.path else None,
        )


def _header_path(rest: bytes) -> str:
    # git appends a tab to an unquoted name that holds a space (for GNU patch).
    if not rest.startswith(b'"') and rest.endswith(b"\t"):
        rest = rest[:-1]
    return unquote_path(rest)


def parse_patch(data: bytes) -> list[StagedFile]:
    """The files of a ``diff-index -p -U0 --full-index`` patch (prefixes
    a/ and b/) that gain lines, with their post-image blob, mode and added
    line ranges. Deleted files and files without added lines are left out."""
    files: list[StagedFile] = []
    lines = data.split(b"\n")
    header: _FileHeader | None = None
    added: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith(b"diff --git "):
            if header is not None and (done := header.finish(added)) is not None:
                files.append(done)
            header, added = _FileHeader(), []
            continue
        if header is None:
            continue
        if line.startswith(b"@@ "):
            hunk = _HUNK.match(line)
            if hunk is None:
                raise ValueError(f"unreadable hunk header {line[:80]!r}")
            old_count = int(hunk.group(2) or b"1")
            start, new_count = int(hunk.group(3)), int(hunk.group(4) or b"1")
            if new_count:
                added.append((start, start + new_count - 1))
            # Skip the body by count: an added line may itself read "+++ b/x"
            # or "diff --git ...".
            while (old_count > 0 or new_count > 0) and index < len(lines):
                body = lines[index][:1]
                if body == b"-":
                    old_count -= 1
                elif body == b"+":
                    new_count -= 1
                elif body == b" ":
                    old_count, new_count = old_count - 1, new_count - 1
                elif body != b"\\":
                    raise ValueError(f"hunk ends early at {lines[index][:80]!r}")
                index += 1
            while index < len(lines) and lines[index].startswith(b"\\"):
                index += 1  # "\ No newline at end of file"
            continue
        if line.startswith(b"+++ "):
            rest = line[4:]
            if rest == b"/dev/null":
                header.deleted = True
            else:
                header.path = _header_path(rest).removeprefix("b/")
        elif line.startswith(b"index "):
            fields = line[6:].split(b" ")
            header.blob = fields[0].partition(b"..")[2].decode("ascii")
            if len(fields) > 1:
                header.mode = fields[1].decode("ascii")
        elif line.startswith((b"new file mode ", b"new mode ")):
            header.mode = line.rsplit(b" ", 1)[1].decode("ascii")
        elif line.startswith(b"deleted file mode "):
            header.deleted = True
        elif line.startswith((b"rename from ", b"copy from ")):
            header.old_path = unquote_path(line.split(b" ", 2)[2])
    if header is not None and (done := header.finish(added)) is not None:
        files.append(done)
    return files


def repo_root(repo: Path, env: Mapping[str, str]) -> Path:
    """The top of the work tree ``repo`` belongs to; SourceError when it is
    not inside one."""
    done = run_git(repo, ["rev-parse", "--show-toplevel"], env=env, check=False)
    if done.returncode != 0:
        raise SourceError(f"{repo}: not a git work tree ({git_error(done.stderr)})")
    return Path(done.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))


def diff_base(repo: Path, env: Mapping[str, str]) -> str:
    """HEAD's commit, or before the first commit the empty tree (hashed
    rather than hard-coded, so SHA-256 repositories work too)."""
    head = run_git(repo, ["rev-parse", "-q", "--verify", "HEAD^{commit}"], env=env, check=False)
    if head.returncode == 0:
        return head.stdout.decode("ascii").strip()
    tree = run_git(repo, ["hash-object", "-t", "tree", "--stdin"], input=b"", env=env)
    return tree.stdout.decode("ascii").strip()


def staged_files(repo: Path, env: Mapping[str, str]) -> list[StagedFile]:
    """Every staged file that gains lines in the commit being made."""
    base = diff_base(repo, env)
    # Plumbing, not ``git diff``: it ignores diff.noprefix, diff.relative,
    # color and the other porcelain settings that would change the format.
    done = run_git(
        repo,
        [
            "diff-index", "--cached", "-p", "-U0", "-M", "--full-index", "--text",
            "--no-color", "--no-textconv", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
            base, "--",
        ],
        env=env,
    )
    try:
        return parse_patch(done.stdout)
    except ValueError as exc:
        raise SourceError(f"{repo}: cannot read the staged changes: {exc}") from exc


def read_blobs(
    repo: Path, env: Mapping[str, str], files: list[StagedFile], max_size: int
) -> Iterator[tuple[StagedFile, bytes | int]]:
    """Each file with its staged bytes (or its size, when over ``max_size``),
    through one ``git cat-file --batch``. A staged blob that cannot be read
    is a SourceError: the hook must not pass a commit it could not check."""
    from scanner.sources.catfile import CatFileReader, Unreadable

    with CatFileReader(repo, max_size=max_size, env=env) as reader:
        for staged, result in zip(files, reader.read([f.blob for f in files])):
            if isinstance(result, Unreadable):
                raise SourceError(f"{repo}: cannot read staged blob {staged.blob} ({staged.path}): {result.reason}")
            if result.kind != "blob":
                raise SourceError(f"{repo}: staged entry {staged.path} is a {result.kind}, not a file")
            yield staged, result.data if result.data is not None else result.size
