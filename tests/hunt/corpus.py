"""A mixed corpus built at run time around one generated password: a git
repository, a CI log, a Slack export, a Confluence HTML export and a zip,
each holding the value raw or encoded at a known place."""

from __future__ import annotations

import base64
import html
import json
import random
import string
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.gitbuild import Repo

ESC = "\x1b"
SPECIALS = "#!@%"
ALICE = "U04ALICE01"
RELEASES = "C05RELEASE"
DAY = 1767261600  # 2026-01-01T10:00:00Z
PAGE_ID = "65538"
DOCKER_USER = "deployer"
SLACK_PREFIX = "db password for tonight: "
PAGE_PREFIX = "Release DB password: "
CONFLUENCE_HEADER_LINES = 3  # breadcrumb, title, "Created by" line


def password(rng: random.Random, length: int = 24) -> str:
    """A random password no rule recognises: letters and digits with four
    characters that every encoding escapes ("/" also in Slack's JSON, "+"
    also in a URL)."""
    chars = [rng.choice(string.ascii_letters + string.digits) for _ in range(length - 4)]
    for special in ["/", "+", *rng.sample(SPECIALS, 2)]:
        chars.insert(rng.randrange(2, len(chars) - 2), special)
    return "".join(chars)


@dataclass(frozen=True)
class Corpus:
    """Where everything was written, and the commits that matter."""

    root: Path
    repo: Path
    ci: Path
    slack: Path
    confluence: Path
    bundle: Path
    added: str  # commit that added deploy/secret.env
    removed: str  # commit that deleted it (its message names the value)
    docker: str  # commit that added docker/config.json

    @property
    def sources(self) -> tuple[str, ...]:
        return (str(self.repo), str(self.ci), str(self.slack), str(self.confluence), str(self.bundle))


def build(root: Path, value: str) -> Corpus:
    repo = Repo(root / "repo")
    repo.write("README.md", "# service\n")
    repo.write("deploy/secret.env", f"# do not commit\nDB_PASSWORD={value}\n")
    added = repo.commit("add deployment settings")
    repo.remove("deploy/secret.env")
    removed = repo.commit(f"remove secret.env\n\nIt held the database password {value} - rotate it.")
    auth = base64.b64encode(f"{DOCKER_USER}:{value}".encode()).decode()
    repo.write("docker/config.json", json.dumps({"auths": {"registry.example.test": {"auth": auth}}}, indent=2) + "\n")
    docker = repo.commit("registry login for CI")

    ci = root / "ci"
    ci.mkdir()
    (ci / "1_login.txt").write_text(ci_log(value), encoding="utf-8", newline="")

    slack = root / "slack-export"
    _dump(slack / "users.json", [{"id": ALICE, "name": "alice", "real_name": "Alice Liddell"}])
    _dump(slack / "channels.json", [{"id": RELEASES, "name": "releases", "topic": {"value": ""}}])
    message = {"type": "message", "user": ALICE, "ts": f"{DAY}.000100", "text": SLACK_PREFIX + value}
    _dump(slack / "releases" / "2026-01-01.json", [message])

    confluence = root / "REL"
    confluence.mkdir()
    (confluence / "index.html").write_text(html_page("Release Engineering Home", "<p>Space home</p>"))
    body = f"<p>{html.escape(PAGE_PREFIX + value)}</p>"
    (confluence / f"Publishing-runbook_{PAGE_ID}.html").write_text(html_page("Publishing runbook", body))

    bundle = root / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app/settings.ini", f"[db]\nhost = db.example.test\nsecret = {value}\n")
        archive.writestr("app/README.txt", "nothing here\n")
    return Corpus(root, repo.path, ci, slack, confluence, bundle, added, removed, docker)


def ci_log(value: str) -> str:
    """A GitHub Actions job log whose curl line holds the URL-encoded value
    between colour codes."""
    return (
        "2026-03-02T09:14:01.1234567Z ##[group]Run ./login.sh\n"
        f"2026-03-02T09:14:01.2234567Z {ESC}[36;1m./login.sh{ESC}[0m\n"
        "2026-03-02T09:14:01.3234567Z ##[endgroup]\n"
        f"2026-03-02T09:14:05.4871234Z curl -s 'https://db.example.test/login?user=ci&pass={ESC}[33m"
        f"{quote(value, safe='')}{ESC}[0m'\n"
        "2026-03-02T09:14:06.0000001Z logged in\n"
    )


def html_page(title: str, body: str) -> str:
    """A page as Confluence's HTML export writes it (trimmed)."""
    space = "Release Engineering"
    return (
        f"<!DOCTYPE html>\n<html>\n<head>\n<title>{space} : {title}</title>\n</head>\n"
        '<body class="theme-default aui-theme-default">\n<div id="page">\n<div id="main" class="aui-page-panel">\n'
        '<div id="main-header">\n<div id="breadcrumb-section">\n<ol id="breadcrumbs">\n'
        f'<li class="first"><span><a href="index.html">{space}</a></span></li>\n</ol>\n</div>\n'
        f'<h1 id="title-heading" class="pagetitle">\n<span id="title-text">\n{space} : {title}\n</span>\n</h1>\n'
        '</div>\n<div id="content" class="view">\n<div class="page-metadata">\n'
        "Created by <span class='author'> Dana Reyes</span>, last modified on Feb 02, 2026\n</div>\n"
        f'<div id="main-content" class="wiki-content group">\n{body}\n</div>\n</div>\n</div>\n'
        '<div id="footer" role="contentinfo">\n<section class="footer-body">\n'
        "<p>Document generated by Confluence on Feb 02, 2026 10:00</p>\n</section>\n</div>\n</div>\n</body>\n</html>\n"
    )


def _dump(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Slack writes "\/" for "/" in every string.
    path.write_text(json.dumps(value, indent=4).replace("/", "\\/"))


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1
