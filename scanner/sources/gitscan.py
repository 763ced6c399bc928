"""Reading and matching one batch of git objects: what each worker does.

A worker owns its own ``cat-file --batch`` process, so object content never
crosses between processes; only the few matches travel back. Blobs are
decoded like files (binary skipped, archives opened); commit and tag objects
are matched on their message, with the author and date from their header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from scanner.engine import Detector
from scanner.model import Chunk, Match, Provenance
from scanner.sources.archives import ArchiveLimits, iter_leaves, sniff_archive
from scanner.sources.base import SourceStats
from scanner.sources.catfile import CatFileReader, GitObject, Unreadable
from scanner.sources.gitobjects import ObjectRef
from scanner.sources.text import decode_text

#: Display path of a commit or tag message.
MESSAGE_PATH = "(commit message)"
TAG_MESSAGE_PATH = "(tag message)"


@dataclass(frozen=True)
class ObjectHit:
    """Matches found in one object. ``parts`` pairs an archive-member suffix
    ("" for the object itself, ``!dir/file`` inside a committed archive)
    with its matches. Commits and tags carry their own author and date."""

    oid: str
    kind: str
    path_hint: str
    parts: tuple[tuple[str, tuple[Match, ...]], ...]
    author: str | None = None
    when: datetime | None = None


@dataclass
class BatchOutcome:
    """What scanning one batch produced, sent back to the coordinator."""

    hits: list[ObjectHit] = field(default_factory=list)
    stats: SourceStats = field(default_factory=SourceStats)
    unreadable: list[Unreadable] = field(default_factory=list)
    # (object id, kind) of every object read and matched, hit or not: what a
    # sweep records so that no later sweep reads it again.
    scanned: list[tuple[str, str]] = field(default_factory=list)


def scan_batch(
    reader: CatFileReader,
    detector: Detector,
    refs: Sequence[ObjectRef],
    *,
    limits: ArchiveLimits,
    max_size: int,
) -> BatchOutcome:
    """Read every object of ``refs`` once and match it."""
    outcome = BatchOutcome()
    hints = {ref.oid: ref.path for ref in refs}
    for result in reader.read([ref.oid for ref in refs]):
        if isinstance(result, Unreadable):
            outcome.unreadable.append(result)
            continue
        hit = _scan_object(result, hints.get(result.oid, ""), detector, outcome.stats, limits, max_size)
        if hit is not None:
            outcome.hits.append(hit)
        if result.data is not None:  # too large objects were not read
            outcome.scanned.append((result.oid, result.kind))
    return outcome


def _scan_object(
    obj: GitObject, hint: str, detector: Detector, stats: SourceStats, limits: ArchiveLimits, max_size: int
) -> ObjectHit | None:
    if obj.data is None:
        stats.skip(f"git object larger than {max_size >> 20} MiB")
        return None
    if obj.kind == "blob":
        parts = tuple(_scan_blob(obj, hint, detector, stats, limits))
        return ObjectHit(obj.oid, "blob", hint, parts) if parts else None
    if obj.kind in ("commit", "tag"):
        return _scan_message(obj, detector, stats)
    return None


def _scan_blob(
    obj: GitObject, hint: str, detector: Detector, stats: SourceStats, limits: ArchiveLimits
) -> list[tuple[str, tuple[Match, ...]]]:
    assert obj.data is not None
    data = obj.data
    if sniff_archive(data) is not None:
        leaves = [(display[len(hint) :], member) for display, member in iter_leaves(data, hint, limits, stats)]
    else:
        leaves = [("", data)]
    found = []
    for suffix, content in leaves:
        text = decode_text(content)
        if text is None:
            stats.skip("binary archive member" if suffix else "binary")
            continue
        stats.scanned(len(content))
        chunk = Chunk(text, Provenance(source="git", path=hint + suffix), digest=obj.oid + suffix)
        matches = detector.detect(chunk)
        if matches:
            found.append((suffix, tuple(matches)))
    return found


def _scan_message(obj: GitObject, detector: Detector, stats: SourceStats) -> ObjectHit | None:
    assert obj.data is not None
    header, _, message = obj.data.partition(b"\n\n")
    stats.scanned(len(obj.data))
    if not message.strip():
        return None
    path = MESSAGE_PATH if obj.kind == "commit" else TAG_MESSAGE_PATH
    chunk = Chunk(message.decode("utf-8", "replace"), Provenance(source="git", path=path), digest=obj.oid)
    matches = detector.detect(chunk)
    if not matches:
        return None
    author, when = _signature(header, b"author " if obj.kind == "commit" else b"tagger ")
    return ObjectHit(obj.oid, obj.kind, path, (("", tuple(matches)),), author, when)


def message_signature(data: bytes, kind: str) -> tuple[str | None, datetime | None]:
    """Author (commit) or tagger (tag) and date of a raw commit or tag object:
    a sweep attributing a message it did not read again needs them."""
    header = data.partition(b"\n\n")[0]
    return _signature(header, b"author " if kind == "commit" else b"tagger ")


def _signature(header: bytes, prefix: bytes) -> tuple[str | None, datetime | None]:
    """``Name <email>`` and the date from an ``author``/``tagger`` header line."""
    for line in header.split(b"\n"):
        if not line.startswith(prefix):
            continue
        who, _, stamp = line[len(prefix) :].rpartition(b">")
        fields = stamp.split()
        when = None
        if len(fields) == 2 and fields[0].isdigit():
            when = _timestamp(int(fields[0]), fields[1].decode("ascii", "replace"))
        return (who + b">").decode("utf-8", "replace"), when
    return None, None


def _timestamp(seconds: int, offset: str) -> datetime | None:
    try:
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = int(offset[1:3]), int(offset[3:5])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return datetime.fromtimestamp(seconds, zone)
    except (ValueError, OverflowError, OSError):
        return None
