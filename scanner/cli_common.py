"""What the scanning commands (scan, timeline, hunt) share: turning flags and
project configuration into a ScanConfig, running the scan with a progress
display, and naming unread inputs and gaps on stderr."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scanner.config import ScanConfig
from scanner.model import ScanResult, ScanStats


@dataclass(frozen=True)
class HistoryFlags:
    """The git-history options every scanning command takes."""

    no_git: bool = False
    unreachable: bool = False
    branch: str | None = None
    since_commit: str | None = None
    since: str | None = None


def configure_scan(
    paths: list[str],
    flags: Mapping[str, object | None],
    history: HistoryFlags,
    *,
    config_file: Path | None,
    use_config: bool,
) -> ScanConfig:
    """Flags (by name, see projectconfig.FLAG_NAMES) over the project
    configuration over the defaults, with the git-history scope."""
    import os
    from dataclasses import replace

    from scanner.config import history_scope
    from scanner.projectconfig import resolve_scan_config

    config, _ = resolve_scan_config(paths, flags, config_file=config_file, use_config=use_config, env=os.environ)
    return replace(
        config,
        history=history_scope(
            git=not history.no_git,
            unreachable=history.unreachable,
            branch=history.branch,
            since_commit=history.since_commit,
            since=history.since,
        ),
    )


def print_problems(stats: ScanStats) -> None:
    """One stderr line per input that could not be read and per gap."""
    for line in stats.errors:
        print(f"sprawl: error: {line}", file=sys.stderr)
    for line in stats.gaps:
        print(f"sprawl: warning: not scanned: {line}", file=sys.stderr)


def run_configured_scan(
    paths: list[str],
    flags: Mapping[str, object | None],
    history: HistoryFlags,
    *,
    config_file: Path | None,
    no_config: bool,
    quiet: bool,
    verify: bool = False,
) -> tuple[ScanResult, ScanConfig]:
    """What ``sprawl scan`` does before it reports: configure, scan with a
    progress display, run the opt-in live checks, and name unread inputs and
    gaps on stderr (unless ``quiet``)."""
    from scanner.pipeline import scan as run_scan
    from scanner.progress import ScanProgress

    config = configure_scan(paths, flags, history, config_file=config_file, use_config=not no_config)
    with ScanProgress(enabled=False if quiet else None) as progress:
        result = run_scan(config, progress=progress)
    if verify:
        # Imported only here: without --verify no network code is loaded.
        from scanner.verify.checker import verify_result

        result, checked = verify_result(result)
        if not quiet:
            print(f"sprawl: {checked.line()}", file=sys.stderr)
    if not quiet:
        print_problems(result.stats)
    return result, config
