"""Buildkite Packages tokens: the Rails-signed envelope and its expiry."""

from __future__ import annotations

import base64
import json
import random
import time

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.buildkite import BuildkitePackagesToken
from scanner.validators.placeholders import placeholder_reason
from tests.factories.group_c import DAY, buildkite_api_token, buildkite_packages_token

NOW = time.time()
CHECK = BuildkitePackagesToken(now=NOW)


def _token(rng: random.Random, message: object, *, urlsafe: bool = False) -> str:
    raw = json.dumps(message, separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=") if urlsafe else base64.b64encode(raw).decode()
    return f"bkpt_{encoded}--{rng.getrandbits(160):040x}"


def test_generated_tokens(rng: random.Random) -> None:
    for _ in range(20):
        live = CHECK.check(buildkite_packages_token(rng))
        assert live.liveness is Liveness.LIVE_LOOKING and live.expires_at is not None
        assert live.breadth is Breadth.PROJECT and "Buildkite Packages" in (live.scope or "")
        forever = CHECK.check(buildkite_packages_token(rng, expires_in=None))
        assert forever.liveness is Liveness.LIVE_LOOKING and forever.expires_at is None
        expired = CHECK.check(buildkite_packages_token(rng, expires_in=-DAY))
        assert expired.liveness is Liveness.EXPIRED and expired.expires_at is not None


def test_older_rails_message_envelope_and_url_safe_base64(rng: random.Random) -> None:
    message = {"_rails": {"message": "WyJhYmMiXQ==", "exp": "2020-01-02T03:04:05.000Z", "pur": "registry"}}
    verdict = CHECK.check(_token(rng, message, urlsafe=True))
    assert verdict.liveness is Liveness.EXPIRED
    assert verdict.expires_at is not None and verdict.expires_at.year == 2020


@pytest.mark.parametrize(
    "message",
    [
        {"data": ["x"]},  # no envelope
        {"_rails": {"exp": "2030-01-01T00:00:00Z"}},  # no data
        {"_rails": {"data": 1, "exp": "next week"}},
        {"_rails": {"data": 1, "exp": 1893456000}},
        {"_rails": {"data": 1, "exp": "2030-01-01T00:00:00"}},  # no time zone
        ["_rails"],
    ],
)
def test_malformed_envelopes_are_fake(rng: random.Random, message: object) -> None:
    assert CHECK.check(_token(rng, message)).liveness is Liveness.FAKE


def test_cut_short_or_garbled_tokens_are_fake(rng: random.Random) -> None:
    token = buildkite_packages_token(rng)
    assert CHECK.check(token[:-5]).liveness is Liveness.FAKE
    message, _, digest = token.partition("--")
    assert CHECK.check(message[:-7] + "--" + digest).liveness is Liveness.FAKE
    assert CHECK.check("bkpt_" + "Zm9vYmFy" * 6 + "--" + digest).liveness is Liveness.FAKE


@pytest.mark.parametrize("make", [buildkite_packages_token, buildkite_api_token])
def test_generated_tokens_never_look_like_placeholders(make: object, rng: random.Random) -> None:
    for _ in range(500):
        token = make(rng)  # type: ignore[operator]
        assert placeholder_reason(token, "bkpt_" if token.startswith("bkpt_") else "bkua_") is None, token
