"""``--format sarif``: valid SARIF 2.1.0 (checked against the official
schema), one result per occurrence, never the raw secret."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from scanner import __version__
from scanner.model import Liveness, ScanResult, Severity
from scanner.report.sarif import SarifReporter, artifact_uri
from tests.report.test_serialize import FAKE_SECRET, make_finding, make_occurrence, make_result, make_rule

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "sarif-schema-2.1.0.json"

# Absolute URIs the schema marks format "uri"; jsonschema only checks that
# format when optional packages are installed, so the tests check it themselves.
_URI_FIELDS = ("informationUri", "helpUri")


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _sarif(result: ScanResult) -> tuple[str, dict[str, Any]]:
    out = io.StringIO()
    SarifReporter().render(result, out)
    return out.getvalue(), json.loads(out.getvalue())


def _walk(node: Any) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            pairs.append((key, value))
            pairs.extend(_walk(value))
    elif isinstance(node, list):
        for item in node:
            pairs.extend(_walk(item))
    return pairs


def _assert_valid(validator: jsonschema.protocols.Validator, doc: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    for key, value in _walk(doc):
        if key in _URI_FIELDS:
            parts = urlsplit(value)
            assert parts.scheme and parts.netloc, f"{key} {value!r} is not an absolute URI"
        if key == "uri":
            assert " " not in value and "\\" not in value, value


def _mixed_result(show_secrets: bool = False) -> ScanResult:
    npm = make_finding(
        rule_id="npm-access-token",
        finding_id="a" * 24,
        occurrences=(
            make_occurrence("pkg-1.0.0.tgz!package/.npmrc", 2, 5),
            make_occurrence("app/.npmrc", 1, 10),
            make_occurrence("deploy/publish.sh", 14, 21, source="git",
                            commit="0123456789abcdef0123456789abcdef01234567", author="Dev <dev@example.test>"),
        ),
    )  # fmt: skip
    pypi = make_finding(
        rule_id="pypi-api-token",
        registry="pypi",
        finding_id="b" * 24,
        secret="FAKE-SECRET-VALUE-0002",
        severity=Severity.MEDIUM,
        liveness=Liveness.UNVERIFIABLE,
        scope=None,
        occurrences=(make_occurrence("setup.cfg", 7, 12),),
    )
    rules = (
        make_rule("github-pat", registry="github", severity=Severity.HIGH),  # loaded but unused
        make_rule("npm-access-token", registry="npm", severity=Severity.CRITICAL),
        make_rule("pypi-api-token", registry="pypi", severity=Severity.MEDIUM, references=()),
    )
    return make_result(
        (npm, pypi),
        rules=rules,
        errors=("broken.zip: not a zip file", "secret.7z: unsupported archive"),
        show_secrets=show_secrets,
        inputs_scanned=5,
    )


def test_schema_file_is_the_official_one() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    jsonschema.Draft4Validator.check_schema(schema)
    assert {"run", "result", "reportingDescriptor", "physicalLocation", "region"} <= set(schema["definitions"])


@pytest.mark.parametrize(
    "result",
    [
        make_result(),
        make_result(errors=("a.tar: truncated",)),
        _mixed_result(),
        _mixed_result(show_secrets=True),
        make_result((make_finding(occurrences=(make_occurrence("/abs/dir/with space/.pypirc", 3, 1),)),)),
        make_result((make_finding(occurrences=(make_occurrence("dir/naïve #1/.npmrc", 3, 1),)),)),
        make_result((make_finding(severity=Severity.INFO, registry="security"),)),  # rule not in result.rules
        make_result((make_finding(occurrences=(make_occurrence("outer.zip!inner.tgz!package/.npmrc", 1, 1),)),)),
    ],
    ids=["empty", "errors-only", "mixed", "mixed-show-secrets", "absolute-path", "odd-chars", "no-rules", "nested"],
)
def test_output_validates_against_sarif_schema(validator: jsonschema.protocols.Validator, result: ScanResult) -> None:
    _, doc = _sarif(result)
    _assert_valid(validator, doc)


def test_log_and_driver() -> None:
    text, doc = _sarif(_mixed_result())
    assert text.endswith("\n")
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "sprawl"
    assert driver["informationUri"] == "https://github.com/sprawl-scanner/sprawl"
    assert driver["semanticVersion"] == __version__


def test_rules_only_those_with_results() -> None:
    _, doc = _sarif(_mixed_result())
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["npm-access-token", "pypi-api-token"]
    npm, pypi = rules
    assert npm["name"] == "npm-access-token name"
    assert npm["shortDescription"]["text"]
    assert npm["fullDescription"]["text"]
    assert npm["helpUri"] == "https://docs.example.test/tokens"
    assert "helpUri" not in pypi  # no references
    assert "Revoke the token." in npm["help"]["text"]
    assert "https://registry.example.test/settings/tokens" in npm["help"]["text"]
    assert "Revoke the token." in npm["help"]["markdown"]
    assert "https://registry.example.test/settings/tokens" in npm["help"]["markdown"]
    assert npm["defaultConfiguration"]["level"] == "error"
    assert pypi["defaultConfiguration"]["level"] == "warning"
    assert npm["properties"] == {"tags": ["security", "secret", "npm"], "security-severity": "9.5", "precision": "high"}
    assert pypi["properties"]["tags"] == ["security", "secret", "pypi"]
    assert pypi["properties"]["security-severity"] == "5.5"


@pytest.mark.parametrize(
    ("severity", "level", "security_severity"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "3.0"),
        (Severity.INFO, "note", "0.0"),
    ],
)
def test_levels_and_security_severity(severity: Severity, level: str, security_severity: str) -> None:
    result = make_result((make_finding(severity=severity),), rules=(make_rule(severity=severity),))
    _, doc = _sarif(result)
    run = doc["runs"][0]
    assert run["results"][0]["level"] == level
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == security_severity
    assert run["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"] == level


def test_one_result_per_occurrence() -> None:
    _, doc = _sarif(_mixed_result())
    results = doc["runs"][0]["results"]
    assert [(r["ruleId"], r["ruleIndex"]) for r in results] == [
        ("npm-access-token", 0),
        ("npm-access-token", 0),
        ("npm-access-token", 0),
        ("pypi-api-token", 1),
    ]
    plain = results[1]
    physical = plain["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "app/.npmrc", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 1, "startColumn": 10, "endLine": 1, "endColumn": 32}
    assert "logicalLocations" not in plain["locations"][0]
    assert plain["level"] == "error"
    assert "npm access token" in plain["message"]["text"]
    assert "FAKE-…0001" in plain["message"]["text"]
    assert "live-looking" in plain["message"]["text"]
    assert "publish: all packages" in plain["message"]["text"]
    assert "Also found at 2 other places" in plain["message"]["text"]
    pypi = results[3]
    assert pypi["level"] == "warning"
    assert pypi["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert "other place" not in pypi["message"]["text"]


def test_archive_member_location() -> None:
    _, doc = _sarif(_mixed_result())
    member = doc["runs"][0]["results"][0]
    location = member["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "pkg-1.0.0.tgz", "uriBaseId": "%SRCROOT%"}
    assert "region" not in location["physicalLocation"]
    assert location["logicalLocations"] == [{"fullyQualifiedName": "pkg-1.0.0.tgz!package/.npmrc"}]
    assert "pkg-1.0.0.tgz!package/.npmrc:2:5" in member["message"]["text"]


def test_nested_archive_uses_outermost_file() -> None:
    finding = make_finding(occurrences=(make_occurrence("outer.zip!inner.tgz!package/.npmrc", 4, 2),))
    _, doc = _sarif(make_result((finding,)))
    location = doc["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "outer.zip"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "outer.zip!inner.tgz!package/.npmrc"


def test_fingerprints_and_properties() -> None:
    _, doc = _sarif(_mixed_result())
    results = doc["runs"][0]["results"]
    git = results[2]
    commit = "0123456789abcdef0123456789abcdef01234567"
    expected = hashlib.sha256(f"{'a' * 24}\0deploy/publish.sh\0{commit}".encode()).hexdigest()
    assert git["partialFingerprints"] == {"sprawlFindingId/v1": "a" * 24, "sprawlLocation/v1": expected}
    no_commit = hashlib.sha256(f"{'a' * 24}\0app/.npmrc\0".encode()).hexdigest()
    assert results[1]["partialFingerprints"]["sprawlLocation/v1"] == no_commit
    assert git["properties"] == {
        "liveness": "live-looking",
        "scope": "publish: all packages",
        "severity": "critical",
        "secret_sha256": "ab" * 32,
        "commit": commit,
        "author": "Dev <dev@example.test>",
        "date": None,
        "state": None,
    }
    assert commit in git["message"]["text"]
    assert results[3]["properties"]["scope"] is None
    assert len({r["partialFingerprints"]["sprawlLocation/v1"] for r in results}) == 4


def test_invocation_reports_errors() -> None:
    _, doc = _sarif(_mixed_result())
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {"level": "error", "message": {"text": "broken.zip: not a zip file"}},
        {"level": "error", "message": {"text": "secret.7z: unsupported archive"}},
    ]
    _, clean = _sarif(make_result())
    assert clean["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert clean["runs"][0]["results"] == []
    assert clean["runs"][0]["tool"]["driver"]["rules"] == []


def test_invocation_reports_gaps_as_warnings(validator: jsonschema.protocols.Validator) -> None:
    from dataclasses import replace

    result = make_result()
    gapped = replace(result, stats=replace(result.stats, gaps=("repo: 1 object(s) could not be read: abc",)))
    _, doc = _sarif(gapped)
    _assert_valid(validator, doc)
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {"level": "warning", "message": {"text": "not scanned: repo: 1 object(s) could not be read: abc"}}
    ]


@pytest.mark.parametrize("show_secrets", [False, True])
def test_never_the_raw_secret(show_secrets: bool) -> None:
    leaky = make_finding(liveness_reason=f"looks like {FAKE_SECRET}", scope=f"scope of {FAKE_SECRET}")
    text, _ = _sarif(make_result((leaky,), show_secrets=show_secrets))
    assert FAKE_SECRET not in text
    text, _ = _sarif(_mixed_result(show_secrets=show_secrets))
    assert FAKE_SECRET not in text
    assert "FAKE-SECRET-VALUE-0002" not in text


def test_rule_missing_from_result_rules_gets_a_descriptor() -> None:
    finding = make_finding(rule_id="custom-token", registry="security", severity=Severity.HIGH)
    _, doc = _sarif(make_result((finding,)))
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "custom-token"
    assert rule["name"] == "npm access token"
    assert rule["helpUri"] == "https://docs.example.test/tokens"  # the first *absolute* reference
    assert rule["properties"]["tags"] == ["security", "secret"]  # no duplicate tag
    assert rule["properties"]["security-severity"] == "8.0"
    assert doc["runs"][0]["results"][0]["ruleIndex"] == 0


def test_artifact_uris() -> None:
    assert artifact_uri("src/.npmrc") == ("src/.npmrc", True)
    assert artifact_uri("./src/.npmrc") == ("src/.npmrc", True)
    assert artifact_uri("dir with space/a#b.txt") == ("dir%20with%20space/a%23b.txt", True)
    assert artifact_uri("c:weird") == ("c%3Aweird", True)  # never mistaken for a URI scheme
    assert artifact_uri("/home/dev/.pypirc") == ("file:///home/dev/.pypirc", False)
    assert artifact_uri("https://ci.example.test/job/1/log") == ("https://ci.example.test/job/1/log", False)
    undecodable = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 file name on a UTF-8 system
    assert artifact_uri(undecodable) == ("caf%E9.txt", True)


def test_windows_separators_become_slashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sep", "\\")
    monkeypatch.setattr(os, "altsep", "/")
    assert artifact_uri("src\\sub\\.npmrc") == ("src/sub/.npmrc", True)


def test_baseline_fingerprint_when_known(validator: jsonschema.protocols.Validator) -> None:
    from dataclasses import replace

    finding = replace(make_finding(finding_id="a" * 24), fingerprint="d" * 64)
    _, doc = _sarif(make_result((finding,)))
    _assert_valid(validator, doc)
    (result,) = doc["runs"][0]["results"]
    assert result["partialFingerprints"]["sprawlFingerprint/v1"] == "d" * 64
    assert result["partialFingerprints"]["sprawlFindingId/v1"] == "a" * 24
    _, without = _sarif(make_result((make_finding(),)))
    assert "sprawlFingerprint/v1" not in without["runs"][0]["results"][0]["partialFingerprints"]
