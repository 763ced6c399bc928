"""Jira exports: the XML export (RSS: ``<rss><channel><item>`` per issue, with
HTML-escaped description, comments and custom fields) and the CSV export
(one row per issue, ``Comment`` columns repeated). Each field is placed at its
issue key and field name, lines counted within the field's text.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from scanner.model import Chunk, Provenance
from scanner.sources.base import Source, SourceStats
from scanner.sources.exporttree import ChunkBatcher
from scanner.sources.formats import ExportFormat, ExportOptions

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

SOURCE = "jira"
# Fields of an item read as HTML (Jira escapes the rendered markup into them).
_HTML_FIELDS = ("description", "environment")
# Shorter CSV cells (status, dates, ids) cannot hold a credential any rule finds.
_MIN_CELL = 8
# "01/Feb/26 10:00 AM;557058:4c1d...;the comment" (date;author;body)
_CSV_COMMENT = re.compile(r"(?P<date>[^;\n]{6,40});(?P<author>[^;\n]{1,128});(?P<body>.*)", re.DOTALL)


def _text(html: str | None) -> str:
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html
    from scanner.sources.htmltext import html_to_text

    return html_to_text(html)


def _rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else None


def _browse_base(channel_link: str) -> str:
    parts = urlsplit(channel_link)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class JiraSource(Source):
    """Every issue field of one Jira XML or CSV export file."""

    kind = SOURCE

    def __init__(self, path: str, options: ExportOptions) -> None:
        self._path = path
        self._options = options

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        try:
            with open(self._path, "rb") as handle:
                head = handle.read(4096)
                handle.seek(0)
                if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
                    yield from read_xml(handle, self._path, stats)
                else:
                    yield from read_csv(handle, self._path, stats, self._options.max_file_size)
        except OSError as exc:
            stats.error(f"{self._path}: cannot read: {exc.strerror or exc}")


def read_xml(stream: IO[bytes], display: str, stats: SourceStats) -> Iterator[Chunk]:
    """Issues of a Jira XML export, streamed: one ``<item>`` in memory at a time."""
    from xml.etree.ElementTree import ParseError, iterparse

    batcher = ChunkBatcher(Provenance(source=SOURCE, path=display))
    counted = _CountingReader(stream)
    depth = 0
    base = ""
    channel = None
    issues = 0
    try:
        for event, element in iterparse(counted, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1 and element.tag != "rss":
                    stats.error(
                        f"{display}: not a Jira XML export (expected <rss><channel><item> per issue, "
                        f"found <{element.tag}>)"
                    )
                    return
                if depth == 2 and element.tag == "channel":
                    channel = element
                continue
            depth -= 1
            if depth != 2 or channel is None:
                continue
            if element.tag == "link" and not base:
                base = _browse_base(element.text or "")
            elif element.tag == "item":
                issues += 1
                for text, place in _item_fields(element, display, base):
                    done = batcher.add(text, place)
                    if done is not None:
                        yield done
                channel.clear()  # the item is done: keep memory flat
    except ParseError as exc:
        stats.error(
            f"{display}: XML breaks off or is malformed ({exc}); expected a complete Jira XML export "
            f"(the {issues} issues before that point were scanned)"
        )
    stats.scanned(counted.total)
    last = batcher.flush()
    if last is not None:
        yield last


class _CountingReader(io.RawIOBase):
    """Counts the bytes the XML parser pulls, for the scanned-bytes tally."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.total += len(data)
        return len(data)


def _item_fields(item: Element, display: str, base: str) -> Iterator[tuple[str, Provenance]]:
    key = (item.findtext("key") or "").strip()
    link = (item.findtext("link") or "").strip() or (f"{base}/browse/{key}" if base and key else "")
    reporter = (item.findtext("reporter") or "").strip() or None
    created = _rfc822(item.findtext("created"))

    def place(
        field: str,
        *,
        author: str | None = reporter,
        when: datetime | None = created,
        url: str | None = None,
        more: tuple[tuple[str, str], ...] = (),
    ) -> Provenance:
        return Provenance(
            source=SOURCE,
            path=display,
            author=author,
            when=when,
            url=url or link or None,
            extra=(("issue", key), ("field", field), *more),
        )

    summary = item.findtext("summary")
    if summary:
        yield summary, place("summary")
    for field in _HTML_FIELDS:
        text = _text(item.findtext(field))
        if text:
            yield text, place(field)
    for comment in item.iterfind("comments/comment"):
        text = _text(comment.text)
        if not text:
            continue
        comment_id = comment.get("id", "")
        url = f"{link}?focusedCommentId={comment_id}#comment-{comment_id}" if link and comment_id else None
        yield (
            text,
            place(
                "comment",
                author=comment.get("author") or None,
                when=_rfc822(comment.get("created")),
                url=url,
                more=(("comment_id", comment_id),) if comment_id else (),
            ),
        )
    for custom in item.iterfind("customfields/customfield"):
        name = (custom.findtext("customfieldname") or custom.get("id") or "custom field").strip()
        for value in custom.iterfind("customfieldvalues/customfieldvalue"):
            text = _text(value.text)
            if text:
                yield text, place(name)


def read_csv(stream: IO[bytes], display: str, stats: SourceStats, max_field: int) -> Iterator[Chunk]:
    """Issues of a Jira CSV export: each non-trivial cell at (issue, column)."""
    # Descriptions can exceed the csv module's default field cap (128 KiB).
    csv.field_size_limit(max(csv.field_size_limit(), max_field))
    counted = _CountingReader(stream)
    text = io.TextIOWrapper(io.BufferedReader(counted), encoding="utf-8-sig", errors="replace", newline="")
    batcher = ChunkBatcher(Provenance(source=SOURCE, path=display))
    rows = csv.reader(text)
    try:
        header = next(rows, None)
        if header is None or "Issue key" not in header:
            stats.error(f"{display}: not a Jira CSV export (expected a header row with an 'Issue key' column)")
            return
        key_column = header.index("Issue key")
        row_number = 1
        for row in rows:
            row_number += 1
            key = row[key_column].strip() if key_column < len(row) else ""
            if not key:
                key = f"row {row_number}"
            for column, cell in enumerate(row):
                if len(cell) < _MIN_CELL or column == key_column:
                    continue
                field = header[column] if column < len(header) else f"column {column + 1}"
                author = None
                if field == "Comment" and (parts := _CSV_COMMENT.fullmatch(cell)) is not None:
                    author, cell = parts["author"].strip(), parts["body"]
                place = Provenance(
                    source=SOURCE,
                    path=display,
                    author=author,
                    extra=(("issue", key), ("field", field), ("row", str(row_number))),
                )
                done = batcher.add(cell, place)
                if done is not None:
                    yield done
    except csv.Error as exc:
        stats.error(
            f"{display}: malformed CSV at row {rows.line_num} ({exc}); expected a Jira CSV export "
            "(the rows before it were scanned)"
        )
    stats.scanned(counted.total)
    last = batcher.flush()
    if last is not None:
        yield last


def recognize(path: str) -> bool:
    """A Jira XML export (RSS ``<rss>`` naming Jira) or CSV export (an
    ``Issue key`` column in the header)."""
    lower = path.lower()
    if not lower.endswith((".xml", ".csv")) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    if lower.endswith(".xml"):
        return b"<rss" in head and (b"JIRA" in head or b"jira" in head or b"Jira" in head)
    first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return b"Issue key" in first and (b"Summary" in first or b"Issue id" in first)


def open_source(path: str, options: ExportOptions) -> Source:
    return JiraSource(path, options)


JIRA = ExportFormat("jira", recognize, open_source)
