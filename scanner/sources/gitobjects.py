"""Listing the objects a history scan reads: every blob, commit and tag
reachable from the chosen revisions, optionally the unreachable ones too.

Each listing streams from one git process, so memory stays flat however
large the repository. Trees are never listed: their content is names, and
the names reach the report through provenance.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.gitcmd import git_error, popen_git, run_git

_OID_LINE = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64})(?: (.*))?$", re.DOTALL)

#: Called with a one-line description when git could not list everything.
OnFailure = Callable[[str], None]


@dataclass(frozen=True)
class ObjectRef:
    """An object to read. ``path`` is where rev-list first met a blob (a hint
    only: a blob can live at many paths); empty for commits."""

    oid: str
    path: str = ""
    missing: bool = False  # listed as missing (partial or damaged clone)
    kind: str = ""  # "commit", "blob" or "tag" when the listing says so
    size: int = -1  # bytes, when the listing says so


def history_revisions(
    git_dir: str,
    *,
    branch: str | None = None,
    since_commit: str | None = None,
    since: str | None = None,
) -> list[str]:
    """rev-list arguments for a history scan: every ref (branches, tags,
    remotes, notes, stash and its older entries) unless narrowed."""
    revisions = [branch] if branch else ["--all", *stash_entries(git_dir)]
    if since_commit:
        revisions.append(f"^{since_commit}")
    if since:
        revisions.append(f"--since={since}")
    return revisions


def stash_entries(git_dir: str) -> list[str]:
    """Every stash entry, not only the newest: older ones live only in the
    stash reflog, which ``--all`` does not walk. Read from the reflog file
    itself (no git process, nothing to execute)."""
    try:
        text = (Path(git_dir) / "logs" / "refs" / "stash").read_text("utf-8", "replace")
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        fields = line.split(" ", 2)
        if len(fields) >= 2 and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", fields[1]) and set(fields[1]) != {"0"}:
            entries.append(fields[1])
    return entries


def reachable_objects(repo: str, revisions: Sequence[str], on_failure: OnFailure) -> Iterator[ObjectRef]:
    """Commits, blobs and annotated tags reachable from ``revisions``, each
    once. Missing objects are listed (``missing=True``), never fetched."""
    options, plain = split_revisions(revisions)
    stdin_text = "".join(f"{rev}\n" for rev in plain)
    # Commits come from their own walk: with a blob filter rev-list shows
    # only the commits it was handed, not the ones it walked through.
    yield from _stream_listing(repo, ["rev-list", *options, "--stdin"], stdin_text, on_failure)
    blob_walk = ["rev-list", "--objects", "--filter=object:type=blob", "--filter-provided-objects", "--missing=print"]
    yield from _stream_listing(repo, [*blob_walk, *options, "--stdin"], stdin_text, on_failure)
    if "--all" in options:
        yield from annotated_tags(repo, on_failure)


def annotated_tags(repo: str, on_failure: OnFailure) -> Iterator[ObjectRef]:
    """Tag objects (their messages are text people write) under refs/tags."""
    done = run_git(repo, ["for-each-ref", "--format=%(objectname) %(objecttype)", "refs/tags"], check=False)
    if done.returncode != 0:
        on_failure(f"{repo}: git for-each-ref failed: {git_error(done.stderr)}")
        return
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] == b"tag":
            yield ObjectRef(fields[0].decode("ascii"))


def split_revisions(revisions: Sequence[str]) -> tuple[list[str], list[str]]:
    """(options, revisions): pseudo-options such as ``--all`` must be
    arguments (this git reads only plain and ``^`` revisions on stdin);
    the revisions themselves go on stdin, where no list is too long."""
    options = [rev for rev in revisions if rev.startswith("-")]
    plain = [rev for rev in revisions if not rev.startswith("-")]
    return options, plain


def _stream_listing(repo: str, args: list[str], stdin_text: str, on_failure: OnFailure) -> Iterator[ObjectRef]:
    # Revisions go through a file on stdin: an argument list could be too
    # long (pre-push of many refs) and a file never blocks like a pipe can.
    with tempfile.TemporaryFile() as revs:
        revs.write(stdin_text.encode("utf-8", "surrogateescape"))
        revs.seek(0)
        proc = popen_git(repo, args, stdin=revs.fileno())
        pending: tuple[str, bytes] | None = None
        try:
            for line in proc.stdout:
                line = line.rstrip(b"\n")
                if line.startswith(b"?"):
                    yield ObjectRef(line[1:].decode("ascii", "replace"), missing=True)
                    continue
                match = _OID_LINE.match(line)
                if match is None:
                    if pending is not None:  # a path with a newline in it
                        pending = (pending[0], pending[1] + b"\n" + line)
                    continue
                if pending is not None:
                    yield _ref(*pending)
                pending = (match.group(1).decode("ascii"), match.group(2) or b"")
            if pending is not None:
                yield _ref(*pending)
            if proc.wait() != 0:
                on_failure(f"{repo}: git {args[0]} stopped early: {proc.error_line()}")
        finally:
            proc.close()


def _ref(oid: str, path: bytes) -> ObjectRef:
    return ObjectRef(oid, path.decode("utf-8", "surrogateescape"))


def unreachable_objects(repo: str, on_failure: OnFailure) -> Iterator[ObjectRef]:
    """Blobs, commits and tags no ref reaches (reflogs do not count: a reset
    or force-push leaves its commits there)."""
    proc = popen_git(repo, ["fsck", "--unreachable", "--no-reflogs", "--connectivity-only", "--no-progress"])
    try:
        for line in proc.stdout:
            fields = line.split()
            if len(fields) == 3 and fields[0] == b"unreachable" and fields[1] in (b"blob", b"commit", b"tag"):
                yield ObjectRef(fields[2].decode("ascii"), kind=fields[1].decode("ascii"))
        # fsck exits non-zero when it met damage but still lists what it can.
        if proc.wait() != 0 and proc.error_line() != "no error message":
            on_failure(f"{repo}: git fsck reported damage: {proc.error_line()}")
    finally:
        proc.close()


def all_objects(repo: str, on_failure: OnFailure) -> Iterator[ObjectRef]:
    """Every blob, commit and tag in the object database, reachable or not,
    in pack order (which keeps git's delta cache warm), with their sizes.
    A full-history scan reads this instead of walking every tree of every
    commit, which on a long history costs more than reading the blobs."""
    proc = popen_git(
        repo,
        ["cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)", "--unordered"],
    )
    try:
        for line in proc.stdout:
            fields = line.split()
            if len(fields) == 3 and fields[1] in (b"blob", b"commit", b"tag"):
                yield ObjectRef(fields[0].decode("ascii"), kind=fields[1].decode("ascii"), size=int(fields[2]))
            elif len(fields) == 2 and fields[1] == b"missing":
                # Listed, but its header could not be read: damaged.
                yield ObjectRef(fields[0].decode("ascii"), missing=True)
        # cat-file names damage on stderr and may still exit 0.
        if proc.wait() != 0 or proc.error_line() != "no error message":
            on_failure(f"{repo}: git cat-file could not list every object: {proc.error_line()}")
    finally:
        proc.close()
