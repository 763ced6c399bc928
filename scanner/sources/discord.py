"""Discord channel exports written by DiscordChatExporter (its JSON format:
``guild``, ``channel``, ``messages``): content, embeds and attachments of each
message, placed at its channel, time, author and discord.com permalink.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

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

KIND = "discord"
_EXPECTED = 'a DiscordChatExporter JSON export (an object with "guild", "channel" and "messages")'
# DiscordChatExporter writes "guild" first, then "channel": both near the top.
_HEAD = re.compile(rb'^\s*\{\s*"guild"\s*:\s*\{')
# DiscordChatExporter's channel kinds that only their members can read.
_PRIVATE_TYPES = frozenset({"DirectTextChat", "DirectGroupTextChat", "GuildPrivateThread"})


def sniff(display: str, head: bytes) -> bool:
    return display.lower().endswith(".json") and _HEAD.match(head.removeprefix(b"\xef\xbb\xbf")) is not None and (
        b'"channel"' in head
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _embed(embed: dict[str, Any]) -> str:
    author = embed.get("author")
    footer = embed.get("footer")
    pieces = [
        _text(author.get("name")) if type(author) is dict else "",
        _text(embed.get("title")),
        _text(embed.get("url")),
        _text(embed.get("description")),
    ]
    for field in embed.get("fields") or ():
        if type(field) is dict:
            pieces.append(f"{_text(field.get('name'))}: {_text(field.get('value'))}")
    if type(footer) is dict:
        pieces.append(_text(footer.get("text")))
    return join_nonempty(pieces)


def render(message: dict[str, Any]) -> str:
    """What the message shows: its text, embeds (link previews, bot cards),
    attachment names and links, stickers."""
    content = message.get("content")
    body = content if isinstance(content, str) else ""
    embeds = message.get("embeds")
    attachments = message.get("attachments")
    stickers = message.get("stickers")
    if not (embeds or attachments or stickers):
        return body
    parts = [body]
    for embed in embeds or ():
        if type(embed) is dict:
            parts.append(_embed(embed))
    for attachment in attachments or ():
        if type(attachment) is dict:
            parts.append(join_nonempty([_text(attachment.get("fileName")), _text(attachment.get("url"))]))
    for sticker in stickers or ():
        if type(sticker) is dict:
            parts.append(_text(sticker.get("name")))
    return join_nonempty(parts)


def read_export(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """One DiscordChatExporter JSON file (one channel or thread)."""
    document = parse_json(data, display, _EXPECTED, stats)
    messages = document.get("messages") if type(document) is dict else None
    if type(document) is not dict or type(messages) is not list:
        if document is not None:
            stats.error(f"{display}: expected {_EXPECTED}; scanned as plain text")
        yield from plain_chunks(data, display, KIND, stats, formats=False)
        return
    stats.scanned(len(data))
    guild = as_dict(document.get("guild"))
    channel = as_dict(document.get("channel"))
    guild_id = _text(guild.get("id"))
    channel_id = _text(channel.get("id"))
    channel_name = _text(channel.get("name"))
    label = f"#{channel_name}" if channel_name else f"#{channel_id}"
    context: list[tuple[str, str]] = []
    if _text(guild.get("name")):
        context.append(("guild", guild["name"]))
    context.append(("channel", label))
    if _text(channel.get("category")):
        context.append(("category", channel["category"]))
    # Direct messages are exported under a pseudo-guild with id 0.
    link_guild = "@me" if guild_id in ("", "0") else guild_id
    # Only members see a direct message or a private thread; what a guild
    # channel's permissions allow is not in the export.
    if _text(channel.get("type")) in _PRIVATE_TYPES or guild_id == "0":
        context.append(("visibility", "private"))

    whole = Provenance(source=KIND, path=display, extra=tuple(context))

    def provenance(message: dict[str, Any] | None) -> Provenance:
        if message is None:  # the channel topic
            return replace(whole, extra=(*context, ("field", "topic")))
        ident = _text(message.get("id")) or str(message.get("id") or "")
        author = as_dict(message.get("author"))
        extra = [*context, ("message_id", ident)]
        edited = iso_time(message.get("timestampEdited"))
        if edited is not None:
            extra.append(("edited", edited.isoformat()))
        return Provenance(
            source=KIND,
            path=display,
            author=_text(author.get("nickname")) or _text(author.get("name")) or None,
            when=iso_time(message.get("timestamp")),
            url=f"https://discord.com/channels/{link_guild}/{channel_id}/{ident}" if channel_id and ident else None,
            extra=tuple(extra),
        )

    chunks: MessageChunks[dict[str, Any] | None] = MessageChunks(provenance)
    chunks.add(_text(channel.get("topic")), None)
    for message in messages:
        if type(message) is dict:
            chunks.add(render(message), message)
            yield from chunks.ready(whole)
    yield from chunks.rest(whole)


class DiscordExportSource(ChatExportSource):
    """A folder or zip of DiscordChatExporter JSON files, or one such file."""

    kind = KIND

    def plan(self, tree: ExportTree, stats: SourceStats) -> tuple[None, list[Unit]]:
        return None, FILES.plan(tree, stats, f"{self.path}: no DiscordChatExporter JSON file found (expected {_EXPECTED})")

    def unit_chunks(self, tree: ExportTree, context: None, unit: Unit, stats: SourceStats) -> Iterator[Chunk]:
        yield from export_or_plain_chunks(tree, unit, stats, KIND, read_export)


FILES = ExportFiles((".json",), sniff, head_bytes=512)


def recognize(path: str) -> bool:
    """A DiscordChatExporter JSON file, or a folder or zip whose first JSON
    files are such exports."""
    return FILES.recognize(path)


def open_export(path: str, options: ExportOptions) -> Source:
    return DiscordExportSource(path, options)


DISCORD = ExportFormat(name="discord", recognize=recognize, open=open_export)
DISCORD_JSON = ContentFormat(name="discord", sniff=sniff, read=read_export)
