"""ScanConfig and the parsers for size and severity flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import DEFAULT_MAX_FILE_SIZE, ScanConfig, parse_fail_on, parse_size
from scanner.errors import ConfigError
from scanner.model import Severity


def test_defaults() -> None:
    config = ScanConfig(paths=("x",))
    assert config.max_file_size == DEFAULT_MAX_FILE_SIZE
    assert config.fail_on is Severity.LOW
    assert (config.path_excludes, config.baseline, config.baseline_key, config.config_file) == ((), None, None, None)


def test_the_baseline_key_stays_out_of_repr() -> None:
    config = ScanConfig(paths=("x",), baseline=Path("b.json"), baseline_key="kv-not-in-repr")
    assert "kv-not-in-repr" not in repr(config)
    assert "b.json" in repr(config)


@pytest.mark.parametrize(
    "text,size",
    [("100M", 100 << 20), ("512k", 512 << 10), ("2GiB", 2 << 30), ("1.5m", 3 << 19), ("1234", 1234), (" 7 b ", 7)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_rejects_words() -> None:
    with pytest.raises(ConfigError, match="'lots' is not a size"):
        parse_size("lots")


def test_parse_fail_on() -> None:
    assert parse_fail_on("HIGH") is Severity.HIGH
    assert parse_fail_on("never") is None
    with pytest.raises(ConfigError, match="--fail-on 'severe' is not one of info, low, medium, high, critical, never"):
        parse_fail_on("severe")
