"""Detection over a stream of chunks, on several cores, in input order.

Reading and decoding stay in the main process (sources are cheap and keep
their stats there); matching, the costly part, runs in worker processes that
each build their own Detector from the same rules. Chunks travel in batches
(many small files would otherwise cost more in hand-offs than in matching).
Identical content is matched once, whichever process would have done it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace

from scanner.engine import Detector
from scanner.model import Chunk, Match

# A batch is handed to a worker once it holds this many characters or chunks.
_BATCH_CHARS = 4 << 20
_BATCH_CHUNKS = 512
# Batches in flight per worker: enough to keep them busy, few enough that
# memory stays bounded on a huge tree.
_BATCHES_PER_JOB = 3

# Each worker process holds one detector, built once by _start_worker; the
# state lives only in the worker's own process.
_worker_detector: Detector | None = None
_worker_errors: list[str] = []

_Key = tuple[str, int]
_Result = tuple[list[list[Match]], list[str]]


def _start_worker(factory: Callable[..., Detector], regex_timeout: float) -> None:
    global _worker_detector
    _worker_detector = factory(regex_timeout=regex_timeout, on_error=_worker_errors.append)


def _detect_batch(chunks: list[Chunk]) -> _Result:
    assert _worker_detector is not None
    matches = [_worker_detector.detect(chunk) for chunk in chunks]
    errors = list(_worker_errors)
    _worker_errors.clear()
    return matches, errors


def _key(chunk: Chunk) -> _Key:
    return (chunk.digest, chunk.first_line)


def detect_in_order(
    chunks: Iterable[Chunk],
    detector: Detector,
    *,
    jobs: int,
    regex_timeout: float,
    on_error: Callable[[str], None],
) -> Iterator[tuple[Chunk, list[Match], bool]]:
    """Yield (chunk, matches, duplicate) for every chunk, in input order.
    ``duplicate`` is True when the same content was already matched."""
    seen: dict[_Key, list[Match]] = {}
    if jobs <= 1:
        for chunk in chunks:
            key = _key(chunk)
            duplicate = key in seen
            if not duplicate:
                seen[key] = detector.detect(chunk)
            yield chunk, seen[key], duplicate
        return
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_start_worker, initargs=(detector.worker_factory, regex_timeout)
    ) as pool:
        # Each entry: every chunk of one batch in input order (duplicates
        # included, marked), the chunks sent to the worker, and its future.
        pending: deque[tuple[list[tuple[Chunk, bool]], list[Chunk], Future[_Result]]] = deque()
        in_flight: set[_Key] = set()
        order: list[tuple[Chunk, bool]] = []
        batch: list[Chunk] = []
        size = 0

        def settle() -> Iterator[tuple[Chunk, list[Match], bool]]:
            entries, sent, future = pending.popleft()
            results, errors = future.result()
            for error in errors:
                on_error(error)
            for chunk, matches in zip(sent, results):
                seen[_key(chunk)] = matches
                in_flight.discard(_key(chunk))
            # A duplicate's original is in this batch or an earlier one: settled.
            for chunk, duplicate in entries:
                yield chunk, seen[_key(chunk)], duplicate

        for chunk in chunks:
            key = _key(chunk)
            duplicate = key in seen or key in in_flight
            order.append((chunk, duplicate))
            if not duplicate:
                in_flight.add(key)
                # Workers need only the text: a locator stays here, where
                # the matches are placed.
                batch.append(chunk if chunk.locator is None else replace(chunk, locator=None))
                size += len(chunk.content)
            if size >= _BATCH_CHARS or len(order) >= _BATCH_CHUNKS:
                pending.append((order, batch, pool.submit(_detect_batch, batch)))
                order, batch, size = [], [], 0
                while len(pending) > jobs * _BATCHES_PER_JOB:
                    yield from settle()
        if order:
            pending.append((order, batch, pool.submit(_detect_batch, batch)))
        while pending:
            yield from settle()
