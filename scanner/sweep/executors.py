"""Where a sweep's per-repository tasks run: in this process (``--jobs 1``),
on local worker processes (``--jobs N``), or on an existing Dask
distributed cluster (``--executor dask --scheduler ADDRESS``).

Every executor runs ``fn(settings, task)`` for module-level functions of
scanner.sweep.tasks; the settings go to each worker once (an initializer,
or a Dask scatter), tasks carry only a target and object ids. Workers never
see the state database: results come back to the coordinator.
"""

from __future__ import annotations

import abc
import importlib
import os
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any, Self

from scanner.errors import ConfigError
from scanner.sweep.tasks import SweepSettings

TaskFunction = Callable[[SweepSettings, Any], Any]


class Executor(abc.ABC):
    """Runs tasks; ``slots`` is how many to keep in flight."""

    slots: int = 1

    @abc.abstractmethod
    def submit(self, fn: TaskFunction, task: Any, *, near: Any = None) -> Any:
        """Start ``fn(settings, task)``; ``near`` is an earlier handle whose
        worker should run it (the one holding that repository's mirror)."""

    @abc.abstractmethod
    def wait(self, handles: Collection[Any]) -> list[Any]:
        """Block until at least one of ``handles`` is done; the done ones."""

    def result(self, handle: Any) -> Any:
        """The task's result, or its exception raised."""
        return handle.result()

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class InlineExecutor(Executor):
    """Each task runs at once, in this process."""

    def __init__(self, settings: SweepSettings) -> None:
        self._settings = settings

    def submit(self, fn: TaskFunction, task: Any, *, near: Any = None) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(self._settings, task))
        except Exception as exc:  # noqa: BLE001 - handed to the coordinator, as a pool would
            future.set_exception(exc)
        return future

    def wait(self, handles: Collection[Any]) -> list[Any]:
        return [handle for handle in handles if handle.done()]


# Per worker process: the settings its initializer received (sent once, not
# with every task: the rules alone pickle to about 200 kB).
_process_settings: dict[str, SweepSettings] = {}


def _install(settings: SweepSettings) -> None:
    import threading

    _process_settings["settings"] = settings
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="sweep-parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose coordinator died (SIGKILL) would otherwise wait for
    tasks forever: its task queue never reports end-of-file, since every
    worker holds a writing end. Reparented means orphaned: leave at once."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _call_installed(fn: TaskFunction, task: Any) -> Any:
    return fn(_process_settings["settings"], task)


class ProcessExecutor(Executor):
    """``jobs`` local worker processes; each repository's task runs whole in
    one of them (its git processes included)."""

    def __init__(self, settings: SweepSettings, jobs: int) -> None:
        import multiprocessing

        self.slots = jobs * 2  # a queued task per worker keeps every core busy
        # Spawned, not forked: a forked worker would share the coordinator's
        # open lock file and database, and outlive a coordinator killed with
        # SIGKILL still holding the lock. A spawned one inherits neither and
        # exits when the coordinator's end of its task pipe closes.
        self._pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_install,
            initargs=(settings,),
        )

    def submit(self, fn: TaskFunction, task: Any, *, near: Any = None) -> Future[Any]:
        return self._pool.submit(_call_installed, fn, task)

    def wait(self, handles: Collection[Any]) -> list[Any]:
        done, _ = wait(list(handles), return_when=FIRST_COMPLETED)
        return list(done)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class DaskExecutor(Executor):
    """Tasks on an existing Dask distributed cluster. A repository's scan
    runs on the worker that surveyed it when that worker is still there
    (its mirror is on that machine's disk), elsewhere otherwise."""

    def __init__(self, settings: SweepSettings, address: str, *, timeout: float = 20.0) -> None:
        try:
            # Untyped to mypy: distributed's own annotations are partial.
            distributed: Any = importlib.import_module("distributed")
        except ImportError as exc:
            raise ConfigError(
                "--executor dask needs the optional 'distributed' package: pip install 'sprawl[dask]'"
            ) from exc
        self._distributed = distributed
        try:
            self._client: Any = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler {address}: cannot reach the Dask scheduler: {exc}") from exc
        workers = len(self._client.scheduler_info().get("workers", {})) or 1
        self.slots = workers * 2
        # Sent to every worker once; tasks refer to it.
        self._settings = self._client.scatter(settings, broadcast=True, hash=False)

    def submit(self, fn: TaskFunction, task: Any, *, near: Any = None) -> Any:
        where: list[str] | None = None
        if near is not None:
            holders = self._client.who_has([near]).get(near.key)
            where = list(holders) if holders else None
        if where is None:
            return self._client.submit(fn, self._settings, task, pure=False)
        return self._client.submit(fn, self._settings, task, pure=False, workers=where, allow_other_workers=True)

    def wait(self, handles: Collection[Any]) -> list[Any]:
        # This client is not the process-wide default (a library must not
        # change that); ``wait`` looks for the current one.
        with self._client.as_current():
            done = self._distributed.wait(list(handles), return_when="FIRST_COMPLETED").done
        return list(done)

    def close(self) -> None:
        self._client.close()


def make_executor(settings: SweepSettings, *, jobs: int, executor: str, scheduler: str | None) -> Executor:
    """The executor the flags ask for; ConfigError for a bad combination."""
    if executor == "dask":
        if not scheduler:
            raise ConfigError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
        return DaskExecutor(settings, scheduler)
    if executor != "local":
        raise ConfigError(f"--executor '{executor}' is not one of local, dask")
    if scheduler:
        raise ConfigError("--scheduler is only used with --executor dask")
    if jobs <= 1:
        return InlineExecutor(settings)
    return ProcessExecutor(settings, jobs)
