"""Shared plumbing for documentation exports: an export folder or zip read as
a set of named files (never extracted), and a batcher that joins many placed
texts (pages, rows, issue fields) into a few large chunks with a locator.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO

from scanner.locate import LocatorBuilder
from scanner.model import Chunk, Provenance
from scanner.pathfilter import PathFilter
from scanner.sources.text import content_digest

# A chunk is handed on once it holds this many characters: large enough that
# per-chunk costs vanish, small enough to bound memory and spread over workers.
CHUNK_CHARS = 4 << 20

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError, NotImplementedError)


class TreeError(Exception):
    """One file of an export could not be read (the message names it)."""


class ExportTree:
    """The files of an export, whether a folder or a zip (on disk or in memory).

    Names are ``/``-separated and relative to the export root; ``display(name)``
    is how a finding names the file (``export.zip!space/page.html``).
    """

    def __init__(
        self,
        display_root: str,
        *,
        folder: str | None = None,
        archive: zipfile.ZipFile | None = None,
        max_file_size: int,
        excludes: PathFilter | None = None,
    ) -> None:
        self.root = display_root
        self._folder = folder
        self._zip = archive
        self._max = max_file_size
        self._sizes: dict[str, int] = {}
        self.excluded = 0
        excludes = excludes or PathFilter(())
        if archive is not None:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if excludes and excludes.excluded(info.filename):
                    self.excluded += 1
                    continue
                self._sizes[info.filename] = info.file_size
        elif folder is not None:
            self._walk(folder, excludes)

    # -- construction -----------------------------------------------------------------

    @classmethod
    def open(cls, path: str, *, max_file_size: int, excludes: PathFilter | None = None) -> ExportTree:
        """A folder or a zip file on disk; TreeError names what is wrong."""
        if os.path.isdir(path):
            return cls(os.path.normpath(path), folder=path, max_file_size=max_file_size, excludes=excludes)
        if not os.path.exists(path):
            raise TreeError(f"{path}: no such file or directory")
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise TreeError(f"{path}: not a readable zip archive or folder ({exc})") from exc
        return cls(path, archive=archive, max_file_size=max_file_size, excludes=excludes)

    @classmethod
    def from_bytes(cls, data: bytes, display: str, *, max_file_size: int) -> ExportTree:
        """A zip held in memory (a zip inside the export)."""
        import io

        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise TreeError(f"{display}: not a readable zip archive ({exc})") from exc
        return cls(display, archive=archive, max_file_size=max_file_size)

    def _walk(self, top: str, excludes: PathFilter) -> None:
        root = os.path.realpath(top)
        for dirpath, dirnames, filenames in os.walk(top):
            relative = os.path.relpath(dirpath, top).replace(os.sep, "/")
            prefix = "" if relative == "." else relative + "/"
            dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)) and d != ".git")
            for name in filenames:
                full = os.path.join(dirpath, name)
                if excludes and excludes.excluded(prefix + name):
                    self.excluded += 1
                    continue
                try:
                    info = os.stat(full)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                if os.path.islink(full):
                    target = os.path.realpath(full)
                    if not target.startswith(root + os.sep):
                        continue  # a link out of the export is not part of it
                self._sizes[prefix + name] = info.st_size

    # -- reading ----------------------------------------------------------------------

    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    def names(self) -> list[str]:
        return sorted(self._sizes)

    def has(self, name: str) -> bool:
        return name in self._sizes

    def size(self, name: str) -> int:
        return self._sizes[name]

    def display(self, name: str) -> str:
        if self._zip is not None:
            return f"{self.root}!{name}"
        return os.path.normpath(os.path.join(self.root, name))

    def too_large(self, name: str) -> bool:
        return self._sizes[name] > self._max

    def read(self, name: str) -> bytes:
        """The whole file (the caller has checked ``too_large``); TreeError if unreadable."""
        try:
            if self._zip is not None:
                with self._zip.open(name) as handle:
                    data = handle.read(self._max + 1)
            else:
                assert self._folder is not None
                with open(os.path.join(self._folder, name), "rb") as handle:
                    data = handle.read(self._max + 1)
        except _READ_ERRORS as exc:
            raise TreeError(f"{self.display(name)}: cannot read ({exc})") from exc
        if len(data) > self._max:
            raise TreeError(f"{self.display(name)}: larger than its declared size; not scanned")
        return data

    def stream(self, name: str) -> IO[bytes]:
        """A binary stream over the file, for formats read incrementally."""
        try:
            if self._zip is not None:
                return self._zip.open(name)
            assert self._folder is not None
            return open(os.path.join(self._folder, name), "rb")
        except _READ_ERRORS as exc:
            raise TreeError(f"{self.display(name)}: cannot read ({exc})") from exc

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def zip_names(path: str, limit: int = 200_000) -> list[str] | None:
    """The member names of a zip file (the central directory only), or None
    when ``path`` is not a readable zip. Cheap enough for ``recognize``."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                return None
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()[:limit]
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def folder_names(path: str, limit: int = 5000) -> list[str]:
    """Up to ``limit`` file names under a folder (relative, ``/``-separated),
    breadth first, for ``recognize``."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        relative = os.path.relpath(dirpath, path).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        found.extend(prefix + name for name in filenames)
        if len(found) >= limit:
            break
    return found[:limit]


class ChunkBatcher:
    """Joins placed texts into chunks of about CHUNK_CHARS characters.

    ``add`` returns a finished chunk when the new text would overflow the
    current one; ``flush`` returns what is left. Each text is followed by a
    line break that belongs to no place, so texts never run into each other.
    """

    def __init__(self, provenance: Provenance, limit: int = CHUNK_CHARS) -> None:
        self._provenance = provenance
        self._limit = limit
        self._builder = LocatorBuilder()
        self._empty = True

    def add(self, text: str, provenance: Provenance, line: int = 1, column: int = 1) -> Chunk | None:
        if not text:
            return None
        done = None
        if not self._empty and self._builder.length + len(text) > self._limit:
            done = self.flush()
        self._builder.add(text, provenance, line, column)
        if not text.endswith("\n"):
            self._builder.add_synthetic("\n")
        self._empty = False
        return done

    def flush(self) -> Chunk | None:
        if self._empty:
            return None
        content = self._builder.text()
        chunk = Chunk(
            content=content,
            provenance=self._provenance,
            digest=content_digest(content.encode("utf-8", "surrogatepass")),
            locator=self._builder.locator(),
        )
        self._builder = LocatorBuilder()
        self._empty = True
        return chunk


def batched(pieces: Iterator[tuple[str, Provenance, int, int]], provenance: Provenance) -> Iterator[Chunk]:
    """Chunks of (text, provenance, line, column) pieces."""
    batcher = ChunkBatcher(provenance)
    for text, place, line, column in pieces:
        done = batcher.add(text, place, line, column)
        if done is not None:
            yield done
    last = batcher.flush()
    if last is not None:
        yield last
