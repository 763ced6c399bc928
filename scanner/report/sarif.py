"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One SARIF result per occurrence, because GitHub shows one location per alert.
The raw secret is never written here, whatever --show-secrets says: SARIF files
are uploaded and shared.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import PurePath
from typing import Any, TextIO
from urllib.parse import quote, urlsplit

import scanner
from scanner.model import Finding, Occurrence, Rule, ScanResult, Severity
from scanner.report.base import Reporter
from scanner.report.serialize import TOOL_NAME, scrub

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/sprawl-scanner/sprawl"

# GitHub maps security-severity to its own labels: >=9.0 critical, >=7.0 high,
# >=4.0 medium, >0 low.
_SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}

_LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

# Characters left as-is in artifact URIs; everything else is percent-encoded
# (":" included, so a first path segment can never be read as a URI scheme).
_URI_SAFE = "/-._~!$&'()*+,;=@"

# Member paths of archives read "outer.tgz!inner/file"; only the outer part is
# a file a viewer can open.
_ARCHIVE_SEPARATOR = "!"


class SarifReporter(Reporter):
    """A single-run SARIF 2.1.0 log."""

    def render(self, result: ScanResult, out: TextIO) -> None:
        json.dump(build_sarif(result), out, indent=2, ensure_ascii=True)
        out.write("\n")


def build_sarif(result: ScanResult) -> dict[str, Any]:
    """The SARIF log for ``result`` as a JSON-ready dict."""
    descriptors, index = _rules_used(result)
    results = [
        _result(finding, occurrence, index[finding.rule_id])
        for finding in result.findings
        for occurrence in finding.occurrences
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not result.incomplete}
    notifications = [{"level": "error", "message": {"text": error}} for error in result.stats.errors]
    notifications += [{"level": "warning", "message": {"text": f"not scanned: {gap}"}} for gap in result.stats.gaps]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": INFORMATION_URI,
                        "version": scanner.__version__,
                        "semanticVersion": scanner.__version__,
                        "rules": descriptors,
                    }
                },
                "invocations": [invocation],
                # Columns are counted in Python str indices, i.e. code points.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _rules_used(result: ScanResult) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Descriptors for the rules that produced at least one finding, and each
    rule id's index among them (for result.ruleIndex)."""
    used = {finding.rule_id for finding in result.findings}
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in result.rules:
        if rule.id in used and rule.id not in index:
            index[rule.id] = len(descriptors)
            descriptors.append(_descriptor(rule))
    # A finding whose rule is missing from result.rules still needs a descriptor
    # (ruleIndex must point somewhere); build one from what the finding carries.
    for finding in result.findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(descriptors)
            descriptors.append(_descriptor(_rule_from_finding(finding)))
    return descriptors, index


def _rule_from_finding(finding: Finding) -> Rule:
    return Rule(
        id=finding.rule_id,
        name=finding.rule_name,
        registry=finding.registry,
        kind=finding.kind,
        pattern="",
        keywords=(),
        severity=finding.severity,
        references=finding.references,
        revoke_url=finding.revoke_url,
        remediation=finding.remediation,
    )


def _is_absolute_uri(text: str) -> bool:
    parts = urlsplit(text)
    return bool(parts.scheme and parts.netloc)


def _descriptor(rule: Rule) -> dict[str, Any]:
    """A reportingDescriptor for one rule."""
    summary = f"{rule.name}: a {rule.kind} credential for {rule.registry} was found in plain text."
    help_text = [summary]
    help_markdown = [f"**{rule.name}** ({rule.registry}, {rule.kind}) was found in plain text."]
    if rule.remediation:
        help_text.append(f"Remediation: {rule.remediation}")
        help_markdown.append(f"**Remediation:** {rule.remediation}")
    if rule.revoke_url:
        help_text.append(f"Revoke it at: {rule.revoke_url}")
        help_markdown.append(f"**Revoke it at:** <{rule.revoke_url}>")
    if rule.references:
        help_text.append("References: " + ", ".join(rule.references))
        links = (f"<{ref}>" if _is_absolute_uri(ref) else f"`{ref}`" for ref in rule.references)
        help_markdown.append("**References:**\n" + "\n".join(f"- {link}" for link in links))
    # GitHub rejects duplicate tags (the schema says uniqueItems), so a registry
    # called "security" must not be listed twice.
    tags = list(dict.fromkeys(["security", "secret", rule.registry]))
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": f"{rule.name} ({rule.registry})"},
        "fullDescription": {"text": summary},
    }
    # helpUri must be an absolute URI; a relative reference is only mentioned in help.
    help_uri = next((ref for ref in rule.references if _is_absolute_uri(ref)), None)
    if help_uri is not None:
        descriptor["helpUri"] = help_uri
    descriptor["help"] = {"text": "\n\n".join(help_text), "markdown": "\n\n".join(help_markdown)}
    descriptor["defaultConfiguration"] = {"level": _LEVEL[rule.severity]}
    descriptor["properties"] = {
        "tags": tags,
        "security-severity": _SECURITY_SEVERITY[rule.severity],
        "precision": "high",
    }
    return descriptor


def artifact_uri(path: str) -> tuple[str, bool]:
    """``path`` as an artifact URI, and whether it is relative to %SRCROOT%.

    Relative paths stay relative (GitHub resolves them against the checkout);
    absolute paths become file: URIs; a path that already is a URL is kept.
    """
    if _is_absolute_uri(path):
        return path, False
    if os.path.isabs(path):
        posix_abs = PurePath(path).as_posix()
        if not posix_abs.startswith("/"):
            posix_abs = "/" + posix_abs  # Windows drive paths: file:///C:/...
        # surrogateescape turns undecodable file-name bytes back into %XX.
        return "file://" + quote(posix_abs, safe=_URI_SAFE + ":", errors="surrogateescape"), False
    posix = path.replace(os.sep, "/")
    if os.altsep:
        posix = posix.replace(os.altsep, "/")
    posix = posix.removeprefix("./")
    return quote(posix, safe=_URI_SAFE, errors="surrogateescape"), True


def location_fingerprint(finding: Finding, occurrence: Occurrence) -> str:
    """Stable per-place identity, so GitHub tracks each alert across runs."""
    key = f"{finding.id}\0{occurrence.provenance.path}\0{occurrence.provenance.commit or ''}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _message(finding: Finding, occurrence: Occurrence, member: str | None) -> str:
    secret = finding.secret
    parts = [f"{finding.rule_name} ({finding.registry}): {finding.redacted}."]
    liveness = f"Liveness: {finding.liveness.value}"
    if finding.liveness_reason:
        liveness += f" ({finding.liveness_reason})"
    parts.append(liveness + ".")
    parts.append(f"Scope: {finding.scope or finding.breadth.value}.")
    if member is not None:
        parts.append(f"Inside archive member {member}:{occurrence.line}:{occurrence.column}.")
    if occurrence.provenance.commit:
        parts.append(f"Commit {occurrence.provenance.commit}.")
    others = len(finding.occurrences) - 1
    if others > 0:
        parts.append(f"Also found at {others} other place{'s' if others != 1 else ''}.")
    # Never the raw value, even if a validator put it in a reason or scope.
    return scrub(" ".join(parts), secret)


def _result(finding: Finding, occurrence: Occurrence, rule_index: int) -> dict[str, Any]:
    provenance = occurrence.provenance
    path = provenance.path
    member: str | None = None
    file_part = path
    if _ARCHIVE_SEPARATOR in path and not _is_absolute_uri(path):
        member = path
        file_part = path.split(_ARCHIVE_SEPARATOR, 1)[0]
    uri, relative = artifact_uri(file_part)
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if member is None:
        # Lines and columns of an archive member do not apply to the archive
        # file itself, so members get no region.
        physical["region"] = {
            "startLine": max(occurrence.line, 1),
            "startColumn": max(occurrence.column, 1),
            "endLine": max(occurrence.end_line, occurrence.line, 1),
            "endColumn": max(occurrence.end_column, 1),
        }
    location: dict[str, Any] = {"physicalLocation": physical}
    if member is not None:
        location["logicalLocations"] = [{"fullyQualifiedName": member}]
    properties: dict[str, Any] = {
        "liveness": finding.liveness.value,
        "scope": scrub(finding.scope, finding.secret) if finding.scope is not None else None,
        "severity": finding.severity.value,
        "secret_sha256": finding.secret_sha256,
        "commit": provenance.commit,
        "author": provenance.author,
        "date": provenance.when.isoformat() if provenance.when else None,
        "state": dict(provenance.extra).get("state"),
    }
    fingerprints = {
        "sprawlFindingId/v1": finding.id,
        "sprawlLocation/v1": location_fingerprint(finding, occurrence),
    }
    if finding.fingerprint is not None:
        # The baseline fingerprint (keyed HMAC of rule id and secret), so an
        # alert can be matched to its .sprawl-baseline.json entry.
        fingerprints["sprawlFingerprint/v1"] = finding.fingerprint
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": _message(finding, occurrence, member)},
        "locations": [location],
        "partialFingerprints": fingerprints,
        "properties": properties,
    }
