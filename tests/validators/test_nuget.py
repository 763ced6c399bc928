"""NuGet v4 API keys: the base32 id part reads "v4" then non-zero bytes."""

from __future__ import annotations

import random

from scanner.model import Breadth, Liveness
from scanner.validators.nuget import NuGetApiKeyV4
from tests.factories.group_b import base32_lower, nuget_key

CHECK = NuGetApiKeyV4()


def test_generated_keys_pass(rng: random.Random) -> None:
    for _ in range(50):
        key = nuget_key(rng)
        assert key.startswith("oy2") and len(key) == 46
        verdict = CHECK.check(key)
        assert verdict.liveness is Liveness.LIVE_LOOKING
        assert verdict.breadth is Breadth.ACCOUNT
        assert "scope not encoded" in (verdict.scope or "")


def test_other_id_prefix_fails(rng: random.Random) -> None:
    verdict = CHECK.check(nuget_key(rng, b"v5"))
    assert verdict.liveness is Liveness.FAKE and "v4" in verdict.reason


def test_zero_id_byte_fails(rng: random.Random) -> None:
    key = base32_lower(b"v4" + bytes(5) + rng.randbytes(5)) + base32_lower(rng.randbytes(16))
    assert CHECK.check(key).liveness is Liveness.FAKE


def test_mixed_or_upper_case_and_truncation_fail(rng: random.Random) -> None:
    key = nuget_key(rng)
    assert CHECK.check(key[:5] + key[5:9].upper() + key[9:]).liveness is Liveness.FAKE
    assert CHECK.check(key.upper()).liveness is Liveness.FAKE
    assert CHECK.check(key[:-1]).liveness is Liveness.FAKE


def test_microsoft_learn_example_is_not_a_v4_key() -> None:
    assert CHECK.check("qz2jga8pl3dvn2akk" + "syquwcs9ygggg4exypy3bhxy6w6x6").liveness is Liveness.FAKE
