"""Runs a scan: sources -> detector -> judge -> findings -> ScanResult.

``run`` wires already-built parts together; ``scan`` builds them from a
ScanConfig (that is what the CLI and library users call).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from scanner.config import ScanConfig
from scanner.engine import Detector
from scanner.findings import FindingBuilder
from scanner.model import Chunk, Match, Occurrence, Rule, ScanResult, ScanStats, Severity
from scanner.sources.base import Source, SourceStats
from scanner.validators.judge import Judge

if TYPE_CHECKING:
    from scanner.sources.git import GitScanOptions

ProgressCallback = Callable[[Chunk], None]


def run(
    sources: Iterable[Source],
    detector: Detector,
    judge: Judge,
    stats: SourceStats,
    *,
    include_fake: bool = False,
    show_secrets: bool = False,
    progress: ProgressCallback | None = None,
    jobs: int = 1,
    regex_timeout: float = 5.0,
) -> ScanResult:
    """Scan every chunk of every source once per distinct content, matching
    on ``jobs`` processes."""
    started = time.monotonic()
    builder = FindingBuilder()
    # Identical content (copied files, vendored trees) is scanned once; its
    # matches are reused for every place the content appears.
    duplicates = 0
    allowed_inline = 0
    detected = (
        item
        for source in sources
        for item in source.detect(detector, stats, jobs=jobs, regex_timeout=regex_timeout, progress=progress)
    )
    for chunk, matches, duplicate in detected:
        duplicates += duplicate
        for match in matches:
            if match.allowed:  # its line carries sprawl:allow
                allowed_inline += 1
                continue
            if chunk.locator is None:
                occurrence = Occurrence(chunk.provenance, match.line, match.column, match.end_line, match.end_column)
            else:
                occurrence = _placed(chunk, match)
            builder.add(match.rule_id, match.secret, occurrence)
    rules = {rule.id: rule for rule in detector.rules}
    findings, suppressed = builder.build(rules, judge, include_fake=include_fake)
    used = {finding.rule_id for finding in findings}
    return ScanResult(
        findings=tuple(findings),
        stats=ScanStats(
            inputs_scanned=stats.inputs_scanned,
            bytes_scanned=stats.bytes_scanned,
            duplicates_skipped=duplicates,
            skipped=tuple(sorted(stats.skipped.items())),
            errors=tuple(stats.errors),
            gaps=tuple(stats.gaps),
            fake_suppressed=suppressed,
            allowed_inline=allowed_inline,
            rules_loaded=len(rules),
            seconds=round(time.monotonic() - started, 3),
        ),
        rules=tuple(rule for rule in detector.rules if rule.id in used),
        show_secrets=show_secrets,
    )


def _placed(chunk: Chunk, match: Match) -> Occurrence:
    """The occurrence of a match in rewritten text, at its original place."""
    assert chunk.locator is not None
    provenance, line, column = chunk.locator.place(chunk.content, match.start)
    _, end_line, end_column = chunk.locator.place(chunk.content, max(match.start, match.end - 1))
    return Occurrence(provenance, line, column, end_line, end_column + 1)


def load_selected_rules(config: ScanConfig) -> list[Rule]:
    """Bundled plus custom rules, narrowed by --only/--exclude."""
    from scanner.ruleset import load_rules, select_rules

    rules = load_rules(config.rule_paths, include_bundled=config.bundled_rules)
    return select_rules(rules, config.only, config.exclude)


def build_judge(rules: Sequence[Rule]) -> Judge:
    from scanner.validators.base import builtin_validators

    return Judge(builtin_validators(), list(rules))


def scan(config: ScanConfig, *, progress: ProgressCallback | None = None) -> ScanResult:
    """Scan ``config.paths`` with the configured rules."""
    from scanner.memory import prefer_heap_for_large_buffers

    prefer_heap_for_large_buffers()  # before worker processes fork
    rules = load_selected_rules(config)
    stats = SourceStats()
    detector = Detector(rules, regex_timeout=config.regex_timeout, on_error=stats.error)
    judge = build_judge(rules)
    result = run(
        build_sources(config),
        detector,
        judge,
        stats,
        include_fake=config.include_fake,
        show_secrets=config.show_secrets,
        progress=progress,
        jobs=config.jobs,
        regex_timeout=config.regex_timeout,
    )
    return apply_configured_baseline(result, config)


def apply_configured_baseline(result: ScanResult, config: ScanConfig) -> ScanResult:
    """Fingerprint every finding under the configured key and hide those the
    baseline file (if any) lists and has not expired."""
    from datetime import date

    from scanner.baseline import apply_baseline, baseline_key, load_baseline

    key = baseline_key(config.baseline_key)
    baseline = load_baseline(config.baseline, key) if config.baseline else None
    return apply_baseline(result, baseline, key, date.today())


def build_sources(config: ScanConfig) -> list[Source]:
    """Git repositories (``git:PATH``, or a repository folder unless history
    scanning is off) become history sources, exports export sources;
    everything else is files, and the repositories and exports found inside
    folders are read as such after the files."""
    from scanner.sources.files import DiscoveredSources, FileSource
    from scanner.sources.formats import ExportOptions, recognize_export, split_prefix
    from scanner.sources.gitrepo import looks_like_repository, split_git_target
    from scanner.sources.nested import NestedFinder, holds_parts

    repos: list[str] = []
    files: list[str] = []
    sources: list[Source] = []
    export_options = ExportOptions(max_file_size=config.max_file_size, path_excludes=config.path_excludes)
    for path in config.paths:
        explicit = split_git_target(path)
        forced, rest = split_prefix(path)
        if explicit is not None:
            repos.append(explicit)
        elif forced is not None:
            sources.append(forced.open(rest, export_options))
        elif config.history.git and path != "-" and looks_like_repository(path):
            repos.append(path)
        elif path != "-" and not holds_parts(path, history=config.history.git) and (export := recognize_export(path)):
            sources.append(export.open(path, export_options))
        else:
            files.append(path)
    if files:
        walker = FileSource(
            tuple(files),
            max_file_size=config.max_file_size,
            archive_limits=config.archive_limits,
            path_excludes=config.path_excludes,
            discover=NestedFinder(export_options, partial(_git_options, config) if config.history.git else None),
        )
        sources.extend((walker, DiscoveredSources(walker)))
    if repos:
        from scanner.sources.git import GitHistorySource

        git_options = _git_options(config)
        sources.extend(GitHistorySource(repo, git_options) for repo in repos)
    return sources


def _git_options(config: ScanConfig) -> GitScanOptions:
    from scanner.sources.git import GitScanOptions

    return GitScanOptions(
        branch=config.history.branch,
        since_commit=config.history.since_commit,
        since=config.history.since,
        unreachable=config.history.unreachable,
        max_file_size=config.max_file_size,
        archive_limits=config.archive_limits,
        path_excludes=config.path_excludes,
    )


def exit_code(result: ScanResult, fail_on: Severity | None) -> int:
    """0 clean, 1 findings at or above ``fail_on``, 2 when some input could not
    be read and nothing was found to fail on (a clean result can't be trusted)."""
    if fail_on is not None and any(f.severity >= fail_on for f in result.findings):
        return 1
    return 2 if result.stats.errors else 0
