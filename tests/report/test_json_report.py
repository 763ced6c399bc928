"""``--format json`` / ``jsonl`` and the reporter registry."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.errors import ReportError
from scanner.model import Finding, ScanResult, Severity
from scanner.report import base
from scanner.report.base import REPORTER_NAMES, Reporter, get_reporter
from scanner.report.json_report import JsonlReporter, JsonReporter
from scanner.report.serialize import result_to_dict
from tests.report.test_serialize import FAKE_SECRET, make_finding, make_occurrence, make_result


def _render(reporter: Reporter, result: ScanResult) -> str:
    out = io.StringIO()
    reporter.render(result, out)
    return out.getvalue()


def _three_findings() -> tuple[Finding, ...]:
    return (
        make_finding(rule_id="npm-access-token", finding_id="a" * 24, occurrences=(make_occurrence(".npmrc", 1, 10),)),
        make_finding(
            rule_id="pypi-api-token",
            finding_id="b" * 24,
            secret="FAKE-SECRET-VALUE-0002",
            severity=Severity.HIGH,
            occurrences=(make_occurrence("setup.cfg", 4, 2),),
        ),
        make_finding(
            rule_id="github-pat",
            finding_id="c" * 24,
            secret="FAKE-SECRET-VALUE-0003",
            severity=Severity.LOW,
            occurrences=(make_occurrence("ci/log.txt", 88, 1),),
        ),
    )


def test_json_document_matches_serializer() -> None:
    result = make_result(_three_findings(), inputs_scanned=3, skipped=(("binary", 1),))
    text = _render(JsonReporter(), result)
    assert text.endswith("}\n")
    assert json.loads(text) == result_to_dict(result)
    assert FAKE_SECRET not in text


def test_json_includes_secret_only_with_show_secrets() -> None:
    text = _render(JsonReporter(), make_result((make_finding(),), show_secrets=True))
    assert json.loads(text)["findings"][0]["secret"] == FAKE_SECRET


def test_json_without_findings_still_has_stats() -> None:
    doc = json.loads(_render(JsonReporter(), make_result(inputs_scanned=2)))
    assert doc["findings"] == []
    assert doc["stats"]["inputs_scanned"] == 2
    assert doc["incomplete"] is False


def test_jsonl_one_object_per_line() -> None:
    text = _render(JsonlReporter(), make_result(_three_findings(), inputs_scanned=3))
    assert text.endswith("\n")
    lines = text.splitlines()
    assert len(lines) == 3
    objects = [json.loads(line) for line in lines]
    assert [o["rule_id"] for o in objects] == ["npm-access-token", "pypi-api-token", "github-pat"]
    assert [o["occurrences"][0]["path"] for o in objects] == [".npmrc", "setup.cfg", "ci/log.txt"]
    assert objects[2]["occurrences"][0]["line"] == 88
    # no document wrapper, no stats
    assert all("stats" not in o and "findings" not in o for o in objects)
    assert all("secret" not in o for o in objects)


def test_jsonl_show_secrets() -> None:
    text = _render(JsonlReporter(), make_result(_three_findings(), show_secrets=True))
    assert [json.loads(line)["secret"] for line in text.splitlines()] == [
        "FAKE-SECRET-VALUE-0001",
        "FAKE-SECRET-VALUE-0002",
        "FAKE-SECRET-VALUE-0003",
    ]


def test_jsonl_without_findings_writes_nothing() -> None:
    assert _render(JsonlReporter(), make_result(errors=("x: unreadable",))) == ""


def test_jsonl_escapes_line_breaks_inside_values() -> None:
    finding = make_finding(occurrences=(make_occurrence("odd\nname.txt", 1, 1),))
    text = _render(JsonlReporter(), make_result((finding,)))
    assert len(text.splitlines()) == 1
    assert json.loads(text)["occurrences"][0]["path"] == "odd\nname.txt"


def test_get_reporter_returns_each_format() -> None:
    assert REPORTER_NAMES == ("table", "json", "jsonl", "sarif", "timeline-md", "timeline-html")
    assert type(get_reporter("json")).__name__ == "JsonReporter"
    assert type(get_reporter("jsonl")).__name__ == "JsonlReporter"
    assert type(get_reporter("sarif")).__name__ == "SarifReporter"
    assert type(get_reporter("table")).__name__ == "TableReporter"
    assert {"table", "json", "jsonl", "sarif"} <= set(base.REPORTERS)  # other tests may have loaded more
    assert all(issubclass(cls, Reporter) for cls in base.REPORTERS.values())


def test_unknown_format_lists_valid_names() -> None:
    with pytest.raises(ReportError) as info:
        get_reporter("xml")
    message = str(info.value)
    assert "\n" not in message
    assert "'xml'" in message
    assert "table, json, jsonl, sarif" in message


def test_machine_formats_do_not_import_rich() -> None:
    # Start-up time matters: rich is only for the table.
    code = (
        "import io, sys\n"
        "from scanner.model import ScanResult, ScanStats\n"
        "from scanner.report.base import get_reporter\n"
        "for name in ('json', 'jsonl', 'sarif'):\n"
        "    get_reporter(name).render(ScanResult(findings=(), stats=ScanStats()), io.StringIO())\n"
        "print('rich' in sys.modules)\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.strip() == "False"
