"""Running git on a repository that may be hostile, without letting it run anything.

Every git process sprawl starts goes through here: a sanitized environment
(no inherited GIT_* variables, no system or global config, no pager, no
credential prompts, no protocol allowed so a partial clone can never fetch)
and explicit ``-c`` overrides for every repository setting that names a
program (fsmonitor, hooks, textconv, external diff, filters, gpg, ssh).
Repository config is attacker-controlled; command-line config wins over it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from scanner.errors import SourceError

# Settings that name a program in .git/config, reset on every command line.
# Filters, textconv and external diffs are per-driver keys whose names we
# cannot know in advance; the commands sprawl runs never apply them
# (cat-file without --filters/--textconv, diff with --no-textconv --no-ext-diff).
_SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", "cat"),
    ("core.askPass", ""),
    ("core.sshCommand", "false"),
    ("core.gitProxy", ""),
    ("core.editor", "false"),
    ("core.alternateRefsCommand", ""),
    ("core.untrackedCache", "false"),
    ("credential.helper", ""),
    ("diff.external", ""),
    ("log.showSignature", "false"),
    ("gpg.program", "false"),
    ("gpg.ssh.program", "false"),
    ("gpg.x509.program", "false"),
    ("protocol.allow", "never"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("fetch.recurseSubmodules", "false"),
    # A repository owned by someone else (an incident-response copy) is
    # readable: nothing in it can run, so git's ownership guard adds nothing.
    ("safe.directory", "*"),
    ("core.quotePath", "false"),
)

# Environment variables kept from the caller: what a process needs to run,
# nothing that steers git.
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT", "TZ")


def safe_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git process runs with."""
    env = {key: os.environ[key] for key in _KEEP_ENV if key in os.environ}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            # No protocol at all: a partial clone asked for a missing object
            # fails instead of fetching it from its promisor remote.
            "GIT_ALLOW_PROTOCOL": "none",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "HOME": os.devnull,
            "XDG_CONFIG_HOME": os.devnull,
        }
    )
    if extra:
        env.update(extra)
    return env


def git_argv(repo: Path | str | None, args: Sequence[str]) -> list[str]:
    """``git -C repo -c ... <args>``."""
    argv = ["git", "--no-pager"]
    if repo is not None:
        argv += ["-C", str(repo)]
    for key, value in _SAFE_CONFIG:
        argv += ["-c", f"{key}={value}"]
    argv += list(args)
    return argv


def run_git(
    repo: Path | str | None,
    args: Sequence[str],
    *,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run one git command to completion and return its raw output.

    With ``check`` a non-zero exit raises SourceError carrying git's own
    first error line.
    """
    argv = git_argv(repo, args)
    try:
        done = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            stdin=None if input is not None else subprocess.DEVNULL,
            env=safe_env(env),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"{repo}: git {args[0]} timed out after {timeout} s") from exc
    if check and done.returncode != 0:
        raise SourceError(f"{repo}: git {args[0]} failed: {git_error(done.stderr)}")
    return done


class GitProcess:
    """A long-lived git process (cat-file --batch, rev-list, log) with piped
    stdout. Its stderr goes to a temporary file, never a pipe: a process that
    warns a lot must not block on a pipe nobody reads."""

    def __init__(
        self,
        argv: list[str],
        *,
        stdin: int | IO[bytes] | None,
        env: Mapping[str, str] | None,
        stdout: int | IO[bytes] = subprocess.PIPE,
    ) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        try:
            self.proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=self._stderr, env=safe_env(env))
        except FileNotFoundError as exc:
            self._stderr.close()
            raise SourceError("git is not installed or not on PATH") from exc
        # None when stdout goes to a file the caller gave.
        self.stdout: IO[bytes] = self.proc.stdout  # type: ignore[assignment]
        self.stdin: IO[bytes] | None = self.proc.stdin

    def error_line(self) -> str:
        """git's most telling stderr line so far."""
        self._stderr.seek(0)
        return git_error(self._stderr.read()[-65536:])

    def wait(self) -> int:
        return self.proc.wait()

    def close(self) -> None:
        """Stop the process (if still running) and release its pipes."""
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


def popen_git(
    repo: Path | str | None,
    args: Sequence[str],
    *,
    stdin: int | IO[bytes] | None = subprocess.DEVNULL,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[bytes] = subprocess.PIPE,
) -> GitProcess:
    """Start a long-lived git process with piped stdout (or stdout to a file)."""
    return GitProcess(git_argv(repo, args), stdin=stdin, env=env, stdout=stdout)


# Clone and fetch (``sprawl sweep`` mirrors) are the only git commands that
# may reach another repository, and only over these protocols: ext::, fd::,
# git:// and plain http stay refused. Everything else stays as inert as a
# scan: the mirror is bare (no checkout, so no filters), hooks point at
# /dev/null, no credential helper, and ssh runs in batch mode (never prompts).
TRANSFER_PROTOCOLS = "file:https:ssh"
_TRANSFER_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.sshCommand", "ssh -o BatchMode=yes -o ConnectTimeout=30"),
    # A stalled server must not hold a nightly sweep forever.
    ("http.lowSpeedLimit", "1000"),
    ("http.lowSpeedTime", "120"),
    ("submodule.recurse", "false"),
    ("clone.defaultRemoteName", "origin"),
)
# What ssh and https need from the caller's environment (agent, CA bundle,
# proxies); still nothing that steers git.
_TRANSFER_ENV = (
    "SSH_AUTH_SOCK",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


def transfer_git(
    repo: Path | str | None, args: Sequence[str], *, timeout: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git clone``/``git fetch`` with file, https and ssh allowed and
    never a prompt; the caller names the URL in its own error message.
    Returns the finished process (not checked: see ``git_error``)."""
    extra = {key: os.environ[key] for key in _TRANSFER_ENV if key in os.environ}
    extra["GIT_ALLOW_PROTOCOL"] = TRANSFER_PROTOCOLS
    overrides = [item for key, value in _TRANSFER_CONFIG for item in ("-c", f"{key}={value}")]
    try:
        return subprocess.run(
            git_argv(repo, [*overrides, *args]),
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=safe_env(extra),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"git {args[0]} timed out after {timeout:g} s") from exc


def git_error(stderr: bytes) -> str:
    """git's most telling stderr line (fatal/error first), for one-line messages."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else "no error message"
