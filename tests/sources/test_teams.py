"""Microsoft Teams message exports: HTML bodies read as text (a token split
by markup is found whole), matches placed at chat, time, author and link."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.teams import recognize, sniff
from tests.tokenfactory import github_style, npm_token, pypi_token

CHAT = "19:7d1e6b0f3c2a4e5b9a8c@thread.v2"


def _message(ident: str, when: str, who: str, html: str, **more: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": ident,
        "replyToId": None,
        "etag": ident,
        "messageType": "message",
        "createdDateTime": when,
        "lastModifiedDateTime": when,
        "lastEditedDateTime": None,
        "deletedDateTime": None,
        "subject": None,
        "summary": None,
        "chatId": CHAT,
        "importance": "normal",
        "locale": "en-us",
        "webUrl": None,
        "channelIdentity": None,
        "policyViolation": None,
        "eventDetail": None,
        "from": {
            "application": None,
            "device": None,
            "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": "a1b2", "displayName": who},
        },
        "body": {"contentType": "html", "content": html},
        "attachments": [],
        "mentions": [],
        "reactions": [],
    }
    message.update(more)
    return message


def _scan(*paths: Path) -> ScanResult:
    return scan(ScanConfig(paths=tuple(str(p) for p in paths)))


def _only(result: ScanResult, secret: str) -> tuple[str, Occurrence]:
    found = [(f.rule_id, o) for f in result.findings if f.secret == secret for o in f.occurrences]
    assert len(found) == 1, found
    return found[0]


def test_a_token_split_by_html_spans_is_found_at_its_message(tmp_path: Path, rng: random.Random) -> None:
    split, entity, card = github_style("ghp", rng), npm_token(rng), pypi_token(rng)
    cut = 11
    messages = [
        _message("1767348000000", "2026-01-02T10:00:00.000Z", "Alice Liddell", "<p>who has the token?</p>"),
        _message(
            "1767348060000",
            "2026-01-02T10:01:00.000Z",
            "Bob Dobbs",
            f'<div><div>here you go<br><span style="color:red">{split[:cut]}</span><span>{split[cut:]}</span></div></div>',
            lastEditedDateTime="2026-01-02T10:05:00.000Z",
        ),
        _message(
            "1767348120000",
            "2026-01-02T10:02:00.000Z",
            "Alice Liddell",
            f"<p>in code: <code>NPM_TOKEN=&quot;{entity}&quot;</code></p>",
            webUrl="https://teams.microsoft.com/l/message/19%3Aabc/1767348120000?context=%7B%7D",
        ),
        _message(
            "1767348180000",
            "2026-01-02T10:03:00.000Z",
            "CI Bot",
            '<attachment id="c1"></attachment>',
            attachments=[
                {
                    "id": "c1",
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": json.dumps(
                        {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": f"PYPI_TOKEN={card}"}]}
                    ),
                }
            ],
        ),
        _message(
            "1767348240000",
            "2026-01-02T10:04:00.000Z",
            "Alice Liddell",
            "<p>masked npm_******************************** and ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX</p>",
        ),
    ]
    path = tmp_path / "teams-export" / "release-chat.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('x')/messages", "value": messages}))
    assert recognize(str(path.parent))
    result = _scan(path.parent)
    assert not result.stats.errors
    assert sorted(f.secret for f in result.findings) == sorted([split, entity, card])

    rule, place = _only(result, split)
    assert rule == "github-classic-token"
    provenance = place.provenance
    assert (provenance.source, provenance.path, provenance.author) == ("teams", str(path), "Bob Dobbs")
    assert provenance.when is not None and provenance.when.isoformat() == "2026-01-02T10:01:00+00:00"
    assert provenance.url == "https://teams.microsoft.com/l/message/19%3A7d1e6b0f3c2a4e5b9a8c%40thread.v2/1767348060000"
    extra = dict(provenance.extra)
    assert (extra["chat"], extra["edited"]) == (CHAT, "2026-01-02T10:05:00+00:00")
    assert (place.line, place.column) == (2, 1)

    _, place = _only(result, entity)
    assert place.provenance.url == "https://teams.microsoft.com/l/message/19%3Aabc/1767348120000?context=%7B%7D"
    _, place = _only(result, card)
    assert place.provenance.author == "CI Bot"


def test_channel_replies_are_their_own_messages(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    reply = _message("1767349000000", "2026-01-02T10:16:40Z", "Carol Danvers", f"<p>{token}</p>", chatId=None)
    reply["channelIdentity"] = {"teamId": "team-1", "channelId": "19:releases@thread.tacv2"}
    parent = _message("1767348999000", "2026-01-02T10:16:39Z", "Alice Liddell", "<p>token?</p>", chatId=None)
    parent["channelIdentity"] = reply["channelIdentity"]
    parent["replies"] = [reply]
    path = tmp_path / "channel.json"
    path.write_text(json.dumps([parent]))
    rule, place = _only(_scan(path), token)
    assert rule == "npm-access-token"
    extra = dict(place.provenance.extra)
    assert (extra["channel"], extra["reply_to"]) == ("19:releases@thread.tacv2", "1767348999000")
    assert place.provenance.author == "Carol Danvers"


def test_the_export_your_data_layout(tmp_path: Path, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    document = {
        "userId": "8:live:alice",
        "exportDate": "2026-02-01T00:00",
        "conversations": [
            {
                "id": "19:abc@thread.skype",
                "displayName": "Release crew",
                "version": 1,
                "properties": {},
                "threadProperties": {},
                "MessageList": [
                    {
                        "id": "1767348000000",
                        "displayName": "Alice Liddell",
                        "originalarrivaltime": "2026-01-02T10:00:00.000Z",
                        "messagetype": "RichText/Html",
                        "version": 1767348000000,
                        "content": f"<b>{token[:6]}</b>{token[6:]}",
                        "conversationid": "19:abc@thread.skype",
                        "from": "8:live:alice",
                        "properties": None,
                        "amsreferences": None,
                    }
                ],
            }
        ],
    }
    path = tmp_path / "messages.json"
    path.write_text(json.dumps(document))
    assert sniff(str(path), path.read_bytes()[:8192])
    _, place = _only(_scan(path), token)
    assert dict(place.provenance.extra)["chat"] == "Release crew"
    assert place.provenance.author == "Alice Liddell"
    assert place.provenance.when is not None and place.provenance.when.isoformat() == "2026-01-02T10:00:00+00:00"


def test_a_file_of_unknown_shape_is_named_and_scanned_as_text(tmp_path: Path, rng: random.Random) -> None:
    token, other = npm_token(rng), npm_token(rng)
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps([_message("1", "2026-01-02T10:00:00Z", "A", f"<p>{other}</p>")]))
    (folder / "b.json").write_text(
        json.dumps({"createdDateTime": "x", "body": {"contentType": "html"}, "note": token})
    )
    result = _scan(folder)
    [error] = result.stats.errors
    assert str(folder / "b.json") in error and "Graph chatMessage" in error
    assert {f.secret for f in result.findings} == {token, other}
