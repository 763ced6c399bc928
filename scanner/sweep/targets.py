"""What a sweep covers: folders of clones and ``--list`` files of local paths
and remote URLs, turned into one Target per repository.

A target's ``key`` names it in the state database: the absolute path of a
local repository, or the URL of a remote one without any password or https
user name (a token is often passed as either), so no credential is stored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from scanner.errors import ConfigError

# Schemes a sweep mirrors; git:// and plain http are unauthenticated and
# unencrypted, ext:: and fd:: run programs.
REMOTE_SCHEMES = ("file", "https", "ssh")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# scp-like ssh syntax: user@host:path (the user part is required so a local
# path holding a colon is never taken for a host).
_SCP = re.compile(r"^[A-Za-z0-9._~+-]+@[A-Za-z0-9.-]+:(?!//)\S")


@dataclass(frozen=True)
class Target:
    """One repository to sweep. ``location`` is the path to scan, or the URL
    to mirror (which may hold a credential: never shown, never stored)."""

    key: str
    display: str
    location: str = field(repr=False)
    remote: bool = False


def remote_url(text: str) -> str | None:
    """``text`` if it is a URL a sweep mirrors, None if it is a local path;
    ConfigError for a URL of a scheme sweeps refuse."""
    match = _SCHEME.match(text)
    if match is not None:
        scheme = match.group(1).lower()
        if scheme not in REMOTE_SCHEMES:
            allowed = ", ".join(f"{s}://" for s in REMOTE_SCHEMES)
            raise ConfigError(f"{redact_url(text)}: only {allowed} and user@host:path URLs are mirrored")
        return text
    if _SCP.match(text):
        return text
    return None


def redact_url(url: str) -> str:
    """``url`` without a password, and for http(s) without a user name either
    (a token is often passed as the user name); trailing slashes dropped."""
    if _SCHEME.match(url) is None:
        return url.rstrip("/") or url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username if parts.scheme.lower() == "ssh" else None
    netloc = f"{user}@{host}" if user else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), parts.query, ""))


def remote_target(url: str) -> Target:
    key = redact_url(url)
    return Target(key=key, display=key, location=url, remote=True)


def local_targets(path: str, display: str | None = None) -> list[Target]:
    """The repositories a folder names: itself when it is one (bare or not),
    else each direct child that is one, in name order. ConfigError (naming
    the folder) when it is neither."""
    from scanner.sources.gitrepo import looks_like_repository

    shown = display if display is not None else path
    if not os.path.isdir(path):
        raise ConfigError(f"{shown}: not a folder")
    if looks_like_repository(path):
        return [_local(path, shown)]
    try:
        children = sorted(os.listdir(path))
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot list this folder: {exc.strerror or exc}") from exc
    found = [
        _local(os.path.join(path, name), os.path.join(shown, name))
        for name in children
        if looks_like_repository(os.path.join(path, name))
    ]
    if not found:
        raise ConfigError(f"{shown}: neither a git repository nor a folder holding any")
    return found


def _local(path: str, display: str) -> Target:
    return Target(key=os.path.realpath(path), display=display, location=os.path.realpath(path))


def read_list(path: Path) -> tuple[list[Target], list[str]]:
    """Targets of a ``--list`` file: one local path (relative to the file's
    folder) or remote URL per line; blank lines and ``#`` lines ignored.
    A bad line is a one-line error naming FILE:LINE; the rest still counts."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read the target list: {reason}") from exc
    targets: list[Target] = []
    errors: list[str] = []
    base = path.parent
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            url = remote_url(line)
            if url is not None:
                targets.append(remote_target(url))
            else:
                local = os.path.join(base, os.path.expanduser(line))
                targets.extend(local_targets(local, line))
        except ConfigError as exc:
            errors.append(f"{path}:{number}: {exc}")
    return targets, errors


def collect_targets(folders: Sequence[str], list_file: Path | None) -> tuple[list[Target], list[str]]:
    """Every target named by ``folders`` and ``list_file``, each once (first
    mention wins), and one error line per folder or list line that names
    nothing usable."""
    found: list[Target] = []
    errors: list[str] = []
    for folder in folders:
        try:
            found.extend(local_targets(folder))
        except ConfigError as exc:
            errors.append(str(exc))
    if list_file is not None:
        listed, problems = read_list(list_file)
        found.extend(listed)
        errors.extend(problems)
    return list(_unique(found)), errors


def _unique(targets: Iterable[Target]) -> Iterable[Target]:
    seen: set[str] = set()
    for target in targets:
        if target.key not in seen:
            seen.add(target.key)
            yield target
