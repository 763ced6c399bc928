"""The judge: notation first, then structure, then looks-random checks only
for opaque tokens."""

from __future__ import annotations

import base64
import random

from scanner.model import Liveness, Rule
from scanner.validators.base import builtin_validators
from scanner.validators.checksums import crc32_base62
from scanner.validators.judge import Judge
from tests.tokenfactory import base62, macaroon_v2


def _rule(rules: list[Rule], rule_id: str) -> Rule:
    return next(r for r in rules if r.id == rule_id)


def test_structured_value_with_a_word_inside_is_not_fake(bundled_rules: list[Rule], rng: random.Random) -> None:
    rule = _rule(bundled_rules, "pypi-api-token")
    judge = Judge(builtin_validators(), [rule])
    # base64 of a macaroon spells "test" now and then: build one whose
    # signature bytes encode to "test" at a 3-byte-aligned position.
    identifier = "6c5e8f7a-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
    head = macaroon_v2("pypi.org", identifier, [b'[3,"u"]'], bytes(32))[:-32]
    signature = bytearray(rng.getrandbits(8) for _ in range(32))
    offset = -len(head) % 3
    signature[offset : offset + 3] = base64.b64decode("test")
    token = "pypi-" + base64.urlsafe_b64encode(head + bytes(signature)).decode().rstrip("=")
    assert "test" in token
    assert judge.judge(rule, token).liveness is Liveness.LIVE_LOOKING


def test_opaque_token_with_a_placeholder_word_is_fake(bundled_rules: list[Rule], rng: random.Random) -> None:
    rule = _rule(bundled_rules, "npm-access-token")
    judge = Judge(builtin_validators(), [rule])
    body = "test" + base62(rng, 26)
    verdict = judge.judge(rule, f"npm_{body}{crc32_base62(body)}")
    assert (verdict.liveness, verdict.reason) == (Liveness.FAKE, "contains the placeholder word 'test'")


def test_notation_is_fake_before_any_structure_check(bundled_rules: list[Rule]) -> None:
    rule = _rule(bundled_rules, "npmrc-auth-token")
    judge = Judge(builtin_validators(), [rule])
    assert judge.judge(rule, "${NPM_TOKEN}").reason == "a template or variable reference, not a value"
    assert judge.judge(rule, "dckr_pat_124509ugsdjga93").reason == "a published documentation example"
