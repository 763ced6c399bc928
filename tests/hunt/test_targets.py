"""Reading what to hunt: one secret per line from a file or stdin, sha256
digests checked; errors name the input and line, never the value."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.hunt.targets import (
    HuntTargets,
    parse_secrets,
    parse_sha256,
    read_secret_bytes,
    read_secret_file,
    value_sha256,
)


def test_one_secret_per_line_trailing_space_and_crlf_stripped_blank_lines_ignored() -> None:
    text = "\ufeffFirst-value-1 \t\r\n\r\n  \nsecond/value+2\r\nFirst-value-1\n"
    assert parse_secrets(text, "stdin") == ("First-value-1", "second/value+2")


def test_leading_space_is_part_of_the_value() -> None:
    assert parse_secrets("  spaced-out-value\n", "stdin") == ("  spaced-out-value",)


def test_no_secret_at_all_is_an_error_naming_the_input() -> None:
    with pytest.raises(ConfigError, match=r"^stdin: no secret in it"):
        parse_secrets("\n \r\n", "stdin")


def test_too_short_names_the_line_not_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_secrets("long-enough-value\nab12\n", "--secret-file s.txt")
    assert str(caught.value).startswith("--secret-file s.txt: line 2: too short to hunt")
    assert "ab12" not in str(caught.value)


def test_secret_file_is_read_as_utf8(tmp_path: Path) -> None:
    secrets = tmp_path / "leaked.txt"
    secrets.write_bytes("pässwörd-42\r\n".encode())
    assert read_secret_file(secrets) == ("pässwörd-42",)


def test_unreadable_or_binary_secret_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--secret-file .*missing\.txt: cannot read it"):
        read_secret_file(tmp_path / "missing.txt")
    with pytest.raises(ConfigError, match=r"^stdin: not UTF-8 text \(byte 2\)"):
        read_secret_bytes(b"ab\xff\xfecdefgh", "stdin")


def test_sha256_is_validated_and_lower_cased_without_echoing_a_pasted_secret() -> None:
    digest = hashlib.sha256(b"anything-at-all").hexdigest()
    assert parse_sha256(digest.upper()) == digest
    with pytest.raises(ConfigError) as caught:
        parse_sha256("npm_notadigestatall")
    assert "npm_notadigestatall" not in str(caught.value)
    assert "--secret-file or --secret-stdin" in str(caught.value)


def test_value_sha256_is_of_the_utf8_bytes() -> None:
    assert value_sha256("pässwörd-42") == hashlib.sha256("pässwörd-42".encode()).hexdigest()


def test_targets_need_something_and_never_show_values() -> None:
    with pytest.raises(ConfigError, match="nothing to hunt"):
        HuntTargets()
    assert "hidden-value-123" not in repr(HuntTargets(values=("hidden-value-123",)))
