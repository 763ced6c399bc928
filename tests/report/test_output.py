"""open_output: stdout or a file, owner-only when it holds raw secrets."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from scanner.errors import ReportError
from scanner.report.output import open_output

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("target", [None, "-"])
def test_stdout_is_not_closed(target: str | None) -> None:
    with open_output(target, sensitive=True) as out:
        assert out is sys.stdout
    assert not sys.stdout.closed


@posix_only
def test_sensitive_file_is_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    old = os.umask(0)  # even a permissive umask must not widen it
    try:
        with open_output(str(path), sensitive=True) as out:
            out.write("FAKE-SECRET-VALUE-0001 ✓\n")
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    assert path.read_bytes() == "FAKE-SECRET-VALUE-0001 ✓\n".encode()


@posix_only
def test_existing_file_is_tightened_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "report.sarif"
    path.write_text("old content that is much longer than the new one\n")
    path.chmod(0o644)
    with open_output(str(path), sensitive=True) as out:
        out.write("new\n")
    assert _mode(path) == 0o600
    assert path.read_text() == "new\n"


@posix_only
def test_non_sensitive_file_uses_default_permissions(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    old = os.umask(0o022)
    try:
        with open_output(str(path), sensitive=False) as out:
            out.write("hello\n")
    finally:
        os.umask(old)
    assert _mode(path) == 0o644
    assert path.read_text(encoding="utf-8") == "hello\n"


@pytest.mark.parametrize("sensitive", [False, True])
def test_file_is_closed_afterwards(tmp_path: Path, sensitive: bool) -> None:
    with open_output(str(tmp_path / "r.json"), sensitive=sensitive) as out:
        out.write("{}\n")
    assert out.closed


@pytest.mark.parametrize("sensitive", [False, True])
def test_unwritable_path_raises_report_error(tmp_path: Path, sensitive: bool) -> None:
    path = tmp_path / "missing-dir" / "report.json"
    with pytest.raises(ReportError) as info, open_output(str(path), sensitive=sensitive):
        pass  # pragma: no cover
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message


def test_write_failure_raises_report_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    with pytest.raises(ReportError, match="report.json: No space left on device"), open_output(str(path), False):
        raise OSError(28, "No space left on device")
