"""``sprawl hunt``: the incident responder's "where else is this token?". The
command reads the leaked value (a file or stdin, never an argument) or its
sha256, runs scanner/hunt/ over the given sources and renders the report.

Exit codes: 1 a copy was found; 0 none; 2 a usage or input error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from scanner.hunt.targets import HuntTargets


def _die(message: str) -> NoReturn:
    print(f"sprawl: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def hunt_command(
    sources: Annotated[
        list[str],
        typer.Argument(help="Where to look: files, folders, archives, repositories (whole history), logs, exports."),
    ],
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file",
            help="File holding the leaked value (one per line; '-' reads stdin).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the leaked value(s) from stdin, one per line.")
    ] = False,
    sha256: Annotated[
        list[str] | None,
        typer.Option("--sha256", help="Hunt the value whose sha256 (hex) is this; repeatable.", show_default=False),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, json, jsonl or sarif.")] = "table",
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Include the raw value in the report (never in SARIF).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display, no error lines or summary on stderr.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", help="Processes for matching; 0 = every core for folders. [default: 0]", min=0,
            show_default=False,
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules", help="Extra rules: their matches are hashed in --sha256 mode; repeatable.", show_default=False
        ),
    ] = None,
    max_file_size: Annotated[
        str | None, typer.Option("--max-file-size", help="Skip files larger than this. [default: 512M]", show_default=False)
    ] = None,
    max_archive_depth: Annotated[
        int | None,
        typer.Option("--max-archive-depth", help="Levels of archives to open. [default: 5]", show_default=False),
    ] = None,
    unreachable: Annotated[
        bool, typer.Option("--unreachable", help="Git: also objects no ref reaches (reset-away, force-pushed).")
    ] = False,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Git: only history reachable from this ref.", show_default=False)
    ] = None,
    since_commit: Annotated[
        str | None, typer.Option("--since-commit", help="Git: only commits after this one.", show_default=False)
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Git: only commits since this date.", show_default=False)
    ] = None,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Read a repository folder as plain files instead of its history.")
    ] = False,
) -> None:
    """Find every copy of a leaked credential (raw, base64, URL-, JSON-, HTML-escaped, hex) across sources."""
    from scanner.cli_common import HistoryFlags, configure_scan, print_problems
    from scanner.errors import ConfigError, ScannerError
    from scanner.hunt.run import hunt
    from scanner.progress import ScanProgress
    from scanner.report.base import get_reporter
    from scanner.report.output import open_output

    try:
        reporter = get_reporter(output_format)
        targets = read_targets(secret_file, secret_stdin, sha256 or [])
        if "-" in sources and (secret_stdin or str(secret_file) == "-"):
            raise ConfigError("'-' (stdin) cannot be scanned: stdin holds the secret; save the input to a file")
        # No project configuration: its exclusions and disabled rules would
        # hide copies, and a hunt must see every one.
        config = configure_scan(
            sources,
            {
                "rules": rules,
                "max_file_size": max_file_size,
                "max_archive_depth": max_archive_depth,
                "jobs": jobs,
                "show_secrets": show_secrets,
            },
            HistoryFlags(no_git, unreachable, branch, since_commit, since),
            config_file=None,
            use_config=False,
        )
        with ScanProgress(enabled=False if quiet else None) as progress:
            outcome = hunt(config, targets, progress=progress)
        if not quiet:
            print_problems(outcome.result.stats)
        summary = outcome.summary_lines()
        with open_output(output, sensitive=show_secrets) as out:
            reporter.render(outcome.result, out)
            if output_format == "table":
                out.write("\n".join(summary) + "\n")
        if output_format != "table" and not quiet:
            for line in summary:
                print(line, file=sys.stderr)
    except ScannerError as exc:
        _die(str(exc))
    raise typer.Exit(outcome.exit_code)


def read_targets(secret_file: Path | None, secret_stdin: bool, digests: list[str]) -> HuntTargets:
    """What to hunt, from exactly one of the three ways to give it."""
    from scanner.errors import ConfigError
    from scanner.hunt.targets import HuntTargets, parse_sha256, read_secret_file

    given = [secret_file is not None, secret_stdin, bool(digests)]
    if not any(given):
        raise ConfigError(
            "give the leaked value with --secret-file FILE or --secret-stdin (never as an argument: "
            "shell history and process lists keep those), or its --sha256"
        )
    if sum(given) > 1:
        raise ConfigError("--secret-file, --secret-stdin and --sha256 are alternatives: give one of them")
    if digests:
        return HuntTargets(digests=tuple(dict.fromkeys(parse_sha256(d) for d in digests)))
    if secret_file is not None and str(secret_file) != "-":
        return HuntTargets(values=read_secret_file(secret_file))
    return HuntTargets(values=_stdin_secrets())


def _stdin_secrets() -> tuple[str, ...]:
    """Secrets piped in (one per line), or typed at a terminal without echo."""
    from scanner.hunt.targets import parse_secrets, read_secret_bytes

    if sys.stdin is None:
        from scanner.errors import ConfigError

        raise ConfigError("--secret-stdin: there is no stdin to read")
    if sys.stdin.isatty():
        import getpass

        return parse_secrets(getpass.getpass("secret to hunt (not echoed): "), "stdin")
    buffer = getattr(sys.stdin, "buffer", None)
    data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
    return read_secret_bytes(data, "stdin")
