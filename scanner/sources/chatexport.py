"""Plumbing shared by the chat-export readers: an export's files (folder or
zip, never extracted), many messages in one chunk with each match placed at
its own message, workers that parse and match whole files, plain-text fallbacks.
"""

from __future__ import annotations

import abc
import bisect
import gc
import io
import json
import os
import stat
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

from scanner.locate import without_content
from scanner.model import Chunk, Match, Provenance
from scanner.pathfilter import PathFilter
from scanner.sources.archives import ArchiveLimits, iter_leaves, sniff_archive
from scanner.sources.base import Detected, ProgressCallback, Source, SourceStats
from scanner.sources.formats import SNIFF_BYTES, ExportOptions, content_format_for
from scanner.sources.text import content_digest, decode_text

# A chunk is closed once its text reaches this many characters: large enough
# that per-chunk costs vanish, small enough to keep every worker busy.
CHUNK_CHARS = 2 << 20
# Between two messages: a blank line, so no token runs from one into the next.
SEPARATOR = "\n\n"

# What a damaged zip can raise out of zipfile (NotImplementedError: a
# compression method zipfile lacks).
_ZIP_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
)

if TYPE_CHECKING:
    from scanner.engine import Detector

K = TypeVar("K")
# Units of work in flight per worker process.
_UNITS_PER_JOB = 3
# Threads that read files ahead of the parser (reads wait on the disk, not
# on the interpreter).
_READERS = 4


def human_size(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB" if size >= 1 << 20 else f"{size} bytes"


def is_zip(path: str) -> bool:
    """A regular file that zipfile can open (central directory present)."""
    try:
        return os.path.isfile(path) and zipfile.is_zipfile(path)
    except OSError:
        return False


def zip_names(path: str) -> list[str]:
    """Member file names of a zip, ``/``-separated, or [] when unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [name.replace("\\", "/") for name in archive.namelist() if not name.endswith("/")]
    except _ZIP_ERRORS:
        return []


def read_head(path: str, size: int = SNIFF_BYTES) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def zip_head(path: str, name: str, size: int = SNIFF_BYTES) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive, archive.open(name) as member:
            return member.read(size)
    except _ZIP_ERRORS:
        return b""


class ExportTree:
    """The files of an export given on the command line: a folder (walked,
    symlinks never followed out of it), a zip (members read in memory, never
    extracted) or a single file. Names are ``/``-separated and relative."""

    def __init__(self, path: str, options: ExportOptions) -> None:
        self.path = path
        self._max = options.max_file_size
        self._excludes = PathFilter(options.path_excludes)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] | None = None
        self.is_dir = os.path.isdir(path)
        self.is_zip = not self.is_dir and is_zip(path)
        if self.is_dir:
            self._root = path
        elif self.is_zip:
            self._root = path + "!"
        else:
            self._root = os.path.dirname(path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def names(self, stats: SourceStats) -> list[str]:
        """Every file of the export, sorted; unreadable inputs are recorded."""
        if self.is_dir:
            return self._walk(stats)
        if self.is_zip:
            members = self._zip_members(stats)
            if members is None:
                return []
            kept = []
            for name in members:
                if self._excludes and self._excludes.excluded(name):
                    stats.skip("excluded")
                    continue
                kept.append(name)
            return sorted(kept)
        if os.path.isfile(self.path):
            return [os.path.basename(self.path)]
        stats.error(f"{self.path}: no such file or directory")
        return []

    def _zip_members(self, stats: SourceStats) -> dict[str, zipfile.ZipInfo] | None:
        if self._members is None:
            try:
                self._zip = zipfile.ZipFile(self.path)
            except _ZIP_ERRORS as exc:
                stats.error(f"{self.path}: cannot read the zip: {exc}")
                return None
            self._members = {
                info.filename.replace("\\", "/"): info for info in self._zip.infolist() if not info.is_dir()
            }
        return self._members

    def size(self, name: str) -> int:
        """The (declared) size of one file, 0 when unknown."""
        if self.is_zip:
            info = (self._members or {}).get(name)
            return info.file_size if info is not None else 0
        try:
            return os.stat(self._full(name)).st_size
        except OSError:
            return 0

    def _full(self, name: str) -> str:
        return os.path.join(self._root, name) if self._root else name

    def display(self, name: str) -> str:
        return self._root + name if self.is_zip else self._full(name)

    def read(self, name: str, stats: SourceStats) -> bytes | None:
        """The bytes of one file, or None (too large, unreadable: recorded)."""
        if self.is_zip:
            return self._read_member(name, stats)
        full = self._full(name)
        try:
            info = os.stat(full)
            if not stat.S_ISREG(info.st_mode):
                stats.skip("not a regular file")
                return None
            if info.st_size > self._max:
                stats.skip(f"larger than {human_size(self._max)}")
                return None
            with open(full, "rb") as handle:
                # Asking for the size cap would allocate that much per file.
                data = handle.read(info.st_size + 1)
                if len(data) > info.st_size:  # it grew while we looked
                    data += handle.read(self._max + 1 - len(data))
        except OSError as exc:
            stats.error(f"{self.display(name)}: cannot read: {exc.strerror or exc}")
            return None
        if len(data) > self._max:
            stats.skip(f"larger than {human_size(self._max)}")
            return None
        return data

    def stream(self, name: str, stats: SourceStats) -> IO[bytes] | None:
        """One file opened for reading as a buffered stream (a JSONL export
        can be far larger than the size cap, yet is read line by line)."""
        try:
            if self.is_zip:
                members = self._zip_members(stats)
                info = members.get(name) if members is not None else None
                if info is None or self._zip is None:
                    stats.error(f"{self.display(name)}: no such zip member")
                    return None
                if info.flag_bits & 0x1:
                    stats.skip("encrypted archive member")
                    return None
                return io.BufferedReader(cast(io.RawIOBase, self._zip.open(info)), buffer_size=1 << 20)
            return open(self._full(name), "rb", buffering=1 << 20)
        except _ZIP_ERRORS as exc:
            stats.error(f"{self.display(name)}: cannot read: {exc}")
            return None

    def _read_member(self, name: str, stats: SourceStats) -> bytes | None:
        members = self._zip_members(stats)
        if members is None or self._zip is None:
            return None
        info = members.get(name)
        if info is None:
            stats.error(f"{self.display(name)}: no such zip member")
            return None
        if info.flag_bits & 0x1:
            stats.skip("encrypted archive member")
            return None
        if info.file_size > self._max:
            stats.skip(f"larger than {human_size(self._max)}")
            return None
        try:
            with self._zip.open(info) as member:
                # The declared size is the zip's word; what inflates is counted.
                data = member.read(self._max + 1)
        except _ZIP_ERRORS as exc:
            stats.error(f"{self.display(name)}: cannot read the zip member: {exc}")
            return None
        if len(data) > self._max:
            stats.skip(f"larger than {human_size(self._max)}")
            return None
        return data

    def _walk(self, stats: SourceStats) -> list[str]:
        found: list[str] = []

        def report(error: OSError) -> None:
            stats.error(f"{error.filename}: cannot list directory: {error.strerror}")

        for dirpath, dirnames, filenames in os.walk(self.path, onerror=report):
            relative = os.path.relpath(dirpath, self.path).replace(os.sep, "/")
            prefix = "" if relative == "." else relative + "/"
            kept = []
            for name in sorted(dirnames):
                if name == ".git" or os.path.islink(os.path.join(dirpath, name)):
                    continue
                if self._excludes and self._excludes.excluded(f"{prefix}{name}/"):
                    stats.skip("excluded")
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in filenames:
                if os.path.islink(os.path.join(dirpath, name)):
                    stats.skip("symlink not followed")
                    continue
                if self._excludes and self._excludes.excluded(prefix + name):
                    stats.skip("excluded")
                    continue
                found.append(prefix + name)
        found.sort()
        return found


def read_ahead(tree: ExportTree, names: Sequence[str], stats: SourceStats) -> Iterator[tuple[str, bytes | None]]:
    """(display, bytes or None) of each file in order, read a few files ahead
    on threads: a cold export is read from disk while earlier files parse.
    A zip is read in order (its members share one file handle)."""
    if len(names) < 2 or tree.is_zip:
        for name in names:
            yield tree.display(name), tree.read(name, stats)
        return

    def read(name: str) -> tuple[bytes | None, SourceStats]:
        own = SourceStats()  # merged below, in order, on this thread
        return tree.read(name, own), own

    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        pending: deque[tuple[str, Future[tuple[bytes | None, SourceStats]]]] = deque()
        for name in names:
            pending.append((name, pool.submit(read, name)))
            if len(pending) > _READERS:
                yield _settle_read(tree, pending.popleft(), stats)
        while pending:
            yield _settle_read(tree, pending.popleft(), stats)


def _settle_read(
    tree: ExportTree, item: tuple[str, Future[tuple[bytes | None, SourceStats]]], stats: SourceStats
) -> tuple[str, bytes | None]:
    name, future = item
    data, own = future.result()
    stats.merge(own)
    return tree.display(name), data


class MessagePlacer:
    """Places an offset of a chunk that joins many messages: the message it
    falls in (its provenance, built only when something matched there) and
    the line and column within that message's text."""

    __slots__ = ("_cache", "_keys", "_make", "_starts")

    def __init__(self, starts: list[int], keys: list[Any], make: Callable[[Any], Provenance]) -> None:
        self._starts = starts
        self._keys = keys
        self._make = make
        self._cache: dict[int, Provenance] = {}

    def place(self, text: str, offset: int) -> tuple[Provenance, int, int]:
        index = max(bisect.bisect_right(self._starts, offset) - 1, 0)
        provenance = self._cache.get(index)
        if provenance is None:
            provenance = self._cache[index] = self._make(self._keys[index])
        start = self._starts[index]
        newlines = text.count("\n", start, offset)
        if newlines:
            return provenance, 1 + newlines, offset - text.rfind("\n", start, offset)
        return provenance, 1, offset - start + 1


class MessageChunks(Generic[K]):
    """Joins the rendered text of many messages into chunks of at most
    CHUNK_CHARS characters (a message is never split), each with a
    MessagePlacer that builds a message's provenance from its key on demand."""

    def __init__(self, make: Callable[[K], Provenance], limit: int = CHUNK_CHARS) -> None:
        self._make = make
        self._limit = limit
        self._parts: list[str] = []
        self._starts: list[int] = []
        self._keys: list[K] = []
        self._length = 0

    def add(self, text: str, key: K) -> None:
        if not text:
            return
        if self._parts:
            self._parts.append(SEPARATOR)
            self._length += len(SEPARATOR)
        self._starts.append(self._length)
        self._keys.append(key)
        self._parts.append(text)
        self._length += len(text)

    @property
    def full(self) -> bool:
        return self._length >= self._limit

    def ready(self, provenance: Provenance) -> Iterator[Chunk]:
        """The chunk collected so far once it is full (see :meth:`take`)."""
        if self.full:
            chunk = self.take(provenance)
            if chunk is not None:
                yield chunk

    def rest(self, provenance: Provenance) -> Iterator[Chunk]:
        """Whatever is left at the end (see :meth:`take`)."""
        chunk = self.take(provenance)
        if chunk is not None:
            yield chunk

    def take(self, provenance: Provenance) -> Chunk | None:
        """The chunk collected so far (``provenance`` stands for the whole
        chunk), or None when nothing was added; starts a new one."""
        if not self._parts:
            return None
        text = "".join(self._parts)
        placer = MessagePlacer(self._starts, self._keys, self._make)
        self._parts, self._starts, self._keys, self._length = [], [], [], 0
        return Chunk(
            content=text,
            provenance=provenance,
            digest=content_digest(text.encode("utf-8", "surrogatepass")),
            locator=placer,
        )


def parse_json(data: bytes, display: str, expected: str, stats: SourceStats) -> Any | None:
    """``data`` as JSON, or None after one error line naming the file, what
    is wrong and what was expected."""
    # Parsing makes many objects and no cycles: the cyclic collector would
    # only walk them again and again (a third of the parse time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        stats.error(f"{display}: not UTF-8 text at byte {exc.start} (expected {expected}); scanned as plain text")
    except json.JSONDecodeError as exc:
        # A string that never closes ran into the end of the file too.
        truncated = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")
        problem = "truncated JSON" if truncated else f"invalid JSON ({exc.msg})"
        stats.error(
            f"{display}: {problem} at line {exc.lineno} column {exc.colno} (expected {expected});"
            " scanned as plain text"
        )
    except RecursionError:
        stats.error(f"{display}: JSON nested too deeply (expected {expected}); scanned as plain text")
    finally:
        if collecting:
            gc.enable()
    return None


def plain_chunks(data: bytes, display: str, kind: str, stats: SourceStats, *, formats: bool = True) -> Iterator[Chunk]:
    """A file read as it is: by a content format that recognises it (a log,
    a document), expanded when it is an archive (files shared in a chat),
    else as text; binary files are counted and skipped. Used for the files of
    an export that hold no messages, and (without ``formats``, so a format
    never reads its own bad file twice) for message files that could not be
    parsed: nothing in an export goes unscanned."""
    if formats:
        known = content_format_for(display, data[:SNIFF_BYTES])
        if known is not None:
            yield from known.read(data, display, stats)
            return
        if sniff_archive(data) is not None:
            for member_display, member in iter_leaves(data, display, ArchiveLimits(), stats):
                yield from plain_chunks(member, member_display, kind, stats, formats=sniff_archive(member) is None)
            return
    text = decode_text(data)
    if text is None:
        stats.skip("binary")
        return
    stats.scanned(len(data))
    yield Chunk(content=text, provenance=Provenance(source=kind, path=display), digest=content_digest(data))


def unix_time(seconds: object) -> datetime | None:
    """Seconds since the epoch (a number, or text such as a Slack ts) as UTC."""
    if not isinstance(seconds, int | float | str) or seconds == "":
        return None
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive taken as UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if type(value) is dict else {}


def join_nonempty(parts: list[str], separator: str = "\n") -> str:
    return separator.join([part for part in parts if part])


@dataclass(frozen=True)
class Unit:
    """A piece of an export read on its own (by a worker process when the
    scan runs on several): some files, with what the format needs to know
    about them."""

    names: tuple[str, ...]
    info: Any = None
    size: int = 0


@dataclass(frozen=True)
class ExportFiles:
    """Which files of a chat export's folder or zip hold its messages: named
    with one of ``suffixes`` and recognised by ``sniff`` from their first
    ``head_bytes``. The other files are scanned as plain files."""

    suffixes: tuple[str, ...]
    sniff: Callable[[str, bytes], bool]
    head_bytes: int = SNIFF_BYTES
    # Recognising a folder or zip looks only at files with these suffixes
    # (default: ``suffixes``) and, with ``zip_top_only``, only at zip members
    # at most one folder down (a bulk export's attachments may be JSON too).
    recognize_suffixes: tuple[str, ...] = ()
    zip_top_only: bool = False

    def plan(self, tree: ExportTree, stats: SourceStats, missing: str) -> list[Unit]:
        """One unit per file, marked "export" where it holds messages;
        ``missing`` is the error when none does."""
        units: list[Unit] = []
        for name in tree.names(stats):
            head = zip_head(tree.path, name, self.head_bytes) if tree.is_zip else read_head(tree.display(name), self.head_bytes)
            is_export = name.lower().endswith(self.suffixes) and self.sniff(name, head)
            units.append(Unit((name,), "export" if is_export else None, tree.size(name)))
        if units and not any(unit.info for unit in units):
            stats.error(missing)
        return units

    def recognize(self, path: str) -> bool:
        """One such file, or a folder or zip whose first files of the kind all are."""
        suffixes = self.recognize_suffixes or self.suffixes
        try:
            if is_zip(path):
                names = [
                    n
                    for n in zip_names(path)
                    if n.lower().endswith(suffixes) and (not self.zip_top_only or n.count("/") <= 1)
                ][:5]
                return bool(names) and all(self.sniff(n, zip_head(path, n, self.head_bytes)) for n in names)
            if os.path.isdir(path):
                entries = sorted(e for e in os.listdir(path) if e.lower().endswith(suffixes))[:5]
                return bool(entries) and all(
                    self.sniff(e, read_head(os.path.join(path, e), self.head_bytes)) for e in entries
                )
            return os.path.isfile(path) and self.sniff(path, read_head(path, self.head_bytes))
        except OSError:
            return False


def export_or_plain_chunks(
    tree: ExportTree, unit: Unit, stats: SourceStats, kind: str, read_export: Callable[[bytes, str, SourceStats], Iterator[Chunk]]
) -> Iterator[Chunk]:
    """The chunks of a unit planned by :class:`ExportFiles`: messages read by
    ``read_export``, any other file as a plain file."""
    for name in unit.names:
        data = tree.read(name, stats)
        if data is None:
            continue
        if unit.info:
            yield from read_export(data, tree.display(name), stats)
        else:
            yield from plain_chunks(data, tree.display(name), kind, stats)


class ChatExportSource(Source, abc.ABC):
    """A chat export read in units (a few files each). With one job the
    units' chunks go through the usual pipeline; with more, each worker
    process reads, parses, renders and matches whole units — parsing JSON
    costs more than matching the text it holds, so it must not stay on the
    main process — and sends back only the matches, already placed."""

    def __init__(self, path: str, options: ExportOptions) -> None:
        self.path = path
        self.options = options

    @abc.abstractmethod
    def plan(self, tree: ExportTree, stats: SourceStats) -> tuple[Any, list[Unit]]:
        """What every unit needs (picklable) and the units, in order."""

    @abc.abstractmethod
    def unit_chunks(self, tree: ExportTree, context: Any, unit: Unit, stats: SourceStats) -> Iterator[Chunk]:
        """The chunks of one unit, recording on ``stats``."""

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        with ExportTree(self.path, self.options) as tree:
            context, units = self.plan(tree, stats)
            for unit in units:
                yield from self.unit_chunks(tree, context, unit, stats)

    def detect(
        self,
        detector: Detector,
        stats: SourceStats,
        *,
        jobs: int,
        regex_timeout: float,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Detected]:
        if jobs <= 1:
            yield from super().detect(detector, stats, jobs=jobs, regex_timeout=regex_timeout, progress=progress)
            return
        with ExportTree(self.path, self.options) as tree:
            context, units = self.plan(tree, stats)
            if sum(1 for unit in units if unit.info is not None) < jobs:
                # Too few units to share out (one big JSONL file): read here,
                # match on the workers.
                from scanner.parallel import detect_in_order

                stream = (chunk for unit in units for chunk in self.unit_chunks(tree, context, unit, stats))
                for item in detect_in_order(
                    stream, detector, jobs=jobs, regex_timeout=regex_timeout, on_error=stats.error
                ):
                    if progress is not None:
                        progress(item[0])
                    yield item
                return
        with ProcessPoolExecutor(
            max_workers=jobs, initializer=_start_worker, initargs=(detector.worker_factory, regex_timeout, self, context)
        ) as pool:
            pending: deque[Future[_UnitResult]] = deque()
            for unit in units:
                pending.append(pool.submit(_work, unit))
                while len(pending) > jobs * _UNITS_PER_JOB:
                    yield from self._settle(pending.popleft(), stats, progress)
            while pending:
                yield from self._settle(pending.popleft(), stats, progress)

    def _settle(
        self, future: Future[_UnitResult], stats: SourceStats, progress: ProgressCallback | None
    ) -> Iterator[Detected]:
        unit_stats, found = future.result()
        stats.merge(unit_stats)
        advance = getattr(progress, "advance", None)
        if advance is not None:
            advance(unit_stats.bytes_scanned, unit_stats.inputs_scanned, self.path)
        for chunk, matches in found:
            yield chunk, matches, False


_UnitResult = tuple[SourceStats, list[tuple[Chunk, list[Match]]]]


@dataclass
class _WorkerState:
    detector: Detector
    source: ChatExportSource
    context: Any
    tree: ExportTree
    errors: list[str]


# Each worker process holds its detector and open export, built once by
# _start_worker; the state lives only in the worker's own process (as in
# scanner/parallel.py).
_worker: list[_WorkerState] = []


def _start_worker(
    factory: Callable[..., Detector], regex_timeout: float, source: ChatExportSource, context: Any
) -> None:
    errors: list[str] = []
    detector = factory(regex_timeout=regex_timeout, on_error=errors.append)
    _worker.append(_WorkerState(detector, source, context, ExportTree(source.path, source.options), errors))


def _work(unit: Unit) -> _UnitResult:
    # Parsed messages make many objects and no cycles: the cyclic collector
    # would walk them over and over while a unit is read. It runs after.
    gc.disable()
    try:
        return _work_unit(unit)
    finally:
        gc.enable()


def _work_unit(unit: Unit) -> _UnitResult:
    state = _worker[0]
    stats = SourceStats()
    found: list[tuple[Chunk, list[Match]]] = []
    for chunk in state.source.unit_chunks(state.tree, state.context, unit, stats):
        matches = state.detector.detect(chunk)
        if matches:
            found.append((without_content(chunk, matches), matches))
    for error in state.errors:
        stats.error(error)
    state.errors.clear()
    return stats, found
