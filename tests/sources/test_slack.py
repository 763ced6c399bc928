"""Slack workspace exports: messages read as shown, matches placed at their
channel, time, author and permalink; bad files reported and skipped over."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest

from scanner.config import ScanConfig
from scanner.model import Occurrence, ScanResult
from scanner.pipeline import scan
from scanner.sources.slack import link_text, recognize, slack_time, sniff_day
from tests.tokenfactory import github_style, npm_token, pypi_token

ALICE, BOB = "U04ALICE01", "U04BOB0002"
RELEASES, OPS, DM = "C05RELEASE", "C05OPS0001", "D06DIRECT1"
DAY = 1767261600  # 2026-01-01T10:00:00Z


def _ts(offset: int, sequence: int = 100) -> str:
    return f"{DAY + offset}.{sequence:06d}"


def _rich(*elements: dict[str, Any], kind: str = "rich_text_section") -> list[dict[str, Any]]:
    return [{"type": "rich_text", "block_id": "b1", "elements": [{"type": kind, "elements": list(elements)}]}]


def _text(text: str, **style: bool) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "text", "text": text}
    if style:
        element["style"] = style
    return element


def _message(user: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "user": user,
        "ts": ts,
        "client_msg_id": f"00000000-0000-4000-8000-{ts.replace('.', '')[-12:]}",
        "text": text,
        "team": "T01ACME",
        "user_profile": {"real_name": "someone else", "display_name": "x"},
    }
    if blocks is not None:
        message["blocks"] = blocks
    message.update(more)
    return message


def _dump(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Slack writes "\/" for "/" in every string.
    path.write_text(json.dumps(value, indent=4).replace("/", "\\/"))


class Export:
    """A small export written the way Slack's admin export lays it out."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.tokens = {
            "plain": npm_token(rng),
            "split": github_style("ghp", rng),
            "escaped": npm_token(rng),
            "url": npm_token(rng),
            "reply": pypi_token(rng),
            "edited": github_style("ghp", rng),
            "snippet": npm_token(rng),
            "attachment": github_style("ghp", rng),
            "dm": npm_token(rng),
            "ops": github_style("ghp", rng),
        }
        t = self.tokens
        cut = 9
        self.releases_day1 = [
            _message(
                ALICE,
                _ts(0),
                f"token for tonight: {t['plain']} <@{BOB}> please publish",
                _rich(
                    _text("token for tonight: "),
                    _text(t["plain"]),
                    _text(" "),
                    {"type": "user", "user_id": BOB},
                    _text(" please publish"),
                ),
                files=[
                    {
                        "id": "F07NOTES01",
                        "name": "notes.txt",
                        "title": "notes",
                        "mode": "hosted",
                        "permalink": "https://acme-eng.slack.com/files/U04ALICE01/F07NOTES01/notes.txt",
                    }
                ],
            ),
            # Part of the token in bold: the text reads "*ghp_abcde*fgh...".
            _message(
                BOB,
                _ts(60),
                f"new one: *{t['split'][:cut]}*{t['split'][cut:]}",
                _rich(_text("new one: "), _text(t["split"][:cut], bold=True), _text(t["split"][cut:])),
            ),
            # No blocks (an old message or a bot): the escaped text is all there is.
            _message(ALICE, _ts(120), f"use &lt;{t['escaped']}&gt; &amp; nothing else"),
            _message(
                ALICE,
                _ts(180),
                f"<https://ci.acme.dev/release?token={t['url']}|the release link>",
                _rich({"type": "link", "url": f"https://ci.acme.dev/release?token={t['url']}", "text": "the release link"}),
            ),
            _message(
                BOB,
                _ts(240),
                "sorry, wrong paste",
                _rich(_text("sorry, wrong paste")),
                thread_ts=_ts(0),
                parent_user_id=ALICE,
            ),
            _message(
                BOB,
                _ts(300),
                f"here: {t['reply']}",
                _rich(_text("here: "), _text(t["reply"], code=True)),
                thread_ts=_ts(0),
                parent_user_id=ALICE,
            ),
            _message(
                ALICE,
                _ts(360),
                f"fixed {t['edited']}",
                _rich(_text("fixed "), _text(t["edited"])),
                edited={"user": ALICE, "ts": _ts(420, 0)},
            ),
            _message(
                ALICE,
                _ts(480),
                "my .npmrc",
                _rich(_text("my .npmrc")),
                files=[
                    {
                        "id": "F07SNIPPET",
                        "name": "npmrc",
                        "title": ".npmrc",
                        "mode": "snippet",
                        "filetype": "text",
                        "preview": f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={t['snippet']}\n",
                        "lines": 2,
                        "lines_more": 0,
                    }
                ],
            ),
            _message(
                BOB,
                _ts(540),
                "",
                bot_id="B01CI",
                attachments=[
                    {
                        "fallback": "Build 412 failed",
                        "title": "Build 412 failed",
                        "fields": [{"title": "GH_TOKEN", "value": t["attachment"], "short": False}],
                    }
                ],
            ),
            _message(
                ALICE,
                _ts(600),
                "masked: npm_******************************** and ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX ${NPM_TOKEN}",
                _rich(
                    _text("masked: npm_******************************** and ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX ${NPM_TOKEN}")
                ),
            ),
        ]

    def write(self) -> Path:
        root = self.root
        _dump(
            root / "users.json",
            [
                {"id": ALICE, "name": "alice", "real_name": "Alice Liddell", "profile": {"display_name": "alice"}},
                {"id": BOB, "name": "bob", "real_name": "Bob Dobbs", "profile": {"display_name": "bob"}},
            ],
        )
        _dump(
            root / "channels.json",
            [
                {"id": RELEASES, "name": "releases", "topic": {"value": ""}, "purpose": {"value": "ship it"}},
                {"id": OPS, "name": "ops", "topic": {"value": ""}, "purpose": {"value": ""}},
            ],
        )
        _dump(root / "dms.json", [{"id": DM, "members": [ALICE, BOB]}])
        _dump(root / "integration_logs.json", [])
        _dump(root / "releases" / "2026-01-01.json", self.releases_day1)
        _dump(
            root / "ops" / "2026-01-02.json",
            [_message(BOB, _ts(86400), f"ops key {self.tokens['ops']}", _rich(_text(f"ops key {self.tokens['ops']}")))],
        )
        _dump(
            root / DM / "2026-01-03.json",
            [_message(ALICE, _ts(2 * 86400), f"dm {self.tokens['dm']}", _rich(_text(f"dm {self.tokens['dm']}")))],
        )
        return root


def _scan(*paths: Path | str, jobs: int = 1) -> ScanResult:
    return scan(ScanConfig(paths=tuple(str(p) for p in paths), jobs=jobs))


def _places(result: ScanResult, secret: str) -> list[Occurrence]:
    return [o for f in result.findings if f.secret == secret for o in f.occurrences]


def _only(result: ScanResult, secret: str) -> tuple[str, Occurrence]:
    found = [(f.rule_id, o) for f in result.findings if f.secret == secret for o in f.occurrences]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture()
def export(tmp_path: Path, rng: random.Random) -> Export:
    built = Export(tmp_path / "Acme Slack export Jan 1 2026 - Feb 1 2026", rng)
    built.write()
    return built


def test_a_planted_token_is_placed_at_channel_time_user_and_permalink(export: Export) -> None:
    result = _scan(export.root)
    assert not result.stats.errors
    rule, place = _only(result, export.tokens["plain"])
    assert rule == "npm-access-token"
    provenance = place.provenance
    assert provenance.source == "slack"
    assert provenance.path == str(export.root / "releases" / "2026-01-01.json")
    assert dict(provenance.extra)["channel"] == "#releases"
    assert dict(provenance.extra)["ts"] == _ts(0)
    assert provenance.when is not None and provenance.when.isoformat() == "2026-01-01T10:00:00.000100+00:00"
    assert provenance.author == "Alice Liddell"  # users.json wins over the message's own profile copy
    # The workspace comes from the export's own links (a file permalink).
    assert provenance.url == f"https://acme-eng.slack.com/archives/{RELEASES}/p{_ts(0).replace('.', '')}"
    assert (place.line, place.column) == (1, len("token for tonight: ") + 1)


def test_a_token_split_across_rich_text_elements_is_found_once(export: Export) -> None:
    rule, place = _only(_scan(export.root), export.tokens["split"])
    assert rule == "github-classic-token"
    assert place.provenance.author == "Bob Dobbs"
    assert (place.line, place.column) == (1, len("new one: ") + 1)


def test_tokens_behind_slack_escaping_and_inside_links_are_found(export: Export) -> None:
    result = _scan(export.root)
    _, escaped = _only(result, export.tokens["escaped"])
    # "use <TOKEN> & nothing else": the column counts the unescaped text.
    assert escaped.column == len("use <") + 1
    _, linked = _only(result, export.tokens["url"])
    assert linked.column == len("the release link (https://ci.acme.dev/release?token=") + 1
    assert dict(linked.provenance.extra)["ts"] == _ts(180)


def test_a_thread_reply_links_to_its_thread(export: Export) -> None:
    rule, place = _only(_scan(export.root), export.tokens["reply"])
    assert rule.startswith("pypi")
    extra = dict(place.provenance.extra)
    assert extra["thread_ts"] == _ts(0)
    assert place.provenance.url == (
        f"https://acme-eng.slack.com/archives/{RELEASES}/p{_ts(300).replace('.', '')}?thread_ts={_ts(0)}&cid={RELEASES}"
    )


def test_an_edited_message_says_when_it_was_edited(export: Export) -> None:
    _, place = _only(_scan(export.root), export.tokens["edited"])
    assert dict(place.provenance.extra)["edited"] == "2026-01-01T10:07:00+00:00"


def test_snippets_and_attachments_are_scanned_below_their_message(export: Export) -> None:
    result = _scan(export.root)
    rule, snippet = _only(result, export.tokens["snippet"])
    assert rule == "npm-access-token"
    assert dict(snippet.provenance.extra)["ts"] == _ts(480)
    # message text, file title, file name, then the preview's second line
    assert snippet.line == 5
    _, attachment = _only(result, export.tokens["attachment"])
    assert dict(attachment.provenance.extra)["ts"] == _ts(540)
    assert attachment.provenance.author == "Bob Dobbs"


def test_direct_messages_and_other_channels(export: Export) -> None:
    result = _scan(export.root)
    _, dm = _only(result, export.tokens["dm"])
    assert dict(dm.provenance.extra)["channel"] == "DM Alice Liddell, Bob Dobbs"
    assert dm.provenance.url is not None and f"/archives/{DM}/" in dm.provenance.url
    _, ops = _only(result, export.tokens["ops"])
    assert dict(ops.provenance.extra)["channel"] == "#ops"
    assert ops.provenance.when is not None and ops.provenance.when.date().isoformat() == "2026-01-02"


def test_masked_and_placeholder_values_give_no_finding(tmp_path: Path) -> None:
    root = tmp_path / "export"
    _dump(root / "users.json", [{"id": ALICE, "name": "alice"}])
    _dump(root / "channels.json", [{"id": RELEASES, "name": "releases"}])
    masked = "npm_******************************** ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX ${NPM_TOKEN} <redacted>"
    _dump(root / "releases" / "2026-01-01.json", [_message(ALICE, _ts(0), masked, _rich(_text(masked)))])
    result = _scan(root)
    assert result.findings == ()
    assert not result.stats.errors


def test_every_token_of_the_export_is_found_once_and_nothing_else(export: Export) -> None:
    result = _scan(export.root)
    assert sorted(f.secret for f in result.findings) == sorted(export.tokens.values())
    assert all(len(f.occurrences) == 1 for f in result.findings)


def test_a_zipped_export_reads_the_same_in_memory(export: Export, tmp_path: Path) -> None:
    archive = tmp_path / "acme.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(export.root.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(export.root).as_posix())
    assert recognize(str(archive))
    result = _scan(archive)
    _, place = _only(result, export.tokens["split"])
    assert place.provenance.path == f"{archive}!releases/2026-01-01.json"
    assert place.provenance.url is not None and place.provenance.url.startswith("https://acme-eng.slack.com/")
    assert sorted(f.secret for f in result.findings) == sorted(export.tokens.values())


def test_a_rezipped_export_inside_its_folder(export: Export, tmp_path: Path) -> None:
    archive = tmp_path / "rezipped.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(export.root.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(export.root.parent).as_posix())
    assert recognize(str(archive))
    result = _scan(archive)
    _, place = _only(result, export.tokens["dm"])
    assert place.provenance.path == f"{archive}!{export.root.name}/{DM}/2026-01-03.json"
    assert dict(place.provenance.extra)["channel"] == "DM Alice Liddell, Bob Dobbs"


def test_several_workers_report_the_same_places(export: Export) -> None:
    def places(result: ScanResult) -> set[tuple[str, str, int, int, str | None]]:
        return {(f.secret, o.provenance.path, o.line, o.column, o.provenance.url) for f in result.findings for o in f.occurrences}

    single = _scan(export.root)
    assert places(_scan(export.root, jobs=2)) == places(single)
    assert len(places(single)) == len(export.tokens)


def test_a_truncated_day_file_is_one_error_and_the_rest_is_scanned(export: Export) -> None:
    day = export.root / "releases" / "2026-01-01.json"
    text = day.read_text()
    # Cut in the middle of the fourth message: the first ones are intact.
    day.write_text(text[: text.index(export.tokens["url"].replace("/", "\\/"))])
    result = _scan(export.root)
    assert len(result.stats.errors) == 1
    [error] = result.stats.errors
    assert str(day) in error and "truncated JSON" in error and "expected a Slack day file" in error
    # Other days are read as usual; the intact start of the cut file is still scanned as text.
    _, ops = _only(result, export.tokens["ops"])
    assert ops.provenance.url is not None
    assert _places(result, export.tokens["plain"])[0].provenance.path == str(day)
    assert _places(result, export.tokens["url"]) == []


def test_many_days_of_one_channel_are_read_in_order(tmp_path: Path, rng: random.Random) -> None:
    root = tmp_path / "export"
    _dump(root / "users.json", [{"id": ALICE, "name": "alice", "real_name": "Alice Liddell"}])
    _dump(root / "channels.json", [{"id": RELEASES, "name": "releases"}])
    tokens = [npm_token(rng) for _ in range(6)]
    for day, token in enumerate(tokens):
        _dump(root / "releases" / f"2026-01-{day + 1:02d}.json", [_message(ALICE, _ts(day * 86400), f"t {token}")])
    broken = root / "releases" / "2026-01-03.json"
    broken.write_text(broken.read_text()[:-3])
    big = root / "releases" / "2026-01-05.json"
    big.write_text(json.dumps([_message(ALICE, _ts(4 * 86400), f"t {tokens[4]} " + "x" * 5000)]))
    result = scan(ScanConfig(paths=(str(root),), max_file_size=4096))
    [error] = result.stats.errors
    assert error.startswith(f"{broken}: truncated JSON")
    assert dict(result.stats.skipped) == {"larger than 4096 bytes": 1}
    for day, token in enumerate(tokens):
        if day == 4:
            assert not any(f.secret == token for f in result.findings)
            continue
        _, place = _only(result, token)
        assert place.provenance.path == str(root / "releases" / f"2026-01-{day + 1:02d}.json")
        if day == 2:  # the truncated file, read as plain text
            assert place.provenance.when is None
        else:
            assert place.provenance.when is not None and place.provenance.when.day == day + 1


def test_a_day_file_in_another_encoding_is_named_and_still_scanned(export: Export) -> None:
    day = export.root / "ops" / "2026-01-02.json"
    message = _message(BOB, _ts(86400), f"caf\u00e9 key {export.tokens['ops']}")
    day.write_bytes(json.dumps([message], ensure_ascii=False).encode("latin-1"))
    result = _scan(export.root)
    [error] = result.stats.errors
    assert error.startswith(f"{day}: not UTF-8 text at byte ") and "expected a Slack day file" in error
    _, ops = _only(result, export.tokens["ops"])
    assert ops.provenance.path == str(day)
    assert {f.secret for f in result.findings} == set(export.tokens.values())


def test_a_day_file_of_the_wrong_shape_is_named(export: Export) -> None:
    day = export.root / "ops" / "2026-01-02.json"
    day.write_text(json.dumps({"messages": "not here"}))
    result = _scan(export.root)
    [error] = result.stats.errors
    assert str(day) in error and "a JSON array of messages" in error
    _, dm = _only(result, export.tokens["dm"])
    assert dm.provenance.author == "Alice Liddell"


def test_the_workspace_falls_back_to_the_export_name(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    root = tmp_path / "Acme Corp Slack export Jan 1 2026 - Feb 1 2026"
    _dump(root / "users.json", [{"id": ALICE, "name": "alice", "real_name": "Alice Liddell"}])
    _dump(root / "channels.json", [{"id": RELEASES, "name": "releases"}])
    _dump(root / "releases" / "2026-01-01.json", [_message(ALICE, _ts(0), token)])
    _, place = _only(_scan(root), token)
    assert place.provenance.url == f"https://acme-corp.slack.com/archives/{RELEASES}/p{_ts(0).replace('.', '')}"


def test_a_folder_of_dated_day_files_is_recognised_without_metadata(tmp_path: Path, rng: random.Random) -> None:
    token = npm_token(rng)
    root = tmp_path / "partial"
    _dump(root / "general" / "2026-01-01.json", [_message(ALICE, _ts(0), f"x {token}")])
    assert recognize(str(root))
    _, place = _only(_scan(root), token)
    assert dict(place.provenance.extra)["channel"] == "#general"
    assert place.provenance.author == "someone else"  # the message's own profile copy


def test_an_export_kept_inside_another_folder_is_found_and_read_whole(
    export: Export, tmp_path: Path, rng: random.Random
) -> None:
    # The outer folder is not an export, but the walk finds the export inside
    # it and reads it as one: user names from users.json, permalinks.
    outer = tmp_path / "archive"
    (outer / "old").mkdir(parents=True)
    (outer / "notes.md").write_text("exports we keep")
    export.root.rename(outer / "old" / "slack")
    assert not recognize(str(outer))
    day = outer / "old" / "slack" / "releases" / "2026-01-01.json"
    result = _scan(outer)
    rule, place = _only(result, export.tokens["split"])
    assert rule == "github-classic-token"
    assert place.provenance.path == str(day)
    assert dict(place.provenance.extra)["channel"] == "#releases"
    assert place.provenance.author == "Bob Dobbs"
    assert place.provenance.url is not None and "/archives/" in place.provenance.url


def test_a_day_file_met_alone_is_still_read_as_messages(export: Export, tmp_path: Path) -> None:
    # A day file away from its export: no users.json to read, yet it is read
    # as messages (a split token is found whole).
    lone = tmp_path / "lone"
    lone.mkdir()
    day = lone / "2026-01-01.json"
    day.write_bytes((export.root / "releases" / "2026-01-01.json").read_bytes())
    assert sniff_day(str(day), day.read_bytes()[:8192])
    rule, place = _only(_scan(lone), export.tokens["split"])
    assert rule == "github-classic-token"
    assert place.provenance.path == str(day)
    assert place.provenance.author == "someone else"  # the message's own profile copy
    assert place.provenance.url is None


def test_other_folders_are_not_slack_exports(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.json").write_text("{}")
    (tmp_path / "users.json").write_text("[]")
    assert not recognize(str(tmp_path))


def test_links_read_as_label_and_target() -> None:
    assert link_text("https://x.dev/a?t=1", "the link") == "the link (https://x.dev/a?t=1)"
    assert link_text("http://example.com", "example.com") == "example.com"
    assert link_text("mailto:a@b.dev", "a@b.dev") == "a@b.dev"
    assert link_text("https://x.dev", None) == "https://x.dev"


def test_slack_time_keeps_the_sequence_digits() -> None:
    when = slack_time("1767261600.000100")
    assert when is not None and when.isoformat() == "2026-01-01T10:00:00.000100+00:00"
    assert slack_time("garbage") is None
