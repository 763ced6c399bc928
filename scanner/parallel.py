"""Detection over a stream of chunks, on several cores, in input order.

Reading and decoding stay in the main process (sources are cheap and keep
their stats there); matching, the costly part, runs in worker processes that
each build their own Detector from the same rules. Identical content is
matched once, whichever process would have done it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from scanner.engine import Detector
from scanner.model import Chunk, Match, Rule

# How many chunks may be in flight per worker: enough to keep them busy,
# few enough that memory stays bounded on a huge tree.
_IN_FLIGHT_PER_JOB = 8

# Each worker process holds one detector, built once by _start_worker; the
# state lives only in the worker's own process.
_worker_detector: Detector | None = None
_worker_errors: list[str] = []


def _start_worker(rules: Sequence[Rule], regex_timeout: float) -> None:
    global _worker_detector
    _worker_detector = Detector(rules, regex_timeout=regex_timeout, on_error=_worker_errors.append)


def _detect_in_worker(chunk: Chunk) -> tuple[list[Match], list[str]]:
    assert _worker_detector is not None
    matches = _worker_detector.detect(chunk)
    errors = list(_worker_errors)
    _worker_errors.clear()
    return matches, errors


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
    seen: dict[tuple[str, int], list[Match]] = {}
    if jobs <= 1:
        for chunk in chunks:
            key = (chunk.digest, chunk.first_line)
            duplicate = key in seen
            if not duplicate:
                seen[key] = detector.detect(chunk)
            yield chunk, seen[key], duplicate
        return
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_start_worker, initargs=(detector.rules, regex_timeout)
    ) as pool:
        pending: deque[tuple[Chunk, Future[tuple[list[Match], list[str]]] | None]] = deque()
        in_flight: set[tuple[str, int]] = set()

        def settle() -> tuple[Chunk, list[Match], bool]:
            chunk, future = pending.popleft()
            key = (chunk.digest, chunk.first_line)
            if future is None:
                return chunk, seen[key], True
            matches, errors = future.result()
            for error in errors:
                on_error(error)
            seen[key] = matches
            in_flight.discard(key)
            return chunk, matches, False

        for chunk in chunks:
            key = (chunk.digest, chunk.first_line)
            if key in seen or key in in_flight:
                pending.append((chunk, None))  # settled after the original, which is ahead of it
            else:
                in_flight.add(key)
                pending.append((chunk, pool.submit(_detect_in_worker, chunk)))
            while len(pending) > jobs * _IN_FLIGHT_PER_JOB:
                yield settle()
        while pending:
            yield settle()
