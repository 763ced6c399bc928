"""Findings and scan results for live-check tests, built the way a scan builds them."""

from __future__ import annotations

from scanner.engine import Detector
from scanner.findings import finding_id, redact, secret_sha256
from scanner.model import Chunk, Finding, Liveness, Occurrence, Provenance, Rule, ScanResult, ScanStats
from scanner.validators.judge import literal_prefix


def make_finding(
    rule: Rule,
    secret: str,
    *,
    liveness: Liveness = Liveness.LIVE_LOOKING,
    reason: str = "checksum valid",
    source: str = "file",
    path: str = "deploy.env",
) -> Finding:
    return Finding(
        id=finding_id(rule.id, secret),
        rule_id=rule.id,
        rule_name=rule.name,
        registry=rule.registry,
        kind=rule.kind,
        secret=secret,
        secret_sha256=secret_sha256(secret),
        redacted=redact(secret, literal_prefix(rule, secret)),
        liveness=liveness,
        liveness_reason=reason,
        scope=rule.scope,
        breadth=rule.breadth,
        severity=rule.severity,
        occurrences=(Occurrence(Provenance(source=source, path=path), 3, 7, 3, 7 + len(secret)),),
    )


def result_of(findings: list[Finding], rules: list[Rule]) -> ScanResult:
    used = {f.rule_id for f in findings}
    return ScanResult(findings=tuple(findings), stats=ScanStats(), rules=tuple(r for r in rules if r.id in used))


def example_secrets(rule: Rule) -> list[str]:
    """The secrets the rule's own examples hold, as its detector finds them."""
    detector = Detector([rule])
    found: list[str] = []
    for example in rule.examples:
        chunk = Chunk(content=example, provenance=Provenance(source="rule-example", path="<example>"), digest="")
        found.extend(m.secret for m in detector.detect(chunk))
    return found


def rule_by_id(rules: list[Rule], rule_id: str) -> Rule:
    return next(r for r in rules if r.id == rule_id)
