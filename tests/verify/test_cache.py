"""Each distinct secret is checked once per endpoint in a run; the optional
file cache keeps only sha256-derived keys and verdicts, for its TTL."""

from __future__ import annotations

import json
import random
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from scanner.errors import ConfigError
from scanner.findings import secret_sha256
from scanner.model import Liveness, Rule
from scanner.ruleset import load_rules
from scanner.verify.cache import CacheKey, VerdictCache
from scanner.verify.checker import verify_result
from scanner.verify.http import HttpClient
from scanner.verify.spec import Outcome, Verdict
from tests.tokenfactory import npm_token
from tests.verify.fakeregistry import FakeClock, FakeRegistries, Reply
from tests.verify.helpers import make_finding, result_of, rule_by_id

RULES: list[Rule] = load_rules()
NPM = rule_by_id(RULES, "npm-access-token")
NPMRC = rule_by_id(RULES, "npmrc-auth-token-npmjs")


def test_one_request_per_distinct_secret_and_endpoint(
    registries: FakeRegistries, client: HttpClient, rng: random.Random
) -> None:
    one, two = npm_token(rng), npm_token(rng)
    registries.live.add(one)
    # The same value under two rules with the same endpoint, and a second value.
    findings = [make_finding(NPM, one), make_finding(NPMRC, one, path=".npmrc"), make_finding(NPM, two)]
    result, summary = verify_result(result_of(findings, RULES), client=client)
    auths = sorted(s.header("Authorization") or "" for s in registries.seen)
    assert auths == sorted([f"Bearer {one}", f"Bearer {two}"])
    assert {(f.rule_id, f.secret, f.liveness) for f in result.findings} == {
        ("npm-access-token", one, Liveness.LIVE),
        ("npmrc-auth-token-npmjs", one, Liveness.LIVE),
        ("npm-access-token", two, Liveness.REVOKED),
    }
    assert summary.checked == 2


def test_the_file_cache_answers_a_second_run_until_its_ttl_ends(
    registries: FakeRegistries, client: HttpClient, clock: FakeClock, tmp_path: Path, rng: random.Random
) -> None:
    token = npm_token(rng)
    registries.live.add(token)
    path = tmp_path / "state" / "verify-cache.json"
    result = result_of([make_finding(NPM, token)], RULES)

    verify_result(result, client=client, clock=clock, cache=VerdictCache(path, clock=clock))
    assert len(registries.seen) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert token not in text and secret_sha256(token) not in text

    clock.advance(600)
    again, summary = verify_result(result, client=client, clock=clock, cache=VerdictCache(path, clock=clock))
    assert len(registries.seen) == 1
    assert summary.from_cache == 1
    assert again.findings[0].liveness is Liveness.LIVE
    assert again.findings[0].liveness_reason == (
        "live check: 200 from registry.npmjs.org, cached from 2026-06-01T12:00:00+00:00"
    )

    clock.advance(3600)
    verify_result(result, client=client, clock=clock, cache=VerdictCache(path, clock=clock))
    assert len(registries.seen) == 2


def test_unknown_verdicts_are_not_kept_on_disk(
    registries: FakeRegistries, client: HttpClient, clock: FakeClock, tmp_path: Path, rng: random.Random
) -> None:
    registries.overrides["registry.npmjs.org"] = lambda _: Reply(502)
    path = tmp_path / "verify-cache.json"
    result = result_of([make_finding(NPM, npm_token(rng))], RULES)
    verify_result(result, client=client, clock=clock, cache=VerdictCache(path, clock=clock))
    assert not path.exists()
    verify_result(result, client=client, clock=clock, cache=VerdictCache(path, clock=clock))
    assert len(registries.seen) == 6  # three attempts in each run


def test_expired_entries_are_dropped_when_the_file_is_written(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "verify-cache.json"
    cache = VerdictCache(path, ttl=timedelta(minutes=5), clock=clock)
    cache.put(CacheKey("e", "a" * 64), Verdict(Outcome.LIVE, "registry.npmjs.org", clock.now(), 200))
    cache.save()
    clock.advance(600)
    cache = VerdictCache(path, ttl=timedelta(minutes=5), clock=clock)
    assert cache.get(CacheKey("e", "a" * 64)) is None
    cache.put(CacheKey("e", "b" * 64), Verdict(Outcome.REVOKED, "registry.npmjs.org", clock.now(), 401))
    cache.save()
    assert len(json.loads(path.read_text())["entries"]) == 1


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"format": "other", "entries": {}}',
        '{"format": "sprawl-verify-cache/1", "entries": {"k": {"outcome": "maybe"}}}',
    ],
)
def test_a_file_that_is_not_a_cache_is_an_error_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "verify-cache.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=rf"^{path}: not a sprawl verify cache"):
        VerdictCache(path)


def test_without_a_path_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = VerdictCache()
    cache.put(CacheKey("e", "a" * 64), Verdict(Outcome.LIVE, "h.example", FakeClock().now(), 200))
    cache.save()
    assert list(tmp_path.iterdir()) == []
    assert cache.get(CacheKey("e", "a" * 64)) is not None
