"""Google service-account keys (PEM inside the JSON key file) and the OAuth token rules."""

from __future__ import annotations

import json
import random

import pytest

from scanner.engine import Detector
from scanner.model import Breadth, Liveness, Rule
from scanner.validators.google import DerError, GoogleServiceAccountKey, pem_der, rsa_key_bits
from scanner.validators.placeholders import placeholder_reason
from tests.conftest import detect_text
from tests.factories.group_c import (
    SA_PRETTY,
    SA_SORTED_ONE_LINE,
    _der,
    _flip_modulus,
    google_access_token,
    google_client_secret,
    google_refresh_token,
    pem,
    service_account_der,
)

CHECK = GoogleServiceAccountKey()


def _rule_detector(rules: list[Rule], rule_id: str) -> Detector:
    return Detector([r for r in rules if r.id == rule_id])


def test_generated_keys_are_real_rsa_keys(rng: random.Random) -> None:
    der = service_account_der(rng)
    assert rsa_key_bits(der) == 2048
    verdict = CHECK.check(pem(der))
    assert verdict.liveness is Liveness.LIVE_LOOKING and verdict.breadth is Breadth.ACCOUNT
    assert "service-account key (RSA 2048)" in (verdict.scope or "")


@pytest.mark.parametrize("newline", ["\\n", "\n", "\r\n", "\\\\n"])
def test_line_breaks_as_written_in_json_files_or_plain(rng: random.Random, newline: str) -> None:
    assert CHECK.check(pem(service_account_der(rng), newline)).liveness is Liveness.LIVE_LOOKING


def test_a_changed_modulus_is_fake(rng: random.Random) -> None:
    verdict = CHECK.check(pem(_flip_modulus(service_account_der(rng))))
    assert verdict.liveness is Liveness.FAKE and "product of its primes" in verdict.reason


def test_truncated_or_garbled_keys_are_fake(rng: random.Random) -> None:
    text = pem(service_account_der(rng))
    assert CHECK.check(text[:-300] + "\\n-----END PRIVATE KEY-----").liveness is Liveness.FAKE
    assert CHECK.check(text.replace("M", "*", 1)).liveness is Liveness.FAKE
    assert CHECK.check(text[: -len("-----END PRIVATE KEY-----")]).liveness is Liveness.FAKE
    assert CHECK.check("-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----").liveness is Liveness.FAKE


def test_non_rsa_pkcs8_keys_only_need_to_parse() -> None:
    ec_oid = _der(0x06, bytes.fromhex("2a8648ce3d0201")) + _der(0x06, bytes.fromhex("2a8648ce3d030107"))
    inner = _der(0x30, _der(0x02, b"\x01") + _der(0x04, bytes(range(32))))
    der = _der(0x30, _der(0x02, b"\x00") + _der(0x30, ec_oid) + _der(0x04, inner))
    verdict = CHECK.check(pem(der))
    assert verdict.liveness is Liveness.LIVE_LOOKING and "non-RSA" in (verdict.scope or "")


def test_der_sequence_must_span_the_whole_body(rng: random.Random) -> None:
    with pytest.raises(DerError):
        rsa_key_bits(service_account_der(rng) + b"\x00")
    with pytest.raises(DerError):
        pem_der("-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----")


# --- the multiline rule ------------------------------------------------------------------


def test_rule_takes_the_key_out_of_pretty_and_sorted_key_files(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = _rule_detector(bundled_rules, "google-service-account-key")
    key = pem(service_account_der(rng))
    for template in (SA_PRETTY, SA_SORTED_ONE_LINE):
        assert [m.secret for m in detect_text(detector, template.replace("{secret}", key))] == [key]


def test_rule_reads_a_key_file_embedded_in_a_json_string(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = _rule_detector(bundled_rules, "google-service-account-key")
    key_file = json.loads(SA_PRETTY.replace("{secret}", pem(service_account_der(rng))))
    embedded = json.dumps({"GCP_SA_KEY": json.dumps(key_file)})  # quotes and \n escaped once more
    matches = detect_text(detector, embedded)
    assert len(matches) == 1
    assert CHECK.check(matches[0].secret).liveness is Liveness.LIVE_LOOKING


def test_rule_needs_a_service_account_file(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = _rule_detector(bundled_rules, "google-service-account-key")
    key = pem(service_account_der(rng))
    other_type = SA_PRETTY.replace("{secret}", key).replace('"service_account"', '"authorized_user"')
    other_email = SA_PRETTY.replace("{secret}", key).replace(".iam.gserviceaccount.com", ".example.com")
    two_objects = (
        '[{"type": "service_account"}, {"private_key": "' + key + '", "client_email": "a@b.iam.gserviceaccount.com"}]'
    )
    for text in (other_type, other_email, two_objects):
        assert detect_text(detector, text) == []


def test_refresh_tokens_need_their_label(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = _rule_detector(bundled_rules, "google-oauth-refresh-token")
    token = google_refresh_token(rng)
    assert detect_text(detector, f"see {token}") == []
    for line in (
        f"REFRESH_TOKEN={token}",
        f'"refresh_token": "{token}"',
        f'"refreshToken":"{token}"',
        f"--refresh-token {token}",
    ):
        assert [m.secret for m in detect_text(detector, line)] == [token], line


@pytest.mark.parametrize("make", [google_access_token, google_refresh_token, google_client_secret])
def test_generated_oauth_values_never_look_like_placeholders(make: object, rng: random.Random) -> None:
    for _ in range(500):
        value = make(rng)  # type: ignore[operator]
        assert placeholder_reason(value, value[:5]) is None, value


def test_generated_keys_never_look_like_placeholders(rng: random.Random) -> None:
    for _ in range(30):
        assert placeholder_reason(pem(service_account_der(rng))) is None
