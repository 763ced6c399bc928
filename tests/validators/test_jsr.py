"""JSR tokens: CRC-32/base62 over prefix + "_" + random (prefix included)."""

from __future__ import annotations

import random

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.checksums import crc32_base62
from scanner.validators.jsr import JsrChecksum
from tests.factories.group_b import jsr_token
from tests.tokenfactory import base62, break_checksum

CHECK = JsrChecksum()


@pytest.mark.parametrize(("kind", "words"), [("p", "personal access token"), ("w", "web session"), ("d", "device")])
def test_generated_tokens_pass(kind: str, words: str, rng: random.Random) -> None:
    for _ in range(30):
        token = jsr_token(rng, kind)
        assert len(token) == 40
        verdict = CHECK.check(token)
        assert verdict.liveness is Liveness.LIVE_LOOKING
        assert words in (verdict.scope or "")
        assert verdict.breadth is Breadth.ACCOUNT


def test_checksum_includes_the_prefix(rng: random.Random) -> None:
    random_part = base62(rng, 29)
    # The GitHub/npm way (prefix left out) is the trap.
    github_way = f"jsrp_{random_part}{crc32_base62(random_part)}"
    assert CHECK.check(github_way).liveness is Liveness.FAKE
    # The checksum also binds the kind: the same body under another prefix fails.
    token = jsr_token(rng, "p")
    assert CHECK.check("jsrw" + token[4:]).liveness is Liveness.FAKE


def test_one_changed_character_fails(rng: random.Random) -> None:
    verdict = CHECK.check(break_checksum(jsr_token(rng)))
    assert verdict.liveness is Liveness.FAKE and "checksum" in verdict.reason


def test_truncated_is_fake(rng: random.Random) -> None:
    assert CHECK.check(jsr_token(rng)[:-1]).liveness is Liveness.FAKE
