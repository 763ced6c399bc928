"""Placeholder, masking and low-quality values are recognised as fake."""

from __future__ import annotations

import random

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
