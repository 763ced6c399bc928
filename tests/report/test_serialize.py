"""The JSON shape shared by the json, jsonl and sarif reporters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from scanner import __version__
from scanner.model import (
    Breadth,
    Finding,
    Liveness,
    Occurrence,
    Provenance,
    Rule,
    ScanResult,
    ScanStats,
    Severity,
)
from scanner.report.serialize import finding_to_dict, result_to_dict

FAKE_SECRET = "FAKE-SECRET-VALUE-0001"

KEYS_WITHOUT_SECRET = [
    "id", "fingerprint", "rule_id", "rule_name", "registry", "kind", "severity", "liveness", "liveness_reason", "scope",
    "breadth", "redacted", "secret_sha256", "expires_at", "still_present", "revoke_url", "remediation", "references", "occurrences",
]  # fmt: skip


def make_occurrence(
    path: str = "project/.npmrc",
    line: int = 3,
    column: int = 7,
    *,
    source: str = "file",
    commit: str | None = None,
    author: str | None = None,
    when: datetime | None = None,
    url: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> Occurrence:
    provenance = Provenance(source=source, path=path, commit=commit, author=author, when=when, url=url, extra=extra)
    return Occurrence(provenance=provenance, line=line, column=column, end_line=line, end_column=column + 22)


def make_finding(
    *,
    rule_id: str = "npm-access-token",
    rule_name: str = "npm access token",
    registry: str = "npm",
    secret: str = FAKE_SECRET,
    severity: Severity = Severity.CRITICAL,
    liveness: Liveness = Liveness.LIVE_LOOKING,
    liveness_reason: str = "checksum valid",
    scope: str | None = "publish: all packages",
    occurrences: tuple[Occurrence, ...] | None = None,
    expires_at: datetime | None = None,
    finding_id: str = "f1d2c3b4a5968778695a4b3c",
) -> Finding:
    return Finding(
        id=finding_id,
        rule_id=rule_id,
        rule_name=rule_name,
        registry=registry,
        kind="token",
        secret=secret,
        secret_sha256="ab" * 32,
        redacted="FAKE-…0001",
        liveness=liveness,
        liveness_reason=liveness_reason,
        scope=scope,
        breadth=Breadth.ACCOUNT,
        severity=severity,
        occurrences=occurrences if occurrences is not None else (make_occurrence(),),
        expires_at=expires_at,
        revoke_url="https://registry.example.test/settings/tokens",
        remediation="Revoke the token and publish from CI with a scoped token.",
        references=("https://docs.example.test/tokens", "docs/local-notes.md"),
    )


def make_rule(rule_id: str = "npm-access-token", *, registry: str = "npm", severity: Severity = Severity.CRITICAL,
              references: tuple[str, ...] = ("https://docs.example.test/tokens",)) -> Rule:  # fmt: skip
    return Rule(
        id=rule_id,
        name=f"{rule_id} name",
        registry=registry,
        kind="token",
        pattern="FAKE-[A-Z-]+",
        keywords=("FAKE",),
        severity=severity,
        references=references,
        revoke_url="https://registry.example.test/settings/tokens",
        remediation="Revoke the token.",
    )


def make_result(
    findings: tuple[Finding, ...] = (),
    *,
    errors: tuple[str, ...] = (),
    show_secrets: bool = False,
    rules: tuple[Rule, ...] = (),
    **stats: object,
) -> ScanResult:
    return ScanResult(
        findings=findings,
        stats=ScanStats(errors=errors, **stats),  # type: ignore[arg-type]
        rules=rules,
        show_secrets=show_secrets,
    )


def test_finding_keys_in_order_and_no_secret_by_default() -> None:
    data = finding_to_dict(make_finding(), show_secrets=False)
    assert list(data) == KEYS_WITHOUT_SECRET
    assert "secret" not in data
    assert FAKE_SECRET not in json.dumps(data)


def test_secret_present_after_sha256_with_show_secrets() -> None:
    data = finding_to_dict(make_finding(), show_secrets=True)
    keys = list(data)
    assert keys.index("secret") == keys.index("secret_sha256") + 1
    assert keys[: keys.index("secret")] + keys[keys.index("secret") + 1 :] == KEYS_WITHOUT_SECRET
    assert data["secret"] == FAKE_SECRET


def test_finding_values() -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = finding_to_dict(make_finding(expires_at=expires), show_secrets=False)
    assert data["id"] == "f1d2c3b4a5968778695a4b3c"
    assert data["rule_id"] == "npm-access-token"
    assert data["rule_name"] == "npm access token"
    assert data["registry"] == "npm"
    assert data["kind"] == "token"
    assert data["severity"] == "critical"
    assert data["liveness"] == "live-looking"
    assert data["liveness_reason"] == "checksum valid"
    assert data["scope"] == "publish: all packages"
    assert data["breadth"] == "account"
    assert data["redacted"] == "FAKE-…0001"
    assert data["secret_sha256"] == "ab" * 32
    assert data["expires_at"] == "2030-01-02T03:04:05+00:00"
    assert data["revoke_url"] == "https://registry.example.test/settings/tokens"
    assert data["remediation"].startswith("Revoke the token")
    assert data["references"] == ["https://docs.example.test/tokens", "docs/local-notes.md"]


def test_nulls_for_missing_optional_values() -> None:
    data = finding_to_dict(make_finding(scope=None, expires_at=None), show_secrets=False)
    assert data["scope"] is None
    assert data["expires_at"] is None
    occurrence = data["occurrences"][0]
    assert occurrence["commit"] is None
    assert occurrence["author"] is None
    assert occurrence["date"] is None
    assert occurrence["url"] is None
    assert occurrence["extra"] == {}


def test_occurrence_shape() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    occurrence = make_occurrence(
        "src/config.yml", 12, 9, source="git", commit="0123456789abcdef0123456789abcdef01234567",
        author="Dev <dev@example.test>", when=when, url="https://git.example.test/c/0123456",
        extra=(("branch", "main"), ("job", "publish")),
    )  # fmt: skip
    data = finding_to_dict(make_finding(occurrences=(occurrence,)), show_secrets=False)
    assert data["occurrences"] == [
        {
            "source": "git",
            "path": "src/config.yml",
            "line": 12,
            "column": 9,
            "end_line": 12,
            "end_column": 31,
            "commit": "0123456789abcdef0123456789abcdef01234567",
            "author": "Dev <dev@example.test>",
            "date": "2024-05-06T07:08:09+00:00",
            "url": "https://git.example.test/c/0123456",
            "extra": {"branch": "main", "job": "publish"},
        }
    ]


def test_secret_quoted_in_free_text_is_masked_without_show_secrets() -> None:
    finding = make_finding(liveness_reason=f"registry rejected {FAKE_SECRET}", scope=f"token {FAKE_SECRET}")
    hidden = finding_to_dict(finding, show_secrets=False)
    assert FAKE_SECRET not in json.dumps(hidden)
    assert hidden["liveness_reason"] == "registry rejected [REDACTED]"
    shown = finding_to_dict(finding, show_secrets=True)
    assert shown["liveness_reason"] == f"registry rejected {FAKE_SECRET}"


def test_result_document() -> None:
    result = make_result(
        (make_finding(),),
        errors=("broken.zip: not a zip file",),
        inputs_scanned=4,
        bytes_scanned=2048,
        duplicates_skipped=1,
        skipped=(("binary", 2), ("too-large", 1), ("binary", 3)),
        fake_suppressed=5,
        rules_loaded=12,
        seconds=0.12345,
    )
    doc = result_to_dict(result)
    assert list(doc) == ["tool", "schema_version", "incomplete", "stats", "findings"]
    assert doc["tool"] == {"name": "sprawl", "version": __version__}
    assert doc["schema_version"] == 1
    assert doc["incomplete"] is True
    assert doc["stats"] == {
        "inputs_scanned": 4,
        "bytes_scanned": 2048,
        "duplicates_skipped": 1,
        "skipped": {"binary": 5, "too-large": 1},
        "errors": ["broken.zip: not a zip file"],
        "gaps": [],
        "fake_suppressed": 5,
        "baselined": 0,
        "allowed_inline": 0,
        "rules_loaded": 12,
        "seconds": 0.123,
    }
    assert [f["rule_id"] for f in doc["findings"]] == ["npm-access-token"]
    assert "secret" not in doc["findings"][0]
    json.dumps(doc)  # everything is JSON-serialisable


def test_result_document_follows_show_secrets_and_completeness() -> None:
    doc = result_to_dict(make_result((make_finding(),), show_secrets=True))
    assert doc["incomplete"] is False
    assert doc["findings"][0]["secret"] == FAKE_SECRET
    empty = result_to_dict(make_result())
    assert empty["findings"] == []
    assert empty["stats"]["skipped"] == {}
    assert empty["stats"]["errors"] == []
    assert empty["stats"]["gaps"] == []


def test_gaps_alone_mark_the_document_incomplete() -> None:
    from dataclasses import replace

    result = make_result()
    gapped = replace(result, stats=replace(result.stats, gaps=("repo: 2 object(s) could not be read",)))
    doc = result_to_dict(gapped)
    assert doc["incomplete"] is True
    assert doc["stats"]["gaps"] == ["repo: 2 object(s) could not be read"]


def test_fingerprint_and_suppression_counts() -> None:
    from dataclasses import replace

    assert finding_to_dict(make_finding(), show_secrets=False)["fingerprint"] is None
    finding = replace(make_finding(), fingerprint="c" * 64)
    assert finding_to_dict(finding, show_secrets=False)["fingerprint"] == "c" * 64
    doc = result_to_dict(make_result((finding,), baselined=3, allowed_inline=2))
    assert (doc["stats"]["baselined"], doc["stats"]["allowed_inline"]) == (3, 2)
    assert doc["findings"][0]["fingerprint"] == "c" * 64
