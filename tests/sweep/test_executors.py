"""Executors: in process, local worker processes, and a real Dask
distributed LocalCluster; the coordinator alone writes the state."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.sweep.executors import DaskExecutor, InlineExecutor, ProcessExecutor, make_executor
from scanner.sweep.runner import SweepOutcome
from scanner.sweep.tasks import SweepSettings
from tests.sweep.conftest import Sweeper, clone, npmrc, repo_with
from tests.tokenfactory import github_style, npm_token


def _double(settings: SweepSettings, task: int) -> tuple[int, int]:
    return len(settings.rules), task * 2


def _fail(settings: SweepSettings, task: int) -> int:
    raise ValueError(f"task {task} failed")


def test_inline_and_process_executors_run_tasks_with_the_settings(settings: SweepSettings) -> None:
    for executor in (InlineExecutor(settings), ProcessExecutor(settings, 2)):
        with executor:
            handles = [executor.submit(_double, n) for n in range(5)]
            done: list[object] = []
            while len(done) < len(handles):
                done.extend(h for h in executor.wait([h for h in handles if h not in done]) if h not in done)
            assert [executor.result(h) for h in handles] == [(len(settings.rules), n * 2) for n in range(5)]
            failing = executor.submit(_fail, 3)
            executor.wait([failing])
            with pytest.raises(ValueError, match="task 3 failed"):
                executor.result(failing)


def test_bad_combinations_are_config_errors(settings: SweepSettings) -> None:
    with pytest.raises(ConfigError, match="--executor dask needs --scheduler ADDRESS"):
        make_executor(settings, jobs=1, executor="dask", scheduler=None)
    with pytest.raises(ConfigError, match="--scheduler is only used with --executor dask"):
        make_executor(settings, jobs=1, executor="local", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="--executor 'ray' is not one of local, dask"):
        make_executor(settings, jobs=1, executor="ray", scheduler=None)
    assert isinstance(make_executor(settings, jobs=1, executor="local", scheduler=None), InlineExecutor)


def test_missing_distributed_is_one_clear_error(settings: SweepSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigError) as caught:
        make_executor(settings, jobs=1, executor="dask", scheduler="tcp://127.0.0.1:8786")
    assert str(caught.value) == (
        "--executor dask needs the optional 'distributed' package: pip install 'sprawl[dask]'"
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed", reason="the optional dask extra (distributed) is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local.scheduler_address


def test_unreachable_scheduler_is_one_clear_error(settings: SweepSettings, cluster: str) -> None:
    with pytest.raises(ConfigError, match=r"--scheduler tcp://127\.0\.0\.1:9: cannot reach the Dask scheduler"):
        DaskExecutor(settings, "tcp://127.0.0.1:9", timeout=1)


def _results(outcome: SweepOutcome) -> list[tuple[str, str, str, int, int, str]]:
    return sorted(
        (f.secret.fingerprint, Path(o.repo).name, o.path, o.line, o.column, o.state)
        for f in outcome.findings
        for o in f.occurrences
    )


def test_dask_cluster_sweep_matches_a_local_one(settings: SweepSettings, cluster: str, tmp_path: Path) -> None:
    rng = random.Random(11)
    clones = tmp_path / "clones"
    upstream = repo_with(clones / "upstream", {".npmrc": npmrc(npm_token(rng))})
    clone(upstream.path, clones / "fork")
    for index in range(3):
        repo_with(clones / f"app{index}", {"ci.sh": f"export GITHUB_TOKEN={github_style('ghp', rng)}\n"})
    remote = repo_with(tmp_path / "remote", {"deploy/.npmrc": npmrc(npm_token(rng))})
    listing = tmp_path / "list.txt"
    listing.write_text(f"file://{remote.path}\nfile://{tmp_path / 'missing.git'}\n", encoding="utf-8")

    local = Sweeper(settings, tmp_path / "local.db")(clones, list_file=listing)
    dask_sweep = Sweeper(settings, tmp_path / "dask.db")
    first = dask_sweep(clones, list_file=listing, executor="dask", scheduler=cluster)
    assert (first.summary.scanned, first.summary.failed) == (6, 1)
    assert [e.split(": ", 1)[0] for e in dask_sweep.errors] == [f"file://{tmp_path / 'missing.git'}"]
    assert _results(first) == _results(local)
    assert len(_results(first)) == 6  # three apps, upstream, fork and the mirrored remote
    assert first.summary.objects_scanned == local.summary.objects_scanned
    assert first.summary.objects_skipped == local.summary.objects_skipped > 0  # the fork's shared history

    again = dask_sweep(clones, list_file=listing, executor="dask", scheduler=cluster)
    assert (again.summary.scanned, again.summary.unchanged, again.summary.objects_scanned) == (0, 6, 0)
    assert _results(again) == _results(first)
