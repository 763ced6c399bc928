"""Where a report goes: stdout, or a file created owner-only (0600) when it
will hold raw secrets."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from scanner.errors import ReportError

_OWNER_ONLY = 0o600


def _open_file(path: str, sensitive: bool) -> TextIO:
    if not sensitive:
        return open(path, "w", encoding="utf-8", newline="\n")
    # Created 0600 from the start, so the secrets are never readable by others,
    # not even between creating the file and a later chmod.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _OWNER_ONLY)
    try:
        # The mode given to os.open only applies to new files; an existing
        # report (perhaps 0644) is tightened before anything is written.
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _OWNER_ONLY)
        return os.fdopen(fd, "w", encoding="utf-8", newline="\n")
    except BaseException:
        os.close(fd)
        raise


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextlib.contextmanager
def open_output(path: str | None, sensitive: bool) -> Iterator[TextIO]:
    """A text stream for the report at ``path`` (None or "-" for stdout).

    ``sensitive`` means the report holds raw secrets: the file is then created
    with mode 0600 (and an existing file is reset to 0600). stdout is never
    closed. Failing to open or write the file raises ReportError naming it.
    """
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        stream = _open_file(path, sensitive)
    except OSError as exc:
        raise ReportError(f"cannot write report to {path}: {_reason(exc)}") from exc
    try:
        with stream:
            yield stream
    except OSError as exc:
        raise ReportError(f"cannot write report to {path}: {_reason(exc)}") from exc
