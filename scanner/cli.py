"""The ``sprawl`` command: parses flags into a ScanConfig, runs the pipeline,
renders a report and sets the exit code. No scanning logic lives here.

Exit codes: 0 nothing at or above --fail-on; 1 findings; 2 usage or input error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from scanner import __version__
from scanner.errors import ScannerError

app = typer.Typer(
    name="sprawl",
    help="Find leaked package-publication credentials (npm, PyPI, GitHub, ...) with severity and exact locations.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="List and self-test detection rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra rule file or folder (YAML); repeatable.", show_default=False),
]


def _die(message: str) -> NoReturn:
    print(f"sprawl: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        print(f"sprawl {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """sprawl: secret-sprawl scanner for package-publication credentials."""


@app.command()
def scan(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or archives to scan; '-' reads stdin.")],
    rules: RulesOption = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Use only these rule ids (globs allowed); repeatable.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Leave out these rule ids (globs allowed); repeatable.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or sarif.")] = "table",
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")] = None,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Include raw secret values in the report.")] = False,
    include_fake: Annotated[bool, typer.Option("--include-fake", help="Also report placeholders, checksum failures and other fakes.")] = False,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity (info..critical, or never).")] = "low",
    max_file_size: Annotated[str, typer.Option("--max-file-size", help="Skip files larger than this (e.g. 100M).")] = "100M",
    max_archive_depth: Annotated[int, typer.Option("--max-archive-depth", help="How many levels of archives to open (the outermost counts as one).")] = 5,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display and no per-input error lines on stderr.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for matching; 0 = every core when a folder is scanned.", min=0)] = 0,
) -> None:
    """Scan files, directories, archives or stdin for publication credentials."""
    from dataclasses import replace

    from scanner.config import ScanConfig, auto_jobs, parse_fail_on, parse_size
    from scanner.pipeline import exit_code
    from scanner.pipeline import scan as run_scan
    from scanner.progress import ScanProgress
    from scanner.report.base import get_reporter
    from scanner.report.output import open_output
    from scanner.sources.archives import ArchiveLimits

    try:
        reporter = get_reporter(output_format)
        config = ScanConfig(
            paths=tuple(paths),
            rule_paths=tuple(rules or ()),
            only=tuple(only or ()),
            exclude=tuple(exclude or ()),
            max_file_size=parse_size(max_file_size),
            archive_limits=replace(ArchiveLimits(), max_depth=max_archive_depth),
            include_fake=include_fake,
            show_secrets=show_secrets,
            fail_on=parse_fail_on(fail_on),
            jobs=jobs or auto_jobs(tuple(paths)),
        )
        with ScanProgress(enabled=False if quiet else None) as progress:
            result = run_scan(config, progress=progress)
        if not quiet:
            for line in result.stats.errors:
                print(f"sprawl: error: {line}", file=sys.stderr)
        with open_output(output, sensitive=show_secrets) as out:
            reporter.render(result, out)
    except ScannerError as exc:
        _die(str(exc))
    raise typer.Exit(exit_code(result, config.fail_on))


@rules_app.command("list")
def rules_list(
    rules: RulesOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List every loaded rule."""
    from scanner.rulecheck import render_rule_list
    from scanner.ruleset import load_rules

    try:
        loaded = load_rules(tuple(rules or ()))
        render_rule_list(loaded, output_format, sys.stdout)
    except ScannerError as exc:
        _die(str(exc))


@rules_app.command("check")
def rules_check(rules: RulesOption = None) -> None:
    """Self-test the rules: unique ids, patterns compile, examples match, negatives do not."""
    from scanner.rulecheck import check_rules
    from scanner.ruleset import load_rules

    try:
        loaded = load_rules(tuple(rules or ()))
        problems = check_rules(loaded)
    except ScannerError as exc:
        _die(str(exc))
    for problem in problems:
        print(f"FAIL {problem}")
    examples = sum(len(r.examples) + len(r.negative_examples) for r in loaded)
    print(f"{len(loaded)} rules, {examples} examples checked, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


def main() -> None:
    """Console-script entry point."""
    app()
