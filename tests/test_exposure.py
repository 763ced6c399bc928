"""Classifying a place: public, internal, private or unknown, with the reason;
and the visibility facts chat sources record from their exports."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from scanner.config import ScanConfig
from scanner.exposure import Audience, PlaceKind, classify, place_kind, place_label
from scanner.model import Provenance, ScanResult
from scanner.pipeline import scan
from tests.tokenfactory import github_style, npm_token


def _provenance(source: str, path: str = "x", **extra: str) -> Provenance:
    return Provenance(source=source, path=path, extra=tuple(extra.items()))


@pytest.mark.parametrize(
    ("provenance", "kind", "audience", "place"),
    [
        (_provenance("slack", "e/releases/2026-01-01.json", channel="#releases", visibility="public"),
         PlaceKind.CHAT, Audience.PUBLIC, "Slack #releases"),
        (_provenance("slack", "e/ops/2026-01-01.json", channel="#ops", visibility="private"),
         PlaceKind.CHAT, Audience.PRIVATE, "Slack #ops"),
        (_provenance("discord", "d.json", guild="Acme", channel="#general"),
         PlaceKind.CHAT, Audience.INTERNAL, "Discord Acme #general"),
        (_provenance("mattermost", "m.jsonl", team="Acme Eng", channel="~releases", visibility="public"),
         PlaceKind.CHAT, Audience.PUBLIC, "Mattermost Acme Eng ~releases"),
        (_provenance("ci-log", "logs/1_build.txt", ci="github-actions", job="build", step="publish"),
         PlaceKind.CI_LOG, Audience.INTERNAL, "github-actions log job build step publish"),
        (_provenance("ci-log", "console.txt"), PlaceKind.CI_LOG, Audience.INTERNAL, "CI log console.txt"),
        (_provenance("confluence", "x.zip!entities.xml", space="REL", page_title="Runbook"),
         PlaceKind.DOCS, Audience.INTERNAL, "Confluence REL Runbook"),
        (_provenance("jira", "SearchRequest.xml", issue="REL-12"), PlaceKind.DOCS, Audience.INTERNAL, "Jira REL-12"),
        (_provenance("doc", "runbook.docx"), PlaceKind.DOCS, Audience.INTERNAL, "doc runbook.docx"),
        (_provenance("git", ".npmrc", repository="/srv/app", state="history-only"),
         PlaceKind.GIT, Audience.UNKNOWN, "git history of /srv/app"),
        (_provenance("file", "deploy/.npmrc"), PlaceKind.FILE, Audience.UNKNOWN, "deploy/.npmrc"),
        (_provenance("stdin", "<stdin>"), PlaceKind.FILE, Audience.UNKNOWN, "<stdin>"),
        # A JSONL record may say where it came from, visibility included.
        (_provenance("jsonl", "wiki/page.html", visibility="public"), PlaceKind.FILE, Audience.PUBLIC, "wiki/page.html"),
    ],
)  # fmt: skip
def test_classify(provenance: Provenance, kind: PlaceKind, audience: Audience, place: str) -> None:
    exposure = classify(provenance)
    assert (exposure.kind, exposure.audience, exposure.place) == (kind, audience, place)
    assert exposure.public is (audience is Audience.PUBLIC)
    assert exposure.reason


def test_reasons_say_why() -> None:
    public = classify(_provenance("slack", channel="#releases", visibility="public"))
    assert public.reason.startswith("a public channel: every member of the workspace can find, read and search it")
    private = classify(_provenance("teams", chat="19:abc", visibility="private"))
    assert private.reason == "a private channel or direct message: only its members can read it"
    unstated = classify(_provenance("slack", channel="#lost"))
    assert "the export does not say whether the channel is public" in unstated.reason
    git = classify(_provenance("git"))
    assert git.reason.startswith("git history: a clone does not say whether the repository is public")


def test_unknown_visibility_values_are_ignored() -> None:
    assert classify(_provenance("slack", channel="#x", visibility="world-readable")).audience is Audience.INTERNAL


def test_place_kind_and_audience_order() -> None:
    assert [place_kind(s) for s in ("git", "ci-log", "google-chat", "notion", "archive-member")] == [
        PlaceKind.GIT, PlaceKind.CI_LOG, PlaceKind.CHAT, PlaceKind.DOCS, PlaceKind.FILE,
    ]  # fmt: skip
    assert sorted(Audience, key=lambda a: a.rank) == [Audience.PUBLIC, Audience.INTERNAL, Audience.PRIVATE, Audience.UNKNOWN]
    assert place_label(_provenance("git")) == "git history"


# ------------------------------------------- visibility read from exports


def _scan(*paths: Path) -> ScanResult:
    result = scan(ScanConfig(paths=tuple(str(p) for p in paths)))
    assert not result.stats.errors
    return result


def _audiences(result: ScanResult) -> dict[str, tuple[str, Audience]]:
    """secret -> (place, audience) for secrets seen once."""
    out = {}
    for finding in result.findings:
        [occurrence] = finding.occurrences
        exposure = classify(occurrence.provenance)
        out[finding.secret] = (exposure.place, exposure.audience)
    return out


def _write(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def test_slack_channels_json_is_public_groups_mpims_dms_private(tmp_path: Path, rng: random.Random) -> None:
    tokens = {name: npm_token(rng) for name in ("public", "private", "mpim", "dm", "slackdump_private", "unlisted")}
    root = tmp_path / "export"
    _write(root / "users.json", [{"id": "U1", "name": "alice"}, {"id": "U2", "name": "bob"}])
    _write(root / "channels.json", [
        {"id": "C1", "name": "releases"},
        # Slackdump lists private channels in channels.json, flagged.
        {"id": "C2", "name": "secops", "is_private": True},
    ])  # fmt: skip
    _write(root / "groups.json", [{"id": "G1", "name": "oncall"}])
    _write(root / "mpims.json", [{"id": "G2", "name": "mpdm-alice--bob-1"}])
    _write(root / "dms.json", [{"id": "D1", "members": ["U1", "U2"]}])
    folders = {"public": "releases", "private": "oncall", "mpim": "mpdm-alice--bob-1", "dm": "D1",
               "slackdump_private": "secops", "unlisted": "orphan"}  # fmt: skip
    for name, folder in folders.items():
        _write(root / folder / "2026-01-01.json", [{"type": "message", "user": "U1", "ts": "1767261600.000100",
                                                    "text": f"token {tokens[name]}"}])  # fmt: skip
    found = _audiences(_scan(root))
    assert found == {
        tokens["public"]: ("Slack #releases", Audience.PUBLIC),
        tokens["private"]: ("Slack #oncall", Audience.PRIVATE),
        tokens["mpim"]: ("Slack group DM mpdm-alice--bob-1", Audience.PRIVATE),
        tokens["dm"]: ("Slack DM alice, bob", Audience.PRIVATE),
        tokens["slackdump_private"]: ("Slack #secops", Audience.PRIVATE),
        # A folder no conversation list names: nothing is claimed.
        tokens["unlisted"]: ("Slack #orphan", Audience.INTERNAL),
    }


def test_mattermost_open_private_and_direct_channels(tmp_path: Path, rng: random.Random) -> None:
    tokens = {name: npm_token(rng) for name in ("open", "private", "direct", "unknown")}

    def line(kind: str, body: dict[str, Any]) -> str:
        return json.dumps({"type": kind, kind: body})

    lines = [
        json.dumps({"type": "version", "version": 1}),
        line("team", {"name": "acme", "display_name": "Acme Eng", "type": "O"}),
        line("channel", {"team": "acme", "name": "releases", "display_name": "Releases", "type": "O"}),
        line("channel", {"team": "acme", "name": "secops", "display_name": "Sec", "type": "P"}),
        line("post", {"team": "acme", "channel": "releases", "user": "bob", "message": tokens["open"], "create_at": 1767348000000}),
        line("post", {"team": "acme", "channel": "secops", "user": "bob", "message": tokens["private"], "create_at": 1767348000000,
                      "replies": [{"user": "alice", "message": "ok", "create_at": 1767348060000}]}),
        line("direct_post", {"channel_members": ["alice", "bob"], "user": "alice", "message": tokens["direct"], "create_at": 1767348000000}),
        line("post", {"team": "acme", "channel": "imported", "user": "bob", "message": tokens["unknown"], "create_at": 1767348000000}),
    ]  # fmt: skip
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _audiences(_scan(path)) == {
        tokens["open"]: ("Mattermost Acme Eng ~releases", Audience.PUBLIC),
        tokens["private"]: ("Mattermost Acme Eng ~secops", Audience.PRIVATE),
        tokens["direct"]: ("Mattermost DM alice, bob", Audience.PRIVATE),
        tokens["unknown"]: ("Mattermost Acme Eng ~imported", Audience.INTERNAL),
    }


def _discord(guild: dict[str, str], channel_type: str, name: str, token: str) -> dict[str, Any]:
    return {
        "guild": guild,
        "channel": {"id": "990011223344556677", "type": channel_type, "category": "", "name": name, "topic": None},
        "messages": [
            {
                "id": "1100000000000000002",
                "type": "Default",
                "timestamp": "2026-01-05T09:31:10+00:00",
                "content": f"token {token}",
                "author": {"id": "1", "name": "bob", "nickname": "bob"},
            },
        ],
        "messageCount": 1,
    }


def test_discord_direct_messages_and_private_threads_are_private(tmp_path: Path, rng: random.Random) -> None:
    tokens = {name: github_style("ghp", rng) for name in ("dm", "thread", "guild")}
    folder = tmp_path / "discord"
    _write(folder / "dm.json", _discord({"id": "0", "name": "Direct Messages"}, "DirectTextChat", "alice", tokens["dm"]))
    _write(folder / "thread.json", _discord({"id": "42", "name": "Acme"}, "GuildPrivateThread", "incident", tokens["thread"]))
    _write(folder / "guild.json", _discord({"id": "42", "name": "Acme"}, "GuildTextChat", "general", tokens["guild"]))
    assert _audiences(_scan(folder)) == {
        tokens["dm"]: ("Discord Direct Messages #alice", Audience.PRIVATE),
        tokens["thread"]: ("Discord Acme #incident", Audience.PRIVATE),
        # Guild permissions are not exported: shown to members, not claimed public.
        tokens["guild"]: ("Discord Acme #general", Audience.INTERNAL),
    }


def test_teams_chats_are_private_channels_are_not_claimed(tmp_path: Path, rng: random.Random) -> None:
    chat_token, channel_token = github_style("ghp", rng), npm_token(rng)

    def message(ident: str, text: str, **where: Any) -> dict[str, Any]:
        return {"id": ident, "createdDateTime": "2026-01-02T10:01:00Z", "from": {"user": {"displayName": "Bob"}},
                "body": {"contentType": "html", "content": f"<p>{text}</p>"}, **where}  # fmt: skip

    chat = _write(tmp_path / "chat.json", [message("1", chat_token, chatId="19:abc@thread.v2")])
    channel = _write(
        tmp_path / "channel.json",
        [message("2", channel_token, chatId=None, channelIdentity={"teamId": "t1", "channelId": "19:rel@thread.tacv2"})],
    )
    assert _audiences(_scan(chat, channel)) == {
        chat_token: ("Microsoft Teams 19:abc@thread.v2", Audience.PRIVATE),
        channel_token: ("Microsoft Teams 19:rel@thread.tacv2", Audience.INTERNAL),
    }


def test_google_chat_direct_messages_are_private(tmp_path: Path, rng: random.Random) -> None:
    dm_token, space_token = npm_token(rng), npm_token(rng)
    groups = tmp_path / "Takeout" / "Google Chat" / "Groups"

    def messages(token: str, group: str) -> dict[str, Any]:
        return {"messages": [{"creator": {"name": "Carol", "email": "carol@acme.dev"}, "text": f"t {token}",
                              "created_date": "Saturday, January 3, 2026 at 11:00:00 PM UTC",
                              "message_id": f"{group}/T1/M1", "topic_id": "T1"}]}  # fmt: skip

    _write(groups / "DM 4zRk" / "group_info.json", {"members": [{"name": "Alice"}, {"name": "Carol"}]})
    _write(groups / "DM 4zRk" / "messages.json", messages(dm_token, "4zRk"))
    _write(groups / "Space AAAA" / "group_info.json", {"name": "Release crew", "members": [{"name": "Alice"}]})
    _write(groups / "Space AAAA" / "messages.json", messages(space_token, "AAAA"))
    assert _audiences(_scan(tmp_path / "Takeout")) == {
        dm_token: ("Google Chat DM Alice, Carol", Audience.PRIVATE),
        space_token: ("Google Chat Release crew", Audience.INTERNAL),
    }
