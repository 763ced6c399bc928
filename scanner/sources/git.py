"""A git repository's whole history as a scan source.

Every blob, commit message and tag message reachable from the chosen
revisions is read once (workers stream them through their own
``cat-file --batch``), and only the objects that matched get provenance: the
commits that introduced them, at which path, by whom and when, and whether
the content is still in the current tree. ``--unreachable`` adds objects no
ref reaches (force-pushed or reset-away work). Damage (missing or corrupt
objects, a shallow cut-off) is named as a gap; the rest is still scanned.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Self

from scanner.engine import Detector
from scanner.model import Chunk, Provenance
from scanner.pathfilter import PathFilter
from scanner.sources.archives import ArchiveLimits
from scanner.sources.base import Detected, ProgressCallback, Source, SourceStats
from scanner.sources.catfile import CatFileReader
from scanner.sources.gitobjects import (
    ObjectRef,
    all_objects,
    history_revisions,
    reachable_objects,
    unreachable_objects,
)
from scanner.sources.gitprovenance import Introduction, IntroductionLog, find_introductions
from scanner.sources.gitreach import Unreachable, reachable_commits, reachable_tags, unreachable_among
from scanner.sources.gitrepo import RepositoryFacts, inspect_repository, shallow_boundary, tree_blobs
from scanner.sources.gitscan import BatchOutcome, ObjectHit, scan_batch

# Objects per batch handed to a worker, and batches in flight per worker.
_BATCH_OBJECTS = 500
_BATCHES_PER_JOB = 3
# How many unreadable object ids a gap message names before summarising.
_NAMED_OBJECTS = 5

STILL_PRESENT = "still-present"
HISTORY_ONLY = "history-only"
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class GitScanOptions:
    """How much of the history to read."""

    branch: str | None = None
    since_commit: str | None = None
    since: str | None = None
    unreachable: bool = False
    # Explicit rev-list arguments (the pre-push hook's ranges); overrides
    # branch/since_commit/since when set.
    revisions: tuple[str, ...] | None = None
    max_file_size: int = 100 * 1024 * 1024
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    # Path globs (see pathfilter.py) whose occurrences are dropped. Applied
    # to every path a blob was introduced at, not to the one path the walk
    # met it at, so content also living at a kept path is still reported.
    path_excludes: tuple[str, ...] = ()


class GitHistorySource(Source):
    """One repository (working tree or bare), scanned across its history."""

    kind = "git"

    def __init__(self, repo: str, options: GitScanOptions | None = None, *, display: str | None = None) -> None:
        self.repo = repo
        self.options = options or GitScanOptions()
        # Shown before paths when several inputs are scanned at once.
        self.display = display if display is not None else repo
        self._excludes = PathFilter(self.options.path_excludes) if self.options.path_excludes else None

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        """Every readable text object's content once, with the path where the
        history walk first met it (no commit attribution: use ``detect``)."""
        facts = self._inspect(stats)
        if facts is None:
            return
        with CatFileReader(self.repo, max_size=self.options.max_file_size) as reader:
            for batch in _batches(self._objects(facts, stats, reachable=True)):
                for result in reader.read([ref.oid for ref in batch]):
                    data = getattr(result, "data", None)
                    if data is None or getattr(result, "kind", "") != "blob":
                        continue
                    from scanner.sources.text import decode_text

                    text = decode_text(data)
                    if text is not None:
                        stats.scanned(len(data))
                        hint = next((ref.path for ref in batch if ref.oid == result.oid), "")
                        yield Chunk(text, Provenance(source="git", path=hint), digest=result.oid)

    def detect(
        self,
        detector: Detector,
        stats: SourceStats,
        *,
        jobs: int,
        regex_timeout: float,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Detected]:
        facts = self._inspect(stats)
        if facts is None:
            return
        before, gaps_before = stats.inputs_scanned, len(stats.gaps)
        problem = self._unknown_ref()
        if problem:
            stats.error(problem)
            return
        revisions = self._revisions(facts)
        # The whole history: read the object database in pack order instead
        # of walking every tree of every commit. A partial clone keeps the
        # walk, which is what counts the objects it lacks.
        full = self.options.revisions is None and not (
            self.options.branch or self.options.since_commit or self.options.since or facts.partial
        )
        hits: list[ObjectHit] = []
        unreachable_hits: list[ObjectHit] = []
        runner = _BatchRunner(self.repo, detector, self.options, jobs=jobs, regex_timeout=regex_timeout)
        with runner, IntroductionLog(self.repo, revisions, parts=jobs) as log:
            phases: list[tuple[Iterable[ObjectRef], list[ObjectHit]]] = []
            if full:
                phases.append((self._database_objects(stats), hits))
            else:
                phases.append((self._objects(facts, stats, reachable=True, revisions=revisions), hits))
                if self.options.unreachable:
                    phases.append((self._objects(facts, stats, reachable=False), unreachable_hits))
            for objects, phase_hits in phases:
                for outcome in runner.run(_batches(objects)):
                    self._absorb(outcome, stats, phase_hits)
                    if hits and not log.started:
                        log.start()  # git walks history while the workers match
                    advance = getattr(progress, "advance", None)
                    if advance is not None:
                        advance(outcome.stats.bytes_scanned, outcome.stats.inputs_scanned, self.display)
            self._report_unreadable(stats)
            damaged = self._unreadable or self._missing or len(stats.gaps) > gaps_before
            if stats.inputs_scanned == before and not damaged and facts.head is None:
                damaged = self._has_refs()  # refs, yet no object behind them
            if stats.inputs_scanned == before and damaged:
                stats.error(f"{self.display}: nothing in this repository could be read")
            hits = list({hit.oid: hit for hit in hits}.values())  # a fallback read may repeat objects
            blobs = {hit.oid for hit in hits if hit.kind == "blob"}
            introductions, failure = log.introductions(blobs)
        if failure:
            stats.gap(f"{self.display}: some commits could not be attributed: {failure}")
        if full:
            hits, unreachable_hits = self._classify(hits, introductions, revisions, stats)
        yield from self._attribute(facts, hits, introductions, stats, reachable=True)
        if unreachable_hits:
            walk = [*self._dangling, "--not", "--all"] if self._dangling else []
            blobs = {hit.oid for hit in unreachable_hits if hit.kind == "blob"}
            lost, failure = find_introductions(self.repo, blobs, walk) if blobs and walk else ({}, None)
            yield from self._attribute(facts, unreachable_hits, lost, stats, reachable=False)

    # ------------------------------------------------------------------ setup

    def _inspect(self, stats: SourceStats) -> RepositoryFacts | None:
        from scanner.errors import SourceError

        self._unreadable: list[str] = []
        self._missing = 0
        self._dangling: list[str] = []  # unreachable commits met by --unreachable
        try:
            facts = inspect_repository(self.repo)
        except SourceError as exc:
            stats.error(str(exc))
            return None
        if facts.shallow:
            cut = len(shallow_boundary(facts))
            stats.gap(
                f"{self.display}: shallow clone: history behind {cut} cut-off commit(s) is not in this copy "
                "and was not scanned (fetch it with git fetch --unshallow, then scan again)"
            )
        return facts

    def _unknown_ref(self) -> str | None:
        """A one-line error when --branch or --since-commit names nothing
        (a typo must not look like a damaged repository)."""
        from scanner.gitcmd import run_git

        for flag, ref in (("--branch", self.options.branch), ("--since-commit", self.options.since_commit)):
            if ref is None:
                continue
            done = run_git(self.repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], check=False)
            if done.returncode != 0:
                return f"{self.display}: {flag} '{ref}' is not a commit, branch or tag in this repository"
        return None

    def _revisions(self, facts: RepositoryFacts) -> list[str]:
        if self.options.revisions is not None:
            return list(self.options.revisions)
        return history_revisions(
            facts.git_dir,
            branch=self.options.branch,
            since_commit=self.options.since_commit,
            since=self.options.since,
        )

    def _objects(
        self,
        facts: RepositoryFacts,
        stats: SourceStats,
        *,
        reachable: bool,
        revisions: Sequence[str] | None = None,
    ) -> Iterator[ObjectRef]:
        """The objects of one phase; missing ones are counted, not read."""
        failures: list[str] = []
        if reachable:
            listing: Iterable[ObjectRef] = reachable_objects(
                self.repo, revisions if revisions is not None else self._revisions(facts), failures.append
            )
        else:
            listing = unreachable_objects(self.repo, failures.append)
        for ref in listing:
            if ref.missing:
                self._missing += 1
                continue
            if ref.kind == "commit":
                self._dangling.append(ref.oid)
            yield ref
        if failures and reachable:
            # The walk broke on a damaged commit or tree: read every object
            # in the database, so nothing readable is lost. Objects the walk
            # already read are read again (only damaged repositories pay
            # this; keeping every id to avoid it would cost unbounded memory).
            for failure in failures:
                stats.gap(f"{failure}; fell back to reading every object in the database")
            yield from all_objects(self.repo, stats.gap)
        else:
            for failure in failures:
                stats.gap(failure)

    def _has_refs(self) -> bool:
        from scanner.gitcmd import run_git

        done = run_git(self.repo, ["for-each-ref", "--count=1", "--format=%(refname)"], check=False)
        return bool(done.stdout.strip())

    def _database_objects(self, stats: SourceStats) -> Iterator[ObjectRef]:
        """Every blob, commit and tag in the database, too-large blobs
        counted and left unread."""
        limit = self.options.max_file_size
        for ref in all_objects(self.repo, stats.gap):
            if ref.missing:
                self._unreadable.append(f"{ref.oid} (damaged)")
                continue
            if ref.kind == "blob" and ref.size > limit:
                stats.skip(f"git object larger than {limit >> 20} MiB")
                continue
            yield ref

    def _absorb(self, outcome: BatchOutcome, stats: SourceStats, hits: list[ObjectHit]) -> None:
        stats.merge(outcome.stats)
        hits.extend(outcome.hits)
        for bad in outcome.unreadable:
            self._unreadable.append(f"{bad.oid} ({bad.reason})")

    def _report_unreadable(self, stats: SourceStats) -> None:
        if self._missing:
            stats.gap(
                f"{self.display}: {self._missing} object(s) are not in this clone (partial clone or missing "
                "objects) and were not scanned; sprawl never fetches them"
            )
        if self._unreadable:
            named = ", ".join(self._unreadable[:_NAMED_OBJECTS])
            more = len(self._unreadable) - _NAMED_OBJECTS
            stats.gap(
                f"{self.display}: {len(self._unreadable)} object(s) could not be read: {named}"
                + (f" and {more} more" if more > 0 else "")
            )

    # ------------------------------------------------------------ provenance

    def _attribute(
        self,
        facts: RepositoryFacts,
        hits: list[ObjectHit],
        introductions: dict[str, list[Introduction]],
        stats: SourceStats,
        *,
        reachable: bool,
    ) -> Iterator[Detected]:
        """One detected item per (object, introducing commit and path)."""
        if not hits:
            return
        current = tree_blobs(self.repo, facts.head) if facts.head and reachable else {}
        current_blobs = set(current.values())
        for hit in hits:
            if hit.kind != "blob":
                yield from self._message_items(hit, reachable)
                continue
            intros = introductions.get(hit.oid) or []
            if not intros:
                yield from self._orphan_items(hit, reachable, hit.oid in current_blobs)
                continue
            for intro in intros:
                if not reachable:
                    state = UNREACHABLE
                elif current.get(intro.path) == hit.oid:
                    state = STILL_PRESENT
                else:
                    state = HISTORY_ONLY
                yield from self._items(hit, intro.path, intro, state)

    def _classify(
        self,
        hits: list[ObjectHit],
        introductions: dict[str, list[Introduction]],
        revisions: Sequence[str],
        stats: SourceStats,
    ) -> tuple[list[ObjectHit], list[ObjectHit]]:
        """Split a database-wide scan's hits into (reachable, unreachable).
        A blob some commit introduced is reachable; commits and tags are
        looked up among what the refs reach; whatever is left is asked of
        ``git fsck``. Unreachable hits are kept only with --unreachable
        (otherwise counted as skipped, so the user knows to look)."""
        commits = reachable_commits(
            self.repo, revisions, {h.oid for h in hits if h.kind == "commit"}, stats.gap
        )
        tags = reachable_tags(self.repo, {h.oid for h in hits if h.kind == "tag"}, stats.gap)
        known = {h.oid for h in hits if h.oid in introductions or h.oid in commits or h.oid in tags}
        doubtful = {h.oid for h in hits} - known
        unreachable = unreachable_among(self.repo, doubtful, stats.gap) if doubtful else Unreachable()
        # Blobs no commit introduced but still reachable (a tag or note
        # pointing at a tree) stay reachable; so do commits and tags fsck
        # does not call unreachable (reachable through a reflog'd stash).
        lost = [h for h in hits if h.oid in unreachable.objects]
        kept = [h for h in hits if h.oid not in unreachable.objects]
        if not self.options.unreachable:
            for _ in lost:
                stats.skip("unreachable git object with a candidate match (see it with --unreachable)")
            return kept, []
        self._dangling = unreachable.commits
        return kept, lost

    def _items(self, hit: ObjectHit, path: str, intro: Introduction | None, state: str) -> Iterator[Detected]:
        if self._excludes is not None and self._excludes.excluded(path):
            return
        extra = [("repository", self.display), ("blob", hit.oid), ("state", state)]
        for suffix, matches in hit.parts:
            provenance = Provenance(
                source="git",
                path=path + suffix,
                commit=intro.commit if intro else None,
                author=intro.author if intro else None,
                when=intro.when if intro else None,
                extra=tuple(extra),
            )
            yield Chunk("", provenance, digest=hit.oid + suffix), list(matches), False

    def _orphan_items(self, hit: ObjectHit, reachable: bool, in_current: bool) -> Iterator[Detected]:
        """A blob whose introducing commit was not found: reachable only from
        a tag or note tree, or an unreachable blob no commit points to."""
        if reachable:
            state = STILL_PRESENT if in_current else HISTORY_ONLY
            yield from self._items(hit, hit.path_hint or f"(blob {hit.oid[:12]})", None, state)
        else:
            yield from self._items(hit, f"(unreachable blob {hit.oid[:12]})", None, UNREACHABLE)

    def _message_items(self, hit: ObjectHit, reachable: bool) -> Iterator[Detected]:
        state = "message" if reachable else UNREACHABLE
        provenance = Provenance(
            source="git",
            path=hit.path_hint,
            commit=hit.oid,
            author=hit.author,
            when=hit.when,
            extra=(("repository", self.display), ("object", hit.kind), ("state", state)),
        )
        for _suffix, matches in hit.parts:
            yield Chunk("", provenance, digest=hit.oid), list(matches), False


def _batches(objects: Iterable[ObjectRef]) -> Iterator[list[ObjectRef]]:
    iterator = iter(objects)
    while batch := list(itertools.islice(iterator, _BATCH_OBJECTS)):
        yield batch


# ---------------------------------------------------------------- workers

# Per worker process: the detector and one cat-file reader per repository.
_worker: dict[str, object] = {}


def _start_worker(factory: Callable[..., Detector], regex_timeout: float, options: GitScanOptions) -> None:
    errors: list[str] = []
    _worker["detector"] = factory(regex_timeout=regex_timeout, on_error=errors.append)
    _worker["errors"] = errors
    _worker["options"] = options
    _worker["readers"] = {}


def _worker_batch(repo: str, refs: list[ObjectRef]) -> BatchOutcome:
    readers: dict[str, CatFileReader] = _worker["readers"]  # type: ignore[assignment]
    options: GitScanOptions = _worker["options"]  # type: ignore[assignment]
    reader = readers.get(repo)
    if reader is None:
        reader = readers[repo] = CatFileReader(repo, max_size=options.max_file_size)
    detector: Detector = _worker["detector"]  # type: ignore[assignment]
    outcome = scan_batch(
        reader, detector, refs, limits=options.archive_limits, max_size=options.max_file_size
    )
    errors: list[str] = _worker["errors"]  # type: ignore[assignment]
    outcome.stats.errors.extend(errors)
    errors.clear()
    return outcome


class _BatchRunner:
    """Runs batches in this process (jobs=1) or on a pool of workers, results
    in submission order, a bounded number in flight."""

    def __init__(
        self, repo: str, detector: Detector, options: GitScanOptions, *, jobs: int, regex_timeout: float
    ) -> None:
        self.repo = repo
        self.detector = detector
        self.options = options
        self.jobs = jobs
        self.regex_timeout = regex_timeout
        self._pool: ProcessPoolExecutor | None = None
        self._reader: CatFileReader | None = None

    def __enter__(self) -> Self:
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                initializer=_start_worker,
                initargs=(self.detector.worker_factory, self.regex_timeout, self.options),
            )
        else:
            self._reader = CatFileReader(self.repo, max_size=self.options.max_file_size)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._reader is not None:
            self._reader.close()

    def run(self, batches: Iterable[list[ObjectRef]]) -> Iterator[BatchOutcome]:
        if self._pool is None:
            assert self._reader is not None
            for batch in batches:
                yield scan_batch(
                    self._reader,
                    self.detector,
                    batch,
                    limits=self.options.archive_limits,
                    max_size=self.options.max_file_size,
                )
            return
        pending: deque[Future[BatchOutcome]] = deque()
        for batch in batches:
            pending.append(self._pool.submit(_worker_batch, self.repo, batch))
            while len(pending) > self.jobs * _BATCHES_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

