"""The Source interface and the stats collector every source reports into.

A source yields Chunks. A bad item inside a good input (one unreadable file in
a directory, one corrupt archive member) is recorded on the SourceStats and the
source goes on; an input that cannot be read at all raises SourceError.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.model import Chunk


@dataclass
class SourceStats:
    """Mutable tally owned by one scan and passed explicitly to its sources."""

    inputs_scanned: int = 0
    bytes_scanned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        """Count an input passed over on purpose (binary, too large, ...)."""
        self.skipped[reason] += 1

    def error(self, message: str) -> None:
        """Record an input that should have been scanned but could not be."""
        self.errors.append(message)

    def scanned(self, nbytes: int) -> None:
        self.inputs_scanned += 1
        self.bytes_scanned += nbytes


class Source(abc.ABC):
    """Something that yields chunks of text to scan."""

    #: short kind name, used in Provenance.source ("file", "git", ...)
    kind: str = "file"

    @abc.abstractmethod
    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        """Yield every chunk of this input, recording skips and errors on ``stats``."""
