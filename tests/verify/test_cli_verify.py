"""``sprawl scan --verify`` end to end, and that without the flag nothing is
checked: no scanner.verify import, no socket opened."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scanner.verify.http
from scanner.cli import app
from tests.tokenfactory import github_style, npm_token
from tests.verify.fakeregistry import FakeRegistries, LoopbackTransport

runner = CliRunner()


@pytest.fixture()
def tree(tmp_path: Path, rng: random.Random) -> tuple[Path, str, str]:
    npm = npm_token(rng)
    gh = github_style("ghp", rng)
    root = tmp_path / "project"
    root.mkdir()
    (root / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={npm}\n")
    (root / "deploy.sh").write_text(f"export GH_TOKEN='{gh}'\n")
    return root, npm, gh


def test_verify_checks_each_secret_with_its_registry(
    tree: tuple[Path, str, str], registries: FakeRegistries, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, npm, gh = tree
    registries.live.add(npm)
    # The test's only way to the loopback server: replace the production transport.
    monkeypatch.setattr(scanner.verify.http, "HttpsTransport", lambda: LoopbackTransport(port))
    result = runner.invoke(app, ["scan", str(root), "--format", "json", "--no-config", "--verify"])
    assert result.exit_code == 1, result.output
    report = {f["rule_id"]: f for f in json.loads(result.stdout)["findings"]}
    assert report["npm-access-token"]["liveness"] == "live"
    assert report["npm-access-token"]["liveness_reason"] == "live check: 200 from registry.npmjs.org"
    assert report["github-classic-token"]["liveness"] == "live-looking"
    assert report["github-classic-token"]["liveness_reason"].endswith(
        "live check: unknown (HTTP 401 from api.github.com: revoked or expired, or a token of GitHub Enterprise Server"
        " or GHE.com, which api.github.com does not know)"
    )
    assert result.stderr.splitlines() == [
        "sprawl: live checks: 2 distinct secrets checked (api.github.com: 1 unknown; registry.npmjs.org: 1 live)"
    ]
    assert npm not in result.output and gh not in result.output
    assert {(s.host, s.method) for s in registries.seen} == {("registry.npmjs.org", "GET"), ("api.github.com", "GET")}


def test_quiet_verify_prints_no_note(
    tree: tuple[Path, str, str], registries: FakeRegistries, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, _ = tree
    monkeypatch.setattr(scanner.verify.http, "HttpsTransport", lambda: LoopbackTransport(port))
    result = runner.invoke(app, ["scan", str(root), "-f", "json", "--no-config", "--verify", "--quiet"])
    assert result.stderr == ""
    assert len(registries.seen) == 2


SCAN_WITHOUT_VERIFY = textwrap.dedent(
    """
    import socket, sys

    def refuse(*args, **kwargs):
        raise AssertionError("a scan without --verify opened a network connection")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    from scanner.cli import app
    try:
        app(["scan", sys.argv[1], "--format", "json", "--no-config", "--quiet"])
    except SystemExit as exit:
        code = exit.code
    loaded = sorted(m for m in sys.modules if m.startswith("scanner.verify"))
    print(f"exit={code} verify_modules={loaded}", file=sys.stderr)
    """
)


def test_without_verify_nothing_is_checked(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, _ = tree
    script = tmp_path / "scan.py"
    script.write_text(SCAN_WITHOUT_VERIFY)
    done = subprocess.run(
        [sys.executable, str(script), str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr.strip().splitlines()[-1] == "exit=1 verify_modules=[]", done.stderr
    report = json.loads(done.stdout)
    assert {f["liveness"] for f in report["findings"]} == {"live-looking"}
    assert all("live check" not in f["liveness_reason"] for f in report["findings"])
