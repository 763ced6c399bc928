"""Runs a hunt over the sources a ScanConfig names and turns the copies found
into a ScanResult the ordinary reporters render: one finding per hunted value
and encoding, every occurrence placed where the (encoded) copy stands.

Given only sha256 digests, a first pass hashes candidates to learn the values;
a second pass, now knowing them, finds every copy in every form.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from scanner.config import ScanConfig
from scanner.engine import Detector
from scanner.findings import finding_id, occurrence_order, redact, secret_sha256, still_present_in
from scanner.hunt.detector import HuntDetector
from scanner.hunt.targets import HuntTargets
from scanner.hunt.variants import RAW, label_of, label_rank, rule_id
from scanner.model import (
    Chunk,
    Finding,
    Liveness,
    Match,
    Occurrence,
    Provenance,
    Rule,
    ScanResult,
    ScanStats,
    Severity,
    StructureResult,
)
from scanner.scoring import EXPOSED_SOURCES, Exposure, severity
from scanner.sources.base import ProgressCallback, SourceStats
from scanner.validators.judge import Judge, literal_prefix

# Severity of a value no rule recognises, before exposure: whoever holds a
# hunted credential was worried enough to hunt it.
UNKNOWN_SEVERITY = Severity.HIGH
UNKNOWN_NAME = "hunted credential"
REMEDIATION = "Rotate it wherever it is accepted, then remove every copy listed (purge history-only git copies too)."
_RENDERED = ("view", "rendered text")

# (hunt rule id, value, where)
_Found = tuple[str, str, Occurrence]


@dataclass(frozen=True)
class ValueTally:
    """How many copies of one hunted value were found (maybe none), where and how encoded."""

    redacted: str
    sha256: str
    copies: int
    places: int
    by_encoding: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class HuntResult:
    """The report-ready result and the counts the summary line gives."""

    result: ScanResult
    tallies: tuple[ValueTally, ...]
    # Requested digests no candidate hashed to.
    unmatched: tuple[str, ...] = ()

    @property
    def copies(self) -> int:
        return sum(t.copies for t in self.tallies)

    @property
    def places(self) -> int:
        return len({_place(o) for f in self.result.findings for o in f.occurrences})

    def summary_lines(self) -> list[str]:
        """"N copies in M places (raw: a, base64: b, ...)", then one line per
        value when several were hunted, and one per digest never found."""
        total: Counter[str] = Counter()
        for tally in self.tallies:
            total.update(dict(tally.by_encoding))
        lines = [_summary(self.copies, self.places, total)]
        if len(self.tallies) + len(self.unmatched) > 1:
            for number, tally in enumerate(self.tallies, start=1):
                counts = Counter(dict(tally.by_encoding))
                lines.append(f"  #{number} {tally.redacted}: {_summary(tally.copies, tally.places, counts)}")
        for digest in self.unmatched:
            lines.append(f"  sha256 {digest[:16]}…: no candidate hashes to it")
        return lines

    @property
    def exit_code(self) -> int:
        """1 when any copy was found; else 2 if some input could not be read
        (absence over unread input proves nothing), else 0."""
        if self.copies:
            return 1
        return 2 if self.result.stats.errors else 0


def hunt(config: ScanConfig, targets: HuntTargets, *, progress: ProgressCallback | None = None) -> HuntResult:
    """Find every copy of ``targets`` in ``config.paths`` (files, archives, git
    history, logs, chat and doc exports: whatever ``sprawl scan`` reads)."""
    from scanner.pipeline import build_judge, load_selected_rules

    started = time.monotonic()
    rules = load_selected_rules(config)
    values = list(targets.values)
    discovered: list[_Found] = []
    stats = SourceStats()
    if targets.digests:
        detector = HuntDetector((), targets.digests, rules, regex_timeout=config.regex_timeout, on_error=stats.error)
        discovered = _run_pass(config, detector, stats, progress)
        for _, value, _ in discovered:
            if value not in values:
                values.append(value)
    found: list[_Found] = []
    if values:
        if targets.digests:
            stats = SourceStats()  # the second pass reads everything again: count it once
        detector = HuntDetector(values, regex_timeout=config.regex_timeout, on_error=stats.error)
        found = _run_pass(config, detector, stats, progress)
        found.extend(_uncovered(discovered, found))
    known = {secret_sha256(v) for v in values}
    unmatched = tuple(d for d in targets.digests if d not in known)
    findings, tallies = _findings(values, found, rules, build_judge(rules))
    used = {f.rule_id for f in findings}
    result = ScanResult(
        findings=tuple(findings),
        stats=ScanStats(
            inputs_scanned=stats.inputs_scanned,
            bytes_scanned=stats.bytes_scanned,
            skipped=tuple(sorted(stats.skipped.items())),
            errors=tuple(stats.errors),
            gaps=tuple(stats.gaps),
            rules_loaded=len(rules),
            seconds=round(time.monotonic() - started, 3),
        ),
        rules=tuple(_synthetic_rule(label_of(r)) for r in sorted(used, key=lambda r: label_rank(label_of(r)))),
        show_secrets=config.show_secrets,
    )
    return HuntResult(result=result, tallies=tuple(tallies), unmatched=unmatched)


def _run_pass(
    config: ScanConfig, detector: HuntDetector, stats: SourceStats, progress: ProgressCallback | None
) -> list[_Found]:
    from scanner.pipeline import build_sources

    found: list[_Found] = []
    for source in build_sources(config):
        for chunk, matches, _ in source.detect(
            detector, stats, jobs=config.jobs, regex_timeout=config.regex_timeout, progress=progress
        ):
            # Every copy counts in a hunt: sprawl:allow markers are not honoured.
            found.extend((match.rule_id, match.secret, _occurrence(chunk, match)) for match in matches)
    return found


def _occurrence(chunk: Chunk, match: Match) -> Occurrence:
    """Where a match stands: in the original input when the source rewrote
    the text (a log without its colour codes, a chat message as displayed)."""
    if chunk.locator is None:
        occurrence = Occurrence(chunk.provenance, match.line, match.column, match.end_line, match.end_column)
    else:
        provenance, line, column = chunk.locator.place(chunk.content, match.start)
        _, end_line, end_column = chunk.locator.place(chunk.content, max(match.start, match.end - 1))
        occurrence = Occurrence(provenance, line, column, end_line, end_column + 1)
    extra = (*occurrence.provenance.extra, ("encoding", label_of(match.rule_id)))
    return replace(occurrence, provenance=replace(occurrence.provenance, extra=extra))


def _uncovered(discovered: Iterable[_Found], found: Sequence[_Found]) -> list[_Found]:
    """First-pass copies the second pass did not find again at their line
    (a form only the digest search decodes): kept, so nothing is lost."""
    lines = {(value, _bare(o.provenance), o.line) for _, value, o in found}
    return [item for item in discovered if (item[1], _bare(item[2].provenance), item[2].line) not in lines]


def _bare(provenance: Provenance) -> Provenance:
    return replace(provenance, extra=tuple(pair for pair in provenance.extra if pair[0] != "encoding"))


def _place(occurrence: Occurrence) -> tuple[str, str, str, str]:
    """A place holds copies: a file or archive member, a path at one commit, a
    commit message, a message in a chat (its permalink), a log."""
    p = occurrence.provenance
    return (p.source, p.path, p.commit or "", p.url or "")


def identify(value: str, rules: Sequence[Rule]) -> Rule | None:
    """The token-format rule that recognises ``value`` on its own, if any."""
    shaped = [rule for rule in rules if not rule.context]
    if not shaped:
        return None
    detector = Detector(shaped, decode_depth=0, vectorise=False)
    chunk = Chunk(value, Provenance(source="hunt", path="(hunted value)"), digest="")
    by_id = {rule.id: rule for rule in shaped}
    for match in detector.detect(chunk):
        if match.start == 0 and match.end == len(value):
            return by_id[match.rule_id]
    return None


def _findings(
    values: Sequence[str], found: Sequence[_Found], rules: Sequence[Rule], judge: Judge
) -> tuple[list[Finding], list[ValueTally]]:
    """Findings (per value and encoding) and a tally for every hunted value."""
    by_value: dict[str, dict[str, set[Occurrence]]] = {}
    for hunt_rule, value, occurrence in found:
        by_value.setdefault(value, {}).setdefault(hunt_rule, set()).add(occurrence)
    findings: list[Finding] = []
    tallies: list[ValueTally] = []
    for number, value in enumerate(values, start=1):
        groups = _without_rendered_duplicates(by_value.get(value, {}))
        label = f" #{number}" if len(values) > 1 else ""
        value_findings, tally = _value_findings(value, label, groups, rules, judge)
        findings.extend(value_findings)
        tallies.append(tally)
    return findings, tallies


def _value_findings(
    value: str, label: str, groups: dict[str, set[Occurrence]], rules: Sequence[Rule], judge: Judge
) -> tuple[list[Finding], ValueTally]:
    """One value's findings, judged once: by the rule that recognises its
    format if one does, with one severity from every copy's exposure."""
    rule = identify(value, rules)
    redacted = redact(value, literal_prefix(rule, value) if rule is not None else "")
    everywhere = [o for places in groups.values() for o in places]
    verdict = (
        judge.judge(rule, value)
        if rule is not None
        else StructureResult(Liveness.UNVERIFIABLE, reason="unrecognised format")
    )
    level = severity(
        rule.severity if rule is not None else UNKNOWN_SEVERITY,
        verdict.liveness,
        verdict.breadth,
        Exposure(
            shared_channel=any(o.provenance.source in EXPOSED_SOURCES for o in everywhere),
            still_present=bool(still_present_in(everywhere)),
        ),
    )
    name = (rule.name if rule is not None else UNKNOWN_NAME) + label
    findings = []
    for hunt_rule in sorted(groups, key=lambda r: label_rank(label_of(r))):
        occurrences = sorted(groups[hunt_rule], key=occurrence_order)
        findings.append(
            Finding(
                id=finding_id(hunt_rule, value),
                rule_id=hunt_rule,
                rule_name=f"{name} ({label_of(hunt_rule)})",
                registry=rule.registry if rule is not None else "unknown",
                kind=rule.kind if rule is not None else "hunted",
                secret=value,
                secret_sha256=secret_sha256(value),
                redacted=redacted,
                liveness=verdict.liveness,
                liveness_reason=verdict.reason,
                scope=verdict.scope,
                breadth=verdict.breadth,
                severity=level,
                occurrences=tuple(occurrences),
                expires_at=verdict.expires_at,
                revoke_url=rule.revoke_url if rule is not None else None,
                remediation=(rule.remediation if rule is not None else None) or REMEDIATION,
                references=rule.references if rule is not None else (),
                still_present=still_present_in(occurrences),
            )
        )
    counts = Counter({label_of(r): len(places) for r, places in groups.items()})
    tally = ValueTally(
        redacted=redacted,
        sha256=secret_sha256(value),
        copies=len(everywhere),
        places=len({_place(o) for o in everywhere}),
        by_encoding=tuple(sorted(counts.items(), key=lambda item: label_rank(item[0]))),
    )
    return findings, tally


def _without_rendered_duplicates(groups: dict[str, set[Occurrence]]) -> dict[str, set[Occurrence]]:
    """An HTML file is read as written and as rendered; where the written view
    already holds a copy (in any encoding), the rendered view's adds nothing."""
    written = {o.provenance.path for places in groups.values() for o in places if _RENDERED not in o.provenance.extra}
    kept = {
        rule: {o for o in places if _RENDERED not in o.provenance.extra or o.provenance.path not in written}
        for rule, places in groups.items()
    }
    return {rule: places for rule, places in kept.items() if places}


def _summary(copies: int, places: int, by_encoding: Counter[str]) -> str:
    text = f"{copies} {'copy' if copies == 1 else 'copies'} in {places} {'place' if places == 1 else 'places'}"
    if by_encoding:
        ordered = sorted(by_encoding.items(), key=lambda item: label_rank(item[0]))
        text += " (" + ", ".join(f"{label}: {count}" for label, count in ordered) + ")"
    return text


def _synthetic_rule(label: str) -> Rule:
    """The rule a hunt's copies in one encoding are reported under (SARIF
    lists it as the reporting descriptor)."""
    described = "as written" if label == RAW else label
    return Rule(
        id=rule_id(label),
        name=f"hunted credential ({described})",
        registry="hunt",
        kind="hunted",
        pattern="",
        keywords=(),
        severity=UNKNOWN_SEVERITY,
        remediation=REMEDIATION,
    )
