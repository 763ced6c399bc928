"""Files read, decoded and matched in worker processes.

When a folder is scanned on several cores, reading a file and turning it into
text (logs normalised, documents rendered, archives opened) costs as much as
matching it; done in the main process, that work would hold every worker up.
Here the main process only walks the tree and hands out batches of paths; each
worker reads its files, matches them, and sends back only the chunks that
matched, with their places already worked out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanner.locate import without_content
from scanner.model import Chunk, Match, Provenance
from scanner.sources.base import Detected, ProgressCallback, SourceStats

if TYPE_CHECKING:
    from scanner.engine import Detector
    from scanner.sources.files import FileSource, FileUnit

# A batch goes to a worker once it holds this many bytes or files: big enough
# that hand-offs cost little, small enough to share a folder out evenly.
_BATCH_BYTES = 4 << 20
_BATCH_FILES = 256
# A file this large is not given to one worker: it is read in the main
# process and its chunks are shared out (scanner/parallel.py).
SHARED_FILE_BYTES = 64 << 20
# Batches in flight per worker (as in scanner/parallel.py).
_BATCHES_PER_JOB = 3

_Key = tuple[str, int]
# Stands for a chunk without matches whose content was seen before: only its
# being a duplicate is counted.
_REPEATED = Chunk(content="", provenance=Provenance(source="file", path=""), digest="")


@dataclass
class _BatchResult:
    """What a worker sends back for one batch of files: for every chunk, in
    order, its content key, and the chunk itself (contentless, already
    placed) only when it matched."""

    stats: SourceStats
    chunks: list[tuple[_Key, Chunk | None, list[Match]]] = field(default_factory=list)


@dataclass
class _WorkerState:
    detector: Detector
    source: FileSource
    errors: list[str]
    seen: dict[_Key, list[Match]] = field(default_factory=dict)


# Each worker process holds one state, built once by _start_worker; it lives
# only in the worker's own process (as in scanner/parallel.py).
_worker: list[_WorkerState] = []


def _start_worker(factory: Callable[..., Detector], regex_timeout: float, source: FileSource) -> None:
    errors: list[str] = []
    _worker.append(_WorkerState(factory(regex_timeout=regex_timeout, on_error=errors.append), source, errors))


def _work(batch: list[FileUnit]) -> _BatchResult:
    state = _worker[0]
    result = _BatchResult(SourceStats())
    for unit in batch:
        for chunk in state.source.unit_chunks(unit, result.stats):
            key = (chunk.digest, chunk.first_line)
            matches = state.seen.get(key)
            if matches is None:
                matches = state.seen[key] = state.detector.detect(chunk)
            result.chunks.append((key, without_content(chunk, matches) if matches else None, matches))
    for error in state.errors:
        result.stats.error(error)
    state.errors.clear()
    return result


def detect_files(
    source: FileSource,
    units: Iterable[FileUnit | None],
    detector: Detector,
    stats: SourceStats,
    *,
    jobs: int,
    regex_timeout: float,
    progress: ProgressCallback | None = None,
) -> Iterator[Detected]:
    """Match every file of ``units`` on ``jobs`` worker processes, yielding
    (chunk, matches, duplicate) for chunks that matched or repeated content;
    ``None`` stands for stdin, which is read here. Files of SHARED_FILE_BYTES
    or more come last, read here and matched chunk by chunk on the workers."""
    advance = getattr(progress, "advance", None)
    big: list[FileUnit] = []
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_start_worker, initargs=(detector.worker_factory, regex_timeout, source)
    ) as pool:
        pending: deque[Future[_BatchResult]] = deque()
        # Content keys seen so far, so repeated content counts as in one
        # process (a worker matches what it has not seen itself).
        seen: set[_Key] = set()

        def settle() -> Iterator[Detected]:
            result = pending.popleft().result()
            stats.merge(result.stats)
            if advance is not None:
                advance(result.stats.bytes_scanned, result.stats.inputs_scanned, "")
            for key, chunk, matches in result.chunks:
                duplicate = key in seen
                seen.add(key)
                if chunk is not None:
                    yield chunk, matches, duplicate
                elif duplicate:
                    yield _REPEATED, [], True

        batch: list[FileUnit] = []
        size = 0
        for unit in units:
            if unit is None:
                yield from _read_here(source, detector, stats, progress)
                continue
            if unit.size >= SHARED_FILE_BYTES:
                big.append(unit)
                continue
            batch.append(unit)
            size += unit.size
            if size >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
                pending.append(pool.submit(_work, batch))
                batch, size = [], 0
                while len(pending) > jobs * _BATCHES_PER_JOB:
                    yield from settle()
        if batch:
            pending.append(pool.submit(_work, batch))
        while pending:
            yield from settle()
    for unit in big:
        # One worker alone would take a huge file at one core's pace: here
        # it is read here and its chunks matched on every worker instead.
        from scanner.parallel import detect_in_order

        chunks = source.unit_chunks(unit, stats)
        for item in detect_in_order(chunks, detector, jobs=jobs, regex_timeout=regex_timeout, on_error=stats.error):
            if progress is not None:
                progress(item[0])
            yield item


def _read_here(
    source: FileSource, detector: Detector, stats: SourceStats, progress: ProgressCallback | None
) -> Iterator[Detected]:
    for chunk in source.stdin_chunks(stats):
        if progress is not None:
            progress(chunk)
        yield chunk, detector.detect(chunk), False
