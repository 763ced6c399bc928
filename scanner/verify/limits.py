"""Time for the live checks: an injectable clock and a per-host rate limit,
so a scan with many secrets for one registry never hammers it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

DEFAULT_PER_SECOND = 2.0


class Clock(Protocol):
    """What the live checks need of time; tests pass a fake that never sleeps."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)


class HostRateLimiter:
    """At most ``per_second`` request starts per host; hosts do not wait for each other."""

    def __init__(self, per_second: float = DEFAULT_PER_SECOND, clock: Clock | None = None) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self._interval = 1.0 / per_second
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, host: str) -> None:
        """Wait until ``host`` may be sent another request."""
        # Reserve the slot under the lock, sleep outside it: callers for other
        # hosts are never held up by this one.
        with self._lock:
            now = self._clock.monotonic()
            start = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = start + self._interval
        if start > now:
            self._clock.sleep(start - now)
