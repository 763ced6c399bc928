"""DiscordChatExporter JSON exports: content and embeds of each message,
placed at guild, channel, time, author and discord.com permalink."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.discord import recognize, sniff
from tests.tokenfactory import github_style, npm_token

GUILD, CHANNEL = "880011223344556677", "990011223344556677"


def _author(name: str, nickname: str | None = None) -> dict[str, Any]:
    return {
        "id": str(10**17 + sum(map(ord, name))),
        "name": name,
        "discriminator": "0000",
        "nickname": nickname or name,
        "color": None,
        "isBot": False,
        "roles": [],
        "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
    }


def _message(ident: str, when: str, author: dict[str, Any], content: str, **more: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": ident,
        "type": "Default",
        "timestamp": when,
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": author,
        "attachments": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": [],
    }
    message.update(more)
    return message


def _export(guild_id: str, guild_name: str, channel_name: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "guild": {"id": guild_id, "name": guild_name, "iconUrl": "https://cdn.discordapp.com/icons/x.png"},
        "channel": {
            "id": CHANNEL,
            "type": "GuildTextChat",
            "categoryId": "770011223344556677",
            "category": "Engineering",
            "name": channel_name,
            "topic": "release coordination",
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2026-02-01T12:00:00+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }


def _scan(*paths: Path, jobs: int = 1) -> ScanResult:
    return scan(ScanConfig(paths=tuple(str(p) for p in paths), jobs=jobs))


def _only(result: ScanResult, secret: str) -> tuple[str, Occurrence]:
    found = [(f.rule_id, o) for f in result.findings if f.secret == secret for o in f.occurrences]
    assert len(found) == 1, found
    return found[0]


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    return path


def test_content_and_embeds_are_placed_at_their_message(tmp_path: Path, rng: random.Random) -> None:
    in_content, in_embed = npm_token(rng), github_style("ghp", rng)
    messages = [
        _message("1100000000000000001", "2026-01-05T09:30:00.123+00:00", _author("alice", "Alice"), "morning"),
        _message(
            "1100000000000000002",
            "2026-01-05T09:31:10+00:00",
            _author("bob"),
            f"publish with\n{in_content}",
            timestampEdited="2026-01-05T09:35:00+00:00",
        ),
        _message(
            "1100000000000000003",
            "2026-01-05T09:40:00+00:00",
            _author("ci-bot"),
            "",
            embeds=[
                {
                    "title": "Release failed",
                    "url": "https://ci.acme.dev/run/7",
                    "timestamp": None,
                    "description": "step publish exited 1",
                    "color": "#FF0000",
                    "fields": [{"name": "GH_TOKEN", "value": in_embed, "isInline": False}],
                    "footer": {"text": "ci"},
                }
            ],
        ),
        _message(
            "1100000000000000004",
            "2026-01-05T09:41:00+00:00",
            _author("alice", "Alice"),
            "masked npm_******************************** and ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        ),
    ]
    path = _write(tmp_path / "export" / "Acme - releases [990011223344556677].json", _export(GUILD, "Acme", "releases", messages))
    result = _scan(path.parent)
    assert not result.stats.errors
    assert sorted(f.secret for f in result.findings) == sorted([in_content, in_embed])

    rule, place = _only(result, in_content)
    assert rule == "npm-access-token"
    assert place.provenance.source == "discord"
    assert place.provenance.path == str(path)
    assert place.provenance.author == "bob"
    assert place.provenance.when is not None and place.provenance.when.isoformat() == "2026-01-05T09:31:10+00:00"
    assert place.provenance.url == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1100000000000000002"
    extra = dict(place.provenance.extra)
    assert (extra["guild"], extra["channel"], extra["edited"]) == ("Acme", "#releases", "2026-01-05T09:35:00+00:00")
    assert (place.line, place.column) == (2, 1)

    rule, place = _only(result, in_embed)
    assert rule == "github-classic-token"
    assert place.provenance.url == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1100000000000000003"
    # title, url, description, then the field
    assert (place.line, place.column) == (4, len("GH_TOKEN: ") + 1)


def test_a_single_export_file_and_a_direct_message(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    messages = [_message("42", "2026-01-06T10:00:00+00:00", _author("carol", "Carol"), f"here {token}")]
    path = _write(tmp_path / "Direct Messages - carol.json", _export("0", "Direct Messages", "carol", messages))
    assert sniff(str(path), path.read_bytes()[:8192])
    rule, place = _only(_scan(path), token)
    assert rule == "npm-access-token"
    assert place.provenance.url == f"https://discord.com/channels/@me/{CHANNEL}/42"
    assert place.provenance.author == "Carol"


def test_a_zip_of_exports_and_a_broken_file(tmp_path: Path, rng: random.Random) -> None:
    good, in_broken = npm_token(rng), github_style("ghp", rng)
    first = json.dumps(_export(GUILD, "Acme", "a", [_message("1", "2026-01-06T10:00:00Z", _author("d"), good)]))
    broken = json.dumps(_export(GUILD, "Acme", "b", [_message("2", "2026-01-06T10:00:00Z", _author("d"), in_broken)]))
    archive = tmp_path / "discord.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Acme - a [1].json", first)
        zipped.writestr("Acme - b [2].json", broken[: broken.index(in_broken) + len(in_broken) + 3])
    assert recognize(str(archive))
    result = _scan(archive)
    [error] = result.stats.errors
    assert f"{archive}!Acme - b [2].json" in error and "truncated JSON" in error and "DiscordChatExporter" in error
    _, place = _only(result, good)
    assert place.provenance.path == f"{archive}!Acme - a [1].json"
    # What the broken file holds is still scanned, as text.
    _, place = _only(result, in_broken)
    assert place.provenance.url is None


def test_other_json_is_not_a_discord_export(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "guild": {}}')
    assert not recognize(str(tmp_path))
    assert not sniff("data.json", b'{"channel": 1, "guild": 2}')
