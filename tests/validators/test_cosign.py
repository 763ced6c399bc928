"""cosign / sigstore encrypted private keys: envelope parsing and the
empty-password trial, on keys sealed here with scrypt + secretbox."""

from __future__ import annotations

import base64
import json
import random

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.cosign import CosignPrivateKey, open_with, parse
from tests.factories.group_d2 import cosign_block, escaped, wrap_base64

check = CosignPrivateKey().check


@pytest.fixture
def rng() -> random.Random:
    return random.Random(2021)


def _with_envelope(block: str, change) -> str:  # type: ignore[no-untyped-def]
    """The block with its JSON envelope changed by ``change``."""
    lines = block.split("\n")
    envelope = json.loads(base64.b64decode("".join(lines[1:-1])))
    change(envelope)
    body = base64.b64encode(json.dumps(envelope).encode()).decode()
    return "\n".join([lines[0], *(body[i : i + 64] for i in range(0, len(body), 64)), lines[-1]])


def test_empty_password_key_is_usable_by_anyone(rng: random.Random) -> None:
    verdict = check(cosign_block(rng))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is Breadth.ACCOUNT
    assert "EMPTY password" in (verdict.scope or "")


def test_cosign_default_cost_key(rng: random.Random) -> None:
    # N = 32768, as cosign generate-key-pair writes (one real scrypt run)
    verdict = check(cosign_block(rng, n=32768))
    assert verdict.breadth is Breadth.ACCOUNT


def test_password_protected_key_says_where_the_password_may_be(rng: random.Random) -> None:
    verdict = check(cosign_block(rng, b"correct horse"))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is Breadth.UNKNOWN
    assert "COSIGN_PASSWORD" in (verdict.scope or "")
    assert "N=1024" in verdict.reason


def test_v1_label_and_one_line_forms(rng: random.Random) -> None:
    block = cosign_block(rng, label="ENCRYPTED COSIGN PRIVATE KEY")
    for form in (block, escaped(block), wrap_base64(block), block.replace("\n", "\r\n")):
        assert check(form).breadth is Breadth.ACCOUNT


def test_parse_reads_the_envelope(rng: random.Random) -> None:
    key = parse(cosign_block(rng, n=2048))
    assert (key.label, key.n, key.r, key.p) == ("ENCRYPTED SIGSTORE PRIVATE KEY", 2048, 8, 1)
    assert len(key.salt) == 32 and len(key.nonce) == 24
    assert open_with(key, b"") is not None
    assert open_with(key, b"wrong") is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e["kdf"].update(name="pbkdf2"), "kdf is not scrypt"),
        (lambda e: e["cipher"].update(name="aes-gcm"), "cipher is not nacl/secretbox"),
        (lambda e: e["kdf"].update(salt=base64.b64encode(b"short").decode()), "salt is 5 bytes"),
        (lambda e: e["cipher"].update(nonce="not base64!"), "nonce is not base64"),
        (lambda e: e.update(ciphertext=base64.b64encode(b"x" * 10).decode()), "too short"),
        (lambda e: e["kdf"].pop("params"), "scrypt parameters"),
    ],
)
def test_malformed_envelopes_are_fake(rng: random.Random, change, reason: str) -> None:  # type: ignore[no-untyped-def]
    verdict = check(_with_envelope(cosign_block(rng), change))
    assert verdict.liveness is Liveness.FAKE
    assert reason in verdict.reason


def test_costly_parameters_are_not_tried(rng: random.Random) -> None:
    # a crafted N = 2^24 would take gigabytes: parsed, but no trial decryption
    block = _with_envelope(cosign_block(rng), lambda e: e["kdf"]["params"].update(N=1 << 24))
    verdict = check(block)
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is Breadth.UNKNOWN


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n<your key>\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nW10=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----",  # []
        # BEGIN and END labels differ
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJ9\n-----END ENCRYPTED COSIGN PRIVATE KEY-----",
        "LS0tLS1CRUdJTiBFTkNSWVBURUQgU0lHU1RPUkUg!!",
    ],
)
def test_placeholders_and_garbage_are_fake(text: str) -> None:
    assert check(text).liveness is Liveness.FAKE


def test_truncated_block_is_fake(rng: random.Random) -> None:
    lines = cosign_block(rng).split("\n")
    assert check("\n".join(lines[:3] + lines[-1:])).liveness is Liveness.FAKE
