"""Every bundled rule's verify block against the registry it names, played by
the loopback server: the right host, path and headers, GET only, and the
answers read as live, revoked or unknown the way the registry means them."""

from __future__ import annotations

import pytest

from scanner.model import Liveness, Rule
from scanner.ruleset import load_rules
from scanner.verify.checker import verify_result
from scanner.verify.http import HttpClient
from scanner.verify.spec import select_spec
from tests.verify.fakeregistry import PLAYED_HOSTS, FakeRegistries
from tests.verify.helpers import example_secrets, make_finding, result_of

# Which rules have a live check, and where it goes. Written out, not derived:
# adding, dropping or re-pointing a block must show up here.
EXPECTED_HOSTS = {
    "npm-access-token": {"registry.npmjs.org"},
    "npmrc-auth-token-npmjs": {"registry.npmjs.org"},
    "github-classic-token": {"api.github.com"},
    "github-fine-grained-pat": {"api.github.com"},
    "github-app-installation-token-jwt": {"api.github.com"},
    "gitlab-pat": {"gitlab.com"},
    "gitlab-pat-routable": {"gitlab.com"},
    "rubygems-api-key": {"rubygems.org"},
    "crates-io-token": {"crates.io"},
    "huggingface-token": {"huggingface.co"},
    "terraform-cloud-token": {"app.terraform.io"},
    "jsr-token": {"api.jsr.io"},
    "cloudsmith-api-key": {"api.cloudsmith.io"},
    "hex-api-key": {"hex.pm"},
    "cocoapods-trunk-netrc": {"trunk.cocoapods.org"},
    "cocoapods-trunk-token": {"trunk.cocoapods.org"},
    "packagecloud-config-token": {"packagecloud.io"},
    "packagecloud-token": {"packagecloud.io"},
    "buildkite-api-token": {"api.buildkite.com"},
}
# Hosts whose token format other instances share (GitHub Enterprise Server,
# self-managed GitLab, Terraform Enterprise): a refusal there proves nothing.
SHARED_FORMAT = {"api.github.com", "gitlab.com", "app.terraform.io"}
BUNDLED = load_rules()
VERIFIED = [rule for rule in BUNDLED if rule.verify]


def _cases() -> list[tuple[Rule, str]]:
    cases = []
    for rule in VERIFIED:
        for secret in example_secrets(rule):
            if select_spec(rule, secret) is not None:
                cases.append((rule, secret))
    return cases


CASES = _cases()


def test_the_verified_rules_and_their_hosts_are_the_expected_ones() -> None:
    assert {rule.id: {spec.host for spec in rule.verify} for rule in VERIFIED} == EXPECTED_HOSTS
    assert set().union(*EXPECTED_HOSTS.values()) <= PLAYED_HOSTS


def test_every_verified_rule_has_an_example_to_check() -> None:
    assert {rule.id for rule, _ in CASES} == set(EXPECTED_HOSTS)


def test_no_block_for_registries_without_a_read_only_endpoint() -> None:
    # PyPI has only its upload endpoint, NuGet no side-effect-free one, Docker
    # Hub's token check is a POST: none of them may be called.
    for rule in BUNDLED:
        if rule.registry in {"pypi", "nuget", "docker-hub"} or rule.id.startswith(("pypi-", "nuget-", "dockerhub-")):
            assert rule.verify == (), rule.id


def test_every_block_is_a_get_to_an_https_url_on_its_own_host() -> None:
    for rule in VERIFIED:
        for spec in rule.verify:
            assert spec.method == "GET"
            assert spec.url.startswith(f"https://{spec.host}/")
            assert "{" not in spec.url


@pytest.mark.parametrize(("rule", "secret"), CASES, ids=[f"{r.id}-{s[:8]}" for r, s in CASES])
def test_a_secret_the_registry_accepts_is_live(
    rule: Rule, secret: str, registries: FakeRegistries, client: HttpClient
) -> None:
    registries.live.add(secret)
    result, summary = verify_result(result_of([make_finding(rule, secret)], BUNDLED), client=client)
    (finding,) = result.findings
    host = select_spec(rule, secret).host  # type: ignore[union-attr]
    assert finding.liveness is Liveness.LIVE, finding.liveness_reason
    assert finding.liveness_reason.startswith("live check: ")
    assert finding.liveness_reason.endswith(f" from {host}")
    assert finding.severity >= rule.severity
    (seen,) = registries.seen
    assert (seen.host, seen.method) == (host, "GET")
    assert secret not in summary.line()


@pytest.mark.parametrize(("rule", "secret"), CASES, ids=[f"{r.id}-{s[:8]}" for r, s in CASES])
def test_a_secret_the_registry_refuses_is_revoked_or_unknown(
    rule: Rule, secret: str, registries: FakeRegistries, client: HttpClient
) -> None:
    result, _ = verify_result(result_of([make_finding(rule, secret)], BUNDLED), client=client)
    (finding,) = result.findings
    host = select_spec(rule, secret).host  # type: ignore[union-attr]
    if host in SHARED_FORMAT:
        assert finding.liveness is Liveness.LIVE_LOOKING
        assert "live check: unknown (HTTP 401 from" in finding.liveness_reason or "HTTP 404" in finding.liveness_reason
        assert finding.severity is rule.severity
    else:
        assert finding.liveness is Liveness.REVOKED, finding.liveness_reason
        assert finding.liveness_reason.startswith("live check: ")
        assert finding.severity.value == "info"
    assert len(registries.seen) == 1


def test_rubygems_403_is_a_live_key_without_the_index_scope(registries: FakeRegistries, client: HttpClient) -> None:
    rule = next(r for r in VERIFIED if r.id == "rubygems-api-key")
    secret = example_secrets(rule)[0]
    registries.unscoped.add(secret)
    result, _ = verify_result(result_of([make_finding(rule, secret)], BUNDLED), client=client)
    assert result.findings[0].liveness is Liveness.LIVE
    assert result.findings[0].liveness_reason == "live check: 403 from rubygems.org"
    assert registries.seen[0].header("Authorization") == secret


def test_crates_io_is_asked_with_a_user_agent_and_never_on_me(registries: FakeRegistries, client: HttpClient) -> None:
    rule = next(r for r in VERIFIED if r.id == "crates-io-token")
    secret = example_secrets(rule)[0]
    registries.live.add(secret)
    verify_result(result_of([make_finding(rule, secret)], BUNDLED), client=client)
    (seen,) = registries.seen
    assert seen.target == "/api/v1/crates?following=1"
    assert (seen.header("User-Agent") or "").startswith("sprawl/")


def test_cloudsmith_200_with_authenticated_false_is_revoked(registries: FakeRegistries, client: HttpClient) -> None:
    rule = next(r for r in VERIFIED if r.id == "cloudsmith-api-key")
    secret = example_secrets(rule)[0]
    result, _ = verify_result(result_of([make_finding(rule, secret)], BUNDLED), client=client)
    assert result.findings[0].liveness is Liveness.REVOKED
    assert result.findings[0].liveness_reason == "live check: 200 from api.cloudsmith.io ('authenticated' is false)"


def test_terraform_team_token_is_unknown_not_revoked(registries: FakeRegistries, client: HttpClient) -> None:
    rule = next(r for r in VERIFIED if r.id == "terraform-cloud-token")
    secret = example_secrets(rule)[0]
    registries.team_tokens.add(secret)
    result, _ = verify_result(result_of([make_finding(rule, secret)], BUNDLED), client=client)
    assert result.findings[0].liveness is Liveness.LIVE_LOOKING
    assert "HTTP 404 from app.terraform.io: a team or organization token" in result.findings[0].liveness_reason


def test_github_installation_tokens_go_to_installation_repositories(
    registries: FakeRegistries, client: HttpClient
) -> None:
    rule = next(r for r in VERIFIED if r.id == "github-classic-token")
    secrets = {s[:4]: s for s in example_secrets(rule)}
    registries.live.update(secrets.values())
    findings = [make_finding(rule, s) for s in secrets.values()]
    result, summary = verify_result(result_of(findings, BUNDLED), client=client)
    targets = {s.header("Authorization")[len("Bearer ") :][:4]: s.target for s in registries.seen}  # type: ignore[index]
    assert targets == {
        "ghp_": "/user",
        "gho_": "/user",
        "ghu_": "/user",
        "ghs_": "/installation/repositories?per_page=1",
    }
    # A refresh token is not a bearer token: no request, counted as without a check.
    assert summary.without_check == ("github-classic-token",)
    by_prefix = {f.secret[:4]: f.liveness for f in result.findings}
    assert by_prefix["ghr_"] is Liveness.LIVE_LOOKING
    assert {by_prefix[p] for p in ("ghp_", "gho_", "ghu_", "ghs_")} == {Liveness.LIVE}
