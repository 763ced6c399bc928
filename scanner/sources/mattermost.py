"""Mattermost bulk exports (``mmctl export create``: a zip holding one JSONL
file, or the JSONL itself): posts, replies and direct messages read line by
line, each match placed at its team, channel, author and time.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from scanner.model import Chunk, Provenance
from scanner.sources.base import Source, SourceStats
from scanner.sources.chatexport import (
    ChatExportSource,
    ExportFiles,
    ExportTree,
    MessageChunks,
    Unit,
    human_size,
    join_nonempty,
    plain_chunks,
    unix_time,
)
from scanner.sources.formats import ContentFormat, ExportFormat, ExportOptions

KIND = "mattermost"
_EXPECTED = "one Mattermost bulk-export object per line"
# The first line of every bulk export: {"type":"version","version":1,...}
_HEAD = re.compile(rb'^\s*\{\s*"type"\s*:\s*"version"')
_SUFFIXES = (".jsonl", ".json", ".ndjson")


def sniff(display: str, head: bytes) -> bool:
    return _HEAD.match(head.removeprefix(b"\xef\xbb\xbf")) is not None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _strings(node: object, out: list[str]) -> None:
    """Every string in a JSON value (for line types with no known layout)."""
    if isinstance(node, str):
        if node:
            out.append(node)
    elif type(node) is dict:
        for value in node.values():
            _strings(value, out)
    elif type(node) is list:
        for item in node:
            _strings(item, out)


def _attachment(attachment: dict[str, Any]) -> str:
    """A message attachment (integrations post Slack-style cards)."""
    pieces = [
        _text(attachment.get(key))
        for key in ("pretext", "author_name", "title", "title_link", "text", "footer")
    ]
    for card_field in attachment.get("fields") or ():
        if type(card_field) is dict:
            pieces.append(f"{_text(card_field.get('title'))}: {card_field.get('value') or ''}")
    seen = "".join(pieces)
    fallback = _text(attachment.get("fallback"))
    if fallback and fallback not in seen:
        pieces.append(fallback)
    return join_nonempty(pieces)


def render(post: dict[str, Any]) -> str:
    """What a post shows: its text, integration cards, attached file names."""
    body = _text(post.get("message"))
    props = post.get("props")
    files = post.get("attachments")
    if not (props or files):
        return body
    parts = [body]
    if type(props) is dict:
        for attachment in props.get("attachments") or ():
            if type(attachment) is dict:
                parts.append(_attachment(attachment))
    for attached in files or ():
        if type(attached) is dict:
            parts.append(_text(attached.get("path")))
    return join_nonempty(parts)


# A channel's "type" in the export: O is open (any team member can join and
# read it), P private.
_CHANNEL_TYPES = {"O": "public", "P": "private"}


@dataclass
class _Names:
    """What earlier lines said about teams, channels and users."""

    teams: dict[str, str] = field(default_factory=dict)
    # (team, channel name) -> "public" (type O, open) or "private" (type P).
    channels: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Key:
    """Where one message came from, turned into a Provenance if it matched."""

    line: int
    kind: str  # post, reply, direct_post, direct_reply, channel, raw...
    record: dict[str, Any] | None
    team: str = ""
    channel: str = ""
    visibility: str = ""  # "public" / "private" when the export said so


def _provenance(display: str, key: _Key) -> Provenance:
    record = key.record or {}
    extra: list[tuple[str, str]] = []
    if key.team:
        extra.append(("team", key.team))
    if key.channel:
        extra.append(("channel", key.channel))
    if key.visibility:
        extra.append(("visibility", key.visibility))
    extra.append(("line", str(key.line)))
    if key.kind.endswith("reply"):
        extra.append(("thread", "reply"))
    elif key.kind not in ("post", "direct_post"):
        extra.append(("record", key.kind))
    edited = unix_time(record["edit_at"] / 1000) if isinstance(record.get("edit_at"), int | float) else None
    if edited is not None and record.get("edit_at"):
        extra.append(("edited", edited.isoformat()))
    created = record.get("create_at")
    return Provenance(
        source=KIND,
        path=display,
        author=_text(record.get("user")) or None,
        when=unix_time(created / 1000) if isinstance(created, int | float) and created else None,
        extra=tuple(extra),
    )


def _lines(handle: IO[bytes], cap: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for every line; None for a line over ``cap``
    bytes (skipped to its end without holding it)."""
    number = 0
    while True:
        line = handle.readline(cap + 1)
        if not line:
            return
        number += 1
        if len(line) > cap and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
            yield number, None
            continue
        yield number, line


def read_stream(handle: IO[bytes], display: str, cap: int, stats: SourceStats) -> Iterator[Chunk]:
    """One bulk-export JSONL stream."""
    names = _Names()
    chunks: MessageChunks[_Key] = MessageChunks(lambda key: _provenance(display, key))
    whole = Provenance(source=KIND, path=display)
    bad = 0
    first_bad = ""
    total = 0
    loads = json.loads
    for number, line in _lines(handle, cap):
        if line is None:
            stats.skip(f"JSONL line larger than {human_size(cap)}")
            continue
        total += len(line)
        if not line.strip():
            continue
        try:
            record = loads(line)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            record = exc
        kind = record.get("type") if type(record) is dict else None
        if not isinstance(kind, str):
            bad += 1
            if not first_bad:
                reason = "not JSON" if isinstance(record, ValueError) else 'not an object with a "type"'
                first_bad = f"line {number}: {reason}"
            # What the line holds is scanned as it stands.
            chunks.add(line.decode("utf-8", "replace").rstrip("\r\n"), _Key(number, "raw", None))
        else:
            _absorb(record, kind, number, names, chunks)
        yield from chunks.ready(whole)
    yield from chunks.rest(whole)
    stats.scanned(total)
    if bad:
        stats.error(
            f"{display}: {bad} line{'s' if bad > 1 else ''} not in the bulk-export format ({first_bad};"
            f" expected {_EXPECTED}); scanned as plain text"
        )


def _absorb(record: dict[str, Any], kind: str, number: int, names: _Names, chunks: MessageChunks[_Key]) -> None:
    body = record.get(kind)
    if type(body) is not dict:
        if kind != "version":
            pieces: list[str] = []
            _strings(body, pieces)
            chunks.add(join_nonempty(pieces), _Key(number, kind, None))
        return
    if kind == "post" or kind == "direct_post":
        if kind == "post":
            team = _text(body.get("team"))
            channel_name = _text(body.get("channel"))
            team_label = names.teams.get(team, team)
            channel_label = "~" + channel_name
            visibility = names.channels.get((team, channel_name), "")
        else:
            members = [m for m in body.get("channel_members") or () if isinstance(m, str)]
            team_label, channel_label, visibility = "", "DM " + ", ".join(members), "private"
        chunks.add(render(body), _Key(number, kind, body, team_label, channel_label, visibility))
        reply_kind = "reply" if kind == "post" else "direct_reply"
        for reply in body.get("replies") or ():
            if type(reply) is dict:
                chunks.add(render(reply), _Key(number, reply_kind, reply, team_label, channel_label, visibility))
        return
    if kind == "team":
        team = _text(body.get("name"))
        names.teams[team] = _text(body.get("display_name")) or team
        text = join_nonempty([_text(body.get("display_name")), _text(body.get("description"))])
        chunks.add(text, _Key(number, kind, None, names.teams[team]))
        return
    if kind == "channel":
        team = _text(body.get("team"))
        name = _text(body.get("name"))
        # Channel lines come before their posts in a bulk export.
        visibility = _CHANNEL_TYPES.get(_text(body.get("type")), "")
        if visibility:
            names.channels[(team, name)] = visibility
        text = join_nonempty([_text(body.get(k)) for k in ("display_name", "header", "purpose")])
        chunks.add(text, _Key(number, kind, None, names.teams.get(team, team), "~" + name, visibility))
        return
    if kind == "direct_channel":
        members = [m for m in body.get("members") or () if isinstance(m, str)]
        chunks.add(_text(body.get("header")), _Key(number, kind, None, "", "DM " + ", ".join(members), "private"))
        return
    # Users, emoji, roles, schemes, bots: whatever text they hold.
    pieces = []
    _strings(body, pieces)
    chunks.add(join_nonempty(pieces), _Key(number, kind, None))


def read_export(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """A bulk-export JSONL file met on its own (in a folder walk, an archive)."""
    yield from read_stream(io.BytesIO(data), display, max(len(data), 1), stats)


class MattermostExportSource(ChatExportSource):
    """A Mattermost bulk export: the JSONL file, or a zip or folder holding it
    (with the ``data/`` attachments, scanned as files)."""

    kind = KIND

    def plan(self, tree: ExportTree, stats: SourceStats) -> tuple[None, list[Unit]]:
        return None, FILES.plan(tree, stats, f"{self.path}: no Mattermost bulk-export JSONL found (expected {_EXPECTED})")

    def unit_chunks(self, tree: ExportTree, context: None, unit: Unit, stats: SourceStats) -> Iterator[Chunk]:
        for name in unit.names:
            if unit.info:
                handle = tree.stream(name, stats)
                if handle is None:
                    continue
                with handle:
                    try:
                        yield from read_stream(handle, tree.display(name), self.options.max_file_size, stats)
                    except (OSError, EOFError, ValueError) as exc:
                        stats.error(f"{tree.display(name)}: reading stopped: {exc}")
                continue
            data = tree.read(name, stats)
            if data is not None:
                yield from plain_chunks(data, tree.display(name), KIND, stats)


FILES = ExportFiles(_SUFFIXES, sniff, head_bytes=256, recognize_suffixes=(".jsonl",), zip_top_only=True)


def recognize(path: str) -> bool:
    """A JSONL file starting with a version line, or a zip or folder with one
    at its top."""
    return FILES.recognize(path)


def open_export(path: str, options: ExportOptions) -> Source:
    return MattermostExportSource(path, options)


MATTERMOST = ExportFormat(name="mattermost", recognize=recognize, open=open_export)
MATTERMOST_JSONL = ContentFormat(name="mattermost", sniff=sniff, read=read_export)
