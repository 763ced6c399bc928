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
from typing import IO, Self

from scanner.gitcmd import GitProcess, popen_git
from scanner.sources.gitobjects import split_revisions

_COMMIT_MARK = b"\x01"
_FORMAT = "--format=%x01%H%x00%an <%ae>%x00%aI"
_READ = 1 << 20
# Consecutive commits per share when the log is split across processes.
_RUN = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Introduction:
    """One commit that brought a blob in at one path."""

    commit: str
    path: str
    author: str
    when: datetime | None


class IntroductionLog:
    """``git log --raw`` over ``revisions``, started as soon as a scan knows
    it will need provenance (its first match) so git walks the history while
    the workers are still matching. Output goes to temporary files on disk,
    not to memory, and is filtered for the wanted blobs at the end.

    With ``parts`` > 1 the commits are listed first and dealt out, in runs of
    consecutive commits, to that many ``git log --no-walk`` processes: tree
    diffs are the cost of a long history, and one git process uses one core.
    """

    def __init__(self, repo: str, revisions: Sequence[str], *, parts: int = 1) -> None:
        self._repo = repo
        self._revisions = list(revisions)
        self._parts = max(1, parts)
        self._procs: list[GitProcess] = []
        self._outputs: list[IO[bytes]] = []
        self._started = False
        self._failure: str | None = None

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        options, plain = split_revisions(self._revisions)
        with tempfile.TemporaryFile() as revs:
            revs.write("".join(f"{rev}\n" for rev in plain).encode("utf-8", "surrogateescape"))
            revs.seek(0)
            if self._parts == 1:
                self._spawn([*options, "--stdin"], revs)
                return
            shares = self._deal_commits(options, revs)
        for share in shares:
            with share:
                share.seek(0)
                self._spawn(["--no-walk=unsorted", "--stdin"], share)

    def _deal_commits(self, options: list[str], revs: IO[bytes]) -> list[IO[bytes]]:
        shares: list[IO[bytes]] = [tempfile.TemporaryFile() for _ in range(self._parts)]  # noqa: SIM115
        proc = popen_git(self._repo, ["rev-list", *options, "--stdin"], stdin=revs.fileno())
        try:
            for index, line in enumerate(proc.stdout):
                shares[(index // _RUN) % self._parts].write(line)
            if proc.wait() != 0:
                self._failure = proc.error_line()
        finally:
            proc.close()
        return shares

    def _spawn(self, walk: list[str], stdin: IO[bytes]) -> None:
        args = ["log", "--raw", "-c", "--no-abbrev", "--no-renames", "--root", "-z", _FORMAT, *walk]
        output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._outputs.append(output)
        self._procs.append(popen_git(self._repo, args, stdin=stdin.fileno(), stdout=output))

    def introductions(self, wanted: set[str]) -> tuple[dict[str, list[Introduction]], str | None]:
        """For every blob id in ``wanted``, the commits that introduced it
        and where; plus git's error line if the walk broke."""
        found: dict[str, list[Introduction]] = {}
        if not wanted:
            return found, None
        self.start()
        failure = self._failure
        for proc, output in zip(self._procs, self._outputs):
            if proc.wait() != 0 and failure is None:
                failure = proc.error_line()
            output.seek(0)
            for record in _records(output):
                for oid, intro in _introductions(record, wanted):
                    found.setdefault(oid, []).append(intro)
        for intros in found.values():
            intros.sort(key=lambda i: (i.when or _EPOCH, i.commit, i.path))
        return found, failure

    def close(self) -> None:
        procs, self._procs = self._procs, []
        for proc in procs:
            if proc.proc.poll() is None:
                proc.proc.kill()
            proc.close()
        outputs, self._outputs = self._outputs, []
        for output in outputs:
            output.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_introductions(
    repo: str, wanted: set[str], revisions: Sequence[str]
) -> tuple[dict[str, list[Introduction]], str | None]:
    """For every blob id in ``wanted``, the commits (within ``revisions``)
    that introduced it and where; plus git's error line if the walk broke."""
    if not wanted:
        return {}, None
    with IntroductionLog(repo, revisions) as log:
        return log.introductions(wanted)


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
