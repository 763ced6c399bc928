"""Undoing escaped, indented and base64-wrapped key blocks."""

from __future__ import annotations

import base64

from scanner.validators.armor import unescape_block, unwrap_base64

BLOCK = "-----BEGIN X-----\nYWJj\n-----END X-----\n"


def test_unescape_handles_single_double_and_crlf_escapes() -> None:
    assert unescape_block("a\\nb\\\\nc\\r\\nd") == "a\nb\nc\nd"
    assert unescape_block("a\r\nb\rc") == "a\nb\nc"
    assert unescape_block("a\\/b") == "a/b"


def test_unwrap_one_line_and_wrapped() -> None:
    encoded = base64.b64encode(BLOCK.encode()).decode()
    assert unwrap_base64(encoded, "-----END X") == BLOCK
    wrapped = "\n  ".join(encoded[i : i + 8] for i in range(0, len(encoded), 8))
    assert unwrap_base64(wrapped, "-----END X") == BLOCK


def test_unwrap_drops_trailing_words() -> None:
    encoded = base64.b64encode(BLOCK.encode()).decode()
    assert unwrap_base64(encoded + "\ndone\nfi", "-----END X") == BLOCK


def test_unwrap_needs_the_marker() -> None:
    assert unwrap_base64(base64.b64encode(b"hello").decode(), "-----END X") is None
    assert unwrap_base64("", "-----END X") is None
    assert unwrap_base64("!!!!", "-----END X") is None
