"""The per-host rate limit, on an injected clock: request starts are spaced
per host, and one host never waits for another."""

from __future__ import annotations

import random

import pytest

from scanner.model import Rule
from scanner.ruleset import load_rules
from scanner.verify.checker import verify_result
from scanner.verify.http import HttpClient
from scanner.verify.limits import HostRateLimiter
from tests.tokenfactory import npm_token
from tests.verify.fakeregistry import FakeClock, FakeRegistries, LoopbackTransport
from tests.verify.helpers import make_finding, result_of, rule_by_id


def test_starts_on_one_host_are_spaced_and_other_hosts_do_not_wait() -> None:
    clock = FakeClock()
    limiter = HostRateLimiter(per_second=2.0, clock=clock)
    starts = []
    for host in ("a.example", "a.example", "b.example", "a.example"):
        limiter.acquire(host)
        starts.append((host, clock.monotonic()))
    assert starts == [("a.example", 0.0), ("a.example", 0.5), ("b.example", 0.5), ("a.example", 1.0)]


def test_time_already_passed_counts_towards_the_interval() -> None:
    clock = FakeClock()
    limiter = HostRateLimiter(per_second=4.0, clock=clock)
    limiter.acquire("a.example")
    clock.advance(0.1)
    limiter.acquire("a.example")
    assert clock.sleeps == [pytest.approx(0.15)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HostRateLimiter(per_second=0)


def test_checks_of_many_secrets_at_one_registry_are_spaced(
    registries: FakeRegistries, port: int, clock: FakeClock, rng: random.Random
) -> None:
    rules: list[Rule] = load_rules()
    rule = rule_by_id(rules, "npm-access-token")
    secrets = [npm_token(rng) for _ in range(5)]
    registries.live.update(secrets[:2])
    transport = LoopbackTransport(port, clock)
    client = HttpClient(transport, clock=clock, limiter=HostRateLimiter(per_second=2.0, clock=clock))
    verify_result(result_of([make_finding(rule, s) for s in secrets], rules), client=client, clock=clock)
    times = [c.at for c in transport.connections]
    assert times == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert len(registries.requests_to("registry.npmjs.org")) == 5
