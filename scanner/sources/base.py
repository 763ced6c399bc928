"""The Source interface and the stats collector every source reports into.

A source yields Chunks. A bad item inside a good input (one unreadable file in
a directory, one corrupt archive member) is recorded on the SourceStats and the
source goes on; an input that cannot be read at all raises SourceError.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanner.model import Chunk, Match

if TYPE_CHECKING:
    from scanner.engine import Detector

#: (chunk, its matches, whether the same content was already matched)
Detected = tuple[Chunk, list[Match], bool]
#: Called once per chunk scanned; may also offer ``advance(nbytes, inputs, label)``
#: for sources that scan outside the chunk stream (git history).
ProgressCallback = Callable[[Chunk], None]


@dataclass
class SourceStats:
    """Mutable tally owned by one scan and passed explicitly to its sources."""

    inputs_scanned: int = 0
    bytes_scanned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # Parts of a readable input that could not be scanned (see ScanStats.gaps).
    gaps: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        """Count an input passed over on purpose (binary, too large, ...)."""
        self.skipped[reason] += 1

    def error(self, message: str) -> None:
        """Record an input that should have been scanned but could not be."""
        self.errors.append(message)

    def gap(self, message: str) -> None:
        """Record part of an input that could not be scanned (a missing or
        corrupt git object) while the rest of it was."""
        self.gaps.append(message)

    def scanned(self, nbytes: int) -> None:
        self.inputs_scanned += 1
        self.bytes_scanned += nbytes

    def merge(self, other: SourceStats) -> None:
        """Add another tally (from a worker process) into this one."""
        self.inputs_scanned += other.inputs_scanned
        self.bytes_scanned += other.bytes_scanned
        self.skipped.update(other.skipped)
        self.errors.extend(other.errors)
        self.gaps.extend(other.gaps)


class Source(abc.ABC):
    """Something that yields chunks of text to scan."""

    #: short kind name, used in Provenance.source ("file", "git", ...)
    kind: str = "file"

    @abc.abstractmethod
    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        """Yield every chunk of this input, recording skips and errors on ``stats``."""

    def detect(
        self,
        detector: Detector,
        stats: SourceStats,
        *,
        jobs: int,
        regex_timeout: float,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Detected]:
        """Match every chunk, on ``jobs`` processes, in input order. Sources
        that can match more cleverly (git reads each blob in the worker that
        matches it) override this."""
        from scanner.parallel import detect_in_order

        for item in detect_in_order(
            self.chunks(stats), detector, jobs=jobs, regex_timeout=regex_timeout, on_error=stats.error
        ):
            if progress is not None:
                progress(item[0])
            yield item
