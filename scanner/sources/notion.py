"""Notion "Markdown & CSV" exports, as a folder or zip (also the newer zip that
holds ``Export-…-Part-N.zip`` parts): pages ``Title <32-hex id>.md``, databases
``Title <id>.csv`` / ``<id>_all.csv`` (each row one line), attachments in the
page's folder. Locations name the page title and id, with a notion.so link.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator

from scanner.model import Chunk, Provenance
from scanner.pathfilter import PathFilter
from scanner.sources.base import Source, SourceStats
from scanner.sources.documents import readable_parts, with_part
from scanner.sources.exporttree import ChunkBatcher, ExportTree, TreeError, folder_names, zip_names
from scanner.sources.formats import ExportFormat, ExportOptions
from scanner.sources.text import decode_text

SOURCE = "notion"
# "Release runbook 1f2e3d4c5b6a79881f2e3d4c5b6a7988.md", "Tasks 0a1b…_all.csv"
_NAMED = re.compile(r"(?P<title>.*?) ?(?P<id>[0-9a-f]{32})(?P<all>_all)?(?P<ext>\.[A-Za-z0-9]+)?")
_PAGE_SUFFIXES = (".md", ".csv", ".html")
# What recognition insists on: a title, one space, the id.
_NOTION_NAME = re.compile(r"[^/]+ [0-9a-f]{32}(?:_all)?\.(?:md|csv)$")
_PART = re.compile(r"(?i)(?:^|/)[^/]*part-\d+\.zip$|(?:^|/)export[^/]*\.zip$")


def _page_of(name: str) -> tuple[str, str] | None:
    """(title, id) named by a file or folder name, if it carries a Notion id."""
    stem = name.rsplit("/", 1)[-1]
    match = _NAMED.fullmatch(stem)
    if match is None:
        return None
    return match["title"].strip() or match["id"], match["id"]


def _owner(name: str) -> tuple[str, str] | None:
    """The page a file belongs to: itself if named so, else the nearest folder."""
    parts = name.split("/")
    for depth in range(len(parts), 0, -1):
        segment = parts[depth - 1]
        if depth < len(parts) or segment.lower().endswith(_PAGE_SUFFIXES):
            found = _page_of(segment)
            if found is not None:
                return found
    return None


def _provenance(display: str, page: tuple[str, str] | None, title_fallback: str) -> Provenance:
    if page is None:
        return Provenance(source=SOURCE, path=display, extra=(("page_title", title_fallback),))
    title, page_id = page
    return Provenance(
        source=SOURCE,
        path=display,
        url=f"https://www.notion.so/{page_id}",
        extra=(("page_title", title), ("page_id", page_id)),
    )


class NotionSource(Source):
    """Every page, database row and text attachment of a Notion export."""

    kind = SOURCE

    def __init__(self, path: str, options: ExportOptions) -> None:
        self._path = path
        self._options = options

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        try:
            tree = ExportTree.open(
                self._path, max_file_size=self._options.max_file_size, excludes=PathFilter(self._options.path_excludes)
            )
        except TreeError as exc:
            stats.error(f"{exc}; expected a Notion export (folder or zip of 'Title <id>.md' pages)")
            return
        try:
            for _ in range(tree.excluded):
                stats.skip("excluded")
            batcher = ChunkBatcher(Provenance(source=SOURCE, path=tree.root))
            yield from self._tree(tree, batcher, stats, depth=0)
            last = batcher.flush()
            if last is not None:
                yield last
        finally:
            tree.close()

    def _tree(self, tree: ExportTree, batcher: ChunkBatcher, stats: SourceStats, depth: int) -> Iterator[Chunk]:
        names = tree.names()
        if not any(_owner(n) is not None for n in names) and not any(n.lower().endswith(".zip") for n in names):
            stats.error(
                f"{tree.root}: not a Notion export layout (expected 'Title <32-hex id>.md' pages or "
                "'.csv' databases); nothing read"
            )
            return
        for name in names:
            display = tree.display(name)
            if tree.too_large(name):
                stats.skip(f"larger than {self._options.max_file_size >> 20} MiB")
                continue
            try:
                data = tree.read(name)
            except TreeError as exc:
                stats.error(str(exc))
                continue
            lower = name.lower()
            if lower.endswith(".zip"):
                if depth >= 2:
                    stats.skip("archive depth limit")
                    continue
                try:
                    part = ExportTree.from_bytes(data, display, max_file_size=self._options.max_file_size)
                except TreeError as exc:
                    stats.error(str(exc))
                    continue
                try:
                    yield from self._tree(part, batcher, stats, depth + 1)
                finally:
                    part.close()
                continue
            page = _owner(name)
            place = _provenance(display, page, os.path.splitext(name.rsplit("/", 1)[-1])[0])
            if lower.endswith(".csv"):
                pieces = _csv_rows(data, place, stats)
            else:
                parts = readable_parts(data, display, stats)
                pieces = None if parts is None else [(text, with_part(place, label), 1) for label, text in parts]
            if pieces is None:
                stats.skip("binary attachment")
                continue
            stats.scanned(len(data))
            for text, where, line in pieces:
                done = batcher.add(text, where, line, 1)
                if done is not None:
                    yield done


def _csv_rows(data: bytes, place: Provenance, stats: SourceStats) -> list[tuple[str, Provenance, int]] | None:
    """A database export: each row one line (its cells tab-separated, line
    breaks inside a cell flattened), numbered as in a spreadsheet (header = 1)."""
    text = decode_text(data)
    if text is None:
        return None
    rows: list[str] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append("\t".join(cell.replace("\r\n", " ").replace("\n", " ") for cell in row))
    except csv.Error as exc:
        stats.error(f"{place.path}: malformed CSV after row {len(rows)} ({exc}); expected a Notion database export")
    if not rows:
        return []
    # One piece: rows are consecutive lines, so a single anchor places them all.
    return [("\n".join(rows), place, 1)]


def recognize(path: str) -> bool:
    """A folder or zip holding Notion-named pages ("Title <32-hex id>.md"
    for most of its pages and databases), or the zip parts of one."""
    if os.path.isdir(path):
        names = folder_names(path)
    else:
        found = zip_names(path)
        if found is None:
            return False
        names = found
        if names and all(n.lower().endswith(".zip") or n.endswith("/") for n in names):
            return any(_PART.search(n) for n in names)
    pages = [n for n in names if n.lower().endswith((".md", ".csv"))]
    named = [n for n in pages if _NOTION_NAME.search(n)]
    return bool(named) and 2 * len(named) >= len(pages)


def open_source(path: str, options: ExportOptions) -> Source:
    return NotionSource(path, options)


NOTION = ExportFormat("notion", recognize, open_source)
