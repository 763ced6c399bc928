"""``sprawl hunt`` through its public interface: the secret from a file or
stdin and never from an argument, reports that never print it unasked, the
summary line and the exit codes."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import stat
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from scanner.cli import app
from tests.hunt.corpus import password

runner = CliRunner()


@pytest.fixture()
def leak(tmp_path: Path, rng: random.Random) -> tuple[Path, str]:
    value = password(rng)
    tree = tmp_path / "tree"
    (tree / "deploy").mkdir(parents=True)
    (tree / "deploy" / "db.env").write_text(f"DB_USER=app\nDB_PASS={value}\n")
    (tree / "run.log").write_text(f"GET /login?p={quote(value, safe='')} 200\n")
    (tree / "auth.json").write_text(json.dumps({"auth": base64.b64encode(f"app:{value}".encode()).decode()}))
    return tree, value


def test_secret_file_table_report_with_summary(leak: tuple[Path, str], tmp_path: Path) -> None:
    tree, value = leak
    secret_file = tmp_path / "leaked.txt"
    secret_file.write_bytes(f"\r\n{value}  \r\n\r\n".encode())
    result = runner.invoke(app, ["hunt", str(tree), "--secret-file", str(secret_file), "-q"])
    assert result.exit_code == 1, result.output
    assert value not in result.stdout
    assert f"{tree / 'deploy' / 'db.env'}:2:9" in result.stdout
    assert "hunted credential (url-encoded)" in result.stdout
    assert result.stdout.rstrip().endswith("3 copies in 3 places (raw: 1, url-encoded: 1, base64: 1)")


def test_secret_on_stdin_json_report(leak: tuple[Path, str]) -> None:
    tree, value = leak
    result = runner.invoke(app, ["hunt", str(tree), "--secret-stdin", "--format", "json"], input=value + "\n")
    assert result.exit_code == 1, result.output
    assert value not in result.stdout and value not in result.stderr
    report = json.loads(result.stdout)
    places = {(f["rule_id"], Path(o["path"]).name, o["line"], o["column"], o["extra"]["encoding"])
              for f in report["findings"] for o in f["occurrences"]}
    assert places == {
        ("hunt:raw", "db.env", 2, 9, "raw"),
        ("hunt:url-encoded", "run.log", 1, 14, "url-encoded"),
        ("hunt:base64", "auth.json", 1, 11 + len("app:") * 8 // 6, "base64"),
    }
    assert all("secret" not in f for f in report["findings"])
    assert result.stderr == "3 copies in 3 places (raw: 1, url-encoded: 1, base64: 1)\n"


def test_secret_file_dash_reads_stdin(leak: tuple[Path, str]) -> None:
    tree, value = leak
    result = runner.invoke(app, ["hunt", str(tree), "--secret-file", "-", "-f", "jsonl", "-q"], input=value)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 3


def test_sha256_mode_from_the_command_line(leak: tuple[Path, str]) -> None:
    tree, value = leak
    digest = hashlib.sha256(value.encode()).hexdigest()
    result = runner.invoke(app, ["hunt", str(tree), "--sha256", digest.upper(), "-f", "json"])
    assert result.exit_code == 1, result.output
    assert {f["rule_id"] for f in json.loads(result.stdout)["findings"]} == {
        "hunt:raw", "hunt:url-encoded", "hunt:base64"
    }
    assert value not in result.stdout


def test_show_secrets_writes_the_value_to_an_owner_only_file(leak: tuple[Path, str], tmp_path: Path) -> None:
    tree, value = leak
    out = tmp_path / "hunt.json"
    result = runner.invoke(
        app, ["hunt", str(tree), "--secret-stdin", "-f", "json", "--show-secrets", "-o", str(out), "-q"], input=value
    )
    assert result.exit_code == 1
    assert {f["secret"] for f in json.loads(out.read_text())["findings"]} == {value}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_sarif_never_holds_the_value(leak: tuple[Path, str]) -> None:
    tree, value = leak
    result = runner.invoke(app, ["hunt", str(tree), "--secret-stdin", "-f", "sarif", "--show-secrets", "-q"], input=value)
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"hunt:raw", "hunt:url-encoded", "hunt:base64"}
    assert value not in result.stdout


def test_nothing_found_exits_0(leak: tuple[Path, str]) -> None:
    tree, _ = leak
    result = runner.invoke(app, ["hunt", str(tree), "--secret-stdin"], input="absent-value-42\n")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("0 copies in 0 places")


def test_the_secret_cannot_be_given_as_an_argument(leak: tuple[Path, str]) -> None:
    tree, value = leak
    hunt = get_command(app).commands["hunt"]  # type: ignore[attr-defined]
    options = {name for p in hunt.params for name in p.opts if name.startswith("-")}
    value_options = options & {"--secret", "--value", "--token", "--password", "--secret-value"}
    assert value_options == set()
    for flag in ("--secret", "--token"):
        result = runner.invoke(app, ["hunt", str(tree), flag, value])
        assert result.exit_code == 2
        assert "No such option" in result.output and value not in result.output


def test_a_way_to_give_the_secret_is_required_and_only_one(leak: tuple[Path, str], tmp_path: Path) -> None:
    tree, _ = leak
    missing = runner.invoke(app, ["hunt", str(tree)])
    assert missing.exit_code == 2
    assert missing.stderr.startswith("sprawl: error: give the leaked value with --secret-file FILE or --secret-stdin")
    both = runner.invoke(app, ["hunt", str(tree), "--secret-stdin", "--sha256", "0" * 64], input="abcdefgh")
    assert both.exit_code == 2 and "alternatives" in both.stderr


def test_stdin_cannot_be_both_secret_and_source(leak: tuple[Path, str]) -> None:
    _, value = leak
    result = runner.invoke(app, ["hunt", "-", "--secret-stdin"], input=value)
    assert result.exit_code == 2
    assert "stdin holds the secret" in result.stderr


def test_bad_secret_input_is_one_error_line_without_the_value(leak: tuple[Path, str], tmp_path: Path) -> None:
    tree, _ = leak
    short = runner.invoke(app, ["hunt", str(tree), "--secret-stdin"], input="abc\n")
    assert short.exit_code == 2
    assert short.stderr == "sprawl: error: stdin: line 1: too short to hunt (at least 6 characters; one secret per line)\n"
    missing = runner.invoke(app, ["hunt", str(tree), "--secret-file", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "nope.txt: cannot read it" in missing.stderr
