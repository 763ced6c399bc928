"""``sprawl install-hook``: plain git hook scripts for teams without the
pre-commit framework, written where git will run them (core.hooksPath, or
the hooks folder shared by every worktree), never over somebody else's hook.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import ConfigError, SourceError
from scanner.gitcmd import git_error, run_git

HOOK_NAMES = ("pre-commit", "pre-push")
# Written into every hook sprawl installs; a hook without it belongs to
# someone else and is not replaced without --force.
MARKER = "sprawl-managed-hook"

_SCRIPT = """\
#!/bin/sh
# {marker}: written by `sprawl install-hook`; run it again to update this
# file, delete the file to remove the check.
# Runs `sprawl hook {name}`: {purpose}
# -P: never import from the repository's own folder.
python={python}
if [ -x "$python" ] && [ -f {main} ]; then
    exec "$python" -P -m scanner hook {name} "$@"
fi
if command -v sprawl >/dev/null 2>&1; then
    exec sprawl hook {name} "$@"
fi
echo "sprawl: cannot run the {name} check: $python is gone and 'sprawl' is not on PATH;" >&2
echo "sprawl: install sprawl again and run 'sprawl install-hook', or delete $0" >&2
exit 2
"""

_PURPOSE = {
    "pre-commit": "blocks a commit that adds a publication credential.",
    "pre-push": "blocks a push whose new commits hold a publication credential.",
}


@dataclass(frozen=True)
class HooksFolder:
    """Where git looks for this repository's hooks, and why there."""

    path: Path
    origin: str  # "core.hooksPath in <file>", or "git common dir"


@dataclass(frozen=True)
class InstalledHook:
    """One hook written: where, and what it replaced."""

    name: str
    path: Path
    updated: bool  # an earlier sprawl hook was rewritten
    backup: Path | None  # a foreign hook moved aside (--force)


def hook_names(which: str) -> tuple[str, ...]:
    """``--hook`` value -> hook names: pre-commit, pre-push or all."""
    if which == "all":
        return HOOK_NAMES
    if which in HOOK_NAMES:
        return (which,)
    raise ConfigError(f"--hook '{which}' is not one of {', '.join(HOOK_NAMES)}, all")


def _config_value(repo: Path, args: Sequence[str], env: Mapping[str, str]) -> str | None:
    done = run_git(repo, ["config", *args, "--get", "core.hooksPath"], env=env, check=False)
    if done.returncode == 0:
        value = done.stdout.decode("utf-8", "surrogateescape").rstrip("\n")
        return value or None
    if done.returncode == 1:  # not set
        return None
    raise SourceError(f"{repo}: git config failed: {git_error(done.stderr)}")


def _global_config_files(environ: Mapping[str, str]) -> list[Path]:
    """The user's own git config files, in the order git reads them (the
    last one that sets a key wins)."""
    configured = environ.get("GIT_CONFIG_GLOBAL")
    if configured:
        return [Path(configured)]
    home = Path(environ.get("HOME") or Path.home())
    xdg = Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else home / ".config"
    return [xdg / "git" / "config", home / ".gitconfig"]


def hooks_folder(repo: Path, env: Mapping[str, str], environ: Mapping[str, str] | None = None) -> HooksFolder:
    """The folder git runs ``repo``'s hooks from.

    gitcmd pins core.hooksPath on every command line (so scans never run
    hooks), which would hide the repository's own setting from
    ``git config --get``; reading one file at a time (--local, --file)
    sees what git itself would use.
    """
    environ = os.environ if environ is None else environ
    top = run_git(repo, ["rev-parse", "--show-toplevel"], env=env, check=False)
    if top.returncode != 0:
        raise SourceError(f"{repo}: not a git work tree ({git_error(top.stderr)})")
    root = Path(top.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))
    value = _config_value(repo, ["--local"], env)
    origin = "core.hooksPath in the repository's config"
    if value is None:
        for config_file in reversed(_global_config_files(environ)):
            if config_file.is_file():
                value = _config_value(repo, ["--includes", "--file", str(config_file)], env)
                if value is not None:
                    origin = f"core.hooksPath in {config_file} (applies to every repository)"
                    break
    if value is not None:
        # Relative paths are taken from the work tree's top, where git runs hooks.
        return HooksFolder(root / Path(value).expanduser(), origin)
    common = run_git(repo, ["rev-parse", "--git-common-dir"], env=env)
    common_dir = Path(common.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))
    return HooksFolder((repo / common_dir) / "hooks", "the repository's hooks folder")


def hook_script(name: str, python: str, package_dir: Path) -> str:
    """The shell script of hook ``name``: this interpreter running this
    sprawl, or ``sprawl`` from PATH once that interpreter is gone."""
    return _SCRIPT.format(
        marker=MARKER,
        name=name,
        purpose=_PURPOSE[name],
        python=shlex.quote(python),
        main=shlex.quote(str(package_dir / "__main__.py")),
    )


def is_sprawl_hook(path: Path) -> bool:
    """True when ``path`` is a hook sprawl wrote (its marker near the top)."""
    try:
        with open(path, "rb") as hook:
            head = hook.read(512)
    except OSError:
        return False
    return MARKER.encode() in head


def _foreign_hook_message(path: Path) -> str:
    try:
        head = path.read_bytes()[:2048]
    except OSError:
        head = b""
    if b"pre-commit.com" in head or b"File generated by pre-commit" in head:
        advice = "the pre-commit framework manages it: add the sprawl hook to .pre-commit-config.yaml instead"
    else:
        advice = "call sprawl from it yourself, or pass --force to replace it (it is kept as a .bak file)"
    return f"{path} exists and was not written by sprawl; {advice}"


def _backup_path(path: Path) -> Path:
    candidate = path.with_name(path.name + ".bak")
    number = 1
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.name}.bak.{number}")
        number += 1
    return candidate


def install_hooks(
    repo: Path,
    names: Sequence[str],
    *,
    force: bool = False,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[HooksFolder, list[InstalledHook]]:
    """Write the hooks ``names`` for ``repo``. Every target is checked
    before any is written, so a refusal leaves nothing half-installed."""
    import scanner

    folder = hooks_folder(repo, env or {}, environ)
    targets = [(name, folder.path / name) for name in names]
    for _, path in targets:
        if (path.exists() or path.is_symlink()) and not force and not is_sprawl_hook(path):
            raise ConfigError(_foreign_hook_message(path))
    package_dir = Path(scanner.__file__).resolve().parent
    interpreter = python or sys.executable
    installed: list[InstalledHook] = []
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        for name, path in targets:
            existing = path.exists() or path.is_symlink()
            ours = existing and is_sprawl_hook(path)
            backup = None
            if existing and not ours:
                backup = _backup_path(path)
                os.replace(path, backup)
            temporary = path.with_name(f".{name}.sprawl-tmp")
            temporary.write_text(hook_script(name, interpreter, package_dir), encoding="utf-8", newline="\n")
            temporary.chmod(0o755)
            os.replace(temporary, path)
            installed.append(InstalledHook(name, path, updated=ours, backup=backup))
    except OSError as exc:
        raise ConfigError(f"{folder.path}: cannot write the hook: {exc.strerror or exc}") from exc
    return folder, installed
