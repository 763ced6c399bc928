"""``sprawl timeline``: scan (or load a JSON report) and write the per-credential
exposure timeline as a Markdown or self-contained HTML incident report.
Registered in cli.py with ``app.command("timeline")(timeline)``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from scanner.errors import ConfigError, ScannerError, SourceError

if TYPE_CHECKING:
    from scanner.model import ScanResult

#: ``--format`` values and the reporter each one names.
TIMELINE_FORMATS: dict[str, str] = {"markdown": "timeline-md", "md": "timeline-md", "html": "timeline-html"}


def _die(message: str) -> NoReturn:
    print(f"sprawl: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def timeline_format(output_format: str | None, output: str | None) -> str:
    """The reporter name for ``--format`` (default: html when ``-o`` ends in
    .html/.htm, Markdown otherwise)."""
    if output_format is None:
        suffix = Path(output).suffix.lower() if output and output != "-" else ""
        return TIMELINE_FORMATS["html" if suffix in (".html", ".htm") else "markdown"]
    name = TIMELINE_FORMATS.get(output_format.lower())
    if name is None:
        raise ConfigError(f"--format {output_format!r} is not a timeline format; valid formats: markdown, html")
    return name


def load_report(path: str, *, show_secrets: bool) -> ScanResult:
    """A ScanResult from a ``sprawl scan --format json`` (or jsonl) report
    file; ``-`` reads stdin."""
    from scanner.timeline import parse_report_text

    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SourceError(f"{path}: cannot read the report: {reason}") from exc
    return parse_report_text(text, "<stdin>" if path == "-" else path, show_secrets=show_secrets)


def timeline(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="What to scan, as for `sprawl scan` (repositories, logs, chat and doc exports, files).", show_default=False),
    ] = None,
    from_report: Annotated[
        str | None,
        typer.Option("--from-report", help="Build the timeline from a `sprawl scan --format json` report instead of scanning ('-': stdin).", show_default=False),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="markdown or html. [default: html when -o ends in .html, else markdown]", show_default=False),
    ] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.", show_default=False)] = None,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Include raw secret values (the file is then created 0600).")] = False,
    include_fake: Annotated[bool, typer.Option("--include-fake", help="Also report placeholders, checksum failures and other fakes.")] = False,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help="Exit 1 when a credential is at or above this severity (info..critical, or never). [default: low]", show_default=False)] = None,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder; repeatable.", show_default=False)] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Use only these rule ids (globs allowed); repeatable.", show_default=False)] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Leave out these rule ids (globs allowed); repeatable.", show_default=False)] = None,
    max_file_size: Annotated[str | None, typer.Option("--max-file-size", help="Skip files larger than this (e.g. 100M). [default: 512M]", show_default=False)] = None,
    max_archive_depth: Annotated[int | None, typer.Option("--max-archive-depth", help="How many levels of archives to open. [default: 5]", show_default=False)] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Processes for matching; 0 = every core when a folder is scanned. [default: 0]", min=0, show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display and no per-input error lines on stderr.")] = False,
    config_file: Annotated[Path | None, typer.Option("--config", help="Use this configuration file.", show_default=False)] = None,
    no_config: Annotated[bool, typer.Option("--no-config", help="Ignore configuration files.")] = False,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Baseline file of accepted findings.", show_default=False)] = None,
    unreachable: Annotated[bool, typer.Option("--unreachable", help="Git: also scan objects no ref reaches.")] = False,
    branch: Annotated[str | None, typer.Option("--branch", help="Git: only history reachable from this ref.", show_default=False)] = None,
    since_commit: Annotated[str | None, typer.Option("--since-commit", help="Git: only commits after this one.", show_default=False)] = None,
    since: Annotated[str | None, typer.Option("--since", help="Git: only commits since this date.", show_default=False)] = None,
    no_git: Annotated[bool, typer.Option("--no-git", help="Scan a repository folder as plain files instead of its history.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Ask each secret's own registry whether it is live (read-only identity endpoint, HTTPS). Off by default.")] = False,
) -> None:
    """Per credential, every occurrence in time order, first and last exposure, public reach and
    whether it is still present: a Markdown or self-contained HTML incident report."""
    from scanner.cli_common import HistoryFlags, run_configured_scan
    from scanner.config import parse_fail_on
    from scanner.model import Severity
    from scanner.pipeline import exit_code
    from scanner.report.base import get_reporter
    from scanner.report.output import open_output

    try:
        reporter = get_reporter(timeline_format(output_format, output))
        if from_report is not None:
            if paths:
                raise ConfigError("--from-report builds the timeline from a report: give no paths to scan with it")
            scan_flags = {
                "--rules": rules, "--only": only, "--exclude": exclude, "--max-file-size": max_file_size,
                "--max-archive-depth": max_archive_depth, "--jobs": jobs, "--baseline": baseline,
                "--include-fake": include_fake or None, "--config": config_file, "--no-config": no_config or None,
                "--unreachable": unreachable or None, "--branch": branch, "--since-commit": since_commit,
                "--since": since, "--no-git": no_git or None, "--verify": verify or None,
            }  # fmt: skip
            given = [flag for flag, value in scan_flags.items() if value]
            if given:
                raise ConfigError(f"{given[0]} applies to a scan; it cannot be used with --from-report")
            result = load_report(from_report, show_secrets=show_secrets)
            threshold = parse_fail_on(fail_on) if fail_on is not None else Severity.LOW
        else:
            if not paths:
                raise ConfigError("give the paths to scan, or --from-report REPORT.json")
            result, config = run_configured_scan(
                paths,
                {
                    "rules": rules,
                    "only": only,
                    "exclude": exclude,
                    "fail_on": fail_on,
                    "max_file_size": max_file_size,
                    "max_archive_depth": max_archive_depth,
                    "jobs": jobs,
                    "baseline": baseline,
                    "include_fake": include_fake,
                    "show_secrets": show_secrets,
                },
                HistoryFlags(no_git, unreachable, branch, since_commit, since),
                config_file=config_file,
                no_config=no_config,
                quiet=quiet,
                verify=verify,
            )
            threshold = config.fail_on
        with open_output(output, sensitive=show_secrets) as out:
            reporter.render(result, out)
    except ScannerError as exc:
        _die(str(exc))
    raise typer.Exit(exit_code(result, threshold))
