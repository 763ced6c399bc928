"""JWT/JWE decoding and the expiry verdicts: plain JWTs, GitHub's 2026
installation tokens and AWS CodeArtifact tokens."""

from __future__ import annotations

import random
import time

import pytest

from scanner.engine import Detector
from scanner.model import Breadth, Liveness, Rule
from scanner.validators.jwt import (
    CodeArtifactToken,
    GitHubInstallationJwt,
    JwtError,
    JwtExpiry,
    b64url_decode,
    parse_jwe,
    parse_jwt,
)
from scanner.validators.placeholders import placeholder_reason
from tests.conftest import detect_text
from tests.factories.group_c import (
    HOUR,
    b64url,
    codeartifact_token,
    compact_json,
    expired_codeartifact_token,
    expired_github_installation_token,
    github_installation_token,
    jwt,
    random_bytes,
)
from tests.tokenfactory import github_style

NOW = time.time()


def _jwt(rng: random.Random, claims: dict[str, object], alg: str = "HS256", size: int = 32) -> str:
    return jwt({"alg": alg, "typ": "JWT"}, claims, random_bytes(rng, size))


# --- decoding -------------------------------------------------------------------------


def test_b64url_decoding_is_strict() -> None:
    assert b64url_decode(b64url(b"\x00\xffhello")) == b"\x00\xffhello"
    for bad in ("abc=", "ab+c", "a", "abcde"):
        with pytest.raises(JwtError):
            b64url_decode(bad)


def test_parse_jwt_reads_header_and_claims(rng: random.Random) -> None:
    token = parse_jwt(_jwt(rng, {"sub": "x", "exp": 5}))
    assert token.header == {"alg": "HS256", "typ": "JWT"}
    assert token.claims == {"sub": "x", "exp": 5}
    assert len(token.signature) == 32


@pytest.mark.parametrize(
    ("alg", "size", "ok"),
    [
        ("HS256", 32, True),
        ("HS256", 31, False),
        ("ES256", 64, True),
        ("RS256", 256, True),
        ("RS256", 240, False),
        ("PS512", 512, True),
        ("EdDSA", 64, True),
        ("XYZ", 20, True),
        ("XYZ", 8, False),
    ],
)
def test_signature_length_follows_the_algorithm(rng: random.Random, alg: str, size: int, ok: bool) -> None:
    token = _jwt(rng, {"sub": "x"}, alg, size)
    if ok:
        parse_jwt(token)
    else:
        with pytest.raises(JwtError):
            parse_jwt(token)


@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJIUzI1NiJ9.e30",  # two parts
        b64url(b"not json") + "." + b64url(b"{}") + "." + b64url(bytes(32)),
        b64url(b"[1]") + "." + b64url(b"{}") + "." + b64url(bytes(32)),
        b64url(b'{"typ":"JWT"}') + "." + b64url(b"{}") + "." + b64url(bytes(32)),  # no alg
        b64url(b'{"alg":"HS256"}') + "." + b64url(b'"claims"') + "." + b64url(bytes(32)),
    ],
)
def test_malformed_jwts_are_rejected(token: str) -> None:
    with pytest.raises(JwtError):
        parse_jwt(token)
    assert JwtExpiry().check(token).liveness is Liveness.FAKE


def test_parse_jwe_requires_five_parts_and_a_16_byte_gcm_tag(rng: random.Random) -> None:
    token = codeartifact_token(rng)
    jwe = parse_jwe(token)
    assert jwe.header["alg"] == "A128GCMKW" and len(jwe.iv) == 12 and len(jwe.tag) == 16
    with pytest.raises(JwtError):
        parse_jwe(token.rsplit(".", 1)[0])
    with pytest.raises(JwtError):
        parse_jwe(token[:-4])


# --- plain JWT expiry ---------------------------------------------------------------------


def test_jwt_expiry_verdicts(rng: random.Random) -> None:
    check = JwtExpiry(now=NOW)
    live = check.check(_jwt(rng, {"exp": int(NOW) + HOUR}))
    assert live.liveness is Liveness.LIVE_LOOKING and live.expires_at is not None
    expired = check.check(_jwt(rng, {"exp": int(NOW) - HOUR}))
    assert expired.liveness is Liveness.EXPIRED
    assert expired.expires_at is not None and expired.expires_at.timestamp() == int(NOW) - HOUR
    forever = check.check(_jwt(rng, {"sub": "x"}))
    assert forever.liveness is Liveness.LIVE_LOOKING and forever.expires_at is None
    assert "no expiry" in forever.reason


def test_a_boolean_exp_is_no_expiry(rng: random.Random) -> None:
    assert JwtExpiry(now=NOW).check(_jwt(rng, {"exp": True})).expires_at is None


# --- GitHub 2026 installation token ---------------------------------------------------------


def test_generated_installation_tokens_are_live_looking(rng: random.Random) -> None:
    check = GitHubInstallationJwt()
    for _ in range(20):
        token = github_installation_token(rng)
        assert 500 <= len(token) <= 600
        verdict = check.check(token)
        assert verdict.liveness is Liveness.LIVE_LOOKING, verdict.reason
        assert verdict.breadth is Breadth.PROJECT
        assert "installation token (1 h), app id " + token.split("_")[1] in (verdict.scope or "")


def test_installation_tokens_from_history_are_expired(rng: random.Random) -> None:
    for _ in range(20):
        verdict = GitHubInstallationJwt().check(expired_github_installation_token(rng))
        assert verdict.liveness is Liveness.EXPIRED and verdict.expires_at is not None


def test_cut_short_installation_tokens_are_fake(rng: random.Random) -> None:
    token = github_installation_token(rng)
    for cut in range(1, 60):
        assert GitHubInstallationJwt().check(token[:-cut]).liveness is Liveness.FAKE, cut


def test_installation_token_shape(rng: random.Random) -> None:
    token = github_installation_token(rng)
    _, app_id, body = token.split("_", 2)
    assert GitHubInstallationJwt().check(f"ghs_0{app_id}_{body}").liveness is Liveness.FAKE
    assert GitHubInstallationJwt().check(f"ghp_{app_id}_{body}").liveness is Liveness.FAKE


def test_classic_rule_does_not_also_fire_on_the_new_format(detector: Detector, rng: random.Random) -> None:
    new = github_installation_token(rng)
    classic = github_style("ghs", rng)
    text = f"GITHUB_TOKEN={new}\nOLD_TOKEN={classic}\n"
    found = {(m.rule_id, m.secret) for m in detect_text(detector, text)}
    assert ("github-app-installation-token-jwt", new) in found
    assert ("github-classic-token", classic) in found
    assert not any(rule == "github-classic-token" and secret != classic for rule, secret in found)
    assert not any(rule != "github-app-installation-token-jwt" and new.find(secret) >= 0 for rule, secret in found)


def test_classic_boundary_stops_at_the_underscore(bundled_rules: list[Rule], rng: random.Random) -> None:
    # An app id of 36 digits would be needed for the classic pattern to reach the "_".
    classic = Detector([r for r in bundled_rules if r.id == "github-classic-token"])
    for _ in range(20):
        assert detect_text(classic, github_installation_token(rng)) == []


# --- AWS CodeArtifact -----------------------------------------------------------------------


def test_generated_codeartifact_tokens(rng: random.Random) -> None:
    for _ in range(20):
        token = codeartifact_token(rng)
        assert token.startswith("eyJ2ZXIiOjEsImlzdSI6")
        verdict = CodeArtifactToken().check(token)
        assert verdict.liveness is Liveness.LIVE_LOOKING, verdict.reason
        assert "CodeArtifact authorization token" in (verdict.scope or "")
        assert verdict.breadth is Breadth.PROJECT
        assert CodeArtifactToken().check(expired_codeartifact_token(rng)).liveness is Liveness.EXPIRED


def _codeartifact_with_header(rng: random.Random, header: dict[str, object]) -> str:
    parts = [
        compact_json(header).encode(),
        random_bytes(rng, 16),
        random_bytes(rng, 12),
        random_bytes(rng, 600),
        random_bytes(rng, 16),
    ]
    return ".".join(b64url(p) for p in parts)


@pytest.mark.parametrize(
    "header",
    [
        {"ver": 2, "isu": 1_700_000_000, "enc": "A128GCM", "exp": 1_700_003_600, "alg": "A128GCMKW"},
        {"ver": 1, "isu": 1_700_000_000, "enc": "A128GCM", "exp": 1_700_000_000 + 13 * HOUR, "alg": "A128GCMKW"},
        {"ver": 1, "isu": 1_700_000_000, "enc": "A128GCM", "alg": "A128GCMKW"},
        {"ver": 1, "isu": "yesterday", "enc": "A128GCM", "exp": 1_700_003_600, "alg": "A128GCMKW"},
        {"ver": 1, "isu": 1_700_000_000, "exp": 1_700_003_600, "alg": "A128GCMKW"},
    ],
)
def test_codeartifact_header_must_hold_together(rng: random.Random, header: dict[str, object]) -> None:
    assert CodeArtifactToken().check(_codeartifact_with_header(rng, header)).liveness is Liveness.FAKE


def test_cut_short_codeartifact_tokens_are_fake(rng: random.Random) -> None:
    token = codeartifact_token(rng)
    for cut in range(1, 22):
        assert CodeArtifactToken().check(token[:-cut]).liveness is Liveness.FAKE, cut


@pytest.mark.parametrize("make", [github_installation_token, codeartifact_token])
def test_generated_tokens_never_look_like_placeholders(make: object, rng: random.Random) -> None:
    for _ in range(300):
        token = make(rng)  # type: ignore[operator]
        assert placeholder_reason(token, token[:4]) is None, token
