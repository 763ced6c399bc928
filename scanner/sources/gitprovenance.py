"""Which commits introduced a given blob at which path: one ``git log --raw``
pass over the scanned revisions, run only when some blob matched.

A commit introduces blob B at path P when its tree has B at P and no parent's
tree does. For ordinary commits that is a raw-diff entry whose new id is B;
for merges ``-c`` lists exactly the paths that differ from every parent, so
content that only a merge (a conflict resolution, an "evil merge") brought
in is attributed to that merge. Renames are not followed (``--no-renames``):
a rename introduces the content at its new path, which is what a reader of
that path needs to know.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from scanner.gitcmd import popen_git
from scanner.sources.gitobjects import split_revisions

_COMMIT_MARK = b"\x01"
_FORMAT = "--format=%x01%H%x00%an <%ae>%x00%aI"
_READ = 1 << 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Introduction:
    """One commit that brought a blob in at one path."""

    commit: str
    path: str
    author: str
    when: datetime | None


def find_introductions(
    repo: str, wanted: set[str], revisions: Sequence[str]
) -> tuple[dict[str, list[Introduction]], str | None]:
    """For every blob id in ``wanted``, the commits (within ``revisions``)
    that introduced it and where; plus git's error line if the walk broke."""
    found: dict[str, list[Introduction]] = {}
    if not wanted:
        return found, None
    options, plain = split_revisions(revisions)
    args = ["log", "--raw", "-c", "--no-abbrev", "--no-renames", "--root", "-z", _FORMAT, *options, "--stdin"]
    with tempfile.TemporaryFile() as revs:
        revs.write("".join(f"{rev}\n" for rev in plain).encode("utf-8", "surrogateescape"))
        revs.seek(0)
        proc = popen_git(repo, args, stdin=revs.fileno())
        try:
            for record in _records(proc.stdout):
                for intro in _introductions(record, wanted):
                    found.setdefault(intro[0], []).append(intro[1])
            failure = None if proc.wait() == 0 else proc.error_line()
        finally:
            proc.close()
    for intros in found.values():
        intros.sort(key=lambda i: (i.when or _EPOCH, i.commit, i.path))
    return found, failure


def _records(stream: object) -> Iterator[bytes]:
    """Split the log output into one record per commit, reading in pieces."""
    read = stream.read  # type: ignore[attr-defined]
    buffer = b""
    while True:
        piece = read(_READ)
        if not piece:
            break
        buffer += piece
        parts = buffer.split(_COMMIT_MARK)
        buffer = parts.pop()
        for part in parts:
            if part:
                yield part
    if buffer:
        yield buffer


def _introductions(record: bytes, wanted: set[str]) -> Iterator[tuple[str, Introduction]]:
    fields = record.split(b"\0")
    if len(fields) < 3:
        return
    commit = fields[0].decode("ascii", "replace")
    author = fields[1].decode("utf-8", "replace")
    date_and_rest = fields[2].split(b"\n", 1)
    when = _parse_date(date_and_rest[0].decode("ascii", "replace"))
    # After the header: alternating raw-diff meta (":..." / "::...") and path.
    tokens = fields[3:]
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip(b"\n")
        index += 1
        if not token.startswith(b":"):
            continue
        if index >= len(tokens):
            break
        path = tokens[index]
        index += 1
        meta = token.lstrip(b":").split(b" ")
        if len(meta) < 3:
            continue
        result_oid = meta[-2].decode("ascii", "replace")  # the last id is the commit's own
        if result_oid in wanted:
            yield result_oid, Introduction(commit, path.decode("utf-8", "surrogateescape"), author, when)


def _parse_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None
