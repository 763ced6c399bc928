"""Context values: documentation-style values are rejected, generated secrets
are unverifiable; base64 user:password pairs and passwords are decoded; classic
npm tokens for registry.npmjs.org are dead."""

from __future__ import annotations

import base64
import json
import random
import string
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.base import builtin_validators
from scanner.validators.context_value import (
    Base64Password,
    BasicAuth,
    ContextSecret,
    NpmjsAuthToken,
    decode_base64_text,
    made_of_filler_words,
    not_a_secret,
)
from tests.factories.group_d1 import ecr_password, password, token, uuid4
from tests.tokenfactory import base62, npm_token


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


NOT_SECRETS = [
    "",
    "   ",
    "${NPM_TOKEN}",
    "${NPM_TOKEN:-}",
    "$NPM_TOKEN",
    "$env:NUGET_PASSWORD",
    "${{ secrets.NPM_TOKEN }}",
    "$(System.AccessToken)",
    "%NUGET_PASSWORD%",
    "{{ .Values.token }}",
    "#{NuGetFeedToken}#",
    "@repository.password@",
    "__NPM_TOKEN__",
    "<%= ENV['RUBYGEMS_API_KEY'] %>",
    "%(password)s",
    "<your password>",
    "<TOKEN>",
    "[MASKED]",
    "[BASE64_ENCODED_PAT]",
    "(hidden)",
    "********",
    "xxx",
    "xxxxxxxxxxxxxxxx",
    "changeme",
    "changeit",
    "password",
    "Passw0rd123",
    "mysecretpassword",
    "your-token-here",
    "YOUR_API_KEY",
    "NPM_AUTH_TOKEN",
    "npm_token_value",
    "ossrhPassword",
    "process.env.NPM_TOKEN",
    "System.getenv(\"MAVEN_PASSWORD\")",
    "findProperty(\"gpr.key\")",
    "ENC(G6N718UuyPE5bHyWKyuLQSm02auQPUtm)",
    "env:NPM_TOKEN",
    "op://ci/npm/token",
    "https://example.com/token",
    "/run/secrets/pypi_token",
    "~/.config/npm/token",
    "./secrets/token.txt",
    "C:\\secrets\\nuget-token.txt",
    "true",
    "null",
    "12345678",
    "1.2.3-beta.1",
    "ci@example.com",
    "short",
    "abababab",
    "--password-stdin",
    "{secret}",
    "{npm_token(rng)}",
    "prefix{token}",
    "fredpassword",  # man 7 uri: http://fred:fredpassword@example.com:8080/
    "mytoken2024",
    "he%2F%2Fo",  # pip's authentication docs: https://user:he%2F%2Fo@pypi.company.com/simple
]


@pytest.mark.parametrize("value", NOT_SECRETS)
def test_documentation_values_are_not_secrets(value: str) -> None:
    assert not_a_secret(value) is not None
    assert ContextSecret().check(value).liveness is Liveness.FAKE


def test_maven_encrypted_value_says_how_it_decrypts(rng: random.Random) -> None:
    encrypted = "{" + base64.b64encode(rng.randbytes(32)).decode() + "}"
    reason = not_a_secret(encrypted)
    assert reason is not None and "settings-security.xml" in reason


@pytest.mark.parametrize(
    "value",
    [
        "dckr_pat_" + "124509ugsdjgb94",  # shaped like Docker's API docs example: wrong length
        "npm_" + "A1b2C3d4E5",
        "ghp_" + "aB3dE5gH7jK9",
        "glpat-" + "aB3dE5gH7j",
        "Kx8mQ2pLr7Vw3Z.atlasv1.tooShort",
    ],
)
def test_truncated_known_tokens_are_not_secrets(value: str) -> None:
    reason = not_a_secret(value)
    assert reason is not None and "shape" in reason


def test_well_formed_known_tokens_are_left_to_their_rules(rng: random.Random) -> None:
    reason = not_a_secret(npm_token(rng))
    assert reason is not None and "its own rule" in reason


def test_generated_values_are_secrets(rng: random.Random) -> None:
    makers: list[Callable[[random.Random], str]] = [token, password, uuid4]
    for _ in range(3000):
        value = rng.choice(makers)(rng)
        assert not_a_secret(value) is None, value
        verdict = ContextSecret().check(value)
        assert verdict.liveness is Liveness.UNVERIFIABLE, value


def test_random_base64_is_not_a_path(rng: random.Random) -> None:
    for _ in range(3000):
        value = "/" + base64.b64encode(rng.randbytes(rng.randint(18, 40))).decode()[1:]
        assert not_a_secret(value) is None, value


def test_filler_words() -> None:
    assert made_of_filler_words("my-secret-token-123")
    assert made_of_filler_words("YourApiKeyHere")
    assert not made_of_filler_words("2024")  # digits alone are not words
    assert not made_of_filler_words("passwordQx7")


def test_validators_are_registered() -> None:
    names = builtin_validators()
    for name in ("context-secret", "basic-auth", "base64-password", "npmjs-auth-token"):
        assert name in names


# --- npm -------------------------------------------------------------------------------


def test_classic_npm_token_for_npmjs_is_expired(rng: random.Random) -> None:
    verdict = NpmjsAuthToken().check(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    assert verdict.liveness is Liveness.EXPIRED
    assert "2025-12-09" in verdict.reason
    assert verdict.expires_at == datetime(2025, 12, 9, tzinfo=UTC)


def test_other_npmjs_values_are_judged_as_plain_values(rng: random.Random) -> None:
    assert NpmjsAuthToken().check(token(rng)).liveness is Liveness.UNVERIFIABLE
    assert NpmjsAuthToken().check("NPM_TOKEN").liveness is Liveness.FAKE


# --- base64 -----------------------------------------------------------------------------


def test_decode_base64_text(rng: random.Random) -> None:
    text = "deployer:" + base62(rng, 20)
    encoded = b64(text)
    assert decode_base64_text(encoded) == text
    assert decode_base64_text(encoded.rstrip("=")) == text
    urlsafe = base64.urlsafe_b64encode(b"ci:>>>???").decode()  # "Y2k6Pj4-Pz8_"
    assert "-" in urlsafe and decode_base64_text(urlsafe) == "ci:>>>???"
    assert decode_base64_text("not base64!") is None
    assert decode_base64_text("abcde") is None  # impossible length


def test_binary_base64_is_not_text(rng: random.Random) -> None:
    undecodable = sum(decode_base64_text(base64.b64encode(rng.randbytes(32)).decode()) is None for _ in range(200))
    assert undecodable == 200


def test_basic_auth_pair(rng: random.Random) -> None:
    verdict = BasicAuth().check(b64(f"deploy:{password(rng)}"))
    assert verdict.liveness is Liveness.UNVERIFIABLE
    literal = BasicAuth().check(f"deploy:{token(rng)}")  # Yarn npmAuthIdent accepts the pair as written
    assert literal.liveness is Liveness.UNVERIFIABLE


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b64("username:password"), "placeholder words"),
        (b64("user:changeme"), "changeme"),
        (b64("user:"), "empty password"),
        (b64("USERNAME:${CR_PAT}"), "template"),
        (b64("no separator here"), "separator"),
        ("${DOCKER_AUTH}", "template"),
        ("bm90IHRleHQ", "separator"),  # "not text"
    ],
)
def test_basic_auth_placeholders(value: str, reason: str) -> None:
    verdict = BasicAuth().check(value)
    assert verdict.liveness is Liveness.FAKE
    assert reason in verdict.reason


def test_basic_auth_binary_is_fake(rng: random.Random) -> None:
    assert BasicAuth().check(base64.b64encode(rng.randbytes(24)).decode()).liveness is Liveness.FAKE


def test_ecr_token_expiry(rng: random.Random) -> None:
    live = BasicAuth().check(b64(f"AWS:{ecr_password(rng, 3600)}"))
    assert live.liveness is Liveness.LIVE_LOOKING
    assert live.scope is not None and "Amazon ECR" in live.scope
    assert live.expires_at is not None and live.expires_at.timestamp() > time.time()
    dead = BasicAuth().check(b64(f"AWS:{ecr_password(rng, -60)}"))
    assert dead.liveness is Liveness.EXPIRED
    assert dead.expires_at is not None and dead.expires_at.timestamp() < time.time()


def _service_account(rng: random.Random, key_body: str | None = None) -> str:
    body = key_body if key_body is not None else base64.b64encode(rng.randbytes(600)).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme",
            "private_key_id": rng.randbytes(20).hex(),
            "private_key": f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n",
            "client_email": "ci@acme.iam.gserviceaccount.com",
        },
        indent=2,
    )


def test_google_json_key_login(rng: random.Random) -> None:
    verdict = BasicAuth().check(b64(f"_json_key:{_service_account(rng)}"))
    assert verdict.liveness is Liveness.UNVERIFIABLE
    assert verdict.scope is not None and "Google Cloud service account" in verdict.scope
    encoded = BasicAuth().check(b64(f"_json_key_base64:{b64(_service_account(rng))}"))
    assert encoded.liveness is Liveness.UNVERIFIABLE
    placeholder = BasicAuth().check(b64(f"_json_key:{_service_account(rng, '...')}"))
    assert placeholder.liveness is Liveness.FAKE


@pytest.mark.parametrize(
    ("user", "scope", "breadth"),
    [
        ("acme+deployer", "Quay robot", Breadth.UNKNOWN),
        ("gitlab-ci-token", "GitLab CI job token", Breadth.PROJECT),
        ("oauth2accesstoken", "Google OAuth access token", Breadth.UNKNOWN),
        ("x-access-token", "GitHub App installation token", Breadth.PROJECT),
    ],
)
def test_known_user_names_say_what_the_password_is(user: str, scope: str, breadth: Breadth, rng: random.Random) -> None:
    verdict = BasicAuth().check(b64(f"{user}:{token(rng)}"))
    assert verdict.liveness is Liveness.UNVERIFIABLE
    assert verdict.scope is not None and scope in verdict.scope
    assert verdict.breadth is breadth


def test_email_with_plus_is_not_a_quay_robot(rng: random.Random) -> None:
    assert BasicAuth().check(b64(f"me+ci@example.com:{token(rng)}")).scope is None


def test_base64_password(rng: random.Random) -> None:
    assert Base64Password().check(b64(token(rng))).liveness is Liveness.UNVERIFIABLE
    assert Base64Password().check(b64("changeme")).liveness is Liveness.FAKE
    assert Base64Password().check(b64("${NPM_PASSWORD}")).liveness is Liveness.FAKE


def test_base64_password_written_in_clear(rng: random.Random) -> None:
    # a password that is not base64 of text: npm would send garbage, but it is still exposed
    clear = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(23)) + "!"
    verdict = Base64Password().check(clear)
    assert verdict.liveness is Liveness.UNVERIFIABLE
    assert "clear" in verdict.reason
