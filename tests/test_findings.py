"""Grouping into findings, redaction and ids."""

from __future__ import annotations

import random

from scanner.findings import finding_id, redact, secret_sha256
from tests.tokenfactory import npm_token


def test_redaction_examples(rng: random.Random) -> None:
    secret = npm_token(rng)
    assert redact(secret, "npm_") == "npm_…" + secret[-4:]
    assert secret[4:10] not in redact(secret, "npm_")
    assert redact("hunter2hunter", "") == "…er"
    assert redact("short", "") == "…"
    # a prefix longer than half the secret would give too much away
    assert redact("longprefix_ab12", "longprefix_") == "…12"


def test_ids_are_stable_and_distinguish_rules() -> None:
    assert finding_id("a", "s") == finding_id("a", "s")
    assert finding_id("a", "s") != finding_id("b", "s")
    assert len(secret_sha256("x")) == 64
