"""Reporting a sweep: recorded findings turned back into model Findings
(severity computed now, from the stored judgement and where the secret still
is), then a table, one JSON document or JSON lines, plus the one-line
throughput summary printed at the end of every sweep.

The finding object is the one ``sprawl scan`` writes (report/serialize.py)
with four more keys: ``status`` (open / history-only), ``new`` (first seen in
this sweep), ``first_seen`` and ``last_seen``. Occurrences name their
repository in ``extra.repository``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from scanner.model import Breadth, Finding, Liveness, Occurrence, Provenance, Severity
from scanner.sweep.runner import SweepSummary
from scanner.sweep.state import OPEN, StoredFinding, StoredOccurrence
from scanner.sweep.tasks import STILL_PRESENT

if TYPE_CHECKING:
    from rich.console import Console

SWEEP_FORMATS = ("table", "json", "jsonl")
# Occurrence state for a place no ref reaches any more (as the git source
# calls objects left behind by a force-push or reset).
GONE = "unreachable"


@dataclass(frozen=True)
class SweptFinding:
    """A finding as a sweep reports it."""

    finding: Finding
    status: str
    new: bool
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class ReportOptions:
    sweep_id: int
    new_only: bool = False
    include_fake: bool = False
    include_history: bool = False


@dataclass(frozen=True)
class Selection:
    """The findings to report and how many were left out, and why."""

    findings: tuple[SweptFinding, ...]
    open_total: int
    new_total: int
    history_only_total: int
    fake_hidden: int = 0
    baselined: int = 0


def select(
    stored: Iterable[StoredFinding],
    options: ReportOptions,
    *,
    baselined: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> Selection:
    """Findings to report (``baselined``: fingerprints a baseline hides)."""
    now = now or datetime.now(UTC)
    chosen: list[SweptFinding] = []
    open_total = new_total = history_total = fake_hidden = hidden = 0
    for record in stored:
        swept = to_swept(record, options.sweep_id, now)
        if swept.finding.liveness is Liveness.FAKE and not options.include_fake:
            fake_hidden += 1
            continue
        if record.secret.fingerprint in baselined:
            hidden += 1
            continue
        if swept.status == OPEN:
            open_total += 1
            new_total += swept.new
        else:
            history_total += 1
        if options.new_only and not swept.new:
            continue
        if swept.status != OPEN and not options.include_history:
            continue
        chosen.append(swept)
    chosen.sort(key=_order)
    return Selection(tuple(chosen), open_total, new_total, history_total, fake_hidden, hidden)


def _order(swept: SweptFinding) -> tuple[int, int, str, str, int]:
    finding = swept.finding
    first = finding.occurrences[0] if finding.occurrences else None
    where = f"{dict(first.provenance.extra).get('repository', '')}\0{first.provenance.path}" if first else ""
    return (int(swept.status != OPEN), -finding.severity.rank, finding.rule_id, where, first.line if first else 0)


def to_swept(record: StoredFinding, sweep_id: int, now: datetime) -> SweptFinding:
    """A model Finding from a stored one: no secret (never stored), severity
    from the stored judgement and whether a copy is still in a current tree;
    a credential whose recorded expiry has passed since is reported expired."""
    from scanner.scoring import Exposure, severity

    secret = record.secret
    liveness = Liveness(secret.liveness)
    reason = secret.liveness_reason
    if secret.expires_at is not None and secret.expires_at < now and liveness in (
        Liveness.LIVE_LOOKING,
        Liveness.UNVERIFIABLE,
    ):
        liveness = Liveness.EXPIRED
        reason = f"expired {secret.expires_at.isoformat()}"
    is_open = record.status == OPEN
    occurrences = tuple(_occurrence(o) for o in record.occurrences)
    still_present = is_open and any(o.present and o.state == STILL_PRESENT for o in record.occurrences)
    breadth = Breadth(secret.breadth)
    finding = Finding(
        id=secret.finding_id,
        rule_id=secret.rule_id,
        rule_name=secret.rule_name,
        registry=secret.registry,
        kind=secret.kind,
        secret="",
        secret_sha256=secret.sha256,
        redacted=secret.redacted,
        liveness=liveness,
        liveness_reason=reason,
        scope=secret.scope,
        breadth=breadth,
        severity=severity(Severity(secret.base_severity), liveness, breadth, Exposure(still_present=still_present)),
        occurrences=occurrences,
        expires_at=secret.expires_at,
        revoke_url=secret.revoke_url,
        remediation=secret.remediation,
        references=secret.references,
        fingerprint=secret.fingerprint,
        still_present=still_present,
    )
    return SweptFinding(
        finding=finding,
        status=record.status,
        new=is_open and record.first_sweep == sweep_id,
        first_seen=record.first_seen_at,
        last_seen=record.last_seen_at,
    )


def _occurrence(stored: StoredOccurrence) -> Occurrence:
    extra = [("repository", stored.repo)]
    if stored.kind == "blob":
        extra.append(("blob", stored.oid))
    else:
        extra.append(("object", stored.kind))
    extra.append(("state", stored.state if stored.present else GONE))
    provenance = Provenance(
        source="git",
        path=stored.path,
        commit=stored.commit,
        author=stored.author,
        when=stored.when,
        extra=tuple(extra),
    )
    return Occurrence(provenance, stored.line, stored.column, stored.end_line, stored.end_column)


# ------------------------------------------------------------------ output


def summary_line(summary: SweepSummary, selection: Selection) -> str:
    """The line printed at the end of every sweep."""
    parts = [
        f"{summary.scanned} scanned",
        f"{summary.unchanged} unchanged",
        f"{summary.failed} failed",
    ]
    if summary.already_done:
        parts.append(f"{summary.already_done} finished before the interruption")
    head = "resumed sweep" if summary.resumed else "sweep"
    unusable = f", {summary.unusable} unusable targets" if summary.unusable else ""
    return (
        f"{head} {summary.sweep_id}: {summary.repositories} repositories ({', '.join(parts)}){unusable} "
        f"in {summary.seconds:.1f} s: {summary.repos_per_minute:.1f} repositories/min, "
        f"{summary.mb_per_second:.1f} MB/s ({summary.objects_scanned} objects, "
        f"{summary.bytes_scanned / 1e6:.1f} MB read, {summary.objects_skipped} already scanned); "
        f"{selection.new_total} new findings, {selection.open_total} open"
        + (f", {selection.history_only_total} history-only" if selection.history_only_total else "")
    )


def summary_dict(summary: SweepSummary, selection: Selection) -> dict[str, Any]:
    return {
        "id": summary.sweep_id,
        "resumed": summary.resumed,
        "repositories": {
            "total": summary.repositories,
            "scanned": summary.scanned,
            "unchanged": summary.unchanged,
            "failed": summary.failed,
            "already_done": summary.already_done,
        },
        "unusable_targets": summary.unusable,
        "objects_scanned": summary.objects_scanned,
        "objects_skipped": summary.objects_skipped,
        "bytes_scanned": summary.bytes_scanned,
        "seconds": summary.seconds,
        "repositories_per_minute": round(summary.repos_per_minute, 1),
        "mb_per_second": round(summary.mb_per_second, 2),
        "rules_changed": summary.rules_changed,
        "findings": {
            "new": selection.new_total,
            "open": selection.open_total,
            "history_only": selection.history_only_total,
            "fake_hidden": selection.fake_hidden,
            "baselined": selection.baselined,
        },
        "allowed_inline": summary.allowed_inline,
        "skipped": dict(summary.skipped),
        "errors": list(summary.errors),
        "gaps": list(summary.gaps),
    }


def swept_to_dict(swept: SweptFinding) -> dict[str, Any]:
    from scanner.report.serialize import finding_to_dict

    data = finding_to_dict(swept.finding, show_secrets=False)
    data["status"] = swept.status
    data["new"] = swept.new
    data["first_seen"] = swept.first_seen.isoformat() if swept.first_seen else None
    data["last_seen"] = swept.last_seen.isoformat() if swept.last_seen else None
    return data


def render(output_format: str, summary: SweepSummary, selection: Selection, out: TextIO) -> None:
    """Write the report in ``output_format`` (one of SWEEP_FORMATS)."""
    if output_format == "json":
        from scanner.report.serialize import SCHEMA_VERSION, tool_dict

        document = {
            "tool": tool_dict(),
            "schema_version": SCHEMA_VERSION,
            "incomplete": bool(summary.errors or summary.gaps or summary.failed or summary.unusable),
            "sweep": summary_dict(summary, selection),
            "findings": [swept_to_dict(f) for f in selection.findings],
        }
        json.dump(document, out, indent=2, ensure_ascii=True)
        out.write("\n")
    elif output_format == "jsonl":
        out.writelines(
            json.dumps(swept_to_dict(swept), ensure_ascii=True, separators=(",", ":")) + "\n"
            for swept in selection.findings
        )
    else:
        _table(selection, out)


def _table(selection: Selection, out: TextIO) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from scanner.report.table import _console, clean, place

    console = _console(out)
    if not selection.findings:
        console.print(Text("No publication credentials to report.", style="bold green"))
    for severity in sorted(Severity, reverse=True):
        group = [s for s in selection.findings if s.finding.severity is severity]
        if not group:
            continue
        console.print()
        console.print(Text(f"{severity.value.upper()} ({len(group)})", style="bold"))
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, show_lines=True, header_style="bold")
        table.add_column("Rule", overflow="fold", max_width=28)
        table.add_column("Secret", overflow="fold", no_wrap=True)
        table.add_column("Liveness", overflow="fold", max_width=18)
        table.add_column("Status", overflow="fold", max_width=22)
        table.add_column("Where", overflow="fold", no_wrap=True)
        for swept in group:
            finding = swept.finding
            table.add_row(
                Text(f"{clean(finding.rule_name)}\n{clean(finding.registry)}"),
                Text(clean(finding.redacted)),
                Text(finding.liveness.value),
                Text(_status(swept)),
                Text(_where(finding.occurrences, clean, place)),
            )
        console.print(table)
    _next_steps(console, [s.finding for s in selection.findings], clean)


def _status(swept: SweptFinding) -> str:
    label = "new" if swept.new else swept.status
    if swept.first_seen is not None:
        label += f"\nsince {swept.first_seen.date().isoformat()}"
    return label


def _where(
    occurrences: Sequence[Occurrence],
    clean: Callable[[str], str],
    place: Callable[[Occurrence], str],
    limit: int = 5,
) -> str:
    lines = []
    for occurrence in occurrences[:limit]:
        repository = dict(occurrence.provenance.extra).get("repository", "")
        lines.append(f"{clean(repository)}: {place(occurrence)}")
    if len(occurrences) > limit:
        lines.append(f"... and {len(occurrences) - limit} more")
    return "\n".join(lines)


def _next_steps(console: Console, findings: Sequence[Finding], clean: Callable[[str], str]) -> None:
    from rich.text import Text

    by_rule: dict[str, Finding] = {}
    for finding in findings:
        if finding.revoke_url or finding.remediation:
            by_rule.setdefault(finding.rule_id, finding)
    if not by_rule:
        return
    console.print()
    console.print(Text("Next steps", style="bold"))
    for finding in by_rule.values():
        line = Text(f"  {clean(finding.rule_name)}: ", style="bold")
        if finding.remediation:
            line.append(clean(finding.remediation))
        if finding.revoke_url:
            line.append(f" Revoke: {clean(finding.revoke_url)}")
        console.print(line)

