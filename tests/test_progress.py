"""The progress display: silent unless enabled and past its delay."""

from __future__ import annotations

import io

import pytest

from scanner import progress as progress_module
from scanner.model import Chunk, Provenance
from scanner.progress import ScanProgress


class TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


def chunk(path: str) -> Chunk:
    return Chunk(content="x" * 1000, provenance=Provenance(source="file", path=path), digest=path)


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with ScanProgress(stream) as progress:
        for i in range(100):
            progress(chunk(f"f{i}"))
    assert stream.getvalue() == ""


def test_silent_when_disabled_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_DELAY_SECONDS", 0.0)
    stream = TtyBuffer()
    with ScanProgress(stream, enabled=False) as progress:
        progress(chunk("a"))
    assert stream.getvalue() == ""


def test_drawn_on_a_terminal_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_DELAY_SECONDS", 0.0)
    stream = TtyBuffer()
    with ScanProgress(stream) as progress:
        progress(chunk("some/file.txt"))
    assert "scanning" in stream.getvalue()
