"""ScanConfig: every setting of one scan, built from flags and passed explicitly.

Nothing here reads global state; the CLI builds a ScanConfig from flags and the
project's .sprawl.yaml / [tool.sprawl] (projectconfig.py) and hands it down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import ConfigError
from scanner.model import Severity
from scanner.sources.archives import ArchiveLimits

# Large enough for a long CI log or a big export file; reading is in memory.
DEFAULT_MAX_FILE_SIZE = 512 * 1024 * 1024
_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*")
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """'100M', '512k', '2GiB' or a plain byte count -> bytes."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ConfigError(f"'{text}' is not a size (examples: 500k, 100M, 2G)")
    unit = (match.group(2) or "").lower()[:1]
    return int(float(match.group(1)) * _UNITS[unit])


def parse_fail_on(text: str) -> Severity | None:
    """A severity name, or 'never' (always exit 0 on findings)."""
    if text.lower() == "never":
        return None
    try:
        return Severity(text.lower())
    except ValueError:
        valid = ", ".join(s.value for s in Severity)
        raise ConfigError(f"--fail-on '{text}' is not one of {valid}, never") from None


@dataclass(frozen=True)
class HistoryScope:
    """Which part of a git repository's history a scan reads."""

    git: bool = True  # False: a repository folder is scanned as plain files
    unreachable: bool = False  # also objects no ref reaches
    branch: str | None = None
    since_commit: str | None = None
    since: str | None = None


def history_scope(
    *, git: bool, unreachable: bool, branch: str | None, since_commit: str | None, since: str | None
) -> HistoryScope:
    """A HistoryScope from flags. Refs and dates go to git as arguments, so
    one that starts with '-' (an option in disguise) is refused."""
    for flag, value in (("--branch", branch), ("--since-commit", since_commit), ("--since", since)):
        if value is not None and (not value.strip() or value.startswith("-") or "\n" in value or "\0" in value):
            raise ConfigError(f"{flag} '{value}' is not a ref or date git can take")
    return HistoryScope(git=git, unreachable=unreachable, branch=branch, since_commit=since_commit, since=since)


@dataclass(frozen=True)
class ScanConfig:
    """Settings for one ``sprawl scan``."""

    paths: tuple[str, ...]
    rule_paths: tuple[Path, ...] = ()
    bundled_rules: bool = True
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    include_fake: bool = False
    show_secrets: bool = False
    fail_on: Severity | None = Severity.LOW
    regex_timeout: float = 5.0
    jobs: int = 1  # processes that run the matching; 1 = in this process
    # gitignore-like globs of paths to leave out (pathfilter.py), relative to
    # the scanned root.
    path_excludes: tuple[str, ...] = ()
    baseline: Path | None = None
    # The raw HMAC key for baseline fingerprints; None = the documented default
    # (baseline.py). Kept out of repr so it cannot reach a log or traceback.
    baseline_key: str | None = field(default=None, repr=False)
    config_file: Path | None = None  # the .sprawl.yaml / pyproject.toml in use
    history: HistoryScope = field(default_factory=lambda: HistoryScope())


def auto_jobs(paths: tuple[str, ...]) -> int:
    """Worker processes for ``--jobs 0``: every core when a folder is scanned
    (many inputs), one otherwise (a few files: starting workers costs more)."""
    import os

    # A large file (a zipped chat export, a long log) is many inputs too;
    # "slack:PATH" names PATH.
    targets = [_unprefixed(path) for path in paths]
    if any(os.path.isdir(path) or _large(path) for path in targets):
        return max(1, min(os.cpu_count() or 1, 8))
    return 1


def _unprefixed(path: str) -> str:
    name, sep, rest = path.partition(":")
    return rest if sep and len(name) >= 2 and name.isidentifier() else path


def _large(path: str) -> bool:
    """Enough work to pay for starting workers: 64 MiB, or 8 MiB of zip
    (JSON exports compress tenfold)."""
    import os

    try:
        size = os.path.getsize(path)
        if size >= 64 << 20:
            return True
        if size < 8 << 20:
            return False
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False
