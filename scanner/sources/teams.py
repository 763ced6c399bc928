"""Microsoft Teams message exports (Graph ``chatMessage`` lists, the "export
your data" messages.json): HTML bodies read as text so markup never splits a
token, matches placed at chat or channel, time, author and Teams link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from scanner.model import Chunk, Provenance
from scanner.sources.base import Source, SourceStats
from scanner.sources.chatexport import (
    ChatExportSource,
    ExportFiles,
    ExportTree,
    MessageChunks,
    Unit,
    as_dict,
    export_or_plain_chunks,
    iso_time,
    join_nonempty,
    parse_json,
    plain_chunks,
)
from scanner.sources.formats import ContentFormat, ExportFormat, ExportOptions
from scanner.sources.htmltext import html_to_text

KIND = "teams"
_EXPECTED = (
    'Teams messages: a JSON array of Graph chatMessage objects (or {"value": [...]}),'
    ' or an export with "conversations" and "MessageList"'
)
_GRAPH_KEYS = (b'"createdDateTime"', b'"body"')
_HTML_HINT = re.compile(r"<[A-Za-z/!]|&[#\w]+;")


def sniff(display: str, head: bytes) -> bool:
    if not display.lower().endswith(".json"):
        return False
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if start not in (b"{", b"["):
        return False
    if all(key in head for key in _GRAPH_KEYS) and (b'"contentType"' in head or b'"messageType"' in head):
        return True
    return b'"conversations"' in head and (b'"MessageList"' in head or b'"exportDate"' in head)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def body_text(content: str, html: bool) -> str:
    if html or _HTML_HINT.search(content):
        return html_to_text(content)
    return content


def _card_strings(node: object, out: list[str]) -> None:
    """Text of an adaptive card or message reference held in an attachment."""
    if type(node) is dict:
        for key, value in node.items():
            if isinstance(value, str):
                if key in ("text", "title", "subtitle", "value", "messagePreview", "content", "name", "fallbackText"):
                    out.append(value)
            else:
                _card_strings(value, out)
    elif type(node) is list:
        for item in node:
            _card_strings(item, out)


def _attachment(attachment: dict[str, Any]) -> str:
    pieces = [_text(attachment.get("name")), _text(attachment.get("contentUrl"))]
    content = attachment.get("content")
    if isinstance(content, str) and content:
        parsed: object = None
        if content[:1] in "{[":
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
        if parsed is not None:
            _card_strings(parsed, pieces)
        else:
            pieces.append(body_text(content, False))
    elif isinstance(content, dict | list):
        _card_strings(content, pieces)
    return join_nonempty(pieces)


def render_graph(message: dict[str, Any]) -> str:
    """A Graph chatMessage as shown: subject, body, attachments."""
    body = as_dict(message.get("body"))
    content = _text(body.get("content"))
    text = body_text(content, _text(body.get("contentType")).lower() == "html") if content else ""
    subject = _text(message.get("subject"))
    attachments = message.get("attachments")
    if not (subject or attachments):
        return text
    parts = [subject, text]
    for attachment in attachments or ():
        if type(attachment) is dict:
            parts.append(_attachment(attachment))
    return join_nonempty(parts)


def render_export(message: dict[str, Any]) -> str:
    """A message of the Teams/Skype "export your data" messages.json."""
    content = _text(message.get("content"))
    kind = _text(message.get("messagetype")).lower()
    return body_text(content, "html" in kind) if content else ""


def _graph_messages(document: object) -> list[Any] | None:
    if type(document) is list:
        return document
    if type(document) is dict:
        for key in ("value", "messages"):
            if type(document.get(key)) is list:
                return document[key]  # type: ignore[no-any-return]
    return None


def read_export(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """One Teams messages JSON file."""
    document = parse_json(data, display, _EXPECTED, stats)
    if document is None:
        yield from plain_chunks(data, display, KIND, stats, formats=False)
        return
    if type(document) is dict and type(document.get("conversations")) is list:
        stats.scanned(len(data))
        yield from _export_chunks(document["conversations"], display)
        return
    messages = _graph_messages(document)
    if messages is None:
        stats.error(f"{display}: expected {_EXPECTED}; scanned as plain text")
        yield from plain_chunks(data, display, KIND, stats, formats=False)
        return
    stats.scanned(len(data))
    yield from _graph_chunks(messages, display)


def _graph_chunks(messages: list[Any], display: str) -> Iterator[Chunk]:
    def provenance(key: tuple[dict[str, Any], dict[str, Any] | None]) -> Provenance:
        message, parent = key
        sender = as_dict(message.get("from"))
        who: dict[str, Any] = next(
            (sender[k] for k in ("user", "application", "device") if type(sender.get(k)) is dict), {}
        )
        channel = as_dict(message.get("channelIdentity"))
        chat = _text(message.get("chatId"))
        ident = _text(message.get("id"))
        extra: list[tuple[str, str]] = []
        if _text(channel.get("channelId")):
            extra.append(("channel", channel["channelId"]))
            if _text(channel.get("teamId")):
                extra.append(("team_id", channel["teamId"]))
        elif chat:
            extra.append(("chat", chat))
            # A chat (one-on-one, group, meeting) is read by its members only.
            extra.append(("visibility", "private"))
        extra.append(("message_id", ident))
        if parent is not None:
            extra.append(("reply_to", _text(parent.get("id"))))
        edited = iso_time(message.get("lastEditedDateTime"))
        if edited is not None:
            extra.append(("edited", edited.isoformat()))
        url = _text(message.get("webUrl")) or None
        if url is None and ident and (chat or _text(channel.get("channelId"))):
            url = f"https://teams.microsoft.com/l/message/{quote(chat or channel['channelId'], safe='')}/{ident}"
        return Provenance(
            source=KIND,
            path=display,
            author=_text(who.get("displayName")) or None,
            when=iso_time(message.get("createdDateTime")),
            url=url,
            extra=tuple(extra),
        )

    whole = Provenance(source=KIND, path=display)
    chunks: MessageChunks[tuple[dict[str, Any], dict[str, Any] | None]] = MessageChunks(provenance)
    for message in messages:
        if type(message) is not dict:
            continue
        chunks.add(render_graph(message), (message, None))
        for reply in message.get("replies") or ():
            if type(reply) is dict:
                chunks.add(render_graph(reply), (reply, message))
        yield from chunks.ready(whole)
    yield from chunks.rest(whole)


def _export_chunks(conversations: list[Any], display: str) -> Iterator[Chunk]:
    def provenance(key: tuple[dict[str, Any], dict[str, Any]]) -> Provenance:
        message, conversation = key
        label = _text(conversation.get("displayName")) or _text(conversation.get("id"))
        extra = [("chat", label)]
        # The account export holds the user's chats; a team channel's thread
        # id ends in @thread.tacv2, and who reads a channel is not recorded.
        if "@thread.tacv2" not in _text(conversation.get("id")):
            extra.append(("visibility", "private"))
        extra.append(("message_id", _text(message.get("id"))))
        return Provenance(
            source=KIND,
            path=display,
            author=_text(message.get("displayName")) or _text(message.get("from")) or None,
            when=iso_time(message.get("originalarrivaltime")),
            extra=tuple(extra),
        )

    whole = Provenance(source=KIND, path=display)
    chunks: MessageChunks[tuple[dict[str, Any], dict[str, Any]]] = MessageChunks(provenance)
    for conversation in conversations:
        if type(conversation) is not dict:
            continue
        for message in conversation.get("MessageList") or ():
            if type(message) is dict:
                chunks.add(render_export(message), (message, conversation))
        yield from chunks.ready(whole)
    yield from chunks.rest(whole)


class TeamsExportSource(ChatExportSource):
    """A folder or zip of Teams message JSON files, or one such file."""

    kind = KIND

    def plan(self, tree: ExportTree, stats: SourceStats) -> tuple[None, list[Unit]]:
        return None, FILES.plan(tree, stats, f"{self.path}: no Teams message file found (expected {_EXPECTED})")

    def unit_chunks(self, tree: ExportTree, context: None, unit: Unit, stats: SourceStats) -> Iterator[Chunk]:
        yield from export_or_plain_chunks(tree, unit, stats, KIND, read_export)


FILES = ExportFiles((".json",), sniff)


def recognize(path: str) -> bool:
    """A Teams message JSON file, or a folder or zip whose first JSON files
    are such files."""
    return FILES.recognize(path)


def open_export(path: str, options: ExportOptions) -> Source:
    return TeamsExportSource(path, options)


TEAMS = ExportFormat(name="teams", recognize=recognize, open=open_export)
TEAMS_JSON = ContentFormat(name="teams", sniff=sniff, read=read_export)
