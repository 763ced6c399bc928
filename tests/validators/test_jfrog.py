"""JFrog API keys (base58), reference tokens (reftkn:…) and access tokens (JWT claims)."""

from __future__ import annotations

import base64
import random
import time

import pytest

from scanner.engine import Detector
from scanner.model import Breadth, Liveness, Rule
from scanner.validators.jfrog import JFrogAccessToken, JFrogApiKey, JFrogReferenceToken, base58_decode
from scanner.validators.placeholders import placeholder_reason
from tests.conftest import detect_text
from tests.factories.group_c import (
    DAY,
    jfrog_access_token,
    jfrog_api_key,
    jfrog_reference_token,
    other_jwt,
    truncate,
)

NOW = time.time()


def test_base58_decoding() -> None:
    # The Bitcoin alphabet's standard test vector, and '1' as a leading zero byte.
    assert base58_decode("StV1DL6CwTryKyV") == b"hello world"
    assert base58_decode("1112") == b"\0\0\0\x01"
    with pytest.raises(ValueError):
        base58_decode("0OIl")


def test_generated_api_keys_decode_to_54_bytes(rng: random.Random) -> None:
    for _ in range(50):
        key = jfrog_api_key(rng)
        assert len(base58_decode(key)) == 54
        verdict = JFrogApiKey().check(key)
        assert verdict.liveness is Liveness.LIVE_LOOKING
        assert verdict.breadth is Breadth.ACCOUNT and "API key" in (verdict.scope or "")


@pytest.mark.parametrize("bad", ["0", "O", "I", "l"])
def test_api_key_outside_base58_is_fake(rng: random.Random, bad: str) -> None:
    key = jfrog_api_key(rng)
    assert JFrogApiKey().check(key[:40] + bad + key[41:]).liveness is Liveness.FAKE


def test_api_key_of_wrong_length_is_fake(rng: random.Random) -> None:
    key = jfrog_api_key(rng)
    assert JFrogApiKey().check(key[:-1]).liveness is Liveness.FAKE
    assert JFrogApiKey().check(key + "a").liveness is Liveness.FAKE


def test_reference_token_expiry(rng: random.Random) -> None:
    check = JFrogReferenceToken(now=NOW)
    future = check.check(jfrog_reference_token(rng, expiry=int(NOW) + 30 * DAY))
    assert future.liveness is Liveness.LIVE_LOOKING and future.expires_at is not None
    assert "JFrog reference token (expires " in (future.scope or "")
    never = check.check(jfrog_reference_token(rng, expiry=0))
    assert never.liveness is Liveness.LIVE_LOOKING and never.expires_at is None
    assert "no expiry" in (never.scope or "")
    past = check.check(jfrog_reference_token(rng, expiry=int(NOW) - DAY))
    assert past.liveness is Liveness.EXPIRED and past.expires_at is not None


def test_reference_token_layout_from_credsweeper_comment() -> None:
    # CredSweeper's filter documents the decoded shape with this made-up value.
    token = base64.b64encode(b"reftkn:01:0123456789:abcdefGhijklmnoPqrstuVwxyz0").decode()
    assert token.startswith("cmVmdGtuOjAx") and len(token) == 64
    verdict = JFrogReferenceToken(now=NOW).check(token)
    assert verdict.liveness is Liveness.EXPIRED  # 0123456789 is in 1973
    assert verdict.expires_at is not None and verdict.expires_at.year == 1973


@pytest.mark.parametrize(
    "decoded",
    [
        b"reftkn:01:x123456789:abcdefGhijklmnoPqrstuVwxyz0",
        b"reftkn:01:0123456789 abcdefGhijklmnoPqrstuVwxyz0",
        b"refxkn:01:0123456789:abcdefGhijklmnoPqrstuVwxyz0",
    ],
)
def test_reference_token_must_decode_to_the_layout(decoded: bytes) -> None:
    assert JFrogReferenceToken().check(base64.b64encode(decoded).decode()).liveness is Liveness.FAKE


def test_reference_token_of_wrong_length_is_fake(rng: random.Random) -> None:
    token = jfrog_reference_token(rng)
    assert JFrogReferenceToken().check(token[:-4]).liveness is Liveness.FAKE


def test_access_token_scopes(rng: random.Random) -> None:
    check = JFrogAccessToken(now=NOW)
    user = check.check(jfrog_access_token(rng))
    assert user.liveness is Liveness.LIVE_LOOKING and user.breadth is Breadth.ACCOUNT
    assert "JFrog access token for user " in (user.scope or "")
    admin = check.check(jfrog_access_token(rng, scope="applied-permissions/admin", expires_in=None))
    assert "instance administrator" in (admin.scope or "") and admin.expires_at is None
    groups = check.check(jfrog_access_token(rng, scope="member-of-groups:readers api:*", service="jfrt"))
    assert groups.breadth is Breadth.PROJECT and "named groups" in (groups.scope or "")
    other = check.check(jfrog_access_token(rng, scope="something-else"))
    assert other.liveness is Liveness.LIVE_LOOKING and other.breadth is Breadth.UNKNOWN


def test_expired_access_token(rng: random.Random) -> None:
    verdict = JFrogAccessToken(now=NOW).check(jfrog_access_token(rng, expires_in=-DAY))
    assert verdict.liveness is Liveness.EXPIRED and verdict.expires_at is not None


def test_jwts_not_issued_by_jfrog_are_not_jfrog_tokens(rng: random.Random) -> None:
    for _ in range(20):
        verdict = JFrogAccessToken().check(other_jwt(rng))
        assert verdict.liveness is Liveness.FAKE and "not issued by JFrog" in verdict.reason


def test_cut_short_access_tokens_are_fake(rng: random.Random) -> None:
    for _ in range(50):
        assert JFrogAccessToken().check(truncate(jfrog_access_token(rng), rng, (1, 80))).liveness is Liveness.FAKE


def test_rule_finds_jfrog_header_anywhere_but_other_jwts_only_near_jfrog_words(
    bundled_rules: list[Rule], rng: random.Random
) -> None:
    detector = Detector([r for r in bundled_rules if r.id == "jfrog-access-token"])
    token = jfrog_access_token(rng)
    assert [m.secret for m in detect_text(detector, f'{{"accessToken": "{token}"}}')] == [token]
    assert detect_text(detector, f"SESSION_JWT={other_jwt(rng)}") == []
    # Near a JFrog word the JWT is matched, and then the claims rule it out.
    near = other_jwt(rng)
    assert [m.secret for m in detect_text(detector, f"artifactory_token: {near}")] == [near]


def test_rule_does_not_take_three_parts_of_a_jwe(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = Detector([r for r in bundled_rules if r.id == "jfrog-access-token"])
    token = jfrog_access_token(rng)
    assert detect_text(detector, f"JF_ACCESS_TOKEN={token}.AAAA.BBBB") == []


@pytest.mark.parametrize("make", [jfrog_api_key, jfrog_reference_token, jfrog_access_token])
def test_generated_tokens_never_look_like_placeholders(make: object, rng: random.Random) -> None:
    for _ in range(300):
        token = make(rng)  # type: ignore[operator]
        assert placeholder_reason(token, token[:4]) is None, token
