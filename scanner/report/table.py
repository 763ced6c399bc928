"""``--format table``: the human report, one rich table per severity (most
severe first) and a one-line summary."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scanner.model import Finding, Occurrence, ScanResult, ScanStats, Severity
from scanner.report.base import Reporter
from scanner.report.serialize import scrub

#: How many places to list per finding before "… and N more".
MAX_PLACES = 5

# Width used when the output is a file or pipe: wide enough that paths are not
# folded mid-line, which would break grep and copy-paste.
_PIPE_WIDTH = 200

_HEADING_STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "bold cyan",
    Severity.INFO: "bold dim",
}

_LIVENESS_STYLE: dict[str, str] = {
    "live": "bold red",
    "live-looking": "red",
    "unverifiable": "yellow",
    "expired": "dim",
    "revoked": "dim",
    "fake": "dim",
}

_SEVERITIES_DESCENDING: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


def clean(text: str) -> str:
    """``text`` safe to print: control characters, bidi overrides and lone
    surrogates are shown as escapes.

    Paths and reasons come from scanned content; printed raw, an escape
    sequence in a file name could rewrite the user's terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _console(out: TextIO) -> Console:
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        return Console(file=out, highlight=False, emoji=False, markup=False)
    # Not a terminal: plain text, no colour codes, a fixed generous width.
    return Console(
        file=out,
        force_terminal=False,
        color_system=None,
        no_color=True,
        width=_PIPE_WIDTH,
        highlight=False,
        emoji=False,
        markup=False,
    )


class TableReporter(Reporter):
    """Findings grouped by severity, then a summary and any errors."""

    def render(self, result: ScanResult, out: TextIO) -> None:
        console = _console(out)
        ellipsis = "…" if console.encoding.startswith("utf") else "..."
        if not result.findings:
            console.print(Text("No publication credentials found.", style="bold green"))
        for severity in _SEVERITIES_DESCENDING:
            group = [f for f in result.findings if f.severity is severity]
            if not group:
                continue
            heading = f"{severity.value.upper()} ({len(group)} finding{'s' if len(group) != 1 else ''})"
            console.print()
            console.print(Text(heading, style=_HEADING_STYLE[severity]))
            console.print(_table(group, result.show_secrets, ellipsis))
        _next_steps(console, result.findings)
        console.print()
        console.print(Text(summary_line(result)))
        if result.stats.errors:
            count = len(result.stats.errors)
            console.print(
                Text(f"Scan incomplete: {count} input{'s' if count != 1 else ''} could not be read:", style="bold red")
            )
            for error in result.stats.errors:
                console.print(Text(f"  error: {clean(error)}", style="red"))
        if result.stats.gaps:
            console.print(Text("Scan incomplete: some content could not be read:", style="bold yellow"))
            for gap in result.stats.gaps:
                console.print(Text(f"  not scanned: {clean(gap)}", style="yellow"))


def _table(findings: list[Finding], show_secrets: bool, ellipsis: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, show_lines=True, header_style="bold", expand=False)
    # fold, never truncate: a cut-off path or secret is worse than a wrapped one.
    # Locations are what people copy and paste: keep each on one line and let
    # the descriptive columns wrap instead.
    table.add_column("Rule", overflow="fold", max_width=28)
    table.add_column("Secret", overflow="fold", no_wrap=True)
    table.add_column("Liveness", overflow="fold", max_width=18)
    table.add_column("Scope", overflow="fold", max_width=36)
    table.add_column("Where", overflow="fold", no_wrap=True)
    for finding in findings:
        table.add_row(
            _rule_cell(finding),
            _secret_cell(finding, show_secrets),
            _liveness_cell(finding, show_secrets),
            Text(_masked(finding.scope or finding.breadth.value, finding, show_secrets)),
            Text(_where(finding.occurrences, ellipsis)),
        )
    return table


def _next_steps(console: Console, findings: tuple[Finding, ...]) -> None:
    """Remediation once per rule and advice (many findings share a rule; a
    hunt's findings of one value share its rule's advice under several ids):
    where to revoke, and what to check afterwards."""
    seen: dict[tuple[str, str | None, str | None], Finding] = {}
    for finding in findings:
        if finding.revoke_url or finding.remediation:
            seen.setdefault((finding.rule_name, finding.remediation, finding.revoke_url), finding)
    history = _history_advice(findings)
    if not seen and not history:
        return
    console.print()
    console.print(Text("Next steps", style="bold"))
    for advice in history:
        console.print(Text(f"  {advice}"))
    for finding in seen.values():
        line = Text(f"  {clean(finding.rule_name)}: ", style="bold")
        if finding.remediation:
            line.append(clean(finding.remediation))
        if finding.revoke_url:
            line.append(f" Revoke: {clean(finding.revoke_url)}", style="cyan")
        console.print(line)


def _history_advice(findings: tuple[Finding, ...]) -> list[str]:
    """What git history adds to rotation: still-present secrets must also
    leave the tree; history-only ones live on in every clone until purged."""
    advice = []
    if any(f.still_present for f in findings):
        advice.append(
            "Still present: rotate the credential first, then remove it from the current tree "
            "(the old value stays in history, so rotation is what protects you)."
        )
    if any(f.still_present is False for f in findings):
        advice.append(
            "History only: rotate the credential and purge it from history "
            "(git filter-repo --replace-text, then force-push and have every clone re-cloned); "
            "deleting the file did not remove it."
        )
    return advice


def _masked(text: str, finding: Finding, show_secrets: bool) -> str:
    # Validator-written text could quote the secret; mask it unless asked not to.
    return clean(text if show_secrets else scrub(text, finding.secret))


def _rule_cell(finding: Finding) -> Text:
    cell = Text(clean(finding.rule_name))
    cell.append("\n" + clean(finding.registry), style="dim")
    return cell


def _secret_cell(finding: Finding, show_secrets: bool) -> Text:
    cell = Text(_masked(finding.redacted, finding, show_secrets))
    if show_secrets:
        cell.append("\n" + clean(finding.secret), style="bold")
    return cell


def _liveness_cell(finding: Finding, show_secrets: bool) -> Text:
    cell = Text(finding.liveness.value, style=_LIVENESS_STYLE.get(finding.liveness.value, ""))
    if finding.liveness_reason:
        cell.append("\n" + _masked(finding.liveness_reason, finding, show_secrets), style="dim")
    return cell


def place(occurrence: Occurrence) -> str:
    """``path:line:column``, plus `` @ <commit[:10]>`` for git history."""
    text = clean(occurrence.location)
    if occurrence.provenance.commit:
        text += f" @ {clean(occurrence.provenance.commit[:10])}"
    extra = dict(occurrence.provenance.extra)
    state = extra.get("state")
    if state in _STATE_LABELS:
        text += f" ({_STATE_LABELS[state]})"
    # Logs, chat and documents: say where a person would look for it.
    context = [extra[key] for key in _CONTEXT_KEYS if extra.get(key)]
    if occurrence.provenance.source != "git":
        if occurrence.provenance.when is not None:
            context.append(occurrence.provenance.when.isoformat(timespec="seconds"))
        if occurrence.provenance.author:
            context.append(f"by {occurrence.provenance.author}")
    if context:
        text += " (" + clean(", ".join(context)) + ")"
    if occurrence.provenance.url and occurrence.provenance.source != "git":
        text += f"\n  {clean(occurrence.provenance.url)}"
    return text


# Extra keys worth showing beside a location, in this order.
_CONTEXT_KEYS = ("space", "page_title", "issue", "channel", "job", "step")


# How a git occurrence stands today, as the table says it.
_STATE_LABELS = {"still-present": "still present", "history-only": "history only", "unreachable": "unreachable"}


def _where(occurrences: tuple[Occurrence, ...], ellipsis: str) -> str:
    lines = [place(o) for o in occurrences[:MAX_PLACES]]
    hidden = len(occurrences) - MAX_PLACES
    if hidden > 0:
        lines.append(f"{ellipsis} and {hidden} more")
    return "\n".join(lines)


def _plural(count: int, word: str, suffix: str = "s") -> str:
    return f"{count} {word}{suffix if count != 1 else ''}"


def summary_line(result: ScanResult) -> str:
    """One line: findings by severity, inputs, MB, seconds, skips, hidden
    fakes, baselined findings and matches allowed inline."""
    stats: ScanStats = result.stats
    counts = Counter(f.severity for f in result.findings)
    findings = _plural(len(result.findings), "finding")
    if counts:
        findings += " (" + ", ".join(f"{counts[s]} {s.value}" for s in _SEVERITIES_DESCENDING if counts[s]) + ")"
    parts = [
        findings,
        f"{_plural(stats.inputs_scanned, 'input')} scanned",
        # Binary megabytes, matching how --max-file-size reads "100M".
        f"{stats.bytes_scanned / (1 << 20):.1f} MB scanned",
        f"{stats.seconds:.1f} s",
    ]
    skipped: Counter[str] = Counter()
    for reason, count in stats.skipped:
        skipped[reason] += count
    if skipped:
        # Count first: reasons are phrases ("larger than 100M"), so "3 larger than 100M" reads naturally.
        ordered = sorted(skipped.items(), key=lambda item: (-item[1], item[0]))
        parts.append("skipped: " + ", ".join(f"{count} {clean(reason)}" for reason, count in ordered))
    if stats.fake_suppressed > 0:
        noun = "candidate" if stats.fake_suppressed == 1 else "candidates"
        parts.append(f"{stats.fake_suppressed} fake/placeholder {noun} hidden (use --include-fake)")
    if stats.baselined > 0:
        parts.append(f"{_plural(stats.baselined, 'finding')} hidden by the baseline")
    if stats.allowed_inline > 0:
        parts.append(f"{_plural(stats.allowed_inline, 'match', 'es')} allowed inline (sprawl:allow)")
    return "; ".join(parts)
