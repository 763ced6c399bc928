"""``sprawl sweep``: the command; the work is in scanner/sweep/.

Exit codes as for ``sprawl scan``: 0 nothing reported at or above
--fail-on, 1 findings reported, 2 a usage error, a busy state file under
--no-wait, or a repository that could not be swept and nothing to report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer


def _die(message: str) -> NoReturn:
    print(f"sprawl: error: {_printable(message)}", file=sys.stderr)
    raise typer.Exit(2)


def _printable(text: str) -> str:
    """Messages carry paths and git's (or a server's) words: control
    characters are shown escaped, never sent to the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def sweep(
    folders: Annotated[
        list[str] | None,
        typer.Argument(help="Folders of clones (each direct child that is a repository), or repositories.", show_default=False),
    ] = None,
    list_file: Annotated[
        Path | None,
        typer.Option("--list", help="File with one local path or remote URL (file://, https://, ssh://, user@host:path) per line; '#' comments.", show_default=False, dir_okay=False),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="State database. [default: $XDG_STATE_HOME/sprawl/sweep.db]", show_default=False, dir_okay=False),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option("--cache", help="Folder for mirrors of remote URLs. [default: $XDG_CACHE_HOME/sprawl/mirrors]", show_default=False, file_okay=False),
    ] = None,
    new_only: Annotated[bool, typer.Option("--new-only", help="Report only findings first seen in this sweep.")] = False,
    include_history: Annotated[bool, typer.Option("--include-history-only", help="Also report findings no ref reaches any more (history-only).")] = False,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, json or jsonl.")] = "table",
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Repositories scanned at once by local processes; 0 = every core.", min=0)] = 0,
    executor: Annotated[str, typer.Option("--executor", help="local, or dask (with --scheduler).")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786.", show_default=False)] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Fail at once if another sweep uses the state file, instead of waiting.")] = False,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help="Exit 1 when a reported finding is at or above this severity (info..critical, or never). [default: low]", show_default=False)] = None,
    include_fake: Annotated[bool, typer.Option("--include-fake", help="Also report placeholders, checksum failures and other fakes.")] = False,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder; repeatable.", show_default=False)] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Use only these rule ids (globs allowed); repeatable.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Leave out these rule ids (globs allowed); repeatable.")] = None,
    max_file_size: Annotated[str | None, typer.Option("--max-file-size", help="Skip git objects larger than this (e.g. 100M). [default: 512M]", show_default=False)] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Hide findings this baseline file accepts.", show_default=False)] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="Settings file (.sprawl.yaml or pyproject.toml); none is searched for.", show_default=False)] = None,
    git_timeout: Annotated[float, typer.Option("--git-timeout", help="Seconds a clone or fetch may take.", min=1)] = 3600.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes, per-repository errors or summary line on stderr.")] = False,
) -> None:
    """Sweep many repositories incrementally: only objects no earlier sweep read are scanned."""
    import os

    from scanner.errors import ConfigError, ScannerError
    from scanner.pipeline import load_selected_rules
    from scanner.projectconfig import resolve_scan_config
    from scanner.report.output import open_output
    from scanner.sweep.mirrors import default_cache_dir
    from scanner.sweep.report import SWEEP_FORMATS, ReportOptions, render, select, summary_line
    from scanner.sweep.runner import SweepOptions, run_sweep
    from scanner.sweep.state import default_state_path
    from scanner.sweep.tasks import SweepSettings

    def note(message: str) -> None:
        if not quiet:
            print(f"sprawl: {_printable(message)}", file=sys.stderr, flush=True)

    def error(message: str) -> None:
        if not quiet:
            print(f"sprawl: error: {_printable(message)}", file=sys.stderr, flush=True)

    try:
        if output_format not in SWEEP_FORMATS:
            raise ConfigError(f"--format '{output_format}' is not one of {', '.join(SWEEP_FORMATS)}")
        if not folders and list_file is None:
            raise ConfigError("name folders of clones, or a --list file of paths and URLs")
        config, _ = resolve_scan_config(
            [],
            {
                "rules": rules,
                "only": only,
                "exclude": exclude,
                "fail_on": fail_on,
                "max_file_size": max_file_size,
                "baseline": baseline,
                "include_fake": include_fake,
            },
            config_file=config_file,
            use_config=config_file is not None,
            env=os.environ,
        )
        from scanner.baseline import baseline_key

        key = baseline_key(config.baseline_key)
        settings = SweepSettings(
            rules=tuple(load_selected_rules(config)),
            fingerprint_key=key,
            cache_dir=str(cache or default_cache_dir(os.environ)),
            regex_timeout=config.regex_timeout,
            max_file_size=config.max_file_size,
            archive_limits=config.archive_limits,
            path_excludes=config.path_excludes,
            git_timeout=git_timeout,
        )
        options = SweepOptions(
            folders=tuple(folders or ()),
            list_file=list_file,
            state=state or default_state_path(os.environ),
            settings=settings,
            jobs=jobs or max(1, min(os.cpu_count() or 1, 8)),
            executor=executor,
            scheduler=scheduler,
            wait=not no_wait,
        )
        hidden: frozenset[str] = frozenset()
        if config.baseline is not None:
            from datetime import date

            from scanner.baseline import load_baseline

            accepted = load_baseline(config.baseline, key)
            hidden = frozenset(e.fingerprint for e in accepted.entries if not e.expired(date.today()))
        outcome = run_sweep(options, notify=note, on_error=error)
        selection = select(
            outcome.findings,
            ReportOptions(
                sweep_id=outcome.summary.sweep_id,
                new_only=new_only,
                include_fake=config.include_fake,
                include_history=include_history,
            ),
            baselined=hidden,
        )
        with open_output(output, sensitive=False) as out:
            render(output_format, outcome.summary, selection, out)
        for gap in outcome.summary.gaps:
            note(f"warning: not scanned: {gap}")
        note(summary_line(outcome.summary, selection))
    except ScannerError as exc:
        _die(str(exc))
    threshold = config.fail_on
    if threshold is not None and any(s.finding.severity >= threshold for s in selection.findings):
        raise typer.Exit(1)
    raise typer.Exit(2 if outcome.summary.failed or outcome.summary.unusable else 0)
