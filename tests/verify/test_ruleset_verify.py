"""Loading ``verify`` blocks (scanner/ruleset.py): only GET to a fixed https
host, the secret only in headers, and only in sprawl's own rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import RuleError
from scanner.model import VerifySpec
from scanner.ruleset import load_rule_file, load_rules

RULE = """\
registry: demo
rules:
  - id: demo-token
    name: demo token
    kind: api-token
    pattern: '(demo_[a-z0-9]{{20}})'
    keywords: [demo_]
    severity: high
    verify:
{verify}
"""
GOOD = """\
      url: https://api.demo.example/v1/whoami
      headers: {Authorization: "Bearer {secret}", Accept: application/json}
      live: [200]
      revoked: [401]
      inconclusive: {404: a team token}
      body: {active: true}
"""


TWO_BLOCKS_WITHOUT_PREFIXES = """\
      - url: https://a.demo.example/me
        headers: {X-Key: "{secret}"}
        live: [200]
      - url: https://b.demo.example/me
        headers: {X-Key: "{secret}"}
        live: [200]
"""


def write(tmp_path: Path, verify: str) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(RULE.format(verify=verify))
    return path


def test_a_good_block_is_loaded(tmp_path: Path) -> None:
    (rule,) = load_rule_file(write(tmp_path, GOOD), allow_verify=True)
    assert rule.verify == (
        VerifySpec(
            url="https://api.demo.example/v1/whoami",
            headers=(("Authorization", "Bearer {secret}"), ("Accept", "application/json")),
            live=(200,),
            revoked=(401,),
            inconclusive=((404, "a team token"),),
            body=(("active", True),),
        ),
    )
    assert rule.verify[0].host == "api.demo.example"


def test_a_list_of_blocks_with_prefixes_and_basic_auth(tmp_path: Path) -> None:
    verify = """\
      - prefixes: [demo_a]
        url: https://a.demo.example/me
        basic_auth: {username: "{secret}", password: ""}
        live: [200, 403]
      - url: https://b.demo.example/me
        headers: {X-Key: "{secret}"}
        live: [200]
"""
    (rule,) = load_rule_file(write(tmp_path, verify), allow_verify=True)
    assert [(s.host, s.prefixes, s.basic_auth, s.live) for s in rule.verify] == [
        ("a.demo.example", ("demo_a",), ("{secret}", ""), (200, 403)),
        ("b.demo.example", (), None, (200,)),
    ]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("      method: POST\n" + GOOD, "method 'POST' is not allowed: live checks are read-only GET requests"),
        ("      method: get\n" + GOOD, "method 'get' is not allowed"),
        (GOOD.replace("https://", "http://"), "'url' must be a fixed https://host/path address"),
        (GOOD.replace("/v1/whoami", "/v1/{secret}"), "'url' must be a fixed https://host/path address"),
        (GOOD.replace("api.demo.example", "api.demo.example:8443"), "'url' must be a fixed https://host/path"),
        (GOOD.replace("api.demo.example", "user@api.demo.example"), "'url' must be a fixed https://host/path"),
        (GOOD.replace("api.demo.example", "127.0.0.1"), "'url' must be a fixed https://host/path"),
        (GOOD.replace("/v1/whoami", "/v1/whoami#x"), "'url' must be a fixed https://host/path"),
        (
            GOOD.replace("Bearer {secret}", "Bearer {token}"),
            "header 'Authorization': unknown placeholder {token} (only {secret})",
        ),
        (GOOD.replace("Bearer {secret}", "Bearer x"), "no header or basic_auth field carries {secret}"),
        (GOOD.replace("Accept: application/json", "Host: evil.example"), "header 'Host' is set by sprawl itself"),
        (GOOD.replace("Accept: application/json", "User-Agent: x"), "header 'User-Agent' is set by sprawl itself"),
        (
            GOOD.replace("Accept: application/json", '"Bad Name": x'),
            "header name 'Bad Name' is not a valid HTTP header name",
        ),
        (GOOD.replace("Accept: application/json", 'X-A: "a\\r\\nX-B: b"'), "header 'X-A' must be one line"),
        (GOOD.replace("revoked: [401]", "revoked: [200]"), "a status may appear in only one of"),
        (
            GOOD.replace("revoked: [401]", "revoked: [302]"),
            "'revoked': 302 is not an HTTP status from 200-299 or 400-599",
        ),
        (GOOD.replace("live: [200]", "live: []"), "'live' must be a non-empty list of HTTP statuses"),
        (
            GOOD + "      basic_auth: {username: '{secret}', password: ''}\n",
            "'basic_auth' and an Authorization header exclude each other",
        ),
        (GOOD + "      cookies: {a: b}\n", "unknown key(s): cookies"),
        (GOOD.replace("{active: true}", "{active: [1]}"), "'body' must map JSON field names"),
        (TWO_BLOCKS_WITHOUT_PREFIXES, "every block but the last needs 'prefixes'"),
    ],
)
def test_a_bad_block_fails_naming_file_rule_and_problem(tmp_path: Path, block: str, message: str) -> None:
    path = write(tmp_path, block)
    with pytest.raises(RuleError) as caught:
        load_rule_file(path, allow_verify=True)
    assert str(caught.value).startswith(f"{path}: rule 'demo-token': 'verify")
    assert message in str(caught.value)


def test_a_rule_file_given_by_the_user_may_not_carry_a_verify_block(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(RuleError, match=r"rule 'demo-token': 'verify' is accepted only in sprawl's bundled rules"):
        load_rules([path])
    with pytest.raises(RuleError, match="'verify' is accepted only"):
        load_rule_file(path)


def test_bundled_rules_load_with_their_blocks() -> None:
    assert any(rule.verify for rule in load_rules())
