"""Google Chat exports from Google Takeout (``Google Chat/Groups/<Space or DM
id>/messages.json`` with ``group_info.json``): message text, link previews
and attached file names, placed at the space, time, author and message link.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scanner.model import Chunk, Provenance
from scanner.sources.base import Source, SourceStats
from scanner.sources.chatexport import (
    ChatExportSource,
    ExportTree,
    MessageChunks,
    Unit,
    as_dict,
    is_zip,
    join_nonempty,
    parse_json,
    plain_chunks,
    zip_names,
)
from scanner.sources.formats import ContentFormat, ExportFormat, ExportOptions

KIND = "google-chat"
_EXPECTED = 'a Google Chat messages.json (an object with a "messages" array)'
_MESSAGES = re.compile(r"(?:^|/)Groups/([^/]+)/messages\.json$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july",
         "august", "september", "october", "november", "december"),
        start=1,
    )
}
# "Thursday, November 3, 2016 at 11:59:50 AM UTC" (newer exports put a
# narrow no-break space before AM/PM).
_DATE = re.compile(
    r"(?:\w+,\s*)?(\w+)\s+(\d{1,2}),\s*(\d{4})\s+at\s+(\d{1,2}):(\d{2}):(\d{2})\s*([AP]M)?\s*(UTC|GMT)?([+-]\d{1,2}(?::?\d{2})?)?",
    re.IGNORECASE,
)


def parse_date(value: object) -> datetime | None:
    """Takeout's English date text as a UTC datetime (None if unreadable)."""
    if not isinstance(value, str):
        return None
    match = _DATE.search(value.replace("\u202f", " "))
    if match is None:
        return None
    month_name, day, year, hour, minute, second, half, _, offset = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    hour_value = int(hour)
    if half:
        hour_value = hour_value % 12 + (12 if half.upper() == "PM" else 0)
    try:
        when = datetime(int(year), month, int(day), hour_value, int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return None
    if offset:
        sign = -1 if offset.startswith("-") else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        when -= sign * timedelta(hours=hours, minutes=minutes)
    return when


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def render(message: dict[str, Any]) -> str:
    """What a message shows: its text, link and Drive previews, file names."""
    body = _text(message.get("text"))
    annotations = message.get("annotations")
    files = message.get("attached_files")
    quoted = message.get("quoted_message_metadata")
    if not (annotations or files or quoted):
        return body
    parts = [body]
    for annotation in annotations or ():
        if type(annotation) is not dict:
            continue
        link = annotation.get("url_metadata")
        if type(link) is dict:
            url = link.get("url")
            target = _text(url.get("private_do_not_access_or_else_safe_url_wrapped_value")) if type(url) is dict else ""
            pieces = [_text(link.get("title")), _text(link.get("snippet"))]
            if target and target not in body:
                pieces.append(target)
            parts.append(join_nonempty(pieces))
        drive = annotation.get("drive_metadata")
        if type(drive) is dict:
            parts.append(_text(drive.get("title")))
    for attached in files or ():
        if type(attached) is dict:
            parts.append(_text(attached.get("original_name")) or _text(attached.get("export_name")))
    if type(quoted) is dict:
        parts.append(_text(quoted.get("text")))
    return join_nonempty(parts)


@dataclass(frozen=True)
class _Group:
    """One conversation folder: how it is named and linked."""

    folder: str
    label: str
    link_kind: str  # "room" (a space) or "dm"
    ident: str


def _group(folder: str, info: object) -> _Group:
    kind, _, ident = folder.partition(" ")
    name = info.get("name") if type(info) is dict else None
    members = info.get("members") if type(info) is dict else None
    if kind == "DM":
        names = [m.get("name") or m.get("email") for m in members or () if type(m) is dict]
        label = "DM " + ", ".join(n for n in names if isinstance(n, str)) if names else folder
        return _Group(folder, label, "dm", ident)
    return _Group(folder, _text(name) or folder, "room", ident if kind == "Space" else "")


def read_messages(data: bytes, display: str, group: _Group, stats: SourceStats) -> Iterator[Chunk]:
    document = parse_json(data, display, _EXPECTED, stats)
    messages = document.get("messages") if type(document) is dict else None
    if type(messages) is not list:
        if document is not None:
            stats.error(f"{display}: expected {_EXPECTED}; scanned as plain text")
        yield from plain_chunks(data, display, KIND, stats, formats=False)
        return
    stats.scanned(len(data))

    def provenance(message: dict[str, Any]) -> Provenance:
        creator = as_dict(message.get("creator"))
        message_id = _text(message.get("message_id"))
        topic = _text(message.get("topic_id"))
        extra: list[tuple[str, str]] = [("space", group.label)]
        if group.link_kind == "dm":  # a direct message: its members only
            extra.append(("visibility", "private"))
        if topic:
            extra.append(("topic_id", topic))
        if message_id:
            extra.append(("message_id", message_id))
        if _text(creator.get("email")):
            extra.append(("email", creator["email"]))
        updated = parse_date(message.get("updated_date"))
        if updated is not None:
            extra.append(("edited", updated.isoformat()))
        # message_id reads "<group>/<topic>/<message>": the link Chat's "copy
        # link" gives is built from the last two.
        parts = message_id.split("/")
        url = None
        if group.ident and len(parts) == 3:
            url = f"https://chat.google.com/{group.link_kind}/{group.ident}/{parts[1]}/{parts[2]}"
        return Provenance(
            source=KIND,
            path=display,
            author=_text(creator.get("name")) or _text(creator.get("email")) or None,
            when=parse_date(message.get("created_date")),
            url=url,
            extra=tuple(extra),
        )

    whole = Provenance(source=KIND, path=display, extra=(("space", group.label),))
    chunks: MessageChunks[dict[str, Any]] = MessageChunks(provenance)
    for message in messages:
        if type(message) is dict:
            chunks.add(render(message), message)
            yield from chunks.ready(whole)
    yield from chunks.rest(whole)


def read_export(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """A messages.json met on its own (no group_info.json beside it)."""
    found = _MESSAGES.search(display.replace("\\", "/"))
    folder = found.group(1) if found else os.path.basename(os.path.dirname(display))
    yield from read_messages(data, display, _group(folder, None), stats)


def sniff(display: str, head: bytes) -> bool:
    return (
        display.replace("\\", "/").endswith("/messages.json")
        and head.lstrip().startswith(b"{")
        and b'"messages"' in head
        and (b'"creator"' in head or b'"created_date"' in head)
    )


class GoogleChatExportSource(ChatExportSource):
    """A Takeout folder or zip holding Google Chat (or the Google Chat folder)."""

    kind = KIND

    def plan(self, tree: ExportTree, stats: SourceStats) -> tuple[None, list[Unit]]:
        names = tree.names(stats)
        infos = {n for n in names if n.endswith("/group_info.json")}
        units: list[Unit] = []
        for name in names:
            found = _MESSAGES.search(name)
            if found is not None:
                info = name[: -len("messages.json")] + "group_info.json"
                units.append(Unit((name,), (found.group(1), info if info in infos else None), tree.size(name)))
            else:
                units.append(Unit((name,), None, tree.size(name)))
        if units and not any(unit.info for unit in units):
            stats.error(f"{self.path}: no Google Chat/Groups/*/messages.json found (expected a Takeout export)")
        return None, units

    def unit_chunks(self, tree: ExportTree, context: None, unit: Unit, stats: SourceStats) -> Iterator[Chunk]:
        name = unit.names[0]
        data = tree.read(name, stats)
        if data is None:
            return
        if unit.info is None:
            yield from plain_chunks(data, tree.display(name), KIND, stats)
            return
        folder, info_name = unit.info
        info: object = None
        if info_name is not None:
            raw = tree.read(info_name, SourceStats())
            info = parse_json(raw, tree.display(info_name), "a group_info.json object", SourceStats()) if raw else None
        yield from read_messages(data, tree.display(name), _group(folder, info), stats)


def recognize(path: str) -> bool:
    """A folder or zip with ``Google Chat/Groups/<group>/messages.json`` (at
    any depth: ``Takeout/Google Chat/...``), or the Google Chat folder."""
    try:
        if is_zip(path):
            return any(_MESSAGES.search(n) and "Google Chat/" in n for n in zip_names(path))
        if not os.path.isdir(path):
            return False
        for base in ("", "Google Chat", os.path.join("Takeout", "Google Chat")):
            groups = os.path.join(path, base, "Groups")
            if os.path.isdir(groups) and (base or os.path.basename(os.path.normpath(path)) == "Google Chat"):
                return any(
                    os.path.isfile(os.path.join(groups, entry, "messages.json"))
                    for entry in sorted(os.listdir(groups))[:20]
                )
        return False
    except OSError:
        return False


def open_export(path: str, options: ExportOptions) -> Source:
    return GoogleChatExportSource(path, options)


GOOGLE_CHAT = ExportFormat(name="googlechat", recognize=recognize, open=open_export)
GOOGLE_CHAT_JSON = ContentFormat(name="googlechat", sniff=sniff, read=read_export)
