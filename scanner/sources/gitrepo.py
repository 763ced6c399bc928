"""Recognising git repositories among scan targets, and the facts about one
that a history scan needs (bare or not, shallow, partial, the current tree).

Recognition looks at the file system only (no git process), so a plain
folder scan costs nothing extra.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import SourceError
from scanner.gitcmd import git_error, run_git

GIT_PREFIX = "git:"


def looks_like_repository(path: str | Path) -> bool:
    """True for a working-tree root (has ``.git``, a folder or a worktree
    file) or a bare repository (HEAD, objects/ and refs/ side by side)."""
    root = Path(path)
    if not root.is_dir():
        return False
    if (root / ".git").exists():
        return True
    return (root / "HEAD").is_file() and (root / "objects").is_dir() and (root / "refs").is_dir()


def split_git_target(target: str) -> str | None:
    """The repository path of an explicit ``git:PATH`` target, else None."""
    if target.startswith(GIT_PREFIX):
        return target[len(GIT_PREFIX) :] or "."
    return None


@dataclass(frozen=True)
class RepositoryFacts:
    """What one history scan needs to know before it starts."""

    path: str  # as the user named it, for messages
    git_dir: str
    bare: bool
    shallow: bool
    partial: bool  # a promisor remote: objects may be missing on purpose
    head: str | None  # commit id of HEAD, None for an empty repository
    object_format: str  # sha1 or sha256


def inspect_repository(path: str) -> RepositoryFacts:
    """Ask git about ``path``; SourceError when it is not a repository."""
    if not os.path.isdir(path):
        raise SourceError(f"{path}: not a directory, cannot be a git repository")
    done = run_git(
        path,
        [
            "rev-parse",
            "--absolute-git-dir",
            "--is-bare-repository",
            "--is-shallow-repository",
            "--show-object-format",
        ],
        check=False,
    )
    if done.returncode != 0:
        raise SourceError(f"{path}: not a readable git repository ({git_error(done.stderr)})")
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 4:
        raise SourceError(f"{path}: git rev-parse gave an unexpected answer")
    git_dir, bare, shallow, object_format = lines[:4]
    head = run_git(path, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], check=False)
    promisor = run_git(path, ["config", "--local", "--get-regexp", r"^remote\..*\.promisor$"], check=False)
    head_id = head.stdout.decode().strip() if head.returncode == 0 else ""
    return RepositoryFacts(
        path=path,
        git_dir=git_dir,
        bare=bare == "true",
        shallow=shallow == "true",
        partial=b"true" in promisor.stdout or _has_promisor_packs(Path(git_dir)),
        head=head_id or None,
        object_format=object_format,
    )


def _has_promisor_packs(git_dir: Path) -> bool:
    pack_dir = git_dir / "objects" / "pack"
    return pack_dir.is_dir() and any(pack_dir.glob("*.promisor"))


def shallow_boundary(facts: RepositoryFacts) -> list[str]:
    """Commit ids where a shallow clone's history was cut off."""
    try:
        text = (Path(facts.git_dir) / "shallow").read_text("ascii")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def tree_blobs(repo: str, commit: str) -> dict[str, str]:
    """path -> blob id for every file in ``commit``'s tree (the current tree
    when ``commit`` is HEAD); empty when the tree cannot be read."""
    done = run_git(repo, ["ls-tree", "-r", "-z", "--full-tree", commit], check=False)
    blobs: dict[str, str] = {}
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob":
            blobs[path.decode("utf-8", "surrogateescape")] = fields[2].decode()
    return blobs
