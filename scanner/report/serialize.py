"""The one definition of sprawl's JSON shape, shared by the json, jsonl and
sarif reporters (documented in docs/output-schema.md; bump SCHEMA_VERSION on
any incompatible change)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import scanner
from scanner.model import Finding, Occurrence, ScanResult, ScanStats

SCHEMA_VERSION = 1
TOOL_NAME = "sprawl"


def scrub(text: str, secret: str) -> str:
    """``text`` with any copy of the raw ``secret`` masked.

    Free-text fields (reasons, scopes) come from validators; masking here means a
    careless message can never leak the value into a report meant to be shared.
    """
    if secret and secret in text:
        return text.replace(secret, "[REDACTED]")
    return text


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def occurrence_to_dict(occurrence: Occurrence) -> dict[str, Any]:
    """One place a secret was seen, with its provenance flattened in."""
    provenance = occurrence.provenance
    return {
        "source": provenance.source,
        "path": provenance.path,
        "line": occurrence.line,
        "column": occurrence.column,
        "end_line": occurrence.end_line,
        "end_column": occurrence.end_column,
        "commit": provenance.commit,
        "author": provenance.author,
        "date": _iso(provenance.when),
        "url": provenance.url,
        "extra": dict(provenance.extra),
    }


def finding_to_dict(finding: Finding, show_secrets: bool) -> dict[str, Any]:
    """A finding as a JSON-ready dict; ``secret`` is present only with ``show_secrets``."""
    # Without show_secrets the free-text fields are scrubbed as well, so the
    # raw value cannot slip out through a validator's message.
    secret = "" if show_secrets else finding.secret
    data: dict[str, Any] = {
        "id": finding.id,
        # Keyed HMAC of (rule id, secret) as a baseline stores it; null when
        # the scan had no baseline key applied.
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "registry": finding.registry,
        "kind": finding.kind,
        "severity": finding.severity.value,
        "liveness": finding.liveness.value,
        "liveness_reason": scrub(finding.liveness_reason, secret),
        "scope": scrub(finding.scope, secret) if finding.scope is not None else None,
        "breadth": finding.breadth.value,
        "redacted": scrub(finding.redacted, secret),
        "secret_sha256": finding.secret_sha256,
    }
    if show_secrets:
        data["secret"] = finding.secret
    data["expires_at"] = _iso(finding.expires_at)
    # Git history: still in the current tree (true), only in history (false);
    # null for other sources.
    data["still_present"] = finding.still_present
    data["revoke_url"] = finding.revoke_url
    data["remediation"] = finding.remediation
    data["references"] = list(finding.references)
    data["occurrences"] = [occurrence_to_dict(o) for o in finding.occurrences]
    return data


def stats_to_dict(stats: ScanStats) -> dict[str, Any]:
    """Scan counters; ``skipped`` becomes a reason -> count object."""
    skipped: Counter[str] = Counter()
    for reason, count in stats.skipped:
        skipped[reason] += count  # a reason listed twice is summed, not overwritten
    return {
        "inputs_scanned": stats.inputs_scanned,
        "bytes_scanned": stats.bytes_scanned,
        "duplicates_skipped": stats.duplicates_skipped,
        "skipped": dict(skipped),
        "errors": list(stats.errors),
        "gaps": list(stats.gaps),
        "fake_suppressed": stats.fake_suppressed,
        "baselined": stats.baselined,
        "allowed_inline": stats.allowed_inline,
        "rules_loaded": stats.rules_loaded,
        "seconds": round(stats.seconds, 3),
    }


def tool_dict() -> dict[str, str]:
    return {"name": TOOL_NAME, "version": scanner.__version__}


def result_to_dict(result: ScanResult) -> dict[str, Any]:
    """The whole ``--format json`` document."""
    return {
        "tool": tool_dict(),
        "schema_version": SCHEMA_VERSION,
        "incomplete": result.incomplete,
        "stats": stats_to_dict(result.stats),
        "findings": [finding_to_dict(f, result.show_secrets) for f in result.findings],
    }
