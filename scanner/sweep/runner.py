"""The sweep coordinator: takes the state lock, resumes or starts a sweep,
hands each repository's survey and scan to the executor, and records each
finished repository in the state database in one transaction.

Objects are claimed while a scan runs: a repository whose candidates
overlap a running scan (a fork surveyed while its upstream is being read)
waits for it, then reads only what is still unscanned and is told which of
the skipped objects matched, so shared history is read once and every
repository that holds a secret still reports it.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scanner
from scanner.sweep.executors import Executor, make_executor
from scanner.sweep.lock import StateLock
from scanner.sweep.state import StateDB, StoredFinding
from scanner.sweep.targets import Target, collect_targets
from scanner.sweep.tasks import RepoScan, ScanTask, Survey, SurveyTask, SweepSettings, scan, survey

Notify = Callable[[str], None]


@dataclass(frozen=True)
class SweepOptions:
    """What to sweep, where the state lives and how to run."""

    folders: tuple[str, ...]
    list_file: Path | None
    state: Path
    settings: SweepSettings
    jobs: int = 1
    executor: str = "local"
    scheduler: str | None = None
    wait: bool = True


@dataclass(frozen=True)
class SweepSummary:
    """Counts of one run (a resumed sweep counts what this run did, plus the
    repositories the interrupted run had finished in ``already_done``)."""

    sweep_id: int
    resumed: bool
    repositories: int
    scanned: int
    unchanged: int
    failed: int
    already_done: int
    # Folders and list lines that named no usable repository.
    unusable: int
    objects_scanned: int
    objects_skipped: int
    bytes_scanned: int
    seconds: float
    rules_changed: bool = False
    allowed_inline: int = 0
    errors: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()

    @property
    def repos_per_minute(self) -> float:
        handled = self.scanned + self.unchanged + self.failed
        return handled * 60.0 / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.bytes_scanned / 1e6 / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class SweepOutcome:
    summary: SweepSummary
    # Every open and history-only finding occurring in the swept repositories.
    findings: tuple[StoredFinding, ...]


def settings_digest(settings: SweepSettings) -> str:
    """What makes earlier scan results reusable: the sprawl version, the
    rules and how deep archives are opened. Any change rescans everything."""
    text = repr((scanner.__version__, sorted(settings.rules, key=lambda r: r.id), settings.archive_limits))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def targets_digest(targets: Sequence[Target]) -> str:
    return hashlib.sha256("\n".join(sorted(t.key for t in targets)).encode("utf-8", "surrogatepass")).hexdigest()


def run_sweep(options: SweepOptions, *, notify: Notify, on_error: Notify) -> SweepOutcome:
    """Sweep every target once; ``notify`` gets progress notes (waiting for
    the lock, resuming), ``on_error`` each failed target as it happens."""
    from dataclasses import replace

    from scanner.baseline import key_check

    started = time.monotonic()
    targets, target_errors = collect_targets(options.folders, options.list_file)
    for error in target_errors:
        on_error(error)
    digest = settings_digest(options.settings)
    settings = replace(options.settings, digest=digest)
    with StateLock(options.state, wait=options.wait, notify=notify):
        db = StateDB.open(options.state)
        try:
            db.check_key(key_check(settings.fingerprint_key))
            rules_changed = db.check_rules(digest)
            if rules_changed:
                notify("the rules or sprawl version changed since the last sweep: every object is read again")
            run = db.start_sweep(targets_digest(targets), len(targets))
            if run.resumed:
                notify(f"resuming sweep {run.id}, interrupted after {run.done_before} of {len(targets)} repositories")
            done = db.done_in(run.id) if run.resumed else set()
            pending = [t for t in targets if t.key not in done]
            with make_executor(
                settings, jobs=options.jobs, executor=options.executor, scheduler=options.scheduler
            ) as executor:
                tally = _Coordinator(db, executor, run.id, on_error).run(pending)
            db.finish_sweep(run.id)
            findings = db.findings([t.key for t in targets], statuses=("open", "history-only"))
        finally:
            db.close()
    summary = SweepSummary(
        sweep_id=run.id,
        resumed=run.resumed,
        repositories=len(targets),
        scanned=tally.scanned,
        unchanged=tally.unchanged,
        failed=tally.failed,
        already_done=len(targets) - len(pending),
        unusable=len(target_errors),
        objects_scanned=tally.objects_scanned,
        objects_skipped=tally.objects_skipped,
        bytes_scanned=tally.bytes_scanned,
        seconds=round(time.monotonic() - started, 3),
        rules_changed=rules_changed,
        allowed_inline=tally.allowed_inline,
        errors=(*target_errors, *tally.errors),
        gaps=tuple(tally.gaps),
        skipped=tuple(sorted(tally.skipped.items())),
    )
    return SweepOutcome(summary, tuple(findings))


@dataclass
class _Tally:
    scanned: int = 0
    unchanged: int = 0
    failed: int = 0
    objects_scanned: int = 0
    objects_skipped: int = 0
    bytes_scanned: int = 0
    allowed_inline: int = 0
    errors: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class _Waiting:
    """A surveyed repository whose candidates overlap a running scan."""

    survey: Survey
    handle: Any


class _Coordinator:
    """Keeps the executor busy: surveys first, scans as surveys come back;
    records each result as it arrives (the only writer of the database)."""

    def __init__(self, db: StateDB, executor: Executor, sweep_id: int, on_error: Notify) -> None:
        self._db = db
        self._executor = executor
        self._sweep = sweep_id
        self._on_error = on_error
        self._tally = _Tally()
        self._in_flight: dict[Any, tuple[str, Target]] = {}
        self._waiting: list[_Waiting] = []
        # Objects being read right now, by repository key.
        self._claims: dict[str, set[str]] = {}
        self._claimed: set[str] = set()

    def run(self, targets: Sequence[Target]) -> _Tally:
        queue = deque(targets)
        while queue or self._in_flight or self._waiting:
            while queue and len(self._in_flight) < self._executor.slots:
                target = queue.popleft()
                task = SurveyTask(target, self._db.known_refs(target.key))
                self._in_flight[self._executor.submit(survey, task)] = ("survey", target)
            if not self._in_flight:
                # Only waiting repositories are left and nothing runs that
                # they wait for (cannot happen; kept so the loop always ends).
                self._release_waiting(force=True)
                continue
            for handle in self._executor.wait(list(self._in_flight)):
                kind, target = self._in_flight.pop(handle)
                try:
                    result = self._executor.result(handle)
                except Exception as exc:  # noqa: BLE001 - a dead worker fails its repository, not the sweep
                    self._released(target.key)
                    self._fail(target, f"{target.display}: the {kind} task failed: {type(exc).__name__}: {exc}")
                    continue
                if kind == "survey":
                    self._surveyed(result, handle)
                else:
                    self._scanned(result)
                    self._release_waiting(force=False)
        return self._tally

    def _fail(self, target: Target, message: str) -> None:
        self._tally.failed += 1
        self._tally.errors.append(message)
        self._on_error(message)
        self._db.record_failure(self._sweep, target, message)

    def _surveyed(self, result: Survey, handle: Any) -> None:
        self._tally.gaps.extend(result.gaps)
        self._tally.skipped.update(dict(result.skipped))
        if result.error is not None:
            self._fail(result.target, result.error)
        elif result.unchanged:
            self._tally.unchanged += 1
            self._db.record_unchanged(self._sweep, result.target)
        elif any(ref.oid in self._claimed for ref in result.candidates):
            self._waiting.append(_Waiting(result, handle))
        else:
            self._submit_scan(result, handle)

    def _release_waiting(self, *, force: bool) -> None:
        still: list[_Waiting] = []
        for waiting in self._waiting:
            if force or not any(ref.oid in self._claimed for ref in waiting.survey.candidates):
                self._submit_scan(waiting.survey, waiting.handle)
            else:
                still.append(waiting)
        self._waiting = still

    def _submit_scan(self, result: Survey, handle: Any) -> None:
        """Scan what no sweep has read yet; locate the rest's known matches."""
        candidates = list({ref.oid: ref for ref in result.candidates}.values())
        done = self._db.scanned_among([ref.oid for ref in candidates])
        to_scan = tuple(ref for ref in candidates if ref.oid not in done)
        known = self._db.matched_among(done)
        known.update(self._db.located_objects(result.target.key))
        self._tally.objects_skipped += len(done)
        claims = {ref.oid for ref in to_scan}
        self._claims[result.target.key] = claims
        self._claimed |= claims
        task = ScanTask(result.target, result.path, result.refs, to_scan, tuple(sorted(known.items())))
        self._in_flight[self._executor.submit(scan, task, near=handle)] = ("scan", result.target)

    def _released(self, key: str) -> None:
        claims = self._claims.pop(key, set())
        self._claimed -= claims

    def _scanned(self, result: RepoScan) -> None:
        self._released(result.target.key)
        tally = self._tally
        tally.gaps.extend(result.gaps)
        tally.skipped.update(dict(result.skipped))
        for error in result.errors:
            tally.errors.append(error)
            self._on_error(error)
        if result.error is not None:
            self._fail(result.target, result.error)
            return
        self._db.record_scan(self._sweep, result)
        tally.scanned += 1
        tally.objects_scanned += len(result.scanned)
        tally.bytes_scanned += result.bytes_scanned
        tally.allowed_inline += result.allowed_inline
