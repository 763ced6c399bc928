"""GitHub-style tokens: checksum verdicts and scope per prefix."""

from __future__ import annotations

import random

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.github import GitHubStyleChecksum
from tests.tokenfactory import break_checksum, github_style

CHECK = GitHubStyleChecksum()


@pytest.mark.parametrize("prefix", ["ghp", "gho", "ghu", "ghs", "ghr", "npm"])
def test_generated_tokens_pass(prefix: str, rng: random.Random) -> None:
    for _ in range(20):
        verdict = CHECK.check(github_style(prefix, rng))
        assert verdict.liveness is Liveness.LIVE_LOOKING
        assert verdict.scope


def test_scope_and_breadth_by_prefix(rng: random.Random) -> None:
    assert CHECK.check(github_style("ghs", rng)).breadth is Breadth.PROJECT
    assert "installation token (1 h)" in (CHECK.check(github_style("ghs", rng)).scope or "")
    assert CHECK.check(github_style("ghp", rng)).breadth is Breadth.ACCOUNT


def test_one_changed_character_fails(rng: random.Random) -> None:
    verdict = CHECK.check(break_checksum(github_style("ghp", rng)))
    assert verdict.liveness is Liveness.FAKE
    assert "checksum" in verdict.reason


def test_wrong_length_is_fake(rng: random.Random) -> None:
    assert CHECK.check(github_style("npm", rng)[:-1]).liveness is Liveness.FAKE


def test_published_npm_example_passes_the_checksum() -> None:
    assert CHECK.check("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").liveness is Liveness.LIVE_LOOKING
