"""GitHub Actions run-log archives ("Download log archive", or the REST API's
``/actions/runs/{run_id}/logs``), and ``logs:PATH`` / ``actions:PATH``.

The archive is a zip of one log per job (``3_build.txt``) and, usually, one
per step (``build/3_Run npm publish.txt``) holding the same lines again. Each
line is read once: from the step files when they add up to the job log (the
step and its line number are then what the web UI shows), else from the job
log. Job and step names go into each occurrence's ``extra``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from scanner.model import Chunk
from scanner.sources.archives import ArchiveLimits, iter_leaves, sniff_archive
from scanner.sources.base import Source, SourceStats
from scanner.sources.cilogs import ACTIONS_MEMBER as _MEMBER
from scanner.sources.cilogs import SOURCE_KIND, member_extra, read_log, read_utf8, utf8
from scanner.sources.files import FileSource
from scanner.sources.formats import SNIFF_BYTES, ContentFormat, ExportFormat, ExportOptions

_LOCAL_HEADER = struct.Struct("<4s2xH10xII2H")  # signature, flags, sizes, name and extra lengths
_DESCRIPTOR_FLAG = 0x8


def _first_names(head: bytes, limit: int = 4) -> list[str]:
    """Names of the first local file headers that fit in ``head``."""
    names: list[str] = []
    offset = 0
    while len(names) < limit and offset + _LOCAL_HEADER.size <= len(head):
        signature, flags, compressed, _, name_length, extra_length = _LOCAL_HEADER.unpack_from(head, offset)
        if signature != b"PK\x03\x04":
            break
        start = offset + _LOCAL_HEADER.size
        names.append(head[start : start + name_length].decode("utf-8", errors="replace"))
        if flags & _DESCRIPTOR_FLAG:
            break  # size only after the data: the next header cannot be found from here
        offset = start + name_length + extra_length + compressed
    return names


def looks_like_actions_archive(head: bytes) -> bool:
    """A zip whose first file is named like a job or step log."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    for name in _first_names(head):
        if name.endswith("/"):
            continue  # a folder entry: look at the next
        return _MEMBER.search(name) is not None
    return False


@dataclass
class _Job:
    number: int = 0
    log: tuple[str, bytes] | None = None
    steps: list[tuple[int, str, str, bytes]] = field(default_factory=list)  # number, name, display, data


def read_archive(data: bytes, display: str, stats: SourceStats, limits: ArchiveLimits | None = None) -> Iterator[Chunk]:
    """Chunks of every log in a GitHub Actions run archive (damaged members
    and limits recorded on ``stats``; the rest is read)."""
    jobs: dict[str, _Job] = {}
    others: list[tuple[str, bytes]] = []
    for member_display, content in iter_leaves(data, display, limits or ArchiveLimits(), stats):
        member = member_display[len(display) + 1 :] if member_display.startswith(display + "!") else member_display
        found = _MEMBER.search(member)
        if found is None:
            others.append((member_display, content))
            continue
        if found.group("job") is None:
            job = jobs.setdefault(found.group("name"), _Job())
            job.number, job.log = int(found.group("number")), (member_display, content)
        else:
            jobs.setdefault(found.group("job"), _Job()).steps.append(
                (int(found.group("number")), found.group("name"), member_display, content)
            )
    for name, job in sorted(jobs.items(), key=lambda item: (item[1].number, item[0])):
        yield from _job_chunks(name, job, stats)
    for member_display, content in others:
        yield from read_log(content, member_display, stats)


def _job_chunks(name: str, job: _Job, stats: SourceStats) -> Iterator[Chunk]:
    steps = sorted(job.steps)
    step_texts = [utf8(step[3]) for step in steps]
    job_text = utf8(job.log[1]) if job.log is not None else None
    if job.log is not None and job_text is None:
        stats.skip("binary")
    read_steps = [True] * len(steps)
    if job_text is not None:
        if steps and _concatenation(step_texts) == _terminated(job_text):
            job_text = None  # the steps hold every line: read them, with their names
        else:
            # Step files already inside the job log would only repeat its lines.
            read_steps = [text is None or text not in job_text for text in step_texts]
    if job.log is not None and job_text is not None:
        stats.scanned(len(job.log[1]))
        yield from read_utf8(job_text, job.log[0], extra=(("job", name),), digest_of=job.log[1])
    for (number, step, step_display, data), text, wanted in zip(steps, step_texts, read_steps, strict=True):
        if not wanted:
            continue
        if text is None:
            stats.skip("binary")
            continue
        stats.scanned(len(data))
        extra = (("job", name), ("step", step), ("step_number", str(number)))
        yield from read_utf8(text, step_display, extra=extra, digest_of=data)


def _terminated(data: bytes) -> bytes:
    return data if not data or data.endswith(b"\n") else data + b"\n"


def _concatenation(parts: Sequence[bytes | None]) -> bytes | None:
    if any(part is None for part in parts):
        return None
    return b"".join(_terminated(part) for part in parts if part is not None)


ACTIONS_ARCHIVE = ContentFormat(
    name="github-actions-archive",
    sniff=lambda display, head: looks_like_actions_archive(head),
    read=read_archive,
)


# ---------------------------------------------------------------------------
# logs:PATH and actions:PATH


class ForcedLogFiles(FileSource):
    """Files (walked as FileSource walks them) read as logs whatever their
    content: a GitHub Actions archive by its layout, any other archive
    member by member."""

    kind = SOURCE_KIND

    def __init__(self, path: str, options: ExportOptions, *, unpacked_archive: bool = False) -> None:
        super().__init__([path], max_file_size=options.max_file_size, path_excludes=options.path_excludes)
        # An unpacked run archive: job and step names come from the paths under it.
        self._root = os.path.normpath(path) + os.sep if unpacked_archive else None

    def _content(self, data: bytes, display: str, kind: str, stats: SourceStats) -> Iterator[Chunk]:
        if looks_like_actions_archive(data[:SNIFF_BYTES]):
            yield from read_archive(data, display, stats, self._limits)
        elif sniff_archive(data) is not None:
            for member_display, member in iter_leaves(data, display, self._limits, stats):
                yield from read_log(member, member_display, stats)
        elif self._root is not None and display.startswith(self._root):
            relative = display[len(self._root) :].replace(os.sep, "/")
            yield from read_log(data, display, stats, extra=member_extra(f"!{relative}"))
        else:
            yield from read_log(data, display, stats)


class ActionsArchiveSource(Source):
    """``actions:PATH``: PATH read as a run-log archive even when its first
    member does not say so (a re-packed archive), or as an unpacked one (a
    folder; its job log and step logs are then all read)."""

    kind = SOURCE_KIND

    def __init__(self, path: str, options: ExportOptions) -> None:
        self._path = path
        self._options = options

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        if os.path.isdir(self._path):
            yield from ForcedLogFiles(self._path, self._options, unpacked_archive=True).chunks(stats)
            return
        try:
            with open(self._path, "rb") as handle:
                data = handle.read(self._options.max_file_size + 1)
        except OSError as exc:
            stats.error(f"{self._path}: cannot read: {exc.strerror or exc}")
            return
        if len(data) > self._options.max_file_size:
            stats.skip(f"larger than {self._options.max_file_size >> 20} MiB")
            return
        if sniff_archive(data) != "zip":
            stats.error(
                f"{self._path}: not a zip archive; expected a GitHub Actions run-log archive (Download log archive)"
            )
            return
        yield from read_archive(data, self._path, stats)


ACTIONS_EXPORT = ExportFormat(name="actions", recognize=lambda path: False, open=ActionsArchiveSource)
