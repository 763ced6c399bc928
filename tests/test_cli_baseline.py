"""`sprawl baseline create|update|prune` through the command line: files
written, summaries printed, refusals and one-line errors with exit 2."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner.baseline import baseline_key, fingerprint
from scanner.cli import app
from tests.tokenfactory import github_style, npm_token

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPRAWL_BASELINE_KEY", raising=False)


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


@pytest.fixture()
def tree(tmp_path: Path, rng: random.Random) -> tuple[Path, Path, str, str]:
    root = tmp_path / "repo"
    root.mkdir()
    npm = npm_token(rng)
    gh = github_style("ghp", rng)
    (root / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={npm}\n")
    (root / "deploy.sh").write_text(f"#!/bin/sh\nexport GH_TOKEN='{gh}'\n")
    return root, tmp_path / "baseline.json", npm, gh


def _entries(path: Path) -> list[tuple[str, str, str, str, str | None]]:
    data = json.loads(path.read_text())
    return [(e["rule_id"], Path(e["hint"]).name, e["reason"], e["owner"], e["expires"]) for e in data["entries"]]


def test_create_writes_entries_and_refuses_to_overwrite(tree: tuple[Path, Path, str, str]) -> None:
    root, file, npm, gh = tree
    until = (date.today() + timedelta(days=30)).isoformat()
    args = ("baseline", "create", str(root), "--baseline", str(file))
    result = invoke(*args, "--reason", "legacy tokens, rotation tracked in SEC-1", "--owner", "sec@example.test",
                    "--expires", until)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 2 entries to {file}\n"
    assert sorted(_entries(file)) == [
        ("github-classic-token", "deploy.sh", "legacy tokens, rotation tracked in SEC-1", "sec@example.test", until),
        ("npm-access-token", ".npmrc", "legacy tokens, rotation tracked in SEC-1", "sec@example.test", until),
    ]
    text = file.read_text()
    assert npm not in text and gh not in text
    fingerprints = {e["fingerprint"] for e in json.loads(text)["entries"]}
    assert fingerprint(baseline_key(None), "npm-access-token", npm) in fingerprints

    again = invoke(*args)
    assert again.exit_code == 2
    assert again.stderr == (
        f"sprawl: error: {file}: already exists; use 'sprawl baseline update' to add findings, "
        "or --force to replace it\n"
    )
    assert file.read_text() == text
    forced = invoke(*args, "--force", "--reason", "replaced")
    assert forced.exit_code == 0
    assert {entry[2] for entry in _entries(file)} == {"replaced"}


def test_create_uses_the_key_from_the_environment(tree: tuple[Path, Path, str, str]) -> None:
    root, file, npm, _ = tree
    result = invoke("baseline", "create", str(root), "--baseline", str(file), env={"SPRAWL_BASELINE_KEY": "k-123"})
    assert result.exit_code == 0
    fingerprints = {e["fingerprint"] for e in json.loads(file.read_text())["entries"]}
    assert fingerprint(b"k-123", "npm-access-token", npm) in fingerprints
    assert fingerprint(baseline_key(None), "npm-access-token", npm) not in fingerprints
    # Updating with another key would duplicate every entry: refused.
    other = invoke("baseline", "update", str(root), "--baseline", str(file))
    assert other.exit_code == 2
    assert other.stderr.startswith(f"sprawl: error: {file}: made with a different baseline key")


def test_update_adds_new_findings_only(tree: tuple[Path, Path, str, str], rng: random.Random) -> None:
    root, file, _, _ = tree
    assert invoke("baseline", "create", str(root), "--baseline", str(file), "--reason", "first").exit_code == 0
    before = file.read_bytes()
    same = invoke("baseline", "update", str(root), "--baseline", str(file), "--reason", "second")
    assert (same.exit_code, same.stdout) == (0, f"added 0 entries to {file} (2 in total)\n")
    assert file.read_bytes() == before
    (root / "ci.env").write_text(f"GH_TOKEN={github_style('ghp', rng)}\n")
    more = invoke("baseline", "update", str(root), "--baseline", str(file), "--reason", "second", "--owner", "bob")
    assert (more.exit_code, more.stdout) == (0, f"added 1 entry to {file} (3 in total)\n")
    assert sorted(_entries(file)) == [
        ("github-classic-token", "ci.env", "second", "bob", None),
        ("github-classic-token", "deploy.sh", "first", "", None),
        ("npm-access-token", ".npmrc", "first", "", None),
    ]


def test_prune_lists_and_drops_entries_no_longer_found(tree: tuple[Path, Path, str, str]) -> None:
    root, file, _, gh = tree
    assert invoke("baseline", "create", str(root), "--baseline", str(file)).exit_code == 0
    gh_fp = fingerprint(baseline_key(None), "github-classic-token", gh)
    (root / "deploy.sh").write_text('#!/bin/sh\nexport GH_TOKEN="$GH_FROM_VAULT"\n')
    result = invoke("baseline", "prune", str(root), "--baseline", str(file))
    assert result.exit_code == 0
    assert result.stdout == (
        f"dropped github-classic-token {gh_fp[:12]} {root / 'deploy.sh'}\ndropped 1 entry from {file} (1 left)\n"
    )
    assert [e[0] for e in _entries(file)] == ["npm-access-token"]
    again = invoke("baseline", "prune", str(root), "--baseline", str(file))
    assert again.stdout == f"dropped 0 entries from {file} (1 left)\n"


def test_prune_refuses_when_inputs_could_not_be_read(tree: tuple[Path, Path, str, str]) -> None:
    root, file, _, _ = tree
    assert invoke("baseline", "create", str(root), "--baseline", str(file)).exit_code == 0
    before = file.read_bytes()
    result = invoke("baseline", "prune", str(root / "deploy.sh"), str(root / "gone.txt"), "--baseline", str(file))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"sprawl: error: {file}: not pruned, because some inputs could not be read"
    assert file.read_bytes() == before


@pytest.mark.parametrize(
    "extra,message",
    [
        (("--expires", "soon"), "--expires 'soon' is not a date (YYYY-MM-DD)"),
        (("--expires", "2031-02-30"), "--expires '2031-02-30' is not a valid date"),
        (("--expires", "2001-01-01"), "--expires 2001-01-01 is in the past"),
    ],
)
def test_bad_expiry_is_a_one_line_error(
    tree: tuple[Path, Path, str, str], extra: tuple[str, ...], message: str
) -> None:
    root, file, _, _ = tree
    result = invoke("baseline", "create", str(root), "--baseline", str(file), *extra)
    assert result.exit_code == 2
    assert result.stderr == f"sprawl: error: {message}\n"
    assert not file.exists()


@pytest.mark.parametrize("command", ["update", "prune"])
def test_missing_or_broken_baseline_file(tree: tuple[Path, Path, str, str], command: str) -> None:
    root, file, _, _ = tree
    missing = invoke("baseline", command, str(root), "--baseline", str(file))
    assert missing.exit_code == 2
    assert missing.stderr == (
        f"sprawl: error: {file}: baseline file not found (create one with 'sprawl baseline create')\n"
    )
    file.write_text('{"version": 1, "key_check": "0000000000000000", "entries": [{"secret": "x"}]}')
    broken = invoke("baseline", command, str(root), "--baseline", str(file))
    assert broken.exit_code == 2
    assert broken.stderr.startswith(f"sprawl: error: {file}: entries[0]: key 'secret' looks like a plaintext value")
    assert broken.stderr.count("\n") == 1


def test_default_file_name(tree: tuple[Path, Path, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _, _, _ = tree
    monkeypatch.chdir(root)
    result = invoke("baseline", "create", ".")
    assert result.exit_code == 0
    assert result.stdout == "wrote 2 entries to .sprawl-baseline.json\n"
    assert sorted(e[1] for e in _entries(root / ".sprawl-baseline.json")) == [".npmrc", "deploy.sh"]


def test_baseline_without_command_shows_help() -> None:
    result = invoke("baseline")
    assert "create" in result.output and "prune" in result.output
