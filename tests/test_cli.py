"""The `sprawl` command through its public interface: output formats, exit
codes, errors, secrets handling."""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner.cli import app
from scanner.config import DEFAULT_MAX_FILE_SIZE
from tests.tokenfactory import github_style, npm_token

runner = CliRunner()


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


@pytest.fixture()
def tree(tmp_path: Path, rng: random.Random) -> tuple[Path, str, str]:
    npm = npm_token(rng)
    gh = github_style("ghp", rng)
    (tmp_path / ".npmrc").write_text(f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={npm}\n")
    (tmp_path / "deploy.sh").write_text(f"#!/bin/sh\nexport GH_TOKEN='{gh}'\n")
    return tmp_path, npm, gh


def test_json_report_and_exit_1(tree: tuple[Path, str, str]) -> None:
    root, npm, gh = tree
    result = invoke("scan", str(root), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    places = {(f["rule_id"], o["path"], o["line"], o["column"]) for f in report["findings"] for o in f["occurrences"]}
    assert places == {
        ("npm-access-token", str(root / ".npmrc"), 2, 34),
        ("github-classic-token", str(root / "deploy.sh"), 2, 18),
    }
    assert npm not in result.stdout and gh not in result.stdout
    assert all("secret" not in f for f in report["findings"])


def test_show_secrets_adds_raw_values_and_protects_the_file(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, npm, _ = tree
    out = tmp_path / "report.jsonl"
    result = invoke("scan", str(root), "-f", "jsonl", "--show-secrets", "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 2
    secrets = {json.loads(line)["rule_id"]: json.loads(line)["secret"] for line in lines}
    assert secrets["npm-access-token"] == npm
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_table_is_redacted_by_default(tree: tuple[Path, str, str]) -> None:
    root, npm, gh = tree
    result = invoke("scan", str(root))
    assert result.exit_code == 1
    assert npm not in result.stdout and gh not in result.stdout
    assert "npm_…" + npm[-4:] in result.stdout
    assert f"{root / '.npmrc'}:2:34" in result.stdout


def test_sarif_output(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    result = invoke("scan", str(root), "--format", "sarif")
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    rule_ids = sorted(r["ruleId"] for r in sarif["runs"][0]["results"])
    assert rule_ids == ["github-classic-token", "npm-access-token"]


def test_clean_scan_exits_0(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    result = invoke("scan", str(tmp_path))
    assert result.exit_code == 0
    assert "No publication credentials found." in result.stdout


def test_fail_on_threshold(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    assert invoke("scan", str(root), "--fail-on", "critical", "-f", "json").exit_code == 1
    assert invoke("scan", str(root), "--fail-on", "never", "-f", "json").exit_code == 0
    bad = invoke("scan", str(root), "--fail-on", "severe")
    assert bad.exit_code == 2
    assert "sprawl: error: --fail-on 'severe' is not one of" in bad.stderr


def test_only_and_exclude(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    only = json.loads(invoke("scan", str(root), "--only", "npm-*", "-f", "json").stdout)
    assert [f["rule_id"] for f in only["findings"]] == ["npm-access-token"]
    # the npm token in .npmrc also stands where npmrc context rules look: exclude both
    excluded = json.loads(invoke("scan", str(root), "--exclude", "npm*", "-f", "json").stdout)
    assert [f["rule_id"] for f in excluded["findings"]] == ["github-classic-token"]


def test_stdin(rng: random.Random) -> None:
    token = npm_token(rng)
    result = invoke("scan", "-", "-f", "json", input=f"hello\nNPM_TOKEN={token}\n")
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["occurrences"][0]["path"], finding["occurrences"][0]["line"]) == ("<stdin>", 2)


def test_missing_input_is_one_line_and_the_rest_is_scanned(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    result = invoke("scan", str(root / "nope"), str(root / ".npmrc"), "-f", "json")
    assert result.stderr == f"sprawl: error: {root / 'nope'}: no such file or directory\n"
    assert result.exit_code == 1  # findings outrank the input error
    report = json.loads(result.stdout)
    assert report["incomplete"] is True
    assert [f["rule_id"] for f in report["findings"]] == ["npm-access-token"]


def test_missing_input_alone_exits_2(tmp_path: Path) -> None:
    result = invoke("scan", str(tmp_path / "nope"))
    assert result.exit_code == 2


def test_broken_custom_rule_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: my-rule\n    name: x\n")
    result = invoke("scan", str(tmp_path), "--rules", str(tmp_path / "bad.yaml"))
    assert result.exit_code == 2
    assert result.stderr == f"sprawl: error: {tmp_path / 'bad.yaml'}: rule 'my-rule': missing required key 'kind'\n"


def test_unknown_format_and_usage_errors_exit_2(tmp_path: Path) -> None:
    result = invoke("scan", str(tmp_path), "--format", "xml")
    assert result.exit_code == 2
    assert "unknown report format 'xml'" in result.stderr
    assert invoke("scan").exit_code == 2
    assert invoke("scan", str(tmp_path), "--no-such-flag").exit_code == 2


def test_rules_check_and_list() -> None:
    check = invoke("rules", "check")
    assert check.exit_code == 0
    assert check.stdout.strip().endswith("0 problems")
    listed = json.loads(invoke("rules", "list", "--format", "json").stdout)
    assert {"npm-access-token", "github-classic-token", "pypi-api-token"} <= {r["id"] for r in listed}


def test_rules_check_fails_on_a_bad_custom_rule(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "registry: x\nrules:\n  - id: x-token\n    name: X\n    kind: api-token\n"
        "    pattern: '(xtok_[a-z]{10})'\n    keywords: [xtok_]\n    severity: high\n"
        "    examples: ['xtok_nomatch']\n    negative_examples: ['nothing']\n"
    )
    result = invoke("rules", "check", "--rules", str(tmp_path / "r.yaml"))
    assert result.exit_code == 1
    assert f"FAIL {tmp_path / 'r.yaml'}: rule 'x-token': example 1 is not matched" in result.stdout


def test_no_progress_output_when_stderr_is_not_a_terminal(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", str(root), "-f", "json"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert len(json.loads(proc.stdout)["findings"]) == 2


def test_version() -> None:
    from scanner import __version__

    result = invoke("--version")
    assert (result.exit_code, result.stdout) == (0, f"sprawl {__version__}\n")


def test_output_file_without_secrets_is_not_forced_private(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, _ = tree
    out = tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        invoke("scan", str(root), "-f", "json", "-o", str(out))
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


# --- configuration files -------------------------------------------------------


def test_project_config_is_found_and_flags_beat_it(tree: tuple[Path, str, str]) -> None:
    root, _, _ = tree
    (root / ".sprawl.yaml").write_text("fail-on: never\nexclude-paths: [deploy.sh]\n")
    result = invoke("scan", str(root), "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["npm-access-token"]
    assert report["stats"]["skipped"] == {"excluded": 1}
    assert invoke("scan", str(root), "-f", "json", "--fail-on", "low").exit_code == 1
    ignored = invoke("scan", str(root), "-f", "json", "--no-config")
    assert ignored.exit_code == 1 and len(json.loads(ignored.stdout)["findings"]) == 2


def test_config_flag_and_a_bad_config_file(tree: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, _ = tree
    other = tmp_path / "elsewhere.yml"
    other.write_text("disable-rules: [github-*]\n")
    result = invoke("scan", str(root), "-f", "json", "--config", str(other))
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["npm-access-token"]
    (root / ".sprawl.yaml").write_text("fail-on: low\njobs: many\n")
    bad = invoke("scan", str(root))
    assert bad.exit_code == 2
    assert bad.stderr == (
        f"sprawl: error: {root / '.sprawl.yaml'}:2: 'jobs' must be a whole number of at least 0, not 'many'\n"
    )
    both = invoke("scan", str(root), "--config", str(other), "--no-config")
    assert both.exit_code == 2 and "--config and --no-config cannot be used together" in both.stderr


def test_config_show(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'demo'\n\n[tool.sprawl]\nfail-on = 'high'\nbaseline-key = 'kv-from-file-not-shown'\n"
    )
    (tmp_path / "src").mkdir()
    result = invoke("config", "show", str(tmp_path / "src"))
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert rows["config"] == [str(tmp_path / "pyproject.toml"), "found", "from", "the", "scanned", "root", "upward"]
    assert rows["fail-on"] == ["high", f"{tmp_path / 'pyproject.toml'}:5"]
    assert rows["baseline-key"] == ["(set)", f"{tmp_path / 'pyproject.toml'}:6"]
    assert rows["max-file-size"][0] == str(DEFAULT_MAX_FILE_SIZE) and rows["max-file-size"][-1] == "default"
    assert "kv-from-file-not-shown" not in result.stdout
    as_json = runner.invoke(
        app, ["config", "show", str(tmp_path), "--format", "json"], env={"SPRAWL_BASELINE_KEY": "kv-env-not-shown"}
    )
    settings = json.loads(as_json.stdout)["settings"]
    assert settings["baseline-key"] == {"value": "(set)", "origin": "env SPRAWL_BASELINE_KEY"}
    assert settings["fail-on"] == {"value": "high", "origin": f"{tmp_path / 'pyproject.toml'}:5"}
    assert "kv-env-not-shown" not in as_json.stdout
    assert invoke("config", "show", str(tmp_path), "--no-config", "-f", "json").exit_code == 0
    assert invoke("config", "show", str(tmp_path), "--format", "xml").exit_code == 2


GITLEAKS_RULES = """\
[[rules]]
id = "acme-registry-token"
description = "ACME internal registry token"
regex = '''\\b(acme_[a-z0-9]{32})\\b'''
keywords = ["acme_"]
entropy = 3.0
tags = ["registry:acme"]

[[rules]]
id = "acme-keystore"
path = '''\\.p12$'''
"""


def test_gitleaks_rules_in_scan_list_and_check(tmp_path: Path, rng: random.Random) -> None:
    rules = tmp_path / "gitleaks.toml"
    rules.write_text(GITLEAKS_RULES)
    token = "acme_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    (tmp_path / "ci.env").write_text(f"ACME_TOKEN={token}\n")
    result = invoke("scan", str(tmp_path / "ci.env"), "--rules", str(rules), "-f", "json")
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["rule_id"], finding["registry"], finding["severity"]) == ("acme-registry-token", "acme", "high")
    assert (finding["occurrences"][0]["line"], finding["occurrences"][0]["column"]) == (1, 12)
    assert result.stderr == (
        f"sprawl: warning: {rules}: not loaded, 1 rule(s) that match file names only "
        "('path' without 'regex'): acme-keystore\n"
    )
    listed = json.loads(invoke("rules", "list", "--rules", str(rules), "-f", "json").stdout)
    (imported,) = [r for r in listed if r["source_file"] == str(rules)]
    assert (imported["id"], imported["kind"]) == ("acme-registry-token", "gitleaks rule")
    check = invoke("rules", "check", "--rules", str(rules))
    assert check.exit_code == 0 and check.stdout.strip().endswith("0 problems")
    (tmp_path / "broken.toml").write_text("[[rules]]\nid = 'x'\nregex = '''(a'''\n")
    broken = invoke("rules", "check", "--rules", str(tmp_path / "broken.toml"))
    assert broken.exit_code == 2
    assert broken.stderr == f"sprawl: error: {tmp_path / 'broken.toml'}: rule 'x': regex: missing ')'\n"
