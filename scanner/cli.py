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
from scanner.cli_baseline import baseline_app
from scanner.cli_hooks import hook_app, install_hook
from scanner.cli_hunt import hunt_command
from scanner.cli_sweep import sweep
from scanner.cli_timeline import timeline
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
config_app = typer.Typer(help="Show the configuration a scan would use.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(baseline_app, name="baseline")
app.add_typer(hook_app, name="hook")

RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra rule file or folder (YAML), or a gitleaks/betterleaks .toml; repeatable.", show_default=False),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Use this configuration file instead of looking for .sprawl.yaml / [tool.sprawl].", show_default=False),
]
NoConfigOption = Annotated[bool, typer.Option("--no-config", help="Ignore configuration files.")]


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
    fail_on: Annotated[str | None, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity (info..critical, or never). [default: low]", show_default=False)] = None,
    max_file_size: Annotated[str | None, typer.Option("--max-file-size", help="Skip files larger than this (e.g. 100M). [default: 512M]", show_default=False)] = None,
    max_archive_depth: Annotated[int | None, typer.Option("--max-archive-depth", help="How many levels of archives to open (the outermost counts as one). [default: 5]", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display and no per-input error lines on stderr.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Processes for matching; 0 = every core when a folder is scanned. [default: 0]", min=0, show_default=False)] = None,
    config_file: ConfigOption = None,
    no_config: NoConfigOption = False,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Baseline file of accepted findings.", show_default=False)] = None,
    unreachable: Annotated[bool, typer.Option("--unreachable", help="Git: also scan objects no ref reaches (reset-away or force-pushed work).")] = False,
    branch: Annotated[str | None, typer.Option("--branch", help="Git: only history reachable from this branch or ref (default: every ref).", show_default=False)] = None,
    since_commit: Annotated[str | None, typer.Option("--since-commit", help="Git: only commits after this one (a commit id, tag or ref).", show_default=False)] = None,
    since: Annotated[str | None, typer.Option("--since", help="Git: only commits since this date (e.g. 2026-01-01, '2 weeks ago').", show_default=False)] = None,
    no_git: Annotated[bool, typer.Option("--no-git", help="Scan a repository folder as plain files instead of its history.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Ask each secret's own registry (read-only identity endpoint, HTTPS) whether it is live. Off by default.")] = False,
) -> None:
    """Scan files, directories, archives, stdin or git repositories (whole history) for publication credentials."""
    from scanner.cli_common import HistoryFlags, run_configured_scan
    from scanner.pipeline import exit_code
    from scanner.report.base import get_reporter
    from scanner.report.output import open_output

    try:
        reporter = get_reporter(output_format)
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
        with open_output(output, sensitive=show_secrets) as out:
            reporter.render(result, out)
    except ScannerError as exc:
        _die(str(exc))
    raise typer.Exit(exit_code(result, config.fail_on))


# Registered after scan, so `sprawl --help` lists the commands in the order
# they are used: scan first, then the sweep and incident-response commands.
app.command("sweep")(sweep)
app.command("hunt")(hunt_command)
app.command("timeline")(timeline)
app.command("install-hook")(install_hook)


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


@config_app.command("show")
def config_show(
    path: Annotated[str, typer.Argument(help="The folder (or file) a scan would be run on.")] = ".",
    config_file: ConfigOption = None,
    no_config: NoConfigOption = False,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Print every effective setting, its value and where it came from."""
    import os

    from scanner.projectconfig import render_settings, resolve_scan_config

    try:
        config, origins = resolve_scan_config(
            [path], {}, config_file=config_file, use_config=not no_config, env=os.environ
        )
        render_settings(config, origins, output_format, sys.stdout)
    except ScannerError as exc:
        _die(str(exc))


def main() -> None:
    """Console-script entry point."""
    from scanner.hooks.entry import dispatch

    # A bare `sprawl hook pre-commit` runs on every commit: it skips the
    # command-line machinery (about 0.1 s of typer set-up).
    code = dispatch(sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    app()
