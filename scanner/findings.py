"""Grouping matches into Findings: one per distinct (rule, secret), every
occurrence listed, judged, scored and redacted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scanner.model import Finding, Liveness, Occurrence, Rule, Severity, StructureResult
from scanner.scoring import EXPOSED_SOURCES, Exposure, severity
from scanner.validators.judge import Judge, literal_prefix


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def finding_id(rule_id: str, secret: str) -> str:
    """Stable id of a distinct secret under one rule (not reversible)."""
    return hashlib.sha256(f"{rule_id}\0{secret}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


def redact(secret: str, prefix: str = "") -> str:
    """Prefix plus the last four characters; less of short secrets."""
    if len(secret) >= 16:
        tail = secret[-4:]
    elif len(secret) >= 8:
        tail = secret[-2:]
    else:
        tail = ""
    shown = prefix if len(prefix) + len(tail) < len(secret) // 2 + 1 else ""
    return f"{shown}…{tail}"


@dataclass
class FindingBuilder:
    """Collects occurrences of distinct secrets during a scan."""

    occurrences: dict[tuple[str, str], list[Occurrence]] = field(default_factory=dict)

    def add(self, rule_id: str, secret: str, occurrence: Occurrence) -> None:
        self.occurrences.setdefault((rule_id, secret), []).append(occurrence)

    def build(
        self, rules: Mapping[str, Rule], judge: Judge, *, include_fake: bool
    ) -> tuple[list[Finding], int]:
        """Finished findings (sorted most severe first) and how many fake
        candidates were left out."""
        findings: list[Finding] = []
        suppressed = 0
        for (rule_id, secret), places in self.occurrences.items():
            rule = rules[rule_id]
            verdict = judge.judge(rule, secret)
            if verdict.liveness is Liveness.FAKE and not include_fake:
                suppressed += 1
                continue
            findings.append(_finding(rule, secret, places, verdict))
        findings.sort(key=_sort_key)
        return findings, suppressed


def _finding(rule: Rule, secret: str, places: Iterable[Occurrence], verdict: StructureResult) -> Finding:
    unique = sorted(_without_rendered_duplicates(set(places)), key=occurrence_order)
    still_present = still_present_in(unique)
    exposure = Exposure(
        shared_channel=any(o.provenance.source in EXPOSED_SOURCES for o in unique),
        still_present=bool(still_present),
    )
    return Finding(
        id=finding_id(rule.id, secret),
        rule_id=rule.id,
        rule_name=rule.name,
        registry=rule.registry,
        kind=rule.kind,
        secret=secret,
        secret_sha256=secret_sha256(secret),
        redacted=redact(secret, literal_prefix(rule, secret)),
        liveness=verdict.liveness,
        liveness_reason=verdict.reason,
        scope=verdict.scope,
        breadth=verdict.breadth,
        severity=severity(rule.severity, verdict.liveness, verdict.breadth, exposure),
        occurrences=tuple(unique),
        expires_at=verdict.expires_at,
        revoke_url=rule.revoke_url,
        remediation=rule.remediation,
        references=rule.references,
        still_present=still_present,
    )


def _without_rendered_duplicates(places: set[Occurrence]) -> set[Occurrence]:
    """An HTML file is scanned as written and as rendered; where the raw view
    already holds the secret, its rendered-view occurrence adds nothing."""
    raw_paths = {o.provenance.path for o in places if ("view", "rendered text") not in o.provenance.extra}
    return {
        o for o in places if ("view", "rendered text") not in o.provenance.extra or o.provenance.path not in raw_paths
    }


def occurrence_order(occurrence: Occurrence) -> tuple[str, str, int, int]:
    """How a finding lists its occurrences: by path, commit, line, column."""
    return (occurrence.provenance.path, occurrence.provenance.commit or "", occurrence.line, occurrence.column)


def still_present_in(occurrences: Iterable[Occurrence]) -> bool | None:
    """For git history: is any copy in the current tree of the default
    branch? None when no occurrence comes from git history."""
    states = [dict(o.provenance.extra).get("state") for o in occurrences if o.provenance.source == "git"]
    if not states:
        return None
    return "still-present" in states


def _sort_key(finding: Finding) -> tuple[int, str, str, int]:
    first = finding.occurrences[0]
    return (-finding.severity.rank, finding.rule_id, first.provenance.path, first.line)


def at_or_above(findings: Iterable[Finding], threshold: Severity) -> list[Finding]:
    return [f for f in findings if f.severity >= threshold]
