"""The fast way into the pre-commit check: a bare ``hook pre-commit`` (what
installed hooks and the pre-commit framework run) goes straight to the check,
before the command-line machinery (typer) is imported."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def dispatch(argv: Sequence[str]) -> int | None:
    """The exit code of ``argv`` when it is a bare ``hook pre-commit`` or
    ``hook pre-push [remote [url]]``; None for anything else (the full
    command line handles it)."""
    args = list(argv)
    if args == ["hook", "pre-commit"]:
        from scanner.hooks.precommit import HookOptions, run_pre_commit

        return run_pre_commit(Path("."), HookOptions(), out=sys.stdout, err=sys.stderr)
    # git runs pre-push as "<hook> <remote name> <remote url>"; nothing else
    # may follow, or an option would be taken for the remote.
    if args[:2] == ["hook", "pre-push"] and len(args) <= 4 and not any(a.startswith("-") for a in args[2:]):
        from scanner.hooks.precommit import HookOptions
        from scanner.hooks.prepush import run_pre_push

        return run_pre_push(Path("."), HookOptions(), stdin=sys.stdin, out=sys.stdout, err=sys.stderr)
    return None
