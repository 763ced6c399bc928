"""The work a sweep hands out per repository, in two steps, and what each
step sends back. Both run wherever the executor puts them (this process, a
local worker process, a Dask worker) and never touch the state database.

1. ``survey``: fetch the mirror (remote targets), read the refs; when they
   equal the recorded ones the repository is unchanged and nothing else
   happens. Otherwise list the candidate objects: every object on a first
   sweep, else only what the new refs reach beyond the recorded ones.
2. ``scan``: read and match the candidates the coordinator did not find
   already scanned (here or in another repository: forks share objects),
   fingerprint and judge every secret, and locate every matched object the
   repository holds (new hits and already known ones): introducing commit,
   path, author, date, still present or history only.

Secrets never leave the worker: results carry HMAC fingerprints, hashes and
redactions only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scanner.config import DEFAULT_MAX_FILE_SIZE
from scanner.engine import Detector
from scanner.errors import ScannerError
from scanner.model import Rule
from scanner.sources.archives import ArchiveLimits
from scanner.sources.base import SourceStats
from scanner.sources.gitobjects import ObjectRef
from scanner.sources.gitscan import ObjectHit
from scanner.sweep.targets import Target
from scanner.validators.judge import Judge

# Objects per cat-file request batch.
_BATCH_OBJECTS = 500
# Location states, as the git source names them.
STILL_PRESENT = "still-present"
HISTORY_ONLY = "history-only"
MESSAGE = "message"

Refs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SweepSettings:
    """Everything a worker needs besides the repository: picklable, sent
    once per worker (Dask: scattered), never holding the database."""

    rules: tuple[Rule, ...]
    # HMAC key for fingerprints (baseline.py): workers fingerprint secrets
    # so the values themselves never travel back to the coordinator.
    fingerprint_key: bytes = field(repr=False)
    cache_dir: str = ""
    regex_timeout: float = 5.0
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    path_excludes: tuple[str, ...] = ()
    git_timeout: float | None = 3600.0
    # Identifies these settings in a worker's cache of compiled detectors.
    digest: str = ""


@dataclass(frozen=True)
class SurveyTask:
    target: Target
    # The refs recorded by the last sweep, None for a repository never swept.
    known_refs: Refs | None


@dataclass(frozen=True)
class Survey:
    """What step 1 found. ``path`` is the repository on the worker's disk."""

    target: Target
    path: str = ""
    refs: Refs = ()
    unchanged: bool = False
    candidates: tuple[ObjectRef, ...] = ()
    gaps: tuple[str, ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class ScanTask:
    target: Target
    path: str
    refs: Refs
    to_scan: tuple[ObjectRef, ...]
    # Matched objects already scanned (in this repository by an earlier
    # sweep, or in another one) that must be located here without reading
    # them again: oid -> kind ("blob", "commit" or "tag").
    known: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SecretRecord:
    """One distinct secret as judged in the worker: no value, only its
    keyed fingerprint, sha256 and redaction."""

    fingerprint: str
    finding_id: str
    rule_id: str
    rule_name: str
    registry: str
    kind: str
    sha256: str
    redacted: str
    liveness: str
    liveness_reason: str
    scope: str | None
    breadth: str
    base_severity: str
    expires_at: datetime | None
    revoke_url: str | None
    remediation: str | None
    references: tuple[str, ...]


@dataclass(frozen=True)
class ObjectMatch:
    """A match inside one object; ``member`` is the archive-member suffix
    (``!dir/file``) or "" for the object itself."""

    oid: str
    kind: str
    member: str
    rule_id: str
    fingerprint: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Location:
    """Where the repository holds a matched object: a blob at the path some
    commit introduced it at, or a commit/tag message (``commit`` = itself)."""

    oid: str
    kind: str
    path: str
    commit: str | None
    author: str | None
    when: datetime | None
    state: str


@dataclass(frozen=True)
class RepoScan:
    """What step 2 sends back."""

    target: Target
    refs: Refs = ()
    scanned: tuple[tuple[str, str], ...] = ()
    matches: tuple[ObjectMatch, ...] = ()
    secrets: tuple[SecretRecord, ...] = ()
    locations: tuple[Location, ...] = ()
    bytes_scanned: int = 0
    allowed_inline: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    gaps: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0


# ------------------------------------------------------------------ step 1


def survey(settings: SweepSettings, task: SurveyTask) -> Survey:
    """Fetch (remote targets), compare refs, list candidate objects."""
    from scanner.sources.gitrepo import inspect_repository

    started = time.monotonic()
    target = task.target
    try:
        path = _repository_path(settings, target)
        facts = inspect_repository(path)
        refs = list_refs(path, facts.git_dir, facts.head)
        if task.known_refs is not None and refs == task.known_refs:
            return Survey(target, path=path, refs=refs, unchanged=True, seconds=time.monotonic() - started)
        stats = SourceStats()
        if facts.shallow:
            stats.gap(f"{target.display}: shallow clone: history behind the cut-off was not scanned")
        old_tips = existing_objects(path, {oid for _, oid in task.known_refs or ()})
        candidates = list(_candidates(settings, target, path, facts.git_dir, facts.partial, old_tips, stats))
    except ScannerError as exc:
        return Survey(target, error=str(exc), seconds=time.monotonic() - started)
    return Survey(
        target,
        path=path,
        refs=refs,
        candidates=tuple(candidates),
        gaps=tuple(stats.gaps),
        skipped=tuple(sorted(stats.skipped.items())),
        seconds=time.monotonic() - started,
    )


def _repository_path(settings: SweepSettings, target: Target) -> str:
    if not target.remote:
        return target.location
    from pathlib import Path

    from scanner.sweep.mirrors import ensure_mirror

    return str(ensure_mirror(target, Path(settings.cache_dir), timeout=settings.git_timeout))


def list_refs(path: str, git_dir: str, head: str | None) -> Refs:
    """Every ref and what it points at, plus HEAD and older stash entries:
    what decides whether a repository changed since the last sweep."""
    from scanner.gitcmd import run_git
    from scanner.sources.gitobjects import stash_entries

    done = run_git(path, ["for-each-ref", "--format=%(objectname) %(refname)"])
    refs: dict[str, str] = {}
    for line in done.stdout.decode("utf-8", "surrogateescape").splitlines():
        oid, _, name = line.partition(" ")
        if name:
            refs[name] = oid
    if head:
        refs["HEAD"] = head
    for index, oid in enumerate(stash_entries(git_dir)):
        refs[f"stash@{{{index}}}"] = oid
    return tuple(sorted(refs.items()))


def existing_objects(path: str, oids: Iterable[str]) -> set[str]:
    """The objects among ``oids`` that this repository holds."""
    from scanner.gitcmd import run_git

    wanted = sorted(set(oids))
    if not wanted:
        return set()
    done = run_git(path, ["cat-file", "--batch-check=%(objectname)"], input="".join(f"{o}\n" for o in wanted).encode())
    return {line.strip() for line in done.stdout.decode("ascii", "replace").splitlines() if not line.endswith("missing")}


def _candidates(
    settings: SweepSettings,
    target: Target,
    path: str,
    git_dir: str,
    partial: bool,
    old_tips: set[str],
    stats: SourceStats,
) -> Iterator[ObjectRef]:
    """First sweep: every object in the database, in pack order (cheaper than
    walking every tree). Later sweeps: what the refs reach beyond the tips
    the last sweep recorded (those objects were all scanned then)."""
    from scanner.sources.gitobjects import all_objects, history_revisions, reachable_objects

    limit = settings.max_file_size
    missing = 0
    if old_tips or partial:
        listing = reachable_objects(path, [*history_revisions(git_dir), *(f"^{oid}" for oid in sorted(old_tips))], stats.gap)
    else:
        listing = all_objects(path, stats.gap)
    for ref in listing:
        if ref.missing:
            missing += 1
        elif ref.kind == "blob" and ref.size > limit:
            stats.skip(f"git object larger than {limit >> 20} MiB")
        else:
            yield ref
    if missing:
        stats.gap(f"{target.display}: {missing} object(s) are not in this clone and were not scanned")


# ------------------------------------------------------------------ step 2


@dataclass
class _Engine:
    digest: str
    detector: Detector
    judge: Judge
    errors: list[str]
    rules: dict[str, Rule]


# One compiled detector per worker thread (Hyperscan scratch space is not
# shared between threads), rebuilt only when the settings change: compiling
# costs far more than scanning a small repository.
_engines = threading.local()


def _engine(settings: SweepSettings) -> _Engine:
    engine: _Engine | None = getattr(_engines, "engine", None)
    if engine is None or engine.digest != settings.digest or not settings.digest:
        from scanner.pipeline import build_judge

        errors: list[str] = []
        detector = Detector(settings.rules, regex_timeout=settings.regex_timeout, on_error=errors.append)
        rules = {rule.id: rule for rule in settings.rules}
        engine = _Engine(settings.digest, detector, build_judge(settings.rules), errors, rules)
        _engines.engine = engine
    return engine


def scan(settings: SweepSettings, task: ScanTask) -> RepoScan:
    """Read and match ``task.to_scan``, then locate every matched object."""
    started = time.monotonic()
    try:
        return _scan(settings, task, started)
    except ScannerError as exc:
        return RepoScan(task.target, error=str(exc), seconds=time.monotonic() - started)


def _scan(settings: SweepSettings, task: ScanTask, started: float) -> RepoScan:
    from scanner.sources.catfile import CatFileReader
    from scanner.sources.gitrepo import inspect_repository
    from scanner.sources.gitscan import scan_batch

    engine = _engine(settings)
    engine.errors.clear()
    facts = inspect_repository(task.path)
    stats = SourceStats()
    hits: list[ObjectHit] = []
    scanned: list[tuple[str, str]] = []
    unreadable: list[str] = []
    hints = {ref.oid: ref.path for ref in task.to_scan if ref.path}
    with CatFileReader(task.path, max_size=settings.max_file_size) as reader:
        for batch in _batches(task.to_scan):
            outcome = scan_batch(
                reader, engine.detector, batch, limits=settings.archive_limits, max_size=settings.max_file_size
            )
            stats.merge(outcome.stats)
            hits.extend(outcome.hits)
            scanned.extend(outcome.scanned)
            unreadable.extend(f"{bad.oid} ({bad.reason})" for bad in outcome.unreadable)
    stats.errors.extend(engine.errors)
    if unreadable:
        more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
        stats.gap(f"{task.target.display}: {len(unreadable)} object(s) could not be read: {', '.join(unreadable[:5])}{more}")
    secrets, matches, allowed = _fingerprinted(settings, engine, hits)
    wanted = dict(task.known)
    wanted.update({hit.oid: hit.kind for hit in hits if any(not m.allowed for _, ms in hit.parts for m in ms)})
    signatures = {hit.oid: (hit.author, hit.when) for hit in hits if hit.kind != "blob"}
    locations = locate(task, facts.git_dir, facts.head, wanted, hints, signatures, settings.path_excludes, stats)
    return RepoScan(
        task.target,
        refs=task.refs,
        scanned=tuple(scanned),
        matches=tuple(matches),
        secrets=tuple(secrets.values()),
        locations=tuple(locations),
        bytes_scanned=stats.bytes_scanned,
        allowed_inline=allowed,
        skipped=tuple(sorted(stats.skipped.items())),
        gaps=tuple(stats.gaps),
        errors=tuple(stats.errors),
        seconds=time.monotonic() - started,
    )


def _batches(refs: Sequence[ObjectRef]) -> Iterator[list[ObjectRef]]:
    for start in range(0, len(refs), _BATCH_OBJECTS):
        yield list(refs[start : start + _BATCH_OBJECTS])


def _fingerprinted(
    settings: SweepSettings, engine: _Engine, hits: Sequence[ObjectHit]
) -> tuple[dict[str, SecretRecord], list[ObjectMatch], int]:
    """Matches with their secrets replaced by fingerprints, and each distinct
    secret judged once; matches on ``sprawl:allow`` lines only counted."""
    from scanner.baseline import fingerprint

    secrets: dict[str, SecretRecord] = {}
    matches: list[ObjectMatch] = []
    allowed = 0
    for hit in hits:
        for member, found in hit.parts:
            for match in found:
                if match.allowed:
                    allowed += 1
                    continue
                print_ = fingerprint(settings.fingerprint_key, match.rule_id, match.secret)
                if print_ not in secrets:
                    secrets[print_] = _judged(engine, engine.rules[match.rule_id], match.secret, print_)
                matches.append(
                    ObjectMatch(
                        hit.oid,
                        hit.kind,
                        member,
                        match.rule_id,
                        print_,
                        match.line,
                        match.column,
                        match.end_line,
                        match.end_column,
                    )
                )
    return secrets, matches, allowed


def _judged(engine: _Engine, rule: Rule, secret: str, print_: str) -> SecretRecord:
    from scanner.findings import finding_id, redact, secret_sha256
    from scanner.report.serialize import scrub
    from scanner.validators.judge import literal_prefix

    verdict = engine.judge.judge(rule, secret)
    return SecretRecord(
        fingerprint=print_,
        finding_id=finding_id(rule.id, secret),
        rule_id=rule.id,
        rule_name=rule.name,
        registry=rule.registry,
        kind=rule.kind,
        sha256=secret_sha256(secret),
        # Validator-written text could quote the value: masked before it
        # can reach the database.
        redacted=scrub(redact(secret, literal_prefix(rule, secret)), secret),
        liveness=verdict.liveness.value,
        liveness_reason=scrub(verdict.reason, secret),
        scope=scrub(verdict.scope, secret) if verdict.scope is not None else None,
        breadth=verdict.breadth.value,
        base_severity=rule.severity.value,
        expires_at=verdict.expires_at,
        revoke_url=rule.revoke_url,
        remediation=rule.remediation,
        references=rule.references,
    )


def locate(
    task: ScanTask,
    git_dir: str,
    head: str | None,
    wanted: dict[str, str],
    hints: dict[str, str],
    signatures: dict[str, tuple[str | None, datetime | None]],
    path_excludes: tuple[str, ...],
    stats: SourceStats,
) -> list[Location]:
    """Every place the refs reach a wanted object (oid -> kind): blobs at
    each (commit, path) that introduced them, messages at their commit or
    tag. Objects no ref reaches any more get no location."""
    from scanner.sources.gitobjects import history_revisions

    revisions = history_revisions(git_dir)
    blobs = {oid for oid, kind in wanted.items() if kind == "blob"}
    messages = {oid: kind for oid, kind in wanted.items() if kind in ("commit", "tag")}
    locations = _blob_locations(task, head, blobs, hints, revisions, path_excludes, stats) if blobs else []
    if messages:
        locations.extend(_message_locations(task, messages, signatures, revisions, stats))
    return locations


def _blob_locations(
    task: ScanTask,
    head: str | None,
    blobs: set[str],
    hints: dict[str, str],
    revisions: list[str],
    path_excludes: tuple[str, ...],
    stats: SourceStats,
) -> list[Location]:
    from scanner.pathfilter import PathFilter
    from scanner.sources.gitprovenance import find_introductions
    from scanner.sources.gitreach import unreachable_among
    from scanner.sources.gitrepo import tree_blobs

    excludes = PathFilter(path_excludes) if path_excludes else None
    introductions, failure = find_introductions(task.path, blobs, revisions)
    if failure:
        stats.gap(f"{task.target.display}: some commits could not be attributed: {failure}")
    current = tree_blobs(task.path, head) if head else {}
    current_blobs = set(current.values())
    locations: list[Location] = []
    doubtful: set[str] = set()
    for oid in sorted(blobs):
        intros = introductions.get(oid)
        if not intros:
            doubtful.add(oid)
            continue
        for intro in intros:
            if excludes is not None and excludes.excluded(intro.path):
                continue
            state = STILL_PRESENT if current.get(intro.path) == oid else HISTORY_ONLY
            locations.append(Location(oid, "blob", intro.path, intro.commit, intro.author, intro.when, state))
    if doubtful:
        # No commit introduced it: reachable only from a tag or note tree,
        # or reachable from nothing (force-pushed away, reset, not yet gc'd).
        held = existing_objects(task.path, doubtful)
        lost = unreachable_among(task.path, held, stats.gap).objects if held else set()
        for oid in sorted(held - lost):
            path = hints.get(oid) or f"(blob {oid[:12]})"
            if excludes is not None and excludes.excluded(path):
                continue
            state = STILL_PRESENT if oid in current_blobs else HISTORY_ONLY
            locations.append(Location(oid, "blob", path, None, None, None, state))
        for _ in lost:
            stats.skip("unreachable git object with a candidate match")
    return locations


def _message_locations(
    task: ScanTask,
    messages: dict[str, str],
    signatures: dict[str, tuple[str | None, datetime | None]],
    revisions: list[str],
    stats: SourceStats,
) -> list[Location]:
    from scanner.sources.gitreach import reachable_commits, reachable_tags
    from scanner.sources.gitscan import MESSAGE_PATH, TAG_MESSAGE_PATH

    commits = reachable_commits(task.path, revisions, {o for o, k in messages.items() if k == "commit"}, stats.gap)
    tags = reachable_tags(task.path, {o for o, k in messages.items() if k == "tag"}, stats.gap)
    reached = sorted(commits | tags)
    unknown = [oid for oid in reached if oid not in signatures]
    signatures = {**signatures, **_read_signatures(task.path, unknown, messages)}
    locations = []
    for oid in reached:
        kind = messages[oid]
        author, when = signatures.get(oid, (None, None))
        path = MESSAGE_PATH if kind == "commit" else TAG_MESSAGE_PATH
        locations.append(Location(oid, kind, path, oid, author, when, MESSAGE))
    return locations


def _read_signatures(
    path: str, oids: list[str], kinds: dict[str, str]
) -> dict[str, tuple[str | None, datetime | None]]:
    """Author (or tagger) and date of messages matched by an earlier scan."""
    if not oids:
        return {}
    from scanner.sources.catfile import CatFileReader, GitObject
    from scanner.sources.gitscan import message_signature

    found: dict[str, tuple[str | None, datetime | None]] = {}
    with CatFileReader(path, max_size=1 << 24) as reader:
        for result in reader.read(oids):
            if isinstance(result, GitObject) and result.data is not None:
                found[result.oid] = message_signature(result.data, kinds[result.oid])
    return found
