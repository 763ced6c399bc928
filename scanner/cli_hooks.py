"""``sprawl hook pre-commit`` and ``sprawl install-hook``: the commands; the
work is in scanner/hooks/. Imports stay inside the commands (a hook runs on
every commit, so start-up time counts).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

hook_app = typer.Typer(help="Run sprawl as a git hook (what install-hook and the pre-commit framework call).",
                       no_args_is_help=True)


def _die(message: str) -> NoReturn:
    print(f"sprawl: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


# Options both hooks take.
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Use this config file instead of finding one.", show_default=False)
]
NoConfigOption = Annotated[bool, typer.Option("--no-config", help="Ignore .sprawl.yaml and [tool.sprawl].")]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Block at or above this severity (info..critical, or never); default from the config, else low.",
        show_default=False,
    ),
]
BaselineOption = Annotated[
    Path | None,
    typer.Option(
        "--baseline",
        help="Baseline file of accepted findings (default: the config's, else .sprawl-baseline.json if present).",
        show_default=False,
    ),
]
RulesOption = Annotated[
    list[Path] | None, typer.Option("--rules", help="Extra rule file or folder; repeatable.", show_default=False)
]


@hook_app.command("pre-commit")
def pre_commit(
    repo: Annotated[Path, typer.Argument(help="A folder inside the repository (default: the current one).")] = Path("."),
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
    fail_on: FailOnOption = None,
    baseline: BaselineOption = None,
    rules: RulesOption = None,
) -> None:
    """Check the lines the commit being made adds; exit 1, and say why, when they hold a credential."""
    from scanner.hooks.precommit import HookOptions, run_pre_commit

    options = HookOptions(config_file=config, use_config=not no_config, fail_on=fail_on, baseline=baseline,
                          rules=tuple(rules or ()))
    raise typer.Exit(run_pre_commit(repo, options, out=sys.stdout, err=sys.stderr))


@hook_app.command("pre-push", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def pre_push(
    ctx: typer.Context,
    config: ConfigOption = None,
    no_config: NoConfigOption = False,
    fail_on: FailOnOption = None,
    baseline: BaselineOption = None,
    rules: RulesOption = None,
) -> None:
    """Scan the commits a push publishes (git's pre-push lines on stdin; the remote name and URL
    git passes as arguments are accepted and not needed). Exit 1 and explain when they hold a credential."""
    from scanner.hooks.precommit import HookOptions
    from scanner.hooks.prepush import run_pre_push

    del ctx  # git's <remote> <url> arguments
    options = HookOptions(config_file=config, use_config=not no_config, fail_on=fail_on, baseline=baseline,
                          rules=tuple(rules or ()))
    raise typer.Exit(run_pre_push(Path("."), options, stdin=sys.stdin, out=sys.stdout, err=sys.stderr))


def install_hook(
    repo: Annotated[Path, typer.Argument(help="A folder inside the repository (default: the current one).")] = Path("."),
    hook: Annotated[str, typer.Option("--hook", help="pre-commit, pre-push or all.")] = "pre-commit",
    force: Annotated[bool, typer.Option("--force", help="Replace a hook sprawl did not write (kept as .bak).")] = False,
) -> None:
    """Write git hook scripts that run sprawl (for repositories without the pre-commit framework)."""
    import os

    from scanner.errors import ScannerError
    from scanner.hooks.install import hook_names, install_hooks
    from scanner.hooks.staged import hook_env

    try:
        names = hook_names(hook)
        folder, installed = install_hooks(repo, names, force=force, env=hook_env(os.environ, Path.cwd()))
    except ScannerError as exc:
        _die(str(exc))
    for item in installed:
        action = "updated" if item.updated else "installed"
        print(f"sprawl: {action} the {item.name} hook: {item.path}")
        if item.backup is not None:
            print(f"sprawl: the previous {item.name} hook was kept as {item.backup}")
    if not folder.origin.startswith("the repository's hooks"):
        print(f"sprawl: hooks folder from {folder.origin}")
