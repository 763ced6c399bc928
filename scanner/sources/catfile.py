"""Reading git objects through one long-lived ``git cat-file --batch`` process.

Object ids for a batch are written by a feeder thread while the caller reads
the answers, so git never waits on us (and we never deadlock on a full pipe).
A missing object is reported and skipped; a corrupt one kills ``cat-file``,
so the reader names the object, starts a fresh process and carries on with
the rest of the batch.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from scanner.gitcmd import GitProcess, popen_git

# Objects larger than this are read in pieces and dropped, never held whole.
_DISCARD_PIECE = 1 << 20
# Pipe size asked for cat-file's output (Linux; capped by fs.pipe-max-size).
_PIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class GitObject:
    """One object as cat-file returned it. ``data`` is None when the object
    was too large to keep (``size`` still tells how large)."""

    oid: str
    kind: str
    size: int
    data: bytes | None


@dataclass(frozen=True)
class Unreadable:
    """An object that could not be read: missing, or corrupt (``reason``)."""

    oid: str
    reason: str


class CatFileReader:
    """A ``git cat-file --batch`` process for one repository, restarted after
    a corrupt object kills it."""

    def __init__(self, repo: Path | str, *, max_size: int, env: Mapping[str, str] | None = None) -> None:
        self._repo = repo
        self._env = env  # extra variables a hook must pass on (GIT_DIR, GIT_INDEX_FILE)
        self._max_size = max_size
        self._proc: GitProcess | None = None
        self._seen_errors: set[str] = set()  # stderr lines already blamed on an object

    def read(self, oids: Sequence[str]) -> Iterator[GitObject | Unreadable]:
        """Yield one result per id, in order."""
        position = 0
        while position < len(oids):
            proc = self._start()
            feeder = threading.Thread(target=_feed, args=(proc, oids[position:]), daemon=True)
            feeder.start()
            try:
                for oid in oids[position:]:
                    result = self._read_one(proc, oid)
                    position += 1
                    yield result
                    if isinstance(result, Unreadable) and proc.proc.poll() is not None:
                        break  # cat-file died on this object; restart for the rest
            finally:
                if position < len(oids) or feeder.is_alive():
                    # Either cat-file died or the caller stopped early: in both
                    # cases this process's input stream is out of step.
                    self.close()
                feeder.join(timeout=5)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> GitProcess:
        if self._proc is None or self._proc.proc.poll() is not None:
            self.close()
            self._proc = popen_git(self._repo, ["cat-file", "--batch"], stdin=subprocess.PIPE, env=self._env)
            _widen_pipe(self._proc.stdout)
        return self._proc

    def _read_one(self, proc: GitProcess, oid: str) -> GitObject | Unreadable:
        header = proc.stdout.readline()
        if not header:
            return Unreadable(oid, self._death_reason(proc))
        fields = header.split()
        if len(fields) == 2 and fields[1] == b"missing":
            # cat-file says "missing" for a damaged object too; its stderr tells.
            return Unreadable(oid, self._missing_reason(proc))
        if len(fields) == 2:
            return Unreadable(oid, fields[1].decode("ascii", "replace"))
        if len(fields) != 3:
            return Unreadable(oid, f"unexpected cat-file answer {header[:80]!r}")
        kind, size = fields[1].decode(), int(fields[2])
        if size > self._max_size:
            remaining = size + 1
            while remaining:
                piece = proc.stdout.read(min(remaining, _DISCARD_PIECE))
                if not piece:
                    return Unreadable(oid, self._death_reason(proc))
                remaining -= len(piece)
            return GitObject(oid, kind, size, None)
        data = proc.stdout.read(size + 1)
        if len(data) != size + 1:
            return Unreadable(oid, self._death_reason(proc))
        return GitObject(oid, kind, size, data[:-1])

    def _death_reason(self, proc: GitProcess) -> str:
        try:
            proc.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.proc.kill()
            proc.proc.wait()
        return f"unreadable ({proc.error_line()})"

    def _missing_reason(self, proc: GitProcess) -> str:
        line = proc.error_line()
        if line == "no error message" or line in self._seen_errors:
            return "missing"
        self._seen_errors.add(line)
        return f"missing or damaged ({line})"


def _widen_pipe(stream: object) -> None:
    """Let git inflate objects ahead of us: with the default 64 KiB pipe it
    waits for every read, so inflating and matching would take turns."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)  # type: ignore[attr-defined]
    except (ImportError, OSError, AttributeError):
        pass  # not Linux, or a lower limit: the default pipe still works


def _feed(proc: GitProcess, oids: Sequence[str]) -> None:
    """Write the requests; stop quietly when cat-file has died (the reader
    side notices and reports it)."""
    assert proc.stdin is not None
    try:
        for start in range(0, len(oids), 256):
            proc.stdin.write("".join(f"{oid}\n" for oid in oids[start : start + 256]).encode())
            proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        return
