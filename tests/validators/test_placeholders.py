"""Placeholder, masking and low-quality values are recognised as fake."""

from __future__ import annotations

import random
import string

import pytest

from scanner.validators.placeholders import placeholder_reason
from tests.tokenfactory import github_style

FAKES = [
    "${NPM_TOKEN}",
    "$(NPM_TOKEN)",
    "{{ secrets.NPM_TOKEN }}",
    "%NPM_TOKEN%",
    "<your-token>",
    "$NPM_TOKEN",
    "npm_****abcd",
    "[MASKED]",
    "npm_abc…wxyz",
    "npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "npm_abababababababababababababababababab",
    "npm_abcdefghij0123456789ABCDEFGHIJ012345",
    "npm_EXAMPLEEXAMPLEEXAMPLE0000000000000000",
    "npm_thisIsADummyValueForTheDocsPage12345",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
]


@pytest.mark.parametrize("value", FAKES)
def test_fake_values(value: str) -> None:
    assert placeholder_reason(value, value[:4] if value[3:4] == "_" else "") is not None


def test_random_tokens_are_not_placeholders(rng: random.Random) -> None:
    for _ in range(2000):
        token = github_style("npm", rng)
        assert placeholder_reason(token, "npm_") is None, token


def test_long_hex_and_base64_bodies_have_enough_distinct_characters(rng: random.Random) -> None:
    # "few distinct characters" scales with length only up to a cap: a long hex
    # body (16 symbols) or a key in base64 is not a placeholder
    for length in (64, 200, 3000):
        hex_body = "".join(rng.choice("0123456789abcdef") for _ in range(length))
        assert placeholder_reason(hex_body) is None, length
    key_body = "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(3000))
    assert placeholder_reason(key_body) is None


@pytest.mark.parametrize("value", ["abababababababab", "x1x1x1x1x1x1x1x1x1x1", "01" * 200, "ab-" * 100])
def test_few_distinct_characters_are_still_placeholders(value: str) -> None:
    assert placeholder_reason(value) == "too few distinct characters"


def test_zero_bytes_in_long_base64_bodies_are_not_repetition(rng: random.Random) -> None:
    # base64 writes zero bytes as "A": structured tokens (Azure DevOps PATs with
    # all-zero platform data) and keys hold long runs of it
    alphabet = string.ascii_letters + string.digits
    head = "".join(rng.choice(alphabet) for _ in range(52))
    assert placeholder_reason(head + "JQQJ99" + "A" * 16 + "AZDO" + "k3Rw") is None
    assert placeholder_reason(head + "xxxxxxxx" + head) == "repeated characters"
    assert placeholder_reason("npm_aB3d" + "A" * 28, "npm_") == "repeated characters"  # short body: unchanged
