"""One sweep per state database at a time: an exclusive ``flock`` on a lock
file next to it (``STATE.lock``), holding the owner's pid for the message a
second sweep prints while it waits (or fails with, under ``--no-wait``).

The kernel drops the lock when its holder dies, even by SIGKILL, so a
killed sweep never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from scanner.errors import ConfigError


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


class StateLock:
    """Held for a whole sweep. ``notify`` receives the waiting message."""

    def __init__(self, state: Path, *, wait: bool, notify: Callable[[str], None]) -> None:
        self._state = state
        self._wait = wait
        self._notify = notify
        self._fd: int | None = None

    def __enter__(self) -> Self:
        path = lock_path(self._state)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot create the sweep lock file: {exc.strerror or exc}") from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                if not self._wait:
                    raise ConfigError(
                        f"{self._state}: another sweep (pid {holder}) is using this state file (--no-wait given)"
                    ) from None
                self._notify(f"waiting for the sweep already using {self._state} (pid {holder}) …")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            # Emptied first: a pid left in the file would name a finished sweep.
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass  # the lock is released by close() all the same
            os.close(self._fd)
            self._fd = None


def _holder(fd: int) -> str:
    """The pid the current holder wrote ('?' if it has not written it yet)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "?"
    return text if text.isdigit() else "?"
