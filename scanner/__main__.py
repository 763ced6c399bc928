"""Allows ``python -m scanner`` as an alias of the ``sprawl`` command."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from scanner.hooks.entry import dispatch

    # Installed git hooks run `python -m scanner hook pre-commit` on every
    # commit: that goes straight to the check, without importing typer.
    code = dispatch(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from scanner.cli import main

    main()
