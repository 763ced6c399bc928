"""Document files read the way a person reads them: HTML (markup stripped),
DOCX (the text of each paragraph, however Word split it into runs), ODT and
Markdown. Each is a content format, met anywhere (folders, archives, stdin).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from scanner.locate import LocatorBuilder
from scanner.model import Chunk, Provenance
from scanner.sources.base import SourceStats
from scanner.sources.formats import ContentFormat
from scanner.sources.text import content_digest, decode_text

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

SOURCE = "doc"
# One XML part of a DOCX/ODT inflated past this is not read (a zip bomb).
MAX_PART_BYTES = 100 << 20

_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = b"\xef\xbb\xbf"
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
_DOCX_SUFFIXES = (".docx", ".docm", ".dotx", ".dotm")
_ODT_SUFFIXES = (".odt", ".ott")
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# DOCX parts with text besides the body, in reading order.
_DOCX_EXTRA_PARTS = ("header", "footer", "footnotes", "endnotes", "comments")

#: (part label, text) — the label is "" for a document's main body.
Part = tuple[str, str]


# -- sniffing ------------------------------------------------------------------------


def looks_like_html(display: str, head: bytes) -> bool:
    if display.lower().endswith(_HTML_SUFFIXES):
        return True
    start = head.removeprefix(_UTF8_BOM).lstrip()[:64].lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _zip_head_names(head: bytes) -> Iterator[bytes]:
    """Names of the zip members whose local headers lie within ``head``."""
    import struct

    offset = 0
    while head.startswith(_ZIP_MAGIC, offset) and offset + 30 <= len(head):
        flags, compressed, name_length, extra_length = struct.unpack_from("<H10xI4xHH", head, offset + 6)
        yield head[offset + 30 : offset + 30 + name_length]
        if flags & 0x08 and not compressed:
            return  # sizes follow the data: the next header cannot be found cheaply
        offset += 30 + name_length + extra_length + compressed


def looks_like_docx(display: str, head: bytes) -> bool:
    if not head.startswith(_ZIP_MAGIC):
        return False
    if display.lower().endswith(_DOCX_SUFFIXES):
        return True
    return any(name == b"word/document.xml" for name in _zip_head_names(head))


def looks_like_odt(display: str, head: bytes) -> bool:
    if not head.startswith(_ZIP_MAGIC):
        return False
    # ODF puts an uncompressed "mimetype" member first so this test works.
    return display.lower().endswith(_ODT_SUFFIXES) or (head[30:38] == b"mimetype" and _ODT_MIMETYPE in head[:120])


def looks_like_markdown(display: str, head: bytes) -> bool:
    return display.lower().endswith(_MARKDOWN_SUFFIXES)


# -- extraction ----------------------------------------------------------------------


def html_parts(data: bytes, display: str, stats: SourceStats) -> list[Part] | None:
    from scanner.sources.htmltext import html_to_text

    text = decode_text(data)
    if text is None:
        stats.error(f"{display}: binary content where an HTML document was expected")
        return None
    return [("", html_to_text(text))]


def _open_zip(data: bytes, display: str, kind: str, stats: SourceStats) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        stats.error(f"{display}: not a readable {kind} document (expected a zip package: {exc})")
        return None


def _xml_part(archive: zipfile.ZipFile, name: str, display: str, stats: SourceStats) -> Element | None:
    """One XML member parsed, or None (recorded) when it is too big or broken."""
    from xml.etree.ElementTree import ParseError, fromstring

    info = archive.getinfo(name)
    if info.file_size > MAX_PART_BYTES:
        stats.skip("document part too large")
        return None
    try:
        with archive.open(info) as handle:
            raw = handle.read(MAX_PART_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        stats.error(f"{display}!{name}: cannot read ({exc})")
        return None
    if len(raw) > MAX_PART_BYTES:
        stats.skip("document part too large")
        return None
    try:
        return fromstring(raw)
    except ParseError as exc:
        stats.error(f"{display}!{name}: not well-formed XML ({exc}); expected a document part")
        return None


def _namespace(root: Element) -> str:
    tag = root.tag
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _docx_paragraphs(root: Element) -> list[str]:
    """Each ``w:p`` as one line: the text of its runs joined as Word shows
    them (a token split over several runs comes out whole). Deleted text
    (tracked changes) and field instructions are kept: they are in the file."""
    w = _namespace(root)
    paragraph, texts = w + "p", {w + "t", w + "delText", w + "instrText"}
    tab, breaks, hyphen = w + "tab", {w + "br", w + "cr"}, w + "noBreakHyphen"
    lines: list[str] = []
    open_paragraphs: list[list[str]] = []
    # Depth-first without recursion (a hostile file may nest deeply); None
    # marks the end of a paragraph. Text boxes nest paragraphs in paragraphs.
    todo: list[Element | None] = [root]
    while todo:
        element = todo.pop()
        if element is None:
            lines.append("".join(open_paragraphs.pop()).replace("\n", " "))
            continue
        tag = element.tag
        if tag in texts:
            if open_paragraphs and element.text:
                open_paragraphs[-1].append(element.text)
            continue
        if open_paragraphs and (tag == tab or tag in breaks or tag == hyphen):
            open_paragraphs[-1].append("\t" if tag == tab else "-" if tag == hyphen else " ")
            continue
        if tag == paragraph:
            open_paragraphs.append([])
            todo.append(None)
        todo.extend(reversed(element))
    return lines


def docx_parts(data: bytes, display: str, stats: SourceStats) -> list[Part] | None:
    archive = _open_zip(data, display, "DOCX", stats)
    if archive is None:
        return None
    with archive:
        names = archive.namelist()
        if "word/document.xml" not in names:
            stats.error(f"{display}: not a DOCX document (no word/document.xml in the package)")
            return None
        parts: list[Part] = []
        extra = sorted(
            n
            for n in names
            if n.startswith("word/")
            and n.count("/") == 1
            and n[5:].startswith(_DOCX_EXTRA_PARTS)
            and n.endswith(".xml")
        )
        for name in ["word/document.xml", *extra]:
            root = _xml_part(archive, name, display, stats)
            if root is not None:
                label = "" if name == "word/document.xml" else name[5:-4]
                parts.append((label, "\n".join(_docx_paragraphs(root))))
        return parts


def _odt_paragraphs(root: Element) -> list[str]:
    """Each ``text:p``/``text:h`` as one line; ``text:s`` is its count of
    spaces, spans join their neighbours. Notes and annotations nest their
    own paragraphs, which come out as lines of their own."""
    text_ns = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
    paragraphs = {text_ns + "p", text_ns + "h"}
    space, tab, line_break = text_ns + "s", text_ns + "tab", text_ns + "line-break"
    count = text_ns + "c"
    lines: list[str] = []
    open_paragraphs: list[list[str]] = []
    # (element, leaving): leaving closes a paragraph and adds the element's tail.
    todo: list[tuple[Element, bool]] = [(root, False)]
    while todo:
        element, leaving = todo.pop()
        tag = element.tag
        if leaving:
            if tag in paragraphs:
                lines.append("".join(open_paragraphs.pop()).replace("\n", " "))
            if open_paragraphs and element.tail:
                open_paragraphs[-1].append(element.tail)
            continue
        if tag in paragraphs:
            open_paragraphs.append([])
        if open_paragraphs:
            if tag == space:
                try:
                    spaces = max(1, min(int(element.get(count, "1")), 1000))
                except ValueError:
                    spaces = 1
                open_paragraphs[-1].append(" " * spaces)
            elif tag == tab:
                open_paragraphs[-1].append("\t")
            elif tag == line_break:
                open_paragraphs[-1].append(" ")
            if element.text:
                open_paragraphs[-1].append(element.text)
        todo.append((element, True))
        todo.extend((child, False) for child in reversed(element))
    return lines


def odt_parts(data: bytes, display: str, stats: SourceStats) -> list[Part] | None:
    archive = _open_zip(data, display, "ODT", stats)
    if archive is None:
        return None
    with archive:
        names = set(archive.namelist())
        if "content.xml" not in names:
            stats.error(f"{display}: not an ODT document (no content.xml in the package)")
            return None
        parts: list[Part] = []
        for name, label in (("content.xml", ""), ("styles.xml", "styles")):
            if name not in names:
                continue
            root = _xml_part(archive, name, display, stats)
            if root is not None:
                lines = _odt_paragraphs(root)
                if lines or not label:
                    parts.append((label, "\n".join(lines)))
        return parts


def document_parts(data: bytes, display: str, stats: SourceStats, name: str | None = None) -> list[Part] | None:
    """The text of ``data`` if it is an HTML, DOCX or ODT document (recognised
    from its content, and from ``name`` — the display path unless given), else
    None. Used for export attachments."""
    head = data[:8192]
    name = name or display
    if looks_like_docx(name, head):
        return docx_parts(data, display, stats)
    if looks_like_odt(name, head):
        return odt_parts(data, display, stats)
    if looks_like_html(name, head):
        return html_parts(data, display, stats)
    return None


# Common binary files whose first 8 KiB may hold no NUL byte (so would pass
# for text): never worth decoding.
_BINARY_MAGIC = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xd0\xcf\x11\xe0",
)


def readable_parts(data: bytes, display: str, stats: SourceStats, name: str | None = None) -> list[Part] | None:
    """The text of a file met inside an export (an attachment): a document's
    parts, or the file decoded as text; None when it is binary. ``name`` is
    the file's own name when the display path lacks it (Confluence stores
    attachments under numbers)."""
    parts = document_parts(data, display, stats, name)
    if parts is not None:
        return parts
    if data.startswith(_BINARY_MAGIC):
        return None
    text = decode_text(data)
    return None if text is None else [("", text)]


def with_part(provenance: Provenance, label: str) -> Provenance:
    """The provenance of one part of a document (the body keeps its own)."""
    return provenance if not label else replace(provenance, extra=(*provenance.extra, ("part", label)))


def parts_chunk(parts: list[Part], provenance: Provenance) -> Chunk | None:
    """One chunk of a document's parts; a part other than the body is placed
    at the same path with ("part", label) in its provenance."""
    builder = LocatorBuilder()
    for label, text in parts:
        if not text:
            continue
        if builder.length:
            builder.add_synthetic("\n")
        builder.add(text, with_part(provenance, label), 1, 1)
    if not builder.length:
        return None
    content = builder.text()
    return Chunk(
        content=content,
        provenance=provenance,
        digest=content_digest(content.encode("utf-8", "surrogatepass")),
        locator=builder.locator(),
    )


# -- content formats -----------------------------------------------------------------


def _read_markdown(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    text = decode_text(data)
    if text is None:
        stats.skip("binary")
        return
    stats.scanned(len(data))
    yield Chunk(
        content=text,
        provenance=Provenance(source=SOURCE, path=display),
        digest=content_digest(text.encode("utf-8", "surrogatepass")),
    )


def _read_html(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """An HTML file met in a folder or archive: scanned twice. As written
    (exact lines and columns, <script> blocks included — a page in a code
    repository is code) and as rendered (tags gone, so a token that markup
    splits is whole). A secret both views see is reported at its raw place
    only (findings.py drops the rendered duplicate)."""
    raw = decode_text(data)
    if raw is None:
        stats.skip("binary")
        return
    stats.scanned(len(data))
    yield Chunk(content=raw, provenance=Provenance(source="file", path=display), digest=content_digest(data))
    parts = html_parts(data, display, SourceStats())
    if not parts:
        return
    text = parts[0][1]
    yield Chunk(
        content=text,
        provenance=Provenance(source="file", path=display, extra=((RENDERED_KEY, RENDERED_VALUE),)),
        digest=content_digest(text.encode("utf-8", "surrogatepass")),
    )


def _read_docx(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    parts = docx_parts(data, display, stats)
    if parts is None:
        return
    stats.scanned(len(data))
    chunk = parts_chunk(parts, Provenance(source=SOURCE, path=display))
    if chunk is not None:
        yield chunk


def _read_odt(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    parts = odt_parts(data, display, stats)
    if parts is None:
        return
    stats.scanned(len(data))
    chunk = parts_chunk(parts, Provenance(source=SOURCE, path=display))
    if chunk is not None:
        yield chunk


# Marks the rendered view of an HTML file (see _read_html).
RENDERED_KEY, RENDERED_VALUE = "view", "rendered text"

HTML_FORMAT = ContentFormat("html", looks_like_html, _read_html)
DOCX_FORMAT = ContentFormat("docx", looks_like_docx, _read_docx)
ODT_FORMAT = ContentFormat("odt", looks_like_odt, _read_odt)
MARKDOWN_FORMAT = ContentFormat("markdown", looks_like_markdown, _read_markdown)
