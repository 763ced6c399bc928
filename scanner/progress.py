"""A progress display on stderr for scans that take more than a moment.

Shown only when stderr is a terminal and --quiet is not given; it appears
after a short delay so quick scans (and commit hooks) print nothing extra.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Self, TextIO

from scanner.model import Chunk

_DELAY_SECONDS = 0.75


class ScanProgress:
    """Counts inputs and bytes; draws a rich progress line once the scan has
    run for ``_DELAY_SECONDS``. Use as a context manager and as the pipeline's
    progress callback."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._started = time.monotonic()
        self._inputs = 0
        self._bytes = 0
        self._live: Any = None
        self._task: Any = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def __call__(self, chunk: Chunk) -> None:
        self.advance(len(chunk.content), 1, chunk.provenance.path)

    def advance(self, nbytes: int, inputs: int, label: str) -> None:
        """Count work done outside the chunk stream (a batch of git objects)."""
        self._inputs += inputs
        self._bytes += nbytes
        if not self._enabled:
            return
        if self._live is None:
            if time.monotonic() - self._started < _DELAY_SECONDS:
                return
            self._start()
        self._live.update(
            self._task,
            completed=self._bytes,
            description=f"{self._inputs} inputs · {label[-60:]}",
        )

    def _start(self) -> None:
        # rich is imported only when a progress line is actually drawn.
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

        self._live = Progress(
            TextColumn("[bold]scanning[/bold] {task.description}"),
            BarColumn(bar_width=None, pulse_style="cyan"),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=Console(file=self._stream),
            transient=True,
        )
        self._task = self._live.add_task("", total=None)
        self._live.start()
