"""crates.io trusted-publishing tokens: the XOR check character."""

from __future__ import annotations

import random

from scanner.model import Breadth, Liveness
from scanner.validators.crates import CratesTrustedPublishing, check_char
from tests.factories.group_b import URLSAFE, change_last, crates_tp_token

CHECK = CratesTrustedPublishing()


def test_published_values_from_the_crates_io_tests() -> None:
    # crates_io_trustpub access_token.rs: test_finalize and test_from_str.
    assert check_char("gGK6jurSwKyl9V3Az19z7YEFQI9aoOO") == "d"
    assert check_char("0" * 31) == "w"
    assert CHECK.check("cio_tp_" + "gGK6jurSwKyl9V3Az19z7YEFQI9aoOO" + "d").liveness is Liveness.LIVE_LOOKING
    assert CHECK.check("cio_tp_" + "0" * 32).liveness is Liveness.FAKE


def test_generated_tokens_pass(rng: random.Random) -> None:
    for _ in range(50):
        verdict = CHECK.check(crates_tp_token(rng))
        assert verdict.liveness is Liveness.LIVE_LOOKING
        assert verdict.breadth is Breadth.PROJECT
        assert "trusted-publishing" in (verdict.scope or "")


def test_one_changed_character_fails(rng: random.Random) -> None:
    verdict = CHECK.check(change_last(crates_tp_token(rng), URLSAFE[:62]))
    assert verdict.liveness is Liveness.FAKE and "check character" in verdict.reason


def test_wrong_length_or_characters_are_fake(rng: random.Random) -> None:
    token = crates_tp_token(rng)
    assert CHECK.check(token[:-1]).liveness is Liveness.FAKE
    assert CHECK.check(token[:10] + "-" + token[11:]).liveness is Liveness.FAKE
    assert CHECK.check("cio" + token[7:]).liveness is Liveness.FAKE
