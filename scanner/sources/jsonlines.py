"""Generic JSONL input: one ``{"content": ..., "provenance": {...}}`` object
per line (or ``content_base64``), so any other tool can pipe text in with its
own provenance (``sprawl scan jsonl:export.jsonl``, ``... | sprawl scan jsonl:-``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, BinaryIO

from scanner.model import Chunk, Provenance
from scanner.sources.base import Source, SourceStats
from scanner.sources.exporttree import ChunkBatcher
from scanner.sources.formats import ExportFormat, ExportOptions

DEFAULT_SOURCE = "jsonl"
_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_CONTENT_KEYS = ("content", "content_base64")
_PROVENANCE_TEXT_KEYS = ("commit", "author", "url")


class BadRecord(ValueError):
    """One line is not a usable record; the message says what was expected."""


def _when(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRecord("provenance.when is not an ISO 8601 time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRecord(f"provenance.when {value[:40]!r} is not an ISO 8601 time") from exc
    # A time without zone is taken as UTC: a report must compare times.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _extra(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in value.items())
    if isinstance(value, list) and all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
        return tuple((str(k), str(v)) for k, v in value)
    raise BadRecord("provenance.extra is not an object (or a list of [key, value] pairs)")


def _position(value: object, key: str) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRecord(f"provenance.{key} is not a positive integer")
    return value


def parse_record(raw: bytes, display: str, number: int) -> tuple[str | bytes, Provenance, int, int]:
    """(content, provenance, first line, first column) of one JSONL line."""
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRecord(f"not valid JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise BadRecord('not a JSON object with "content" or "content_base64"')
    content: str | bytes
    if isinstance(record.get("content"), str):
        content = record["content"]
    elif isinstance(record.get("content_base64"), str):
        try:
            content = base64.b64decode(record["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRecord(f"content_base64 is not valid base64 ({exc})") from exc
    else:
        raise BadRecord('no "content" or "content_base64" string')
    meta = record.get("provenance") or {}
    if not isinstance(meta, dict):
        raise BadRecord("provenance is not an object")
    extra = _extra(meta.get("extra"))
    path = meta.get("path")
    if not isinstance(path, str) or not path:
        # No place of its own: the record is named by its line in the stream.
        path = display
        extra = (*extra, ("jsonl_line", str(number)))
    texts = {}
    for key in _PROVENANCE_TEXT_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise BadRecord(f"provenance.{key} is not a string")
        texts[key] = value or None
    source = meta.get("source")
    provenance = Provenance(
        source=source if isinstance(source, str) and source else DEFAULT_SOURCE,
        path=path,
        commit=texts["commit"],
        author=texts["author"],
        when=_when(meta.get("when")),
        url=texts["url"],
        extra=extra,
    )
    return content, provenance, _position(meta.get("line"), "line"), _position(meta.get("column"), "column")


class JsonLinesSource(Source):
    """Records of one JSONL file (or stdin), many to a chunk."""

    kind = DEFAULT_SOURCE

    def __init__(self, path: str, options: ExportOptions, stdin: BinaryIO | None = None) -> None:
        self._path = path
        self._max = options.max_file_size
        self._stdin = stdin

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        if self._path == "-":
            yield from self._read(self._stdin if self._stdin is not None else sys.stdin.buffer, "<stdin>", stats)
            return
        try:
            with open(self._path, "rb") as handle:
                yield from self._read(handle, self._path, stats)
        except OSError as exc:
            stats.error(f"{self._path}: cannot read: {exc.strerror or exc}")

    def _read(self, stream: IO[bytes], display: str, stats: SourceStats) -> Iterator[Chunk]:
        batcher = ChunkBatcher(Provenance(source=DEFAULT_SOURCE, path=display))
        total = 0
        bad = 0
        first_bad = ""
        number = 0
        while True:
            raw = stream.readline(self._max + 1)
            if not raw:
                break
            number += 1
            total += len(raw)
            if len(raw) > self._max and not raw.endswith(b"\n"):
                # One record over the size cap: skip the rest of its line.
                while (more := stream.readline(1 << 20)) and not more.endswith(b"\n"):
                    total += len(more)
                total += len(more)
                stats.skip("JSONL record over the size cap")
                continue
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                content, provenance, line, column = parse_record(raw, display, number)
            except BadRecord as exc:
                bad += 1
                stats.skip("bad JSONL record")
                if not first_bad:
                    first_bad = f"{display}:{number}: {exc}"
                continue
            for text, place in self._texts(content, provenance, stats):
                done = batcher.add(text, place, line, column)
                if done is not None:
                    yield done
        stats.scanned(total)
        last = batcher.flush()
        if last is not None:
            yield last
        if bad:
            tally = f"; {bad} bad lines skipped in all" if bad > 1 else ""
            stats.error(f"{first_bad} (expected one JSON object per line with content or content_base64{tally})")

    @staticmethod
    def _texts(content: str | bytes, provenance: Provenance, stats: SourceStats) -> Iterator[tuple[str, Provenance]]:
        if isinstance(content, str):
            yield content, provenance
            return
        from scanner.sources.documents import readable_parts, with_part

        parts = readable_parts(content, provenance.path, stats)
        if parts is None:
            stats.skip("binary JSONL content")
            return
        for label, text in parts:
            yield text, with_part(provenance, label)


def recognize(path: str) -> bool:
    """A ``.jsonl`` file whose first record has content or content_base64."""
    if not path.lower().endswith(_SUFFIXES) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as handle:
            for _ in range(20):
                raw = handle.readline(1 << 20)
                if not raw:
                    return False
                if raw.strip():
                    record = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
                    return isinstance(record, dict) and any(k in record for k in _CONTENT_KEYS)
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return False


def open_source(path: str, options: ExportOptions) -> Source:
    return JsonLinesSource(path, options)


JSONL = ExportFormat("jsonl", recognize, open_source)
