"""Mattermost bulk exports (JSONL): posts, replies and direct messages placed
at their team, channel, author and time; a bad line is named once."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.mattermost import recognize, sniff
from tests.tokenfactory import github_style, npm_token, pypi_token

T0 = 1767348000000  # 2026-01-02T10:00:00Z in milliseconds


def _line(kind: str, body: Any) -> str:
    return json.dumps({"type": kind, kind: body}, separators=(",", ":"))


def _lines(tokens: dict[str, str]) -> list[str]:
    return [
        json.dumps({"type": "version", "version": 1, "info": {"generator": "mattermost-server", "version": "9.11.0"}}),
        _line("team", {"name": "acme", "display_name": "Acme Eng", "type": "O", "description": "", "allow_open_invite": True}),
        _line("channel", {"team": "acme", "name": "releases", "display_name": "Releases", "type": "O", "header": "", "purpose": "ship"}),
        _line("user", {"username": "alice", "email": "alice@acme.dev", "first_name": "Alice", "last_name": "L", "teams": []}),
        _line("user", {"username": "bob", "email": "bob@acme.dev", "first_name": "Bob", "last_name": "D", "teams": []}),
        _line(
            "post",
            {
                "team": "acme",
                "channel": "releases",
                "user": "alice",
                "type": "",
                "message": "who has the publish token?",
                "props": {},
                "create_at": T0,
                "replies": [
                    {"user": "bob", "message": f"here:\n`{tokens['reply']}`", "create_at": T0 + 60_000},
                    {"user": "alice", "message": "thanks, rotating after", "create_at": T0 + 120_000},
                ],
                "reactions": None,
            },
        ),
        _line(
            "post",
            {
                "team": "acme",
                "channel": "releases",
                "user": "bob",
                "message": "",
                "props": {
                    "attachments": [
                        {"fallback": "CI failed", "title": "CI failed", "fields": [{"title": "token", "value": tokens["card"]}]}
                    ]
                },
                "create_at": T0 + 180_000,
                "edit_at": T0 + 200_000,
            },
        ),
        _line(
            "direct_post",
            {
                "channel_members": ["alice", "bob"],
                "user": "alice",
                "message": f"dm {tokens['dm']}",
                "create_at": T0 + 240_000,
            },
        ),
        _line(
            "post",
            {
                "team": "acme",
                "channel": "releases",
                "user": "bob",
                "message": "masked npm_******************************** ${NPM_TOKEN}",
                "create_at": T0 + 300_000,
            },
        ),
    ]


def _tokens(rng: random.Random) -> dict[str, str]:
    return {"reply": npm_token(rng), "card": github_style("ghp", rng), "dm": pypi_token(rng), "bad": npm_token(rng)}


def _scan(*paths: Path, jobs: int = 1) -> ScanResult:
    return scan(ScanConfig(paths=tuple(str(p) for p in paths), jobs=jobs))


def _only(result: ScanResult, secret: str) -> tuple[str, Occurrence]:
    found = [(f.rule_id, o) for f in result.findings if f.secret == secret for o in f.occurrences]
    assert len(found) == 1, found
    return found[0]


def test_a_reply_is_placed_at_its_team_channel_author_and_time(tmp_path: Path, rng: random.Random) -> None:
    tokens = _tokens(rng)
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(_lines(tokens)) + "\n")
    assert recognize(str(path))
    result = _scan(path)
    assert not result.stats.errors
    assert sorted(f.secret for f in result.findings) == sorted(tokens[k] for k in ("reply", "card", "dm"))

    rule, place = _only(result, tokens["reply"])
    assert rule == "npm-access-token"
    provenance = place.provenance
    assert (provenance.source, provenance.path, provenance.author) == ("mattermost", str(path), "bob")
    assert provenance.when is not None and provenance.when.isoformat() == "2026-01-02T10:01:00+00:00"
    extra = dict(provenance.extra)
    assert (extra["team"], extra["channel"], extra["line"], extra["thread"]) == ("Acme Eng", "~releases", "6", "reply")
    assert (place.line, place.column) == (2, 2)


def test_one_big_file_reads_here_and_matches_on_the_workers(tmp_path: Path, rng: random.Random) -> None:
    tokens = _tokens(rng)
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(_lines(tokens)) + "\n")

    def places(result: ScanResult) -> set[tuple[str, str, int, int]]:
        return {(f.secret, dict(o.provenance.extra)["line"], o.line, o.column) for f in result.findings for o in f.occurrences}

    assert places(_scan(path, jobs=2)) == places(_scan(path))
    assert len(places(_scan(path))) == 3


def test_cards_and_direct_messages(tmp_path: Path, rng: random.Random) -> None:
    tokens = _tokens(rng)
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(_lines(tokens)) + "\n")
    result = _scan(path)
    rule, card = _only(result, tokens["card"])
    assert rule == "github-classic-token"
    assert dict(card.provenance.extra)["edited"] == "2026-01-02T10:03:20+00:00"
    assert (card.line, card.column) == (2, len("token: ") + 1)
    _, dm = _only(result, tokens["dm"])
    assert dict(dm.provenance.extra)["channel"] == "DM alice, bob"
    assert dm.provenance.author == "alice"


def test_a_bad_line_is_named_once_and_the_rest_continues(tmp_path: Path, rng: random.Random) -> None:
    tokens = _tokens(rng)
    lines = _lines(tokens)
    # Line 4 cut short (it still holds a token), line 6 not an object: the rest is read on.
    lines.insert(3, '{"type":"post","post":{"message":"' + tokens["bad"])
    lines.insert(5, "[1, 2]")
    archive = tmp_path / "mattermost_export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("import.jsonl", "\n".join(lines) + "\n")
        zipped.writestr("data/attachments/notes.txt", "nothing here")
    assert recognize(str(archive))
    result = _scan(archive)
    [error] = result.stats.errors
    assert error.startswith(f"{archive}!import.jsonl: 2 lines not in the bulk-export format (line 4: not JSON;")
    assert "Mattermost bulk-export object per line" in error
    _, bad = _only(result, tokens["bad"])
    assert dict(bad.provenance.extra)["line"] == "4"
    _, reply = _only(result, tokens["reply"])
    assert dict(reply.provenance.extra)["line"] == "8"
    assert {f.secret for f in result.findings} == set(tokens.values())


def test_a_jsonl_met_in_a_folder_is_read_as_an_export(tmp_path: Path, rng: random.Random) -> None:
    tokens = _tokens(rng)
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "readme.txt").write_text("weekly export")
    (folder / "mm.jsonl").write_text("\n".join(_lines(tokens)) + "\n")
    assert sniff("mm.jsonl", (folder / "mm.jsonl").read_bytes()[:8192])
    result = _scan(folder)
    _, place = _only(result, tokens["reply"])
    assert place.provenance.source == "mattermost"
    assert dict(place.provenance.extra)["channel"] == "~releases"


def test_other_jsonl_is_not_a_mattermost_export(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "event", "event": {}}\n')
    assert not recognize(str(path))
