"""Slack export benchmark: ``sprawl scan`` against betterleaks on one export.

Generates a Slack workspace export folder the way Slack's admin export
writes it (users.json, channels.json, one folder per channel holding
pretty-printed YYYY-MM-DD.json arrays with "\\/" for every "/"; default
1,000,000 messages with rich-text blocks, user profiles, link unfurls and
file snippets) with a few planted tokens: some plain, some split across
rich_text elements (the text then reads ``*npm_ab*cd...``), some behind
``&lt;``/``&gt;`` escaping or inside ``<url|label>`` links, in snippets,
attachments and thread replies. Then runs the installed ``sprawl scan
EXPORT`` and, when on PATH (or in /tmp/peers/bin), betterleaks on the same
folder (validation off: nothing goes to the network), printing wall seconds,
MB/s, CPU seconds and how many planted tokens each found (for sprawl also
whether each was placed at its channel and permalink). Before each tool the
export is read into the page cache, or with ``--cold`` evicted from it.

    python benchmarks/slack_export.py                      # 1M messages in a temp dir
    python benchmarks/slack_export.py --messages 100000 --keep /tmp/slack-export
    python benchmarks/slack_export.py --export /tmp/slack-export --cold   # reuse one
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.tokenfactory import github_style, npm_token, pypi_token

WORKSPACE = "acme-eng"
TEAM = "T024BE7LD"
_PEERS = "/tmp/peers/bin"

_PROSE = (
    "the release is blocked on the flaky integration test again, can someone take a look before standup "
    "deploy finished for staging and production looks healthy after the rollout of the new cache layer "
    "I pushed a fix for the lockfile drift, please rebase your branches and rerun the pipeline "
    "who owns the nightly build? it has been red since Tuesday because of the registry timeout "
    "meeting notes are in the doc, action items assigned, retro on Friday at three "
    "lunch order closes at noon, the new hires start Monday so please update the onboarding checklist"
)
_WORDS = _PROSE.split()
# Sentences that carry rule keywords but no secret: the prefilter lets them
# through and the rules run (--keyword-rate of the messages hold one).
_KEYWORD_SENTENCES = (
    "reminder that npm publish runs from CI only, use the NPM_TOKEN secret in the release workflow ",
    "rotate the ghp_ tokens monthly and never paste them here, use the vault entry instead ",
    "the pypi upload failed with 403, probably the trusted publisher config on the project page ",
    "set //registry.npmjs.org/:_authToken=${NPM_TOKEN} in the .npmrc of the runner ",
)
_EMOJI = ("tada", "eyes", "white_check_mark", "rocket", "thinking_face", "+1", "fire")
_LINKS = (
    "https://github.com/acme/web/pull/{n}",
    "https://ci.acme.dev/job/release/{n}/console",
    "https://docs.acme.dev/runbooks/release#step-{n}",
    "https://grafana.acme.dev/d/api-latency?orgId=1&var-service=web-{n}",
)


@dataclass
class Plant:
    token: str
    channel: str
    channel_id: str
    ts: str
    thread_ts: str | None
    how: str


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _segments(rng: random.Random, users: list[tuple[str, str]], keyword_rate: float) -> list[tuple[str, ...]]:
    """A message as rich-text pieces: (kind, value[, extra])."""
    pieces: list[tuple[str, ...]] = []
    if rng.random() < keyword_rate:
        pieces.append(("text", rng.choice(_KEYWORD_SENTENCES)))
    for _ in range(rng.randrange(1, 4)):
        start = rng.randrange(len(_WORDS) - 20)
        pieces.append(("text", " ".join(_WORDS[start : start + rng.randrange(4, 20)]) + " "))
        roll = rng.random()
        if roll < 0.15:
            pieces.append(("user", rng.choice(users)[0]))
            pieces.append(("text", " "))
        elif roll < 0.3:
            pieces.append(("link", rng.choice(_LINKS).format(n=rng.randrange(1, 999))))
            pieces.append(("text", " "))
        elif roll < 0.4:
            pieces.append(("text", "npm ci && npm test", "code"))
            pieces.append(("text", " "))
        elif roll < 0.5:
            pieces.append(("emoji", rng.choice(_EMOJI)))
    return pieces


def _text_of(pieces: list[tuple[str, ...]]) -> str:
    out = []
    for piece in pieces:
        kind, value = piece[0], piece[1]
        if kind == "text":
            style = piece[2] if len(piece) > 2 else ""
            marker = {"bold": "*", "code": "`", "italic": "_"}.get(style, "")
            out.append(f"{marker}{_escape(value)}{marker}")
        elif kind == "user":
            out.append(f"<@{value}>")
        elif kind == "link":
            label = piece[2] if len(piece) > 2 else ""
            out.append(f"<{value}|{_escape(label)}>" if label else f"<{value}>")
        elif kind == "emoji":
            out.append(f":{value}:")
    return "".join(out)


def _blocks_of(pieces: list[tuple[str, ...]], rng: random.Random) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    for piece in pieces:
        kind, value = piece[0], piece[1]
        if kind == "text":
            element: dict[str, Any] = {"type": "text", "text": value}
            if len(piece) > 2:
                element["style"] = {piece[2]: True}
            elements.append(element)
        elif kind == "user":
            elements.append({"type": "user", "user_id": value})
        elif kind == "link":
            element = {"type": "link", "url": value}
            if len(piece) > 2:
                element["text"] = piece[2]
            elements.append(element)
        elif kind == "emoji":
            elements.append({"type": "emoji", "name": value, "unicode": "1f389"})
    block_id = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5))
    return [{"type": "rich_text", "block_id": block_id, "elements": [{"type": "rich_text_section", "elements": elements}]}]


def _profile(user_id: str, name: str) -> dict[str, Any]:
    return {
        "avatar_hash": "g" + user_id[-6:].lower(),
        "image_72": f"https://secure.gravatar.com/avatar/{user_id.lower()}.jpg?s=72&d=https%3A%2F%2Fa.slack-edge.com%2Fdf10d%2Fimg%2Favatars%2Fava_0001-72.png",
        "first_name": name.split()[0],
        "real_name": name,
        "display_name": name.split()[0].lower(),
        "team": TEAM,
        "name": name.split()[0].lower(),
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def _message(
    rng: random.Random,
    users: list[tuple[str, str]],
    pieces: list[tuple[str, ...]] | None = None,
    keyword_rate: float = 0.0,
) -> dict[str, Any]:
    """One message with placeholders for its ts (filled in per copy)."""
    user_id, name = rng.choice(users)
    pieces = pieces or _segments(rng, users, keyword_rate)
    message: dict[str, Any] = {
        "user": user_id,
        "type": "message",
        "ts": "@TS@",
        "client_msg_id": "@UUID@",
        "text": _text_of(pieces),
        "team": TEAM,
        "user_team": TEAM,
        "source_team": TEAM,
        "user_profile": _profile(user_id, name),
        "blocks": _blocks_of(pieces, rng),
    }
    roll = rng.random()
    if roll < 0.03:
        message["files"] = [_file(rng, user_id, "npm ci\nnpm run build\nnpm test -- --coverage\n")]
    elif roll < 0.08:
        message["attachments"] = [_unfurl(rng)]
    if rng.random() < 0.05:
        message["edited"] = {"user": user_id, "ts": "@TS@"}
    return message


def _file(rng: random.Random, user_id: str, content: str) -> dict[str, Any]:
    file_id = "F0" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(9))
    return {
        "id": file_id,
        "created": 1767225600,
        "timestamp": 1767225600,
        "name": "release-steps.sh",
        "title": "release steps",
        "mimetype": "text/plain",
        "filetype": "shell",
        "pretty_type": "Shell",
        "user": user_id,
        "mode": "snippet",
        "editable": True,
        "is_external": False,
        "external_type": "",
        "size": len(content),
        "url_private": f"https://files.slack.com/files-pri/{TEAM}-{file_id}/release-steps.sh",
        "permalink": f"https://{WORKSPACE}.slack.com/files/{user_id}/{file_id}/release-steps.sh",
        "preview": content,
        "preview_highlight": "<div class=\"CodeMirror cm-s-default CodeMirrorServer\">...</div>",
        "lines": content.count("\n"),
        "lines_more": 0,
        "preview_is_truncated": False,
    }


def _unfurl(rng: random.Random, text: str | None = None) -> dict[str, Any]:
    n = rng.randrange(1, 9999)
    return {
        "service_name": "GitHub",
        "title": f"Fix lockfile drift #{n}",
        "title_link": f"https://github.com/acme/web/pull/{n}",
        "text": text or "Pins the registry URL and refreshes package-lock.json",
        "fallback": f"[acme/web] Pull request #{n}: Fix lockfile drift",
        "from_url": f"https://github.com/acme/web/pull/{n}",
        "fields": [{"title": "Status", "value": "Open", "short": True}],
        "id": 1,
    }


def _planted(rng: random.Random, users: list[tuple[str, str]], token: str, how: str) -> dict[str, Any]:
    """A message carrying ``token`` in one of the ways chat hides it."""
    if how == "split":
        cut = rng.randrange(5, len(token) - 5)
        pieces = [("text", "release token for tonight: "), ("text", token[:cut], "bold"), ("text", token[cut:] + " thanks")]
        return _message(rng, users, pieces)
    if how == "escaped":
        message = _message(rng, users, [("text", f"use <{token}> for the publish step")])
        return message
    if how == "link":
        url = f"https://ci.acme.dev/release?token={token}"
        return _message(rng, users, [("text", "trigger it with "), ("link", url, "this link"), ("text", " please")])
    if how == "snippet":
        message = _message(rng, users, [("text", "here is my .npmrc")])
        message["files"] = [_file(rng, message["user"], f"registry=https://registry.npmjs.org/\n_authToken={token}\n")]
        return message
    if how == "attachment":
        message = _message(rng, users, [("text", "see the failed job ")])
        message["attachments"] = [_unfurl(rng, f"env dump: PUBLISH_TOKEN={token}")]
        return message
    return _message(rng, users, [("text", f"ok the token is {token} , delete after use")])


def _dump(message: dict[str, Any]) -> str:
    """Pretty-printed as Slack writes it, indented to sit in the day array."""
    # Slack writes "\/" for every "/" in a string.
    return textwrap.indent(json.dumps(message, indent=4), "    ").replace("/", "\\/")


def generate(root: Path, messages: int, keyword_rate: float = 0.02, seed: int = 3) -> tuple[list[Plant], int]:
    """Write the export; return the planted tokens and the message count."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    users = [(f"U0{rng.randrange(10**8):08d}", f"{first} {last}") for first, last in (
        (rng.choice(("Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy")),
         rng.choice(("Smith", "Jones", "Kim", "Garcia", "Okafor", "Novak", "Tanaka", "Rossi")))
        for _ in range(300)
    )]
    (root / "users.json").write_text(json.dumps(
        [{"id": uid, "team_id": TEAM, "name": name.split()[0].lower(), "deleted": False, "real_name": name,
          "profile": _profile(uid, name), "is_bot": False} for uid, name in users], indent=4))
    channels = [(f"C0{rng.randrange(10**8):08d}", name) for name in
                [f"team-{i:03d}" for i in range(95)] + ["releases", "general", "random", "ops", "ci-alerts"]]
    (root / "channels.json").write_text(json.dumps(
        [{"id": cid, "name": name, "created": 1700000000, "creator": users[0][0], "is_archived": False,
          "is_general": name == "general", "members": [u for u, _ in users[:40]],
          "topic": {"value": "", "creator": "", "last_set": 0},
          "purpose": {"value": f"Discussion for {name}", "creator": users[0][0], "last_set": 1700000000}}
         for cid, name in channels], indent=4))
    (root / "integration_logs.json").write_text("[]")
    pool = [_dump(_message(rng, users, keyword_rate=keyword_rate)) for _ in range(4000)]
    hows = ("plain", "split", "escaped", "link", "snippet", "attachment", "split", "reply")
    makers = (lambda: npm_token(rng), lambda: github_style("ghp", rng), lambda: pypi_token(rng))
    plant_every = max(messages // 40, 1)
    planted: list[Plant] = []
    written = 0
    day = 0
    base = 1767225600  # 2026-01-01T00:00:00Z
    while written < messages:
        for cid, name in channels:
            if written >= messages:
                break
            count = min(rng.randrange(10, 70), messages - written)
            folder = root / name
            folder.mkdir(exist_ok=True)
            start = base + day * 86400
            parts = []
            last_ts = None
            for index in range(count):
                ts = f"{start + index * 600 + rng.randrange(600)}.{rng.randrange(10**6):06d}"
                if (written + index) % plant_every == plant_every // 2:
                    how = hows[len(planted) % len(hows)]
                    token = makers[len(planted) % len(makers)]()
                    message = _planted(rng, users, token, how if how != "reply" else "plain")
                    thread = None
                    if how == "reply" and last_ts is not None:
                        message["thread_ts"] = thread = last_ts
                        message["parent_user_id"] = users[0][0]
                    message["ts"] = ts
                    message["client_msg_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    if "edited" in message:
                        message["edited"]["ts"] = ts
                    parts.append(_dump(message))
                    planted.append(Plant(token, name, cid, ts, thread, how))
                else:
                    text = rng.choice(pool)
                    text = text.replace("@TS@", ts).replace("@UUID@", str(uuid.UUID(int=rng.getrandbits(128), version=4)))
                    parts.append(text)
                last_ts = ts
            date = time.strftime("%Y-%m-%d", time.gmtime(start))
            (folder / f"{date}.json").write_text("[\n" + ",\n".join(parts) + "\n]")
            written += count
        day += 1
    return planted, written


def _warm(root: Path) -> None:
    """Read every file once so each tool starts with the export in the page
    cache (the first reader would otherwise pay for the disk)."""
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 20):
                    pass


def _evict(root: Path) -> None:
    """Drop the export's own pages from the page cache (nothing else's), so
    the next tool reads it from disk as a first scan of a download would."""
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _cpu() -> float:
    """CPU seconds used so far by finished child processes (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _missed(planted: list[Plant], found: list[Plant]) -> str:
    """Which plants were missed, as how:kind counts (kind = token prefix)."""
    counts: dict[str, int] = {}
    for plant in planted:
        if plant not in found:
            key = f"{plant.how}:{plant.token[:4].rstrip('_-')}"
            counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{key} x{count}" for key, count in sorted(counts.items()))


def _permalink(plant: Plant) -> str:
    url = f"https://{WORKSPACE}.slack.com/archives/{plant.channel_id}/p{plant.ts.replace('.', '')}"
    return url + (f"?thread_ts={plant.thread_ts}&cid={plant.channel_id}" if plant.thread_ts else "")


def run_sprawl(sprawl: str, root: Path, planted: list[Plant], mb: float) -> None:
    started, cpu = time.monotonic(), _cpu()
    done = subprocess.run(
        [sprawl, "scan", str(root), "--format", "json", "--quiet", "--show-secrets", "--fail-on", "never"],
        capture_output=True, text=True, check=False,
    )
    seconds, cpu = time.monotonic() - started, _cpu() - cpu
    if done.returncode not in (0, 1):
        print(f"sprawl exited {done.returncode}: {done.stderr[-500:]}")
        return
    report = json.loads(done.stdout)
    places: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        places.setdefault(finding["secret"], []).extend(finding["occurrences"])
    found = [p for p in planted if p.token in places]
    placed = [
        p for p in found
        if any(o.get("url") == _permalink(p) and (o.get("extra") or {}).get("channel") == f"#{p.channel}"
               for o in places[p.token])
    ]
    print(f"{'sprawl':<12} {seconds:8.2f} s {mb / seconds:8.1f} MB/s {cpu:8.1f} s   found {len(found)}/{len(planted)}"
          f" planted ({len(placed)} at their channel and permalink)")
    if len(found) < len(planted):
        print(f"  sprawl missed {_missed(planted, found)}")


def run_betterleaks(binary: str, root: Path, planted: list[Plant], mb: float) -> None:
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "report.json"
        # Older releases scan a folder with "dir"; newer ones take the path
        # itself (their "dir" would be read as a second target).
        listing = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False).stdout
        command = ["dir"] if "\n  dir " in listing else []
        started, cpu = time.monotonic(), _cpu()
        done = subprocess.run(
            [binary, *command, str(root), "--no-banner", "--silent", "--exit-code=0", "-o", str(out)],
            capture_output=True, text=True, check=False,
        )
        seconds, cpu = time.monotonic() - started, _cpu() - cpu
        if done.returncode != 0:
            print(f"betterleaks exited {done.returncode}: {done.stderr[-500:]}")
            return
        text = out.read_text() if out.exists() else ""
    found = [p for p in planted if p.token in text]
    print(f"{'betterleaks':<12} {seconds:8.2f} s {mb / seconds:8.1f} MB/s {cpu:8.1f} s   found {len(found)}/{len(planted)}"
          " planted")
    if len(found) < len(planted):
        print(f"  betterleaks missed {_missed(planted, found)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages to generate (default 1,000,000)")
    parser.add_argument(
        "--keyword-rate", type=float, default=0.02,
        help="share of messages holding rule keywords but no secret (default 0.02)",
    )
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--export", type=Path, help="scan this already generated export (its plants.json)")
    parser.add_argument("--sprawl", default=shutil.which("sprawl") or "sprawl", help="sprawl executable")
    parser.add_argument("--no-peers", action="store_true", help="time sprawl only")
    parser.add_argument(
        "--cold", action="store_true",
        help="evict the export from the page cache before each tool (default: read it into the cache first)",
    )
    args = parser.parse_args()

    if args.export:
        root = args.export
        planted = [Plant(**p) for p in json.loads((root.parent / f"{root.name}.plants.json").read_text())]
    else:
        root = args.keep or Path(tempfile.mkdtemp(prefix="sprawl-slack-bench-")) / "Acme Slack export"
        started = time.monotonic()
        planted, count = generate(root, args.messages, args.keyword_rate)
        (root.parent / f"{root.name}.plants.json").write_text(json.dumps([p.__dict__ for p in planted]))
        print(f"generated {count:,} messages in {time.monotonic() - started:.1f} s, {len(planted)} planted tokens")
    size = _size(root)
    mb = size / 1e6
    print(f"export: {root} ({mb:.0f} MB, {sum(1 for _ in root.rglob('*.json')):,} JSON files)")
    print(f"{'tool':<12} {'wall':>10} {'MB/s':>13} {'CPU':>10}")
    prepare = _evict if args.cold else _warm
    prepare(root)
    run_sprawl(args.sprawl, root, planted, mb)
    if not args.no_peers:
        binary = shutil.which("betterleaks") or shutil.which("betterleaks", path=_PEERS)
        if binary:
            prepare(root)
            run_betterleaks(binary, root, planted, mb)
        else:
            print("betterleaks not found (PATH or /tmp/peers/bin): skipped")
    if not args.keep and not args.export:
        shutil.rmtree(root.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
