"""Slack workspace exports (admin export or Slackdump; folder or zip): each
message read as shown (escaping undone, rich-text blocks joined, attachments
and snippets), matches placed at channel, time, author and permalink.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
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
    read_ahead,
    read_head,
    unix_time,
    zip_head,
    zip_names,
)
from scanner.sources.formats import ContentFormat, ExportFormat, ExportOptions

KIND = "slack"
_DAY = re.compile(r"(?:^|/)([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
_USERS_FILES = ("users.json", "org_users.json")
# Which conversations each list describes; a conversation's folder is named
# after it (a direct message's folder after its id).
_CONVERSATION_FILES = ("channels.json", "groups.json", "mpims.json", "dms.json")
_DAY_EXPECTED = "a Slack day file: a JSON array of messages"

# Slack's control sequences in message text: <@U123>, <#C123|general>,
# <!here>, <!subteam^S1|@team>, <!date^...|fallback>, <https://x|label>.
_CONTROL = re.compile(r"<([^<>\n]*)>")
# What the text form adds around the same words (mrkdwn markers, bullets,
# quote marks, spacing): left out when the two forms are compared.
_SQUASH = str.maketrans("", "", " \t\n\r*_~`>•")
# Workspace host in links of the export itself (JSON may escape the slashes).
_HOST = re.compile(rb"https:(?:\\?/){2}([a-z0-9][a-z0-9-]*(?:\.enterprise)?)\.slack\.com(?:\\?/)(archives|files)?")
_NOT_WORKSPACES = frozenset({b"app", b"api", b"files", b"hooks", b"slack-files", b"status", b"www", b"edgeapi", b"a"})
# How much of the export is read up front to find the workspace host.
_HOST_SAMPLE = 32 << 20


def _squash(text: str) -> str:
    return text.translate(_SQUASH)


def link_text(url: str, label: str | None) -> str:
    """A link as a person reads it: the label, and the target when it says
    more than the label (a token may sit in either)."""
    if not label or label == url:
        return url
    _, colon, rest = url.partition(":")
    if colon and rest.lstrip("/") == label:
        return label
    return f"{label} ({url})"


@dataclass(frozen=True)
class _Conversation:
    """One export folder: its channel id (for permalinks) and how it is shown."""

    folder: str
    id: str | None
    label: str
    # What the export says about who can read it: "public" (channels.json,
    # unless Slackdump marks it is_private) or "private" (groups.json,
    # mpims.json, dms.json); None for a folder no list names.
    visibility: str | None = None


class _Workspace:
    """Names and ids from the export's metadata files, and the host that
    permalinks point to."""

    def __init__(self, users: dict[str, str], channels: dict[str, str], host: str | None) -> None:
        self.users = users
        self.channels = channels  # id -> name, for <#C123> mentions
        self.host = host

    def control(self, match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        head = target[:1]
        if head == "@":
            return "@" + (self.users.get(target[1:]) or label or target[1:])
        if head == "#":
            return "#" + (label or self.channels.get(target[1:]) or target[1:])
        if head == "!":
            if label:
                return label
            command = target[1:].partition("^")[0]
            return "@" + command
        return link_text(target, label)

    def mrkdwn(self, text: str) -> str:
        """Message text as shown: control sequences resolved, entities undone."""
        if "<" in text:
            text = _CONTROL.sub(self.control, text)
        if "&" in text:
            text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return text

    def inline(self, elements: Any, out: list[str]) -> None:
        """Rich-text elements of one section, joined exactly as displayed (a
        token split across styled elements comes out whole)."""
        append = out.append
        for element in elements:
            if type(element) is not dict:
                continue
            kind = element.get("type")
            if kind == "text":
                append(element.get("text") or "")
            elif kind == "link":
                append(link_text(element.get("url") or "", element.get("text")))
            elif kind == "user":
                user = element.get("user_id") or ""
                append("@" + (self.users.get(user) or user))
            elif kind == "emoji":
                append(f":{element.get('name') or ''}:")
            elif kind == "channel":
                channel = element.get("channel_id") or ""
                append("#" + (self.channels.get(channel) or channel))
            elif kind == "usergroup":
                append("@" + (element.get("usergroup_id") or ""))
            elif kind == "broadcast":
                append("@" + (element.get("range") or ""))
            elif kind == "date":
                append(element.get("fallback") or element.get("format") or "")
            elif kind == "color":
                append(element.get("value") or "")
            elif "elements" in element:
                self.inline(element["elements"], out)
            elif isinstance(element.get("text"), str):
                append(element["text"])

    def blocks(self, blocks: Any) -> str:
        # What people type is one rich_text block with one section.
        if len(blocks) == 1:
            block = blocks[0]
            if type(block) is dict and block.get("type") == "rich_text":
                parts = block.get("elements")
                if type(parts) is list and len(parts) == 1:
                    part = parts[0]
                    if type(part) is dict and part.get("type") == "rich_text_section":
                        out: list[str] = []
                        self.inline(part.get("elements") or (), out)
                        return "".join(out).rstrip("\n")
        lines: list[str] = []
        for block in blocks:
            if type(block) is not dict:
                continue
            if block.get("type") == "rich_text":
                for part in block.get("elements") or ():
                    if type(part) is not dict:
                        continue
                    if part.get("type") == "rich_text_list":
                        ordered = part.get("style") == "ordered"
                        number = 0
                        for item in part.get("elements") or ():
                            if type(item) is dict:
                                number += 1
                                out = [f"{number}. " if ordered else "• "]
                                self.inline(item.get("elements") or (), out)
                                lines.append("".join(out))
                    else:
                        out = []
                        self.inline(part.get("elements") or (), out)
                        lines.append("".join(out).rstrip("\n"))
            else:
                # App and bot layouts (section, header, context, fields...):
                # every text they hold.
                _layout_texts(block, lines, self)
        return lines[0] if len(lines) == 1 else join_nonempty(lines)

    def attachment(self, attachment: dict[str, Any]) -> str:
        pieces = [
            self.mrkdwn(value)
            for key in ("pretext", "author_name", "title", "title_link", "text", "footer")
            if isinstance(value := attachment.get(key), str) and value
        ]
        for field in attachment.get("fields") or ():
            if type(field) is dict:
                pieces.append(f"{self.mrkdwn(str(field.get('title') or ''))}: {self.mrkdwn(str(field.get('value') or ''))}")
        for shared in attachment.get("message_blocks") or ():
            message = shared.get("message") if type(shared) is dict else None
            if type(message) is dict and message.get("blocks"):
                pieces.append(self.blocks(message["blocks"]))
        if attachment.get("blocks"):
            pieces.append(self.blocks(attachment["blocks"]))
        seen = _squash("".join(pieces))
        for key in ("fallback", "from_url", "original_url"):
            value = attachment.get(key)
            if isinstance(value, str) and value:
                rendered = self.mrkdwn(value)
                if _squash(rendered) not in seen:
                    pieces.append(rendered)
                    seen += _squash(rendered)
        return join_nonempty(pieces)

    def message(self, message: dict[str, Any]) -> str:
        """Everything a message shows: its body (rich-text blocks when there
        are any; the text too when it holds more), attachments, files."""
        text = message.get("text")
        if not (text and isinstance(text, str)):
            text = ""
        blocks = message.get("blocks")
        if blocks and type(blocks) is list:
            body = self.blocks(blocks)
            # The text usually repeats the blocks (with mrkdwn markers); it
            # is kept only when it says something the blocks do not.
            if text and text != body:
                rendered = self.mrkdwn(text)
                if rendered != body and _squash(rendered) not in _squash(body):
                    body = f"{body}\n{rendered}" if body else rendered
        else:
            body = self.mrkdwn(text) if text else ""
        attachments = message.get("attachments")
        files = message.get("files")
        if not (attachments or files or "message" in message or "previous_message" in message):
            return body
        parts = [body]
        if attachments and type(attachments) is list:
            parts.extend(self.attachment(a) for a in attachments if type(a) is dict)
        if files and type(files) is list:
            parts.extend(_file_text(f) for f in files if type(f) is dict)
        for key in ("message", "previous_message"):  # message_changed events
            inner = message.get(key)
            if type(inner) is dict:
                parts.append(self.message(inner))
        return join_nonempty(parts)


def _layout_texts(node: Any, out: list[str], workspace: _Workspace) -> None:
    if type(node) is dict:
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                out.append(workspace.mrkdwn(value) if node.get("type") != "plain_text" else value)
            elif key in ("alt_text", "title", "fallback") and isinstance(value, str):
                out.append(value)
            elif isinstance(value, dict | list):
                _layout_texts(value, out, workspace)
    elif type(node) is list:
        for item in node:
            _layout_texts(item, out, workspace)


def _file_text(shared: dict[str, Any]) -> str:
    """A shared file as the message shows it: its name and title, and the
    content the export carries (snippet and post previews, email bodies)."""
    pieces: list[str] = []
    name = shared.get("name")
    title = shared.get("title")
    for value in (title, name if name != title else None, shared.get("subject")):
        if isinstance(value, str) and value:
            pieces.append(value)
    preview = shared.get("preview")
    plain = shared.get("plain_text")
    if isinstance(plain, str) and plain:
        pieces.append(plain)
    if isinstance(preview, str) and preview and not (isinstance(plain, str) and preview in plain):
        pieces.append(preview)
    comment = shared.get("initial_comment")
    if type(comment) is dict and isinstance(comment.get("comment"), str):
        pieces.append(comment["comment"])
    return join_nonempty(pieces)


def _user_name(record: dict[str, Any]) -> str | None:
    profile = as_dict(record.get("profile"))
    for value in (
        record.get("real_name"),
        profile.get("real_name"),
        profile.get("display_name"),
        record.get("name"),
    ):
        if isinstance(value, str) and value:
            return value
    return None


def _root_prefix(names: list[str]) -> str:
    """The folder inside a zip that holds the export (re-zipped exports
    often wrap it in one), "" when it sits at the top."""
    best: str | None = None
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base in _USERS_FILES or base in _CONVERSATION_FILES:
            prefix = name[: len(name) - len(base)]
            if prefix.count("/") <= 1 and (best is None or len(prefix) < len(best)):
                best = prefix
    return best or ""


def _host_from_name(path: str) -> str | None:
    """``Acme Corp Slack export Jan 1 2026 - Feb 1 2026.zip`` -> acme-corp."""
    stem = os.path.basename(os.path.normpath(path))
    if stem.lower().endswith(".zip"):
        stem = stem[:-4]
    lowered = stem.lower()
    cut = lowered.find(" slack export")
    if cut > 0:
        lowered = lowered[:cut]
    slug = re.sub(r"[^a-z0-9]+", "-", lowered).strip("-")
    return f"{slug}.slack.com" if slug else None


def find_host(samples: Iterator[bytes]) -> str | None:
    """The workspace host most links in the export point to; a file's or
    message's own permalink (``/files/``, ``/archives/``) counts most."""
    votes: Counter[bytes] = Counter()
    for data in samples:
        if b".slack.com" not in data:
            continue
        for match in _HOST.finditer(data):
            name = match.group(1)
            if name not in _NOT_WORKSPACES:
                votes[name] += 10 if match.group(2) else 1
        if votes and votes.most_common(1)[0][1] >= 10:
            break
    return votes.most_common(1)[0][0].decode() + ".slack.com" if votes else None


# Day files of one conversation are read together up to about this many
# bytes: a unit of work for one process.
_UNIT_BYTES = 8 << 20


@dataclass(frozen=True)
class _Plan:
    workspace: _Workspace
    conversations: dict[str, _Conversation]


class SlackExportSource(ChatExportSource):
    """A Slack export folder or zip."""

    kind = KIND

    def plan(self, tree: ExportTree, stats: SourceStats) -> tuple[_Plan, list[Unit]]:
        names = tree.names(stats)
        prefix = _root_prefix(names)
        metadata: dict[str, str] = {}
        day_files: list[tuple[str, str]] = []  # (name, conversation folder)
        others: list[str] = []
        for name in names:
            relative = name[len(prefix) :] if name.startswith(prefix) else None
            if relative is not None and (relative in _USERS_FILES or relative in _CONVERSATION_FILES):
                metadata[relative] = name
                others.append(name)
                continue
            day = _DAY.search(name)
            if day is not None and relative is not None and relative.count("/") == 1:
                day_files.append((name, day.group(1)))
            else:
                others.append(name)
        if names and not day_files and not metadata:
            stats.error(
                f"{self.path}: not a Slack export (expected users.json, channels.json"
                " and a folder of YYYY-MM-DD.json files per channel)"
            )
        workspace, conversations = self._metadata(tree, metadata, day_files, stats)
        units: list[Unit] = []
        group: list[str] = []
        size = 0
        current = None
        for name, folder in day_files:
            if group and (folder != current or size >= _UNIT_BYTES):
                units.append(Unit(tuple(group), current, size))
                group, size = [], 0
            current = folder
            group.append(name)
            size += tree.size(name)
        if group:
            units.append(Unit(tuple(group), current, size))
        # Files that hold no messages (metadata, integration logs, files
        # Slackdump saved) are scanned as they are.
        units.extend(Unit((name,)) for name in others)
        return _Plan(workspace, conversations), units

    def unit_chunks(self, tree: ExportTree, context: _Plan, unit: Unit, stats: SourceStats) -> Iterator[Chunk]:
        if unit.info is None:
            for name in unit.names:
                data = tree.read(name, stats)
                if data is not None:
                    yield from plain_chunks(data, tree.display(name), KIND, stats)
            return
        folder = unit.info
        conversation = context.conversations.get(folder) or _Conversation(folder, None, f"#{folder}")
        files = read_ahead(tree, unit.names, stats)
        yield from _day_chunks(files, tree.display(unit.names[0].rsplit("/", 1)[0]) + "/", context.workspace,
                               conversation, stats)

    def _metadata(
        self,
        tree: ExportTree,
        files: dict[str, str],
        day_files: list[tuple[str, str]],
        stats: SourceStats,
    ) -> tuple[_Workspace, dict[str, _Conversation]]:
        """Users, conversations and the workspace host."""
        users: dict[str, str] = {}
        for base in _USERS_FILES:
            for record in _records(tree, files.get(base), "a JSON array of users", stats):
                name = _user_name(record)
                if isinstance(record.get("id"), str) and name:
                    users[record["id"]] = name
        channels: dict[str, str] = {}
        conversations: dict[str, _Conversation] = {}
        for base in _CONVERSATION_FILES:
            for record in _records(tree, files.get(base), "a JSON array of conversations", stats):
                ident = record.get("id") if isinstance(record.get("id"), str) else None
                name = record.get("name") if isinstance(record.get("name"), str) else None
                if base == "dms.json":
                    members = [users.get(m, m) for m in record.get("members") or () if isinstance(m, str)]
                    folder = ident
                    label = "DM " + ", ".join(members) if members else f"DM {ident}"
                else:
                    folder = name
                    label = f"#{name}" if base in ("channels.json", "groups.json") else f"group DM {name}"
                public = base == "channels.json" and record.get("is_private") is not True
                if folder:
                    conversations[folder] = _Conversation(folder, ident, label, "public" if public else "private")
                if ident and name:
                    channels[ident] = name
        host = find_host(_samples(tree, day_files)) or _host_from_name(self.path)
        return _Workspace(users, channels, host), conversations


def _day_chunks(
    files: Iterable[tuple[str, bytes | None]],
    folder: str,
    workspace: _Workspace,
    conversation: _Conversation,
    stats: SourceStats,
) -> Iterator[Chunk]:
    """The messages of some day files of one conversation, joined in chunks."""

    def provenance(key: tuple[str, dict[str, Any]]) -> Provenance:
        return _provenance(workspace, conversation, *key)

    chunks: MessageChunks[tuple[str, dict[str, Any]]] = MessageChunks(provenance)
    whole = Provenance(source=KIND, path=folder, extra=(("channel", conversation.label),))
    render = workspace.message
    for display, data in files:
        if data is None:
            continue
        messages = parse_json(data, display, _DAY_EXPECTED, stats)
        if not isinstance(messages, list):
            if messages is not None:
                stats.error(
                    f"{display}: expected {_DAY_EXPECTED}, found a JSON {type(messages).__name__};"
                    " scanned as plain text"
                )
            yield from plain_chunks(data, display, KIND, stats, formats=False)
            continue
        stats.scanned(len(data))
        for message in messages:
            if type(message) is dict:
                chunks.add(render(message), (display, message))
        yield from chunks.ready(whole)
    yield from chunks.rest(whole)


def sniff_day(display: str, head: bytes) -> bool:
    """A Slack day file met outside a recognised export (a folder of old
    exports, an archive member): ``<channel>/YYYY-MM-DD.json`` holding an
    array of messages."""
    if _DAY.search(display.replace("\\", "/")) is None:
        return False
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return start.startswith(b"[") and b'"ts"' in head and b'"type"' in head


def read_day(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """A lone day file: messages rendered as in an export, but without the
    export's names (users show as ids) or permalinks."""
    day = _DAY.search(display.replace("\\", "/"))
    folder = day.group(1) if day else ""
    conversation = _Conversation(folder, None, f"#{folder}")
    yield from _day_chunks([(display, data)], display, _Workspace({}, {}, None), conversation, stats)


def _records(tree: ExportTree, name: str | None, expected: str, stats: SourceStats) -> list[dict[str, Any]]:
    """The objects of a metadata file. What is wrong with it is reported
    when the file is scanned as text (quietly here: it is read twice)."""
    if name is None:
        return []
    data = tree.read(name, SourceStats())
    parsed = parse_json(data, tree.display(name), expected, SourceStats()) if data is not None else None
    if data is not None and not isinstance(parsed, list):
        problem = f"found a JSON {type(parsed).__name__}" if parsed is not None else "it does not parse"
        stats.error(f"{tree.display(name)}: expected {expected}, but {problem}; names and permalinks may be missing")
    if not isinstance(parsed, list):
        return []
    return [record for record in parsed if type(record) is dict]


def _samples(tree: ExportTree, day_files: list[tuple[str, str]]) -> Iterator[bytes]:
    budget = _HOST_SAMPLE
    for name, _ in day_files:
        if budget <= 0:
            return
        data = tree.read(name, SourceStats())
        if data is not None:
            budget -= len(data)
            yield data


def slack_time(ts: object) -> datetime | None:
    """A Slack ``ts`` ("1700000000.000100": seconds, then a per-second
    sequence in the place of microseconds) as a UTC datetime."""
    if not isinstance(ts, str):
        return unix_time(ts)
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return None
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC).replace(microsecond=int(fraction[:6].ljust(6, "0")))
    except (ValueError, OverflowError, OSError):
        return None


def _provenance(workspace: _Workspace, conversation: _Conversation, display: str, message: dict[str, Any]) -> Provenance:
    ts = str(message.get("ts") or "")
    thread = str(message.get("thread_ts") or "")
    user = message.get("user") if isinstance(message.get("user"), str) else None
    profile = as_dict(message.get("user_profile"))
    bot = as_dict(message.get("bot_profile"))
    author = (
        (workspace.users.get(user) if user else None)
        or _user_name(profile)
        or (message.get("username") if isinstance(message.get("username"), str) else None)
        or bot.get("name")
        or user
    )
    url = None
    if workspace.host and conversation.id and ts:
        url = f"https://{workspace.host}/archives/{conversation.id}/p{ts.replace('.', '')}"
        if thread and thread != ts:
            url += f"?thread_ts={thread}&cid={conversation.id}"
    extra: list[tuple[str, str]] = [("channel", conversation.label), ("ts", ts)]
    if conversation.visibility:
        extra.append(("visibility", conversation.visibility))
    if thread and thread != ts:
        extra.append(("thread_ts", thread))
    edited = message.get("edited")
    if type(edited) is dict and (when := slack_time(edited.get("ts"))) is not None:
        extra.append(("edited", when.isoformat()))
    if isinstance(message.get("subtype"), str):
        extra.append(("subtype", message["subtype"]))
    return Provenance(
        source=KIND,
        path=display,
        author=author,
        when=slack_time(ts),
        url=url,
        extra=tuple(extra),
    )


def recognize(path: str) -> bool:
    """A folder or zip with users.json and a conversation list at its top
    (or one folder down), or whose folders hold YYYY-MM-DD.json arrays."""
    try:
        if os.path.isdir(path):
            entries = set(os.listdir(path))
            if entries & set(_USERS_FILES) and entries & set(_CONVERSATION_FILES):
                return True
            for entry in sorted(entries)[:50]:
                folder = os.path.join(path, entry)
                if not os.path.isdir(folder):
                    continue
                days = sorted(f for f in os.listdir(folder) if _DAY.search(f"{entry}/{f}"))
                if days:
                    return read_head(os.path.join(folder, days[0]), 64).lstrip().startswith(b"[")
            return False
        if is_zip(path):
            names = zip_names(path)
            prefix = _root_prefix(names)
            top = {n[len(prefix) :] for n in names if n.startswith(prefix) and "/" not in n[len(prefix) :]}
            if top & set(_USERS_FILES) and top & set(_CONVERSATION_FILES):
                return True
            day = next((n for n in names if _DAY.search(n) and n.count("/") <= 2), None)
            return day is not None and zip_head(path, day, 64).lstrip().startswith(b"[")
    except OSError:
        return False
    return False


def open_export(path: str, options: ExportOptions) -> Source:
    return SlackExportSource(path, options)


SLACK = ExportFormat(name="slack", recognize=recognize, open=open_export)
SLACK_DAY = ContentFormat(name="slack", sniff=sniff_day, read=read_day)
