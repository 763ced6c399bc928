"""Reading a verify block: which block fits a secret, the headers it sends,
and what a registry's answer means."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from scanner.model import Breadth, Rule, Severity, VerifySpec
from scanner.verify.http import Response
from scanner.verify.spec import Outcome, interpret, request_headers, select_spec, sendable, spec_fingerprint

WHEN = datetime(2026, 6, 1, tzinfo=UTC)
SPEC = VerifySpec(
    url="https://api.cloudsmith.io/v1/user/self/",
    headers=(("X-Api-Key", "{secret}"),),
    live=(200,),
    revoked=(401,),
    inconclusive=((404, "a team token"),),
    body=(("authenticated", True), ("user.kind", "person")),
)


def answer(status: int, body: object = None) -> Response:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return Response(status, "api.cloudsmith.io", (), raw)


def rule(*specs: VerifySpec) -> Rule:
    return Rule("r", "r", "x", "api-token", "(x)", ("x",), Severity.HIGH, breadth=Breadth.UNKNOWN, verify=specs)


def test_a_live_status_with_the_body_conditions_met_is_live() -> None:
    verdict = interpret(SPEC, answer(200, {"authenticated": True, "user": {"kind": "person"}}), WHEN)
    assert (verdict.outcome, verdict.http_status, verdict.reason) == (
        Outcome.LIVE,
        200,
        "live check: 200 from api.cloudsmith.io",
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"authenticated": False, "user": {"kind": "person"}}, "'authenticated' is false"),
        ({"authenticated": 1, "user": {"kind": "person"}}, "'authenticated' is 1"),  # not the same as true
        ({"authenticated": True}, "'user.kind' is missing"),
    ],
)
def test_a_live_status_whose_body_says_otherwise_is_revoked(body: object, detail: str) -> None:
    verdict = interpret(SPEC, answer(200, body), WHEN)
    assert (verdict.outcome, verdict.detail) == (Outcome.REVOKED, detail)


def test_a_live_status_without_json_is_unknown() -> None:
    verdict = interpret(SPEC, answer(200, b"<html>sign in</html>"), WHEN)
    assert verdict.outcome is Outcome.UNKNOWN
    assert verdict.reason == "live check: unknown (HTTP 200 from api.cloudsmith.io without a JSON body)"


def test_statuses_outside_the_lists_are_unknown_with_any_note() -> None:
    assert interpret(SPEC, answer(401), WHEN).outcome is Outcome.REVOKED
    assert (
        interpret(SPEC, answer(404), WHEN).reason
        == "live check: unknown (HTTP 404 from api.cloudsmith.io: a team token)"
    )
    assert interpret(SPEC, answer(418), WHEN).reason == "live check: unknown (HTTP 418 from api.cloudsmith.io)"


def test_the_first_block_whose_prefixes_fit_is_chosen() -> None:
    installation = VerifySpec(url="https://api.github.com/installation/repositories", prefixes=("ghs_",))
    user = VerifySpec(url="https://api.github.com/user", prefixes=("ghp_", "gho_"))
    assert select_spec(rule(installation, user), "ghs_abc") is installation
    assert select_spec(rule(installation, user), "gho_abc") is user
    assert select_spec(rule(installation, user), "ghr_abc") is None
    assert select_spec(rule(installation, VerifySpec(url="https://api.github.com/user")), "ghr_abc") is not None
    assert select_spec(rule(), "anything") is None


def test_headers_and_basic_auth_get_the_secret() -> None:
    spec = VerifySpec(
        url="https://packagecloud.io/api/v1/repos",
        headers=(("X-Note", "token {secret} here"),),
        basic_auth=("{secret}", ""),
    )
    headers = request_headers(spec, "generated-value")
    assert headers["X-Note"] == "token generated-value here"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"generated-value:").decode()


@pytest.mark.parametrize(
    ("value", "ok"), [("npm_abc", True), ("a b", False), ("line\nbreak", False), ("caf\u00e9", False), ("", False)]
)
def test_only_visible_ascii_is_sent(value: str, ok: bool) -> None:
    assert sendable(value) is ok


def test_the_fingerprint_changes_with_the_request_or_its_reading() -> None:
    other = VerifySpec(url=SPEC.url, headers=SPEC.headers, live=(200,), revoked=(401, 403), body=SPEC.body)
    assert spec_fingerprint(SPEC) == spec_fingerprint(VerifySpec(**SPEC.__dict__))
    assert spec_fingerprint(SPEC) != spec_fingerprint(other)
