"""Confluence space exports, as a folder or zip, in either form Confluence
writes: the XML export (``entities.xml`` with pages, blog posts and comments
in storage format, ``attachments/<page>/<attachment>/<version>``) streamed
object by object, and the HTML export (``index.html``, ``<Title>_<id>.html``
pages, ``attachments/<page id>/``). Locations name space, page title and id.
"""

from __future__ import annotations

import html
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from scanner.model import Chunk, Provenance
from scanner.pathfilter import PathFilter
from scanner.sources.base import Source, SourceStats
from scanner.sources.documents import readable_parts, with_part
from scanner.sources.exporttree import ChunkBatcher, ExportTree, TreeError, zip_names
from scanner.sources.formats import ExportFormat, ExportOptions

SOURCE = "confluence"
_ENTITIES = "entities.xml"
# "Publishing-runbook_65538.html"; a title Confluence cannot spell in a file
# name leaves just the id ("65538.html").
_PAGE_FILE = re.compile(r"(?:^|_|/)(\d+)\.html?$")
# The page's list of attachments names each stored file: <a href="attachments/65538/65560.env">deploy.env</a>
_ATTACHMENT_LINK = re.compile(rb"<a href=\"(attachments/\d+/[^\"]+)\"[^>]*>([^<]+)</a>")
_TITLE = re.compile(rb"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)
_AUTHOR = re.compile(rb"class=[\"']author[\"']>\s*([^<]+?)\s*<", re.IGNORECASE)
# Content classes whose bodies are read, and what a location calls them.
_CONTENT_KINDS = {"Page": "page", "BlogPost": "blogpost", "Comment": "comment"}
_HTML_ASSET_DIRS = ("styles/", "images/", "js/")
_NOT_AN_EXPORT = (
    "not a Confluence space export (expected entities.xml from an XML export, or index.html with "
    "<Title>_<id>.html pages from an HTML export)"
)


@dataclass(frozen=True)
class _Content:
    """What a page, blog post or comment object of entities.xml says about itself."""

    kind: str
    title: str
    space: str  # the Space object's id
    original: str  # for a historical version: the id of the current page
    version: str
    modifier: str  # a ConfluenceUserImpl key
    modified: str
    container: str  # for a comment: the page it is on


def _prefix_of(names: list[str], leaf: str) -> str | None:
    """The folder holding ``leaf`` at the export root or one level down."""
    if leaf in names:
        return ""
    for name in names:
        head, sep, rest = name.partition("/")
        if sep and rest == leaf:
            return head + "/"
    return None


class ConfluenceSource(Source):
    """Pages, blog posts, comments and text attachments of one space export."""

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
            stats.error(f"{exc}; expected a Confluence space export (folder or zip)")
            return
        try:
            for _ in range(tree.excluded):
                stats.skip("excluded")
            names = tree.names()
            batcher = ChunkBatcher(Provenance(source=SOURCE, path=tree.root))
            entities = _prefix_of(names, _ENTITIES)
            index = _prefix_of(names, "index.html")
            if entities is not None:
                yield from _XmlExport(tree, entities, self._options, batcher, stats).chunks()
            elif index is not None:
                yield from _HtmlExport(tree, index, self._options, batcher, stats).chunks()
            else:
                stats.error(f"{tree.root}: {_NOT_AN_EXPORT}; nothing read")
            last = batcher.flush()
            if last is not None:
                yield last
        finally:
            tree.close()


def _attachment(
    tree: ExportTree,
    name: str,
    place: Provenance,
    file_name: str | None,
    options: ExportOptions,
    batcher: ChunkBatcher,
    stats: SourceStats,
) -> Iterator[Chunk]:
    """A text-like attachment, read as a file (documents by their format)."""
    if tree.too_large(name):
        stats.skip(f"larger than {options.max_file_size >> 20} MiB")
        return
    try:
        data = tree.read(name)
    except TreeError as exc:
        stats.error(str(exc))
        return
    parts = readable_parts(data, tree.display(name), stats, file_name)
    if parts is None:
        stats.skip("binary attachment")
        return
    stats.scanned(len(data))
    for label, text in parts:
        done = batcher.add(text, with_part(place, label))
        if done is not None:
            yield done


# -- the XML export ------------------------------------------------------------------


def _parse_time(value: str) -> datetime | None:
    """entities.xml writes "2026-02-02 09:15:00.000" with no zone: the export
    gives none, so it is read as UTC."""
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


class _XmlExport:
    def __init__(
        self, tree: ExportTree, prefix: str, options: ExportOptions, batcher: ChunkBatcher, stats: SourceStats
    ) -> None:
        self.tree, self.prefix, self.options, self.batcher, self.stats = tree, prefix, options, batcher, stats
        self.entities = prefix + _ENTITIES
        self.display = tree.display(self.entities)
        self.spaces: dict[str, str] = {}
        self.users: dict[str, str] = {}
        self.contents: dict[str, _Content] = {}
        self.attachments: dict[str, str] = {}  # attachment id -> file name
        self.default_space = self._descriptor_space()

    def _descriptor_space(self) -> str:
        name = self.prefix + "exportDescriptor.properties"
        if not self.tree.has(name) or self.tree.too_large(name):
            return ""
        try:
            text = self.tree.read(name).decode("utf-8", "replace")
        except TreeError:
            return ""
        found = re.search(r"^spaceKey\s*[=:]\s*(\S+)", text, re.MULTILINE)
        return found.group(1) if found else ""

    def _objects(self, stream: IO[bytes]) -> Iterator[tuple[str, str, dict[str, str]]]:
        """(class, id, properties) of each top-level object, one in memory at a
        time. A reference property holds the id of the object it names."""
        from xml.etree.ElementTree import iterparse

        depth = 0
        root = None
        for event, element in iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                continue
            depth -= 1
            if depth != 1 or element.tag != "object":
                continue
            identity = ""
            properties: dict[str, str] = {}
            for child in element:
                if child.tag == "id":
                    identity = (child.text or "").strip()
                elif child.tag == "property":
                    reference = child.find("id")
                    value = reference.text if reference is not None else child.text
                    properties[child.get("name", "")] = (value or "").strip() if reference is not None else value or ""
            yield element.get("class", ""), identity, properties
            assert root is not None
            root.clear()  # drop the finished object (bodies can be large)

    def _pass(self, wanted: frozenset[str]) -> Iterator[tuple[str, str, dict[str, str]]]:
        from xml.etree.ElementTree import ParseError

        try:
            stream = self.tree.stream(self.entities)
        except TreeError as exc:
            self.stats.error(f"{exc}; expected a Confluence XML export")
            return
        with stream:
            try:
                for found in self._objects(stream):
                    if found[0] in wanted:
                        yield found
            except ParseError as exc:
                raise _Truncated(str(exc)) from exc
            except _READ_ERRORS as exc:
                raise _Truncated(f"cannot read: {exc}") from exc

    def chunks(self) -> Iterator[Chunk]:
        bodies = 0
        try:
            # Pass 1: the small objects (who, what, where); pass 2: the bodies.
            for kind, identity, props in self._pass(
                frozenset({*_CONTENT_KINDS, "Space", "ConfluenceUserImpl", "Attachment"})
            ):
                self._remember(kind, identity, props)
        except _Truncated:
            pass  # reported once, by the pass over the bodies
        try:
            for _, identity, props in self._pass(frozenset({"BodyContent"})):
                text, place = self._body(identity, props)
                if text:
                    bodies += 1
                    done = self.batcher.add(text, place)
                    if done is not None:
                        yield done
        except _Truncated as exc:
            self.stats.error(
                f"{self.display}: XML breaks off or is malformed ({exc}); expected a complete "
                f"Confluence XML export (the {bodies} page bodies before that point were scanned)"
            )
        self.stats.scanned(self.tree.size(self.entities))
        yield from self._attachments()

    def _remember(self, kind: str, identity: str, props: dict[str, str]) -> None:
        if kind == "Space":
            self.spaces[identity] = props.get("key", "")
        elif kind == "ConfluenceUserImpl":
            self.users[identity] = props.get("name") or props.get("lowerName") or identity
        elif kind == "Attachment":
            self.attachments[identity] = props.get("title", "")
            if props.get("originalVersion"):
                self.attachments.setdefault(props["originalVersion"], props.get("title", ""))
        else:
            self.contents[identity] = _Content(
                kind=_CONTENT_KINDS[kind],
                title=props.get("title", ""),
                space=props.get("space", ""),
                original=props.get("originalVersion", ""),
                version=props.get("version", ""),
                modifier=props.get("lastModifier") or props.get("creator", ""),
                modified=props.get("lastModificationDate") or props.get("creationDate", ""),
                container=props.get("containerContent") or props.get("page", ""),
            )

    def _page(self, content_id: str) -> tuple[str, str, str]:
        """(page id, title, space key) of a content id, following historical
        versions to their current page and comments to what they are on."""
        content = self.contents.get(content_id)
        if content is None:
            return content_id, "", self.default_space
        if content.kind == "comment" and content.container:
            return self._page(content.container)
        page_id = content.original or content_id
        current = self.contents.get(page_id, content)
        return (
            page_id,
            current.title or content.title,
            self.spaces.get(current.space or content.space, self.default_space),
        )

    def _body(self, identity: str, props: dict[str, str]) -> tuple[str, Provenance]:
        from scanner.sources.htmltext import html_to_text

        body = props.get("body", "")
        content_id = props.get("content", "")
        page_id, title, space = self._page(content_id)
        content = self.contents.get(content_id)
        extra: list[tuple[str, str]] = [("space", space), ("page_title", title), ("page_id", page_id)]
        author = when = None
        if content is not None:
            if content.kind == "comment":
                extra.append(("comment_id", content_id))
            elif content.kind == "blogpost":
                extra.append(("content_type", "blogpost"))
            if content.original:
                extra.append(("version", content.version))
            author = self.users.get(content.modifier, content.modifier) or None
            when = _parse_time(content.modified)
        # bodyType 2 is storage format (XHTML); 0 is the old wiki markup, plain text here.
        text = html_to_text(body) if "<" in body or "&" in body else body
        place = Provenance(source=SOURCE, path=self.display, author=author, when=when, extra=tuple(extra))
        return text, place

    def _attachments(self) -> Iterator[Chunk]:
        folder = self.prefix + "attachments/"
        for name in self.tree.names():
            if not name.startswith(folder):
                continue
            # attachments/<content id>/<attachment id>/<version>
            parts = name[len(folder) :].split("/")
            page_id, title, space = self._page(parts[0])
            file_name = self.attachments.get(parts[1], "") if len(parts) > 1 else ""
            extra = [("space", space), ("page_title", title), ("page_id", page_id)]
            if file_name:
                extra.append(("attachment", file_name))
            place = Provenance(source=SOURCE, path=self.tree.display(name), extra=tuple(extra))
            yield from _attachment(self.tree, name, place, file_name or None, self.options, self.batcher, self.stats)


class _Truncated(Exception):
    """entities.xml ended early or is broken (the message says where)."""


_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error)


# -- the HTML export -----------------------------------------------------------------


class _HtmlExport:
    def __init__(
        self, tree: ExportTree, prefix: str, options: ExportOptions, batcher: ChunkBatcher, stats: SourceStats
    ) -> None:
        self.tree, self.prefix, self.options, self.batcher, self.stats = tree, prefix, options, batcher, stats
        # The export's folder is named by the space key ("DEV/index.html").
        root_name = os.path.basename(os.path.normpath(tree.root)) if not tree.is_zip else ""
        self.space = prefix.rstrip("/") or root_name
        self.titles: dict[str, str] = {}
        self.file_names: dict[str, str] = {}  # "attachments/<page>/<file>" -> its name on the page

    def chunks(self) -> Iterator[Chunk]:
        attachments: list[str] = []
        others: list[str] = []
        for name in self.tree.names():
            if not name.startswith(self.prefix):
                others.append(name)
                continue
            inner = name[len(self.prefix) :]
            if inner.startswith("attachments/"):
                attachments.append(name)
            elif inner.startswith(_HTML_ASSET_DIRS):
                self.stats.skip("confluence export asset")
            elif inner.lower().endswith((".html", ".htm")):
                yield from self._page(name, inner)
            else:
                others.append(name)
        for name in attachments:
            parts = name[len(self.prefix) + len("attachments/") :].split("/")
            page_id = parts[0]
            file_name = self.file_names.get(name[len(self.prefix) :], parts[-1])
            extra = [("space", self.space), ("page_title", self.titles.get(page_id, "")), ("page_id", page_id)]
            place = Provenance(source=SOURCE, path=self.tree.display(name), extra=(*extra, ("attachment", file_name)))
            yield from _attachment(self.tree, name, place, file_name, self.options, self.batcher, self.stats)
        for name in others:
            place = Provenance(source=SOURCE, path=self.tree.display(name), extra=(("space", self.space),))
            yield from _attachment(self.tree, name, place, None, self.options, self.batcher, self.stats)

    def _page(self, name: str, inner: str) -> Iterator[Chunk]:
        from scanner.sources.htmltext import html_to_text
        from scanner.sources.text import decode_text

        if self.tree.too_large(name):
            self.stats.skip(f"larger than {self.options.max_file_size >> 20} MiB")
            return
        try:
            data = self.tree.read(name)
        except TreeError as exc:
            self.stats.error(str(exc))
            return
        markup = decode_text(data)
        if markup is None:
            self.stats.skip("binary")
            return
        self.stats.scanned(len(data))
        found = _PAGE_FILE.search(inner)
        page_id = found.group(1) if found else ""
        title = self._title(data) or os.path.splitext(inner.rsplit("/", 1)[-1])[0]
        if page_id:
            self.titles[page_id] = title
        for link in _ATTACHMENT_LINK.finditer(data):
            target = html.unescape(link.group(1).decode("utf-8", "replace"))
            self.file_names[target] = " ".join(html.unescape(link.group(2).decode("utf-8", "replace")).split())
        author_match = _AUTHOR.search(data)
        author = html.unescape(author_match.group(1).decode("utf-8", "replace")) if author_match else None
        extra = [("space", self.space), ("page_title", title)]
        if page_id:
            extra.append(("page_id", page_id))
        place = Provenance(source=SOURCE, path=self.tree.display(name), author=author, extra=tuple(extra))
        done = self.batcher.add(html_to_text(markup), place)
        if done is not None:
            yield done

    @staticmethod
    def _title(data: bytes) -> str:
        """The page title from ``<title>Space name : Page title</title>``."""
        found = _TITLE.search(data[:65536])
        if found is None:
            return ""
        title = " ".join(html.unescape(found.group(1).decode("utf-8", "replace")).split())
        return title.split(" : ", 1)[1] if " : " in title else title


# -- recognition ---------------------------------------------------------------------


def _looks_like_html_export(names: list[str], read_index: object) -> bool:
    prefix = _prefix_of(names, "index.html")
    if prefix is None:
        return False
    if not any(n.startswith(prefix) and _PAGE_FILE.search(n) for n in names):
        return False
    head = read_index(prefix + "index.html")  # type: ignore[operator]
    return b"confluence" in head.lower()


def recognize(path: str) -> bool:
    """A folder or zip with entities.xml (XML export), or with index.html and
    ``<Title>_<id>.html`` pages written by Confluence (HTML export), at its
    root or one folder down."""
    if os.path.isdir(path):
        names: list[str] = []
        for entry in sorted(os.listdir(path)):
            full = os.path.join(path, entry)
            if os.path.isdir(full) and not os.path.islink(full):
                try:
                    names.extend(f"{entry}/{inner}" for inner in sorted(os.listdir(full)))
                except OSError:
                    continue
            else:
                names.append(entry)

        def read_folder(name: str) -> bytes:
            try:
                with open(os.path.join(path, name), "rb") as handle:
                    return handle.read(65536)
            except OSError:
                return b""

        return _prefix_of(names, _ENTITIES) is not None or _looks_like_html_export(names, read_folder)
    found = zip_names(path)
    if found is None:
        return False
    if _prefix_of(found, _ENTITIES) is not None:
        return True

    def read_member(name: str) -> bytes:
        try:
            with zipfile.ZipFile(path) as archive, archive.open(name) as handle:
                return handle.read(65536)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError):
            return b""

    return _looks_like_html_export(found, read_member)


def open_source(path: str, options: ExportOptions) -> Source:
    return ConfluenceSource(path, options)


CONFLUENCE = ExportFormat("confluence", recognize, open_source)
