"""Files, directories and stdin as a source of chunks.

Directories are walked recursively (``.git`` folders are skipped: git history
is its own source). Symlinks are never followed out of the tree being walked,
special files (FIFOs, devices) are never opened, files over the size cap and
binary files are counted and skipped, paths matching ``exclude-paths`` globs
(pathfilter.py) are left out, and archives — recognised by content — are
expanded in memory (see archives.py).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from scanner.model import Chunk, Provenance
from scanner.pathfilter import PathFilter
from scanner.sources.archives import ArchiveLimits, iter_leaves, sniff_archive
from scanner.sources.base import Detected, ProgressCallback, Source, SourceStats
from scanner.sources.formats import SNIFF_BYTES, content_format_for
from scanner.sources.text import content_digest, decode_text

if TYPE_CHECKING:
    from scanner.engine import Detector

STDIN_PATH = "-"
_SKIP_DIRS = frozenset({".git"})


def _posix(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path


def _human(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB" if size >= 1 << 20 else f"{size} bytes"


def _claimed(display: str, data: bytes) -> bool:
    """Whether a content format reads ``data`` itself (a DOCX inside a zip)."""
    return content_format_for(display, data[:SNIFF_BYTES]) is not None


@dataclass(frozen=True)
class FileUnit:
    """One file to read: its path, the path to report, the root of the tree
    it was found in (None for a file named on the command line), and its
    size when listed (for sharing files out; the read checks again)."""

    path: str
    display: str
    root: str | None
    size: int


# Given a folder found in a walk (with the names of its subfolders and
# files) or a file (names None): the source that reads it as a repository or
# an export, or None to go on reading it as files.
Discover = Callable[[str, frozenset[str] | None, frozenset[str] | None], "Source | None"]
# Files that may be whole exports (a zipped Slack or Confluence export, a
# Jira XML or CSV export, a JSONL stream); other files are read as files.
_EXPORT_FILE_SUFFIXES = (".zip", ".jsonl", ".ndjson", ".xml", ".csv")


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:  # reading it will say why
        return 0


class FileSource(Source):
    """Chunks from paths given on the command line (``-`` is stdin)."""

    kind = "file"

    def __init__(
        self,
        paths: Sequence[str],
        *,
        max_file_size: int,
        archive_limits: ArchiveLimits | None = None,
        stdin: BinaryIO | None = None,
        path_excludes: Sequence[str] = (),
        discover: Discover | None = None,
    ) -> None:
        self._paths = list(paths)
        # Finds repositories and exports inside the folders walked: they are
        # not read as plain files but collected here, for their own sources.
        self._discover = discover
        self.discovered: list[Source] = []
        self._excludes = PathFilter(path_excludes)
        self._max = max_file_size
        self._limits = archive_limits or ArchiveLimits()
        self._stdin = stdin

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        for unit in self.units(stats):
            if unit is None:
                yield from self.stdin_chunks(stats)
            else:
                yield from self.unit_chunks(unit, stats)

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
        from scanner.sources.filework import detect_files

        yield from detect_files(
            self, self.units(stats), detector, stats, jobs=jobs, regex_timeout=regex_timeout, progress=progress
        )

    def units(self, stats: SourceStats) -> Iterator[FileUnit | None]:
        """Every file to read, in order (None: stdin); missing paths,
        excluded paths and unlistable folders are recorded on ``stats``."""
        for path in self._paths:
            if path == STDIN_PATH:
                yield None
            elif os.path.isdir(path):
                yield from self._walk(path, stats)
            elif os.path.lexists(path):
                # A file named on the command line (a commit hook passes each
                # staged file) is matched by the path as given.
                if self._excludes.excluded(_posix(os.path.normpath(path))):
                    stats.skip("excluded")
                    continue
                yield FileUnit(path, path, None, _size(path))
            else:
                stats.error(f"{path}: no such file or directory")

    def unit_chunks(self, unit: FileUnit, stats: SourceStats) -> Iterator[Chunk]:
        """The chunks of one file."""
        yield from self._file(unit.path, unit.display, stats, root=unit.root)

    def stdin_chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        """The chunks of standard input."""
        stream = self._stdin if self._stdin is not None else sys.stdin.buffer
        data = stream.read(self._max + 1)
        if len(data) > self._max:
            stats.error(f"<stdin>: larger than the size cap of {_human(self._max)}; not scanned")
            return
        yield from self._content(data, "<stdin>", "stdin", stats)

    def _walk(self, top: str, stats: SourceStats) -> Iterator[FileUnit]:
        root = os.path.realpath(top)

        def report(error: OSError) -> None:
            stats.error(f"{error.filename}: cannot list directory: {error.strerror}")

        for dirpath, dirnames, filenames in os.walk(top, onerror=report):
            relative = _posix(os.path.relpath(dirpath, top))
            prefix = "" if relative == "." else relative + "/"
            if self._discover is not None and relative != ".":
                found = self._discover(dirpath, frozenset(dirnames), frozenset(filenames))
                if found is not None:
                    self.discovered.append(found)
                    if ".git" not in dirnames and ".git" not in filenames:
                        dirnames[:] = []  # an export, or a bare repository: read whole by its source
                        continue
                    # A working tree is also read as files, like everything
                    # else in the folder: untracked and ignored files (.env)
                    # are in no commit, and the history is read besides.
            kept = []
            for name in sorted(dirnames):
                full = os.path.join(dirpath, name)
                if name in _SKIP_DIRS:
                    continue
                if self._excludes and self._excludes.excluded(f"{prefix}{name}/"):
                    # One count for the folder: nothing below it is read.
                    stats.skip("excluded")
                    continue
                if os.path.islink(full):
                    # Following a directory link could leave the tree or loop;
                    # a link inside the tree is reached by its real path anyway.
                    stats.skip("symlinked directory not followed")
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if self._excludes and self._excludes.excluded(prefix + name):
                    stats.skip("excluded")
                    continue
                if self._discover is not None and name.lower().endswith(_EXPORT_FILE_SUFFIXES):
                    found = self._discover(full, None, None)
                    if found is not None:
                        self.discovered.append(found)
                        continue
                # "./.npmrc" reads better as ".npmrc"; the path stays relative
                # to where the user pointed us.
                yield FileUnit(full, os.path.normpath(full), root, _size(full))

    def _file(self, path: str, display: str, stats: SourceStats, *, root: str | None) -> Iterator[Chunk]:
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                target = os.path.realpath(path)
                if root is not None and not (target == root or target.startswith(root + os.sep)):
                    stats.skip("symlink pointing out of the tree")
                    return
                info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                stats.skip("not a regular file")
                return
            if info.st_size > self._max:
                stats.skip(f"larger than {_human(self._max)}")
                return
            with open(path, "rb") as handle:
                # Ask for what the file holds (plus one byte to notice growth):
                # read(cap) would set aside a cap-sized buffer for every file.
                # (A size of 0 may be a pseudo-file that does hold text.)
                data = handle.read(min(info.st_size, self._max) + 1 if info.st_size else self._max + 1)
        except OSError as exc:
            stats.error(f"{display}: cannot read: {exc.strerror or exc}")
            return
        if len(data) > self._max:  # grew while we looked
            stats.skip(f"larger than {_human(self._max)}")
            return
        yield from self._content(data, display, "file", stats)

    def _content(self, data: bytes, display: str, kind: str, stats: SourceStats) -> Iterator[Chunk]:
        # A document or log format (DOCX is a zip, so before archives) reads
        # its own bytes; archive members get the same chance.
        known = content_format_for(display, data[:SNIFF_BYTES])
        if known is not None:
            yield from known.read(data, display, stats)
            return
        if sniff_archive(data) is not None:
            for member_display, member in iter_leaves(data, display, self._limits, stats, keep=_claimed):
                known = content_format_for(member_display, member[:SNIFF_BYTES])
                if known is not None:
                    yield from known.read(member, member_display, stats)
                else:
                    yield from self._text(member, member_display, kind, stats, in_archive=True)
            return
        yield from self._text(data, display, kind, stats)

    def _text(
        self, data: bytes, display: str, kind: str, stats: SourceStats, *, in_archive: bool = False
    ) -> Iterator[Chunk]:
        text = decode_text(data)
        if text is None:
            stats.skip("binary archive member" if in_archive else "binary")
            return
        stats.scanned(len(data))
        yield Chunk(content=text, provenance=Provenance(source=kind, path=display), digest=content_digest(data))


class DiscoveredSources(Source):
    """The repositories and exports a FileSource found inside the folders it
    walked, scanned after it (the pipeline takes sources in order, so the
    walk is over by then)."""

    kind = "discovered"

    def __init__(self, walker: FileSource) -> None:
        self._walker = walker

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        for source in self._walker.discovered:
            yield from source.chunks(stats)

    def detect(
        self,
        detector: Detector,
        stats: SourceStats,
        *,
        jobs: int,
        regex_timeout: float,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Detected]:
        for source in self._walker.discovered:
            yield from source.detect(detector, stats, jobs=jobs, regex_timeout=regex_timeout, progress=progress)
