"""The detector inside encoded text: a credential in base64, percent-, JSON-
or HTML-escaped text is reported where the encoded text stands."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

import pytest

from scanner import decode
from scanner.decode import BASE64_ANCHORS, find_encoded_regions
from scanner.engine import Detector
from scanner.model import Match, Rule, Severity
from tests.conftest import detect_text
from tests.tokenfactory import github_style, npm_token, pypi_token

TOKEN_RULES = ("npm-access-token", "github-classic-token", "pypi-api-token")


def context_rule(rule_id: str, pattern: str, keyword: str) -> Rule:
    return Rule(
        id=rule_id, name=rule_id, registry="test", kind="password", pattern=pattern, keywords=(keyword,),
        severity=Severity.HIGH, boundary=False, context=True,
    )


# Context rules of the kind the rule pack has, defined here so that these
# tests do not depend on the pack's wording.
DOCKER_AUTH = context_rule("t-docker-auth", r'"auth"\s*:\s*"([A-Za-z0-9+/=_-]+)"', '"auth"')
NPMRC_AUTH = context_rule("t-npmrc-auth", r"_auth\s*=\s*([A-Za-z0-9+/=]+)", "_auth")
XML_PASSWORD = context_rule("t-xml-password", r"<password>([^<\s]+)</password>", "<password>")
JSON_PASSWORD = context_rule("t-json-password", r'"password"\s*:\s*"([^"]+)"', '"password"')


@pytest.fixture()
def tokens_only(bundled_rules: list[Rule]) -> Detector:
    return Detector([r for r in bundled_rules if r.id in TOKEN_RULES])


def with_context(bundled_rules: list[Rule], *extra: Rule, **kwargs: int) -> Detector:
    return Detector([r for r in bundled_rules if r.id in TOKEN_RULES] + list(extra), **kwargs)


def b64(text: str, *, urlsafe: bool = False, padded: bool = True) -> str:
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


def anchored(rng: random.Random, make: Callable[[random.Random], str], encode: Callable[[str], str]) -> tuple[str, str]:
    """A credential whose encoding the base64 anchors find at every layer (all
    but ~0.1% are; the rest only where a context rule captured them)."""
    while True:
        secret = make(rng)
        encoded = encode(secret)
        layer, found_all = encoded, True
        while secret not in layer:
            regions = [r for r in find_encoded_regions(layer) if r.encoding == "base64"]
            if not regions:
                found_all = False
                break
            layer = regions[0].text
        if found_all:
            return secret, encoded


def where(text: str, fragment: str) -> tuple[int, int, int]:
    """Line, column and end column (exclusive) of ``fragment`` in ``text``."""
    start = text.index(fragment)
    line_start = text.rfind("\n", 0, start) + 1
    return text.count("\n", 0, start) + 1, start - line_start + 1, start - line_start + 1 + len(fragment)


def found(matches: list[Match]) -> set[tuple[str, str, int, int, int]]:
    return {(m.rule_id, m.secret, m.line, m.column, m.end_column) for m in matches}


# --- base64 -------------------------------------------------------------------


@pytest.mark.parametrize("urlsafe", [False, True], ids=["standard", "urlsafe"])
@pytest.mark.parametrize("padded", [True, False], ids=["padded", "unpadded"])
def test_docker_config_auth_reports_the_token_at_the_base64(
    bundled_rules: list[Rule], tokens_only: Detector, rng: random.Random, urlsafe: bool, padded: bool
) -> None:
    token, encoded = anchored(rng, npm_token, lambda t: b64(f"ci-user:{t}", urlsafe=urlsafe, padded=padded))
    config = json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": encoded}}}, indent=2) + "\n"
    expected = {("npm-access-token", token, *where(config, encoded))}
    assert found(detect_text(tokens_only, config, "config.json")) == expected
    # The token wins over the context rule that captured the base64 value.
    assert found(detect_text(with_context(bundled_rules, DOCKER_AUTH), config, "config.json")) == expected


def test_base64_without_anchors_is_found_where_a_context_rule_captured_it(
    bundled_rules: list[Rule], tokens_only: Detector, rng: random.Random
) -> None:
    while True:
        token = npm_token(rng)
        encoded = b64(f"u:{token}")
        if not any(a in encoded for a in BASE64_ANCHORS):
            break
    config = json.dumps({"auths": {"ghcr.io": {"auth": encoded}}})
    assert detect_text(tokens_only, config) == []  # the documented gap
    detector = with_context(bundled_rules, DOCKER_AUTH)
    assert found(detect_text(detector, config)) == {("npm-access-token", token, *where(config, encoded))}


def test_kubernetes_dockerconfigjson_is_decoded_twice(bundled_rules: list[Rule], rng: random.Random) -> None:
    token, auth = anchored(rng, npm_token, lambda t: b64(f"robot:{t}"))
    config = json.dumps({"auths": {"registry.example.com": {"username": "robot", "auth": auth}}}, separators=(",", ":"))
    outer = b64(config)
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n"
        f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {outer}\n"
    )
    expected = {("npm-access-token", token, *where(manifest, outer))}
    for detector in (with_context(bundled_rules), with_context(bundled_rules, DOCKER_AUTH)):
        assert found(detect_text(detector, manifest, "secret.yaml")) == expected


def test_npmrc_auth_holding_a_github_token(bundled_rules: list[Rule], rng: random.Random) -> None:
    token, encoded = anchored(rng, lambda r: github_style("ghp", r), lambda t: b64(f"octocat:{t}"))
    npmrc = f"@acme:registry=https://npm.pkg.github.com\n_auth={encoded}\nalways-auth=true\n"
    expected = {("github-classic-token", token, 2, 7, 7 + len(encoded))}
    assert found(detect_text(with_context(bundled_rules), npmrc, ".npmrc")) == expected
    assert found(detect_text(with_context(bundled_rules, NPMRC_AUTH), npmrc, ".npmrc")) == expected


def test_token_in_base64_deep_inside_a_long_line(tokens_only: Detector, rng: random.Random) -> None:
    token, encoded = anchored(rng, pypi_token, lambda t: b64(f"__token__:{t}"))
    filler = "x, " * 30_000
    text = f'{{"a": "{filler}", "b": "{encoded}", "c": "{filler}"}}'
    assert found(detect_text(tokens_only, text)) == {("pypi-api-token", token, 1, *where(text, encoded)[1:])}


def test_images_and_hashes_yield_nothing(tokens_only: Detector) -> None:
    rng = random.Random(11)
    image = base64.b64encode(rng.randbytes(1024 * 1024)).decode()
    lock = "".join(
        f'    "node_modules/p{i}": {{"resolved": "https://r/p{i}.tgz", '
        f'"integrity": "sha512-{base64.b64encode(rng.randbytes(64)).decode()}"}},\n'
        for i in range(5000)
    )
    digests = "".join(f"{rng.getrandbits(256):064x}  file{i}\n" for i in range(5000))
    for text in (f'<img src="data:image/png;base64,{image}">', lock, digests):
        assert detect_text(tokens_only, text) == []


def test_decoding_depth_is_limited(bundled_rules: list[Rule], rng: random.Random) -> None:
    token, twice = anchored(rng, npm_token, lambda t: b64(b64(f"u:{t}")))
    _, thrice = anchored(rng, npm_token, lambda t: b64(b64(b64(f"u:{t}"))))
    assert [m.secret for m in detect_text(with_context(bundled_rules), twice)] == [token]
    assert detect_text(with_context(bundled_rules), thrice) == []
    assert len(detect_text(with_context(bundled_rules, decode_depth=3), thrice)) == 1
    assert detect_text(with_context(bundled_rules, decode_depth=0), twice) == []


def test_region_budget_is_honoured(
    tokens_only: Detector, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = [anchored(rng, npm_token, lambda t: b64(f"u:{t}")) for _ in range(5)]
    text = "".join(f'"auth": "{encoded}"\n' for _, encoded in pairs)
    assert [m.secret for m in detect_text(tokens_only, text)] == [token for token, _ in pairs]
    monkeypatch.setattr(decode, "MAX_REGIONS", 2)
    assert [m.secret for m in detect_text(tokens_only, text)] == [token for token, _ in pairs[:2]]


def password(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16)) + "-&x"


def test_context_and_token_inside_one_region_both_count(bundled_rules: list[Rule], rng: random.Random) -> None:
    secret = password(rng)
    token, encoded = anchored(rng, npm_token, lambda t: b64(json.dumps({"password": secret, "token": t})))
    text = f"CONFIG_B64={encoded}\n"
    span = where(text, encoded)
    detector = with_context(bundled_rules, JSON_PASSWORD)
    assert found(detect_text(detector, text)) == {
        ("npm-access-token", token, *span),
        ("t-json-password", secret, *span),
    }


# --- character-level escapes ----------------------------------------------------------


def test_percent_encoded_npmrc_line(tokens_only: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    text = f"GET /setup?npmrc=%2F%2Fregistry.npmjs.org%2F%3A_authToken%3D{token}&scope=x HTTP/1.1\n"
    assert found(detect_text(tokens_only, text)) == {("npm-access-token", token, *where(text, token))}


def test_percent_escapes_inside_the_token(tokens_only: Detector, rng: random.Random) -> None:
    token = npm_token(rng)
    hidden = "%6E%70%6D%5F" + token[4:6] + "%" + token[6].encode().hex().upper() + token[7:]
    text = f"q=1&t={hidden}&z=2\n"
    assert found(detect_text(tokens_only, text)) == {("npm-access-token", token, *where(text, hidden))}


@pytest.mark.parametrize("slash", ["\\/", "\\u002f", "\\u002F"])
def test_json_escaped_url(tokens_only: Detector, rng: random.Random, slash: str) -> None:
    token = github_style("ghp", rng)
    url = f"https:{slash}{slash}user:{token}@github.com{slash}x"
    text = '{\n  "remote": "' + url + '"\n}\n'
    assert found(detect_text(tokens_only, text)) == {("github-classic-token", token, *where(text, token))}


def test_json_escape_inside_the_token(tokens_only: Detector, rng: random.Random) -> None:
    token = github_style("ghp", rng)
    hidden = "\\u0067" + token[1:]
    text = '{"GH_TOKEN": "' + hidden + '"}'
    assert found(detect_text(tokens_only, text)) == {("github-classic-token", token, *where(text, hidden))}


def test_html_escaped_xml_password(bundled_rules: list[Rule], rng: random.Random) -> None:
    token = npm_token(rng)
    text = f"<p>settings.xml:</p>\n<pre>&lt;server&gt;&lt;password&gt;{token}&lt;/password&gt;&lt;/server&gt;</pre>\n"
    expected = {("npm-access-token", token, *where(text, token))}
    assert found(detect_text(with_context(bundled_rules), text, "page.html")) == expected
    assert found(detect_text(with_context(bundled_rules, XML_PASSWORD), text, "page.html")) == expected


def test_html_escaped_xml_password_that_is_no_token(bundled_rules: list[Rule], rng: random.Random) -> None:
    # Escapes are decoded on lines holding a rule keyword as written: here
    # "password"; "<password>" alone is itself escaped (the documented gap).
    secret = password(rng).replace("&", "")
    text = f"<pre>&lt;password&gt;{secret}&lt;/password&gt;</pre>"
    rule = Rule(**{**XML_PASSWORD.__dict__, "keywords": ("<password>", "password")})
    matches = detect_text(with_context(bundled_rules, rule), text, "page.html")
    assert found(matches) == {("t-xml-password", secret, *where(text, secret))}
    assert detect_text(with_context(bundled_rules, XML_PASSWORD), text, "page.html") == []


@pytest.mark.parametrize("entity", ["&#x6e;", "&#110;"])
def test_html_entity_inside_the_token(tokens_only: Detector, rng: random.Random, entity: str) -> None:
    token = npm_token(rng)
    hidden = entity + token[1:]
    text = f"<html>\n<body><code>{hidden}</code></body>\n</html>\n"
    assert found(detect_text(tokens_only, text, "page.html")) == {("npm-access-token", token, *where(text, hidden))}


# --- unchanged behaviour ---------------------------------------------------------------


def test_plain_text_gives_the_same_matches_with_or_without_decoding(
    bundled_rules: list[Rule], rng: random.Random
) -> None:
    plain = with_context(bundled_rules, DOCKER_AUTH, XML_PASSWORD)
    blind = with_context(bundled_rules, DOCKER_AUTH, XML_PASSWORD, decode_depth=0)
    for _ in range(30):
        tokens = [npm_token(rng), github_style("ghs", rng), pypi_token(rng)]
        noise = "".join(rng.choice(string.ascii_letters + " =:\"'<>/%&\\\n") for _ in range(400))
        text = f"{noise}\n{tokens[0]} <password>{tokens[1]}</password>\n\"auth\": \"{tokens[2]}\"\n{noise}"
        assert detect_text(plain, text) == detect_text(blind, text)
