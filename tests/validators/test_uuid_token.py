"""Random (v4) UUID tokens, such as Open VSX access tokens."""

from __future__ import annotations

import random
import uuid

import pytest

from scanner.model import Liveness
from scanner.validators.uuid_token import Uuid4Token

check = Uuid4Token().check


def test_random_uuids_are_live_looking() -> None:
    rng = random.Random(4)
    for _ in range(50):
        value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        assert check(value).liveness is Liveness.LIVE_LOOKING
        assert check(value.upper()).liveness is Liveness.LIVE_LOOKING


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("00000000-0000-0000-0000-000000000000", "version-0"),
        (str(uuid.UUID(int=12345678901234567890, version=1)), "version-1"),
        ("3f2b8c1e-9a4d-4c7b-7e21-0a9b8c7d6e5f", "variant"),
        ("3f2b8c1e9a4d4c7b8e210a9b8c7d6e5f", "not a UUID"),
        ("3f2b8c1e-9a4d-4c7b-8e21-0a9b8c7d6e5", "not a UUID"),
    ],
)
def test_other_values_are_fake(value: str, reason: str) -> None:
    verdict = check(value)
    assert verdict.liveness is Liveness.FAKE
    assert reason in verdict.reason
