"""One sweep per state file: the second waits (saying for whom) or fails."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.sweep.lock import StateLock, lock_path


def test_lock_file_names_its_holder_and_is_emptied_after(tmp_path: Path) -> None:
    state = tmp_path / "sweep.db"
    with StateLock(state, wait=True, notify=lambda _: None):
        assert lock_path(state).read_text() == f"{os.getpid()}\n"
    assert lock_path(state).read_text() == ""


def test_no_wait_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    state = tmp_path / "sweep.db"
    notes: list[str] = []
    with (
        StateLock(state, wait=True, notify=notes.append),
        pytest.raises(ConfigError) as caught,
        StateLock(state, wait=False, notify=notes.append),
    ):
        pass
    assert str(caught.value) == f"{state}: another sweep (pid {os.getpid()}) is using this state file (--no-wait given)"
    assert notes == []


def test_second_sweep_waits_with_a_message_then_runs(tmp_path: Path) -> None:
    state = tmp_path / "sweep.db"
    notes: list[str] = []
    waiting = threading.Event()
    acquired = threading.Event()

    def notify(message: str) -> None:
        notes.append(message)
        waiting.set()

    def second() -> None:
        with StateLock(state, wait=True, notify=notify):
            acquired.set()

    with StateLock(state, wait=True, notify=lambda _: None):
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(timeout=30)
        assert not acquired.is_set()
    thread.join(timeout=30)
    assert acquired.is_set()
    assert notes == [f"waiting for the sweep already using {state} (pid {os.getpid()}) …"]


def test_lock_in_an_unwritable_place_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with (
        pytest.raises(ConfigError, match="cannot create the sweep lock file"),
        StateLock(blocker / "sweep.db", wait=False, notify=lambda _: None),
    ):
        pass
