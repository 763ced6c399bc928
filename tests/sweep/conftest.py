"""Helpers for sweep tests: repositories with generated tokens, sweep
settings built from the bundled rules, and a one-call sweep."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scanner.model import Rule
from scanner.sweep.runner import SweepOptions, SweepOutcome, run_sweep
from scanner.sweep.tasks import SweepSettings
from tests.gitbuild import Repo, git_env
from tests.test_hostile_repo import hostile  # noqa: F401 - shared with test_runner.py

KEY = b"sweep-test-key"


def npmrc(token: str) -> str:
    return f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={token}\n"


def repo_with(path: Path, files: dict[str, str], message: str = "add files") -> Repo:
    repo = Repo(path)
    repo.write("README.md", f"{path.name}\n")
    repo.commit("initial")
    for name, text in files.items():
        repo.write(name, text)
    repo.commit(message)
    return repo


def clone(source: Path, dest: Path, *, bare: bool = False) -> Repo:
    """A fork: a full clone (shares every object of ``source``)."""
    subprocess.run(
        ["git", "clone", "-q", *(["--bare"] if bare else []), str(source), str(dest)],
        check=True,
        env=git_env(),
        capture_output=True,
    )
    return Repo(dest, init=False)


@pytest.fixture()
def settings(bundled_rules: list[Rule], tmp_path: Path) -> SweepSettings:
    return SweepSettings(rules=tuple(bundled_rules), fingerprint_key=KEY, cache_dir=str(tmp_path / "cache"))


class Sweeper:
    """Runs sweeps over fixed targets and state, recording notes and errors."""

    def __init__(self, settings: SweepSettings, state: Path) -> None:
        self.settings = settings
        self.state = state
        self.notes: list[str] = []
        self.errors: list[str] = []

    def __call__(
        self, *folders: Path, list_file: Path | None = None, jobs: int = 1, **options: object
    ) -> SweepOutcome:
        self.notes.clear()
        self.errors.clear()
        return run_sweep(
            SweepOptions(
                folders=tuple(str(f) for f in folders),
                list_file=list_file,
                state=self.state,
                settings=self.settings,
                jobs=jobs,
                **options,  # type: ignore[arg-type]
            ),
            notify=self.notes.append,
            on_error=self.errors.append,
        )


@pytest.fixture()
def sweeper(settings: SweepSettings, tmp_path: Path) -> Sweeper:
    return Sweeper(settings, tmp_path / "state" / "sweep.db")
