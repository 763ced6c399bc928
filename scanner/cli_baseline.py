"""``sprawl baseline create|update|prune``: scan, then write the accepted
findings' fingerprints to a baseline file (scanner/baseline.py holds the logic).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from datetime import date

    from scanner.config import ScanConfig
    from scanner.model import ScanResult

baseline_app = typer.Typer(
    help="Accept current findings in a baseline file, so scans report only new ones.",
    no_args_is_help=True,
)

PathsArgument = Annotated[list[str], typer.Argument(help="Files, directories or archives to scan.")]
BaselineOption = Annotated[
    Path | None,
    typer.Option(
        "--baseline", help="The baseline file [default: .sprawl-baseline.json].", dir_okay=False, show_default=False
    ),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra rule file or folder (YAML); repeatable.", show_default=False),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why these findings are accepted (stored per entry).")]
OwnerOption = Annotated[str, typer.Option("--owner", help="Who accepted them (stored per entry).")]
ExpiresOption = Annotated[
    str | None,
    typer.Option(
        "--expires",
        help="Last day the entries hide their findings (YYYY-MM-DD); after it they return.",
        show_default=False,
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No per-input error lines on stderr.")]


def _die(message: str) -> NoReturn:
    print(f"sprawl: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _config(paths: list[str], rules: list[Path] | None) -> ScanConfig:
    """The scan settings: flags, then .sprawl.yaml / [tool.sprawl] found
    from the scanned root (rules, excludes, baseline, baseline-key), exactly
    as ``sprawl scan`` resolves them."""
    import os

    from scanner.projectconfig import resolve_scan_config

    config, _ = resolve_scan_config(
        paths, {"rules": rules or None, "fail_on": "never"}, config_file=None, use_config=True, env=os.environ
    )
    return config


def _file(flag: Path | None, config: ScanConfig) -> Path:
    from scanner.baseline import DEFAULT_BASELINE_FILE

    return flag or config.baseline or Path(DEFAULT_BASELINE_FILE)


def _key(config: ScanConfig) -> bytes:
    from scanner.baseline import baseline_key

    return baseline_key(config.baseline_key)


def _scan(config: ScanConfig, quiet: bool) -> ScanResult:
    from dataclasses import replace

    from scanner.pipeline import scan

    # Every finding, including those the baseline already hides: update and
    # prune compare against the full set (prune would otherwise drop them all).
    result = scan(replace(config, baseline=None))
    if not quiet:
        for line in result.stats.errors:
            print(f"sprawl: error: {line}", file=sys.stderr)
    return result


def _expires(text: str | None) -> date | None:
    from datetime import date

    from scanner.baseline import parse_expires
    from scanner.errors import ConfigError

    expires = parse_expires(text)
    if expires is not None and expires < date.today():
        raise ConfigError(f"--expires {expires.isoformat()} is in the past")
    return expires


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


@baseline_app.command("create")
def create(
    paths: PathsArgument,
    baseline: BaselineOption = None,
    reason: ReasonOption = "",
    owner: OwnerOption = "",
    expires: ExpiresOption = None,
    rules: RulesOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing baseline file.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Scan PATHS and write a baseline accepting every finding."""
    from scanner.baseline import create_baseline, write_baseline
    from scanner.errors import ScannerError

    try:
        config = _config(paths, rules)
        file = _file(baseline, config)
        if file.exists() and not force:
            _die(f"{file}: already exists; use 'sprawl baseline update' to add findings, or --force to replace it")
        until = _expires(expires)
        result = _scan(config, quiet)
        made = create_baseline(result.findings, _key(config), reason=reason, owner=owner, expires=until)
        write_baseline(file, made)
    except ScannerError as exc:
        _die(str(exc))
    print(f"wrote {_entries(len(made.entries))} to {file}")


@baseline_app.command("update")
def update(
    paths: PathsArgument,
    baseline: BaselineOption = None,
    reason: ReasonOption = "",
    owner: OwnerOption = "",
    expires: ExpiresOption = None,
    rules: RulesOption = None,
    quiet: QuietOption = False,
) -> None:
    """Scan PATHS and add the findings the baseline does not know yet (existing entries stay as they are)."""
    from scanner.baseline import load_baseline, update_baseline, write_baseline
    from scanner.errors import ScannerError

    try:
        config = _config(paths, rules)
        file, key = _file(baseline, config), _key(config)
        current = load_baseline(file, key)
        until = _expires(expires)
        result = _scan(config, quiet)
        updated, added = update_baseline(current, result.findings, key, reason=reason, owner=owner, expires=until)
        if added:
            write_baseline(file, updated)
    except ScannerError as exc:
        _die(str(exc))
    print(f"added {_entries(len(added))} to {file} ({len(updated.entries)} in total)")


@baseline_app.command("prune")
def prune(
    paths: PathsArgument,
    baseline: BaselineOption = None,
    rules: RulesOption = None,
    quiet: QuietOption = False,
) -> None:
    """Scan PATHS, drop the entries no finding matches any more, and list them."""
    from scanner.baseline import load_baseline, prune_baseline, write_baseline
    from scanner.errors import ScannerError

    try:
        config = _config(paths, rules)
        file, key = _file(baseline, config), _key(config)
        current = load_baseline(file, key)
        result = _scan(config, quiet)
        if result.incomplete:
            # An input that could not be read would look like a fixed leak.
            _die(f"{file}: not pruned, because some inputs could not be read")
        pruned, dropped = prune_baseline(current, result.findings, key)
        if dropped:
            write_baseline(file, pruned)
    except ScannerError as exc:
        _die(str(exc))
    from scanner.report.table import clean

    for entry in dropped:
        # Hints are paths from scanned trees: never print them raw to a terminal.
        hint = f" {clean(entry.hint)}" if entry.hint else ""
        print(f"dropped {entry.rule_id} {entry.fingerprint[:12]}{hint}")
    print(f"dropped {_entries(len(dropped))} from {file} ({len(pruned.entries)} left)")
