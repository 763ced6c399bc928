"""CRC-32/base62 against the published values the fact sheet cites."""

from __future__ import annotations

from scanner.validators.checksums import crc32_base62, to_base62


def test_base62_alphabet_is_digits_upper_lower() -> None:
    assert to_base62(0, 6) == "000000"
    assert to_base62(61, 1) == "z"
    assert to_base62(36, 1) == "a"
    assert to_base62(10, 1) == "A"
    assert to_base62(62, 2) == "10"


def test_published_npm_example_checksum() -> None:
    # secretlint issue #200 example; CRC over the 30 body chars, prefix excluded.
    body = "qkJaB6MffYVzZXWqmcoF49yrUxP3wf"
    assert crc32_base62(body) == "0LsakP"
    # the two known traps give other values
    assert crc32_base62("npm_" + body) != "0LsakP"


def test_widely_copied_github_fixture_fails() -> None:
    body = "16C7e42F292c6912E7710c838347Ae"
    assert crc32_base62(body) != "178B4a"
