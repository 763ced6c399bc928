"""Bare mirrors of remote repositories in a cache folder: cloned once
(``git clone --mirror``), fetched with ``--prune`` on every later sweep.

Each URL gets its own folder, named from the URL (readable) plus a short
hash (unique). A clone is made under a temporary name and renamed when
complete, so a sweep killed mid-clone never leaves a half mirror behind.
No credential is left in a mirror's config: fetches name the URL each time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from scanner.errors import SourceError
from scanner.sweep.targets import Target

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_CHARS = 64


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/sprawl/mirrors``, else ``~/.cache/sprawl/mirrors``."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sprawl" / "mirrors"


def mirror_name(key: str) -> str:
    """A folder name for the mirror of ``key`` (a URL without credentials)."""
    readable = key.split("://", 1)[-1]
    readable = _UNSAFE.sub("-", readable).strip("-.")[:_NAME_CHARS].strip("-.") or "repo"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}.git"


def mirror_path(cache: Path, target: Target) -> Path:
    return cache / mirror_name(target.key)


def ensure_mirror(target: Target, cache: Path, *, timeout: float | None) -> Path:
    """The mirror of ``target`` in ``cache``, cloned if missing, else fetched
    (refs pruned to match the remote). SourceError naming the URL when git
    cannot reach it."""
    from scanner.gitcmd import git_error, run_git

    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise SourceError(f"{cache}: cannot create the mirror cache: {exc.strerror or exc}") from exc
    dest = mirror_path(cache, target)
    with _locked(cache / ".locks" / (dest.name + ".lock")):
        if (dest / "HEAD").is_file():
            done = _transfer(
                target,
                dest,
                ["fetch", "--prune", "--quiet", "--no-write-fetch-head", "--", target.location, "+refs/*:refs/*"],
                timeout,
            )
            if done.returncode != 0:
                raise SourceError(f"{target.display}: git fetch failed: {_clean(git_error(done.stderr), target)}")
            _follow_default_branch(target, dest, timeout)
            return dest
        staging = cache / f".{dest.name}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            done = _transfer(target, None, ["clone", "--mirror", "--quiet", "--", target.location, str(staging)], timeout)
            if done.returncode != 0:
                raise SourceError(f"{target.display}: git clone failed: {_clean(git_error(done.stderr), target)}")
            # The URL as given may carry a token; the mirror keeps only the
            # redacted one (fetches pass the real URL each time).
            run_git(staging, ["config", "remote.origin.url", target.key])
            if dest.exists():  # left over from a damaged cache, not a mirror
                shutil.rmtree(dest)
            os.replace(staging, dest)
        except OSError as exc:
            raise SourceError(f"{target.display}: cannot store the mirror in {dest}: {exc.strerror or exc}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return dest


def _follow_default_branch(target: Target, mirror: Path, timeout: float | None) -> None:
    """Point the mirror's HEAD where the remote's now points: a fetch does not
    move it, and HEAD's tree decides what is still present. Best effort: when
    the remote does not say (or names a branch the mirror lacks), HEAD stays."""
    from scanner.gitcmd import run_git

    done = _transfer(target, mirror, ["ls-remote", "--symref", "--", target.location, "HEAD"], timeout)
    if done.returncode != 0:
        return
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        ref, _, name = line.partition("\t")
        if name == "HEAD" and ref.startswith("ref: refs/heads/"):
            branch = ref.removeprefix("ref: ")
            if run_git(mirror, ["show-ref", "--verify", "--quiet", branch], check=False).returncode == 0:
                run_git(mirror, ["symbolic-ref", "HEAD", branch])
            return


def _transfer(
    target: Target, repo: Path | None, args: list[str], timeout: float | None
) -> subprocess.CompletedProcess[bytes]:
    from scanner.gitcmd import transfer_git

    try:
        return transfer_git(repo, args, timeout=timeout)
    except SourceError as exc:  # a timeout: name the URL
        raise SourceError(f"{target.display}: {exc}") from exc


def _clean(message: str, target: Target) -> str:
    """git's message with the URL as given (possibly holding a credential)
    replaced by its redacted form, and any credential git quoted otherwise
    (part of the URL, or alone) masked."""
    from urllib.parse import urlsplit

    message = message.replace(target.location, target.display)
    try:
        parts = urlsplit(target.location)
        secrets = [parts.password, parts.username if parts.scheme.lower() in ("http", "https") else None]
    except ValueError:
        return message
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "[REDACTED]")
    # A server's "remote:" lines reach this message: no terminal escapes.
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in message)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One clone or fetch per mirror at a time, even across sweeps using
    different state files (or Dask workers sharing the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Polled rather than blocking, so a hung holder cannot wedge
                # a worker forever without anyone noticing.
                if time.monotonic() - started > 3600:
                    raise SourceError(f"{path}: mirror locked by another process for over an hour") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)
