"""Building real git repositories for tests with the git CLI.

The user's own git configuration never leaks in (no global or system
config), commits get fixed identities and dates so tests can assert on them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada Author",
            "GIT_AUTHOR_EMAIL": "ada@example.test",
            "GIT_COMMITTER_NAME": "Ada Author",
            "GIT_COMMITTER_EMAIL": "ada@example.test",
        }
    )
    env.update(extra)
    return env


class Repo:
    """A throwaway repository; every method runs real git commands."""

    def __init__(self, path: Path, *, bare: bool = False, init: bool = True) -> None:
        self.path = path
        self._clock = 1_700_000_000
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main", *(["--bare"] if bare else []))

    def git(self, *args: str, input: str | None = None, env: dict[str, str] | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            text=True,
            env=env or git_env(),
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def write(self, relpath: str, text: str) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def remove(self, relpath: str) -> None:
        self.git("rm", "-q", relpath)

    def commit(self, message: str, *, author: str = "Ada Author", email: str = "ada@example.test", add: bool = True) -> str:
        """Commit everything in the working tree; returns the commit id. Each
        commit is one hour after the previous one."""
        if add:
            self.git("add", "-A")
        self._clock += 3600
        stamp = f"@{self._clock} +0000"
        env = git_env(
            GIT_AUTHOR_NAME=author,
            GIT_AUTHOR_EMAIL=email,
            GIT_AUTHOR_DATE=stamp,
            GIT_COMMITTER_DATE=stamp,
        )
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def blob_id(self, rev_path: str) -> str:
        return self.git("rev-parse", rev_path)

    def merge(self, branch: str, *, message: str = "merge", no_commit: bool = False) -> None:
        self._clock += 3600
        stamp = f"@{self._clock} +0000"
        env = git_env(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        args = ["merge", "-q", "--no-ff", "-m", message, branch]
        if no_commit:
            args.insert(1, "--no-commit")
        self.git(*args, env=env, check=not no_commit)
