"""Folding live checks into a scan result: liveness, reason and severity of
each finding, what is never asked, and the one-line summary."""

from __future__ import annotations

import random

from scanner.model import Liveness, Rule, Severity
from scanner.ruleset import load_rules
from scanner.verify.checker import verify_result
from scanner.verify.http import HttpClient
from tests.tokenfactory import github_style, npm_token, pypi_token
from tests.verify.fakeregistry import FakeClock, FakeRegistries, LoopbackTransport, Reply
from tests.verify.helpers import make_finding, result_of, rule_by_id

RULES: list[Rule] = load_rules()


def hex_key(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(32))


def test_live_raises_revoked_lowers_unknown_keeps(
    registries: FakeRegistries, client: HttpClient, rng: random.Random
) -> None:
    hex_rule = rule_by_id(RULES, "hex-api-key")  # base severity high, breadth unknown
    live, revoked = hex_key(rng), hex_key(rng)
    registries.live.add(live)
    gh = github_style("ghp", rng)
    registries.overrides["api.github.com"] = lambda _: Reply(500)
    findings = [
        make_finding(hex_rule, live),
        make_finding(hex_rule, revoked),
        make_finding(rule_by_id(RULES, "github-classic-token"), gh, reason="checksum valid"),
    ]
    result, summary = verify_result(result_of(findings, RULES), client=client)
    by_secret = {f.secret: f for f in result.findings}

    assert by_secret[live].liveness is Liveness.LIVE
    assert by_secret[live].liveness_reason == "live check: 200 from hex.pm"
    assert by_secret[live].severity is Severity.CRITICAL  # high, one step up for being live

    assert by_secret[revoked].liveness is Liveness.REVOKED
    assert by_secret[revoked].liveness_reason == "live check: 401 from hex.pm"
    assert by_secret[revoked].severity is Severity.INFO

    unknown = by_secret[gh]
    assert unknown.liveness is Liveness.LIVE_LOOKING
    assert unknown.liveness_reason == "checksum valid; live check: unknown (HTTP 500 from api.github.com (3 attempts))"
    assert unknown.severity is Severity.CRITICAL  # the rule's own, unchanged

    # Most severe first, as a scan orders them.
    assert [f.severity for f in result.findings] == sorted((f.severity for f in result.findings), reverse=True)
    assert summary.line() == (
        "live checks: 3 distinct secrets checked (api.github.com: 1 unknown; hex.pm: 1 live, 1 revoked)"
    )
    for secret in (live, revoked, gh):
        assert secret not in summary.line()
        assert all(secret not in f.liveness_reason for f in result.findings)


def test_exposure_still_counts_after_a_check(
    registries: FakeRegistries, client: HttpClient, rng: random.Random
) -> None:
    rule = rule_by_id(RULES, "huggingface-token")  # base severity from the rule, breadth unknown
    secret = "hf_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(34))
    registries.live.add(secret)
    in_chat = make_finding(rule, secret, source="slack", path="general.json")
    result, _ = verify_result(result_of([in_chat], RULES), client=client)
    assert result.findings[0].severity is rule.severity.raised(2)


def test_no_request_for_pypi_or_for_what_is_already_dead(
    registries: FakeRegistries, client: HttpClient, transport: LoopbackTransport, rng: random.Random
) -> None:
    pypi = rule_by_id(RULES, "pypi-api-token")
    npm = rule_by_id(RULES, "npm-access-token")
    findings = [
        make_finding(pypi, pypi_token()),
        make_finding(npm, npm_token(rng), liveness=Liveness.EXPIRED, reason="expired"),
        make_finding(npm, npm_token(rng), liveness=Liveness.FAKE, reason="placeholder"),
    ]
    result, summary = verify_result(result_of(findings, RULES), client=client)
    assert transport.connections == [] and registries.seen == []
    assert {f.secret: f.liveness for f in result.findings} == {f.secret: f.liveness for f in findings}
    assert summary.line() == (
        "live checks: 0 distinct secrets checked; 1 finding without a read-only check (pypi-api-token);"
        " 2 already fake, expired or revoked"
    )


def test_a_value_that_cannot_travel_in_a_header_is_not_sent(client: HttpClient, transport: LoopbackTransport) -> None:
    rule = rule_by_id(RULES, "npmrc-auth-token-npmjs")
    result, _ = verify_result(result_of([make_finding(rule, "caf\u00e9-token-value")], RULES), client=client)
    assert transport.connections == []
    assert result.findings[0].liveness_reason.endswith(
        "live check: unknown (the value cannot be sent in an HTTP header)"
    )


def test_several_registries_are_checked_side_by_side(port: int, registries: FakeRegistries, rng: random.Random) -> None:
    clock = FakeClock()
    transport = LoopbackTransport(port, clock)
    client = HttpClient(transport, clock=clock)
    npm = rule_by_id(RULES, "npm-access-token")
    gh = rule_by_id(RULES, "github-classic-token")
    findings = [make_finding(npm, npm_token(rng)) for _ in range(3)] + [
        make_finding(gh, github_style("ghp", rng)) for _ in range(3)
    ]
    registries.live.update(f.secret for f in findings)
    result, summary = verify_result(result_of(findings, RULES), client=client, clock=clock)
    assert {f.liveness for f in result.findings} == {Liveness.LIVE}
    assert (
        summary.line() == "live checks: 6 distinct secrets checked (api.github.com: 3 live; registry.npmjs.org: 3 live)"
    )
    assert sorted(c.host for c in transport.connections) == ["api.github.com"] * 3 + ["registry.npmjs.org"] * 3
