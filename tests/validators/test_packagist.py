"""Private Packagist tokens: the kind in the prefix, and the documented checksum."""

from __future__ import annotations

import random
import zlib

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.packagist import PackagistToken, packagist_checksum
from tests.factories.group_b import HEX, packagist_token, pick

CHECK = PackagistToken()


def test_documented_checksum_is_crc32_hex_of_prefix_and_random() -> None:
    # crc32("packagist_ort_" + "0" * 60), written the way PHP's dechex + str_pad does.
    expected = format(zlib.crc32(("packagist_ort_" + "0" * 60).encode()), "08x")
    assert packagist_checksum("packagist_ort_", "0" * 60) == expected


@pytest.mark.parametrize(
    ("kind", "breadth", "words"),
    [
        ("ort", Breadth.READ_ONLY, "read-only"),
        ("out", Breadth.ACCOUNT, "update access"),
        ("uut", Breadth.ACCOUNT, "user token"),
        ("cut", Breadth.ACCOUNT, "Conductor"),
    ],
)
def test_kind_sets_scope_and_breadth(kind: str, breadth: Breadth, words: str, rng: random.Random) -> None:
    verdict = CHECK.check(packagist_token(rng, kind))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is breadth
    assert words in (verdict.scope or "")


def test_checksum_mismatch_is_kept_as_unverifiable(rng: random.Random) -> None:
    token = packagist_token(rng, "out")
    other = token[:-8] + ("0" * 8 if not token.endswith("0" * 8) else "1" * 8)
    verdict = CHECK.check(other)
    assert verdict.liveness is Liveness.UNVERIFIABLE
    assert verdict.breadth is Breadth.ACCOUNT


def test_wrong_shape_is_fake(rng: random.Random) -> None:
    assert CHECK.check(packagist_token(rng)[:-1]).liveness is Liveness.FAKE
    assert CHECK.check("packagist_xyz_" + pick(rng, HEX, 68)).liveness is Liveness.FAKE
    assert CHECK.check("packagist_ort_" + pick(rng, HEX, 67) + "G").liveness is Liveness.FAKE
