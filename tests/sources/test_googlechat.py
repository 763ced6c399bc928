"""Google Chat from Google Takeout: messages placed at their space, time,
author and message link."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.googlechat import parse_date, recognize
from tests.tokenfactory import github_style, npm_token


def _creator(name: str) -> dict[str, str]:
    return {"name": name, "email": f"{name.split()[0].lower()}@acme.dev", "user_type": "Human"}


def _takeout(root: Path, tokens: dict[str, str]) -> Path:
    chat = root / "Takeout" / "Google Chat"
    space = chat / "Groups" / "Space AAAAm1Xk2Ps"
    space.mkdir(parents=True)
    (space / "group_info.json").write_text(
        json.dumps({"name": "Release crew", "members": [_creator("Alice Liddell"), _creator("Bob Dobbs")]}, indent=2)
    )
    messages: list[dict[str, Any]] = [
        {
            "creator": _creator("Alice Liddell"),
            "created_date": "Friday, January 2, 2026 at 9:05:07\u202fAM UTC",
            "text": "tonight's release token is below",
            "topic_id": "Qm8n4ZxT1aA",
            "message_id": "AAAAm1Xk2Ps/Qm8n4ZxT1aA/Qm8n4ZxT1aA",
        },
        {
            "creator": _creator("Bob Dobbs"),
            "created_date": "Friday, January 2, 2026 at 1:15:00 PM UTC",
            "text": f"ok:\n{tokens['space']}",
            "topic_id": "Qm8n4ZxT1aA",
            "message_id": "AAAAm1Xk2Ps/Qm8n4ZxT1aA/Zr2d9QyB0cE",
            "attached_files": [{"original_name": "npmrc.txt", "export_name": "File-npmrc.txt"}],
        },
        {
            "creator": _creator("Alice Liddell"),
            "created_date": "Friday, January 2, 2026 at 1:20:00 PM UTC",
            "text": "masked: npm_******************************** ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "topic_id": "Qm8n4ZxT1aA",
            "message_id": "AAAAm1Xk2Ps/Qm8n4ZxT1aA/Lk3j2Hg1Fd0",
        },
    ]
    (space / "messages.json").write_text(json.dumps({"messages": messages}, indent=2))
    (space / "File-npmrc.txt").write_text(f"//registry.npmjs.org/:_authToken={tokens['file']}\n")
    dm = chat / "Groups" / "DM 4zRkWwAAAAE"
    dm.mkdir()
    (dm / "group_info.json").write_text(json.dumps({"members": [_creator("Alice Liddell"), _creator("Carol Danvers")]}))
    (dm / "messages.json").write_text(
        json.dumps(
            {
                "messages": [
                    {
                        "creator": _creator("Carol Danvers"),
                        "created_date": "Saturday, January 3, 2026 at 11:00:00 PM UTC",
                        "text": f"link https://ci.acme.dev/run?token={tokens['dm']}",
                        "annotations": [
                            {
                                "start_index": 5,
                                "length": 40,
                                "url_metadata": {
                                    "title": "CI",
                                    "snippet": "",
                                    "url": {"private_do_not_access_or_else_safe_url_wrapped_value": "https://ci.acme.dev/run"},
                                },
                            }
                        ],
                        "topic_id": "Tt1",
                        "message_id": "4zRkWwAAAAE/Tt1/Tt1",
                    }
                ]
            }
        )
    )
    users = chat / "Users" / "User 1234567890"
    users.mkdir(parents=True)
    (users / "user_info.json").write_text(json.dumps({"user": _creator("Alice Liddell"), "membership_info": []}))
    return root


def _scan(*paths: Path) -> ScanResult:
    return scan(ScanConfig(paths=tuple(str(p) for p in paths)))


def _only(result: ScanResult, secret: str) -> tuple[str, Occurrence]:
    found = [(f.rule_id, o) for f in result.findings if f.secret == secret for o in f.occurrences]
    assert len(found) == 1, found
    return found[0]


def test_a_message_is_placed_at_its_space_time_author_and_link(tmp_path: Path, rng: random.Random) -> None:
    tokens = {"space": github_style("ghp", rng), "file": npm_token(rng), "dm": npm_token(rng)}
    root = _takeout(tmp_path / "takeout-20260201", tokens)
    assert recognize(str(root))
    result = _scan(root)
    assert not result.stats.errors
    assert sorted(f.secret for f in result.findings) == sorted(tokens.values())

    rule, place = _only(result, tokens["space"])
    assert rule == "github-classic-token"
    provenance = place.provenance
    assert provenance.source == "google-chat"
    assert provenance.path == str(root / "Takeout/Google Chat/Groups/Space AAAAm1Xk2Ps/messages.json")
    assert provenance.author == "Bob Dobbs"
    assert provenance.when is not None and provenance.when.isoformat() == "2026-01-02T13:15:00+00:00"
    assert provenance.url == "https://chat.google.com/room/AAAAm1Xk2Ps/Qm8n4ZxT1aA/Zr2d9QyB0cE"
    assert dict(provenance.extra)["space"] == "Release crew"
    assert (place.line, place.column) == (2, 1)

    # A file shared in the space is scanned as a file of the export.
    _, shared = _only(result, tokens["file"])
    assert shared.provenance.path.endswith("Space AAAAm1Xk2Ps/File-npmrc.txt")

    _, dm = _only(result, tokens["dm"])
    assert dict(dm.provenance.extra)["space"] == "DM Alice Liddell, Carol Danvers"
    assert dm.provenance.url == "https://chat.google.com/dm/4zRkWwAAAAE/Tt1/Tt1"


def test_a_takeout_zip_with_a_truncated_messages_file(tmp_path: Path, rng: random.Random) -> None:
    tokens = {"space": github_style("ghp", rng), "file": npm_token(rng), "dm": npm_token(rng)}
    root = _takeout(tmp_path / "t", tokens)
    dm_messages = root / "Takeout/Google Chat/Groups/DM 4zRkWwAAAAE/messages.json"
    dm_messages.write_text(dm_messages.read_text()[:-40])
    archive = tmp_path / "takeout-20260201T000000Z-001.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(root).as_posix())
    assert recognize(str(archive))
    result = _scan(archive)
    [error] = result.stats.errors
    assert error.startswith(f"{archive}!Takeout/Google Chat/Groups/DM 4zRkWwAAAAE/messages.json: truncated JSON")
    _, place = _only(result, tokens["space"])
    assert place.provenance.url == "https://chat.google.com/room/AAAAm1Xk2Ps/Qm8n4ZxT1aA/Zr2d9QyB0cE"
    _, dm = _only(result, tokens["dm"])  # still found, in the text of the broken file
    assert dm.provenance.url is None


def test_takeout_dates() -> None:
    when = parse_date("Thursday, November 3, 2016 at 11:59:50 AM UTC")
    assert when is not None and when.isoformat() == "2016-11-03T11:59:50+00:00"
    when = parse_date("Monday, September 5, 2016 at 12:46:08\u202fAM UTC")
    assert when is not None and when.isoformat() == "2016-09-05T00:46:08+00:00"
    assert parse_date("Unknown Date") is None


def test_other_folders_are_not_google_chat(tmp_path: Path) -> None:
    (tmp_path / "Groups" / "x").mkdir(parents=True)
    (tmp_path / "Groups" / "x" / "messages.json").write_text("{}")
    assert not recognize(str(tmp_path))
