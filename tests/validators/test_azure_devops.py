"""Azure DevOps PATs: Marvin32 against its published vectors, the 84-character
CASK checksum, the 52-character CRC-32^seed check, and the base64 .npmrc form."""

from __future__ import annotations

import base64
import random

import pytest

from scanner.engine import Detector
from scanner.model import Breadth, Liveness, Rule
from scanner.validators.azure_devops import (
    CASK_CHECKSUM_SEED,
    AzureDevOpsPat,
    base32_bytes,
    base62_of_bytes,
    legacy_pat_kind,
    marvin32,
    marvin64,
)
from scanner.validators.base import builtin_validators
from scanner.validators.judge import Judge
from scanner.validators.placeholders import placeholder_reason
from tests.conftest import detect_text
from tests.factories.group_c import (
    ADO_APPLICATION_SEED,
    BASE32_LOWER,
    ado_cask_pat,
    ado_legacy_pat,
    base64_text,
    change_one,
)

CHECK = AzureDevOpsPat()

# .NET's MarvinTests (dotnet/runtime, Common/tests/Tests/System/MarvinTests.cs):
# seed, data, 64-bit hash, and its 32-bit fold.
MARVIN_SEED = 0x004FB61A001BDBCC
MARVIN_VECTORS = [
    ("", 0x30ED35C100CD3C7D, 0x302009BC),
    ("af", 0x48E73FC77D75DDC1, 0x3592E206),
    ("e70f", 0xB5F6E1FC485DBFF8, 0xFDAB5E04),
    ("37f495", 0xF0B07C789B8CF7E8, 0x6B3C8B90),
    ("8642dc59", 0x7008F2E87E9CF556, 0x0E9407BE),
    ("153fb79826", 0xE6C08C6DA2AFA997, 0x446F25FA),
    ("0932e6246c47", 0x6F04BF1A5EA24060, 0x31A6FF7A),
    ("ab427ea8d10fc7", 0xE11847E4F0678C41, 0x117FCBA5),
]


@pytest.mark.parametrize(("data", "hash64", "hash32"), MARVIN_VECTORS)
def test_marvin_matches_the_published_vectors(data: str, hash64: int, hash32: int) -> None:
    assert marvin64(bytes.fromhex(data), MARVIN_SEED) == hash64
    assert marvin32(bytes.fromhex(data), MARVIN_SEED) == hash32


def test_marvin_with_a_second_published_seed() -> None:
    assert marvin64(b"", 0x804FB61A001BDBCC) == 0x10A9D5D3996FD65D


def test_cask_seed_is_default0_reversed_little_endian() -> None:
    assert CASK_CHECKSUM_SEED == int.from_bytes(b"Default0"[::-1], "little") == 0x44656661756C7430


def test_base62_of_bytes_follows_base62_net() -> None:
    assert base62_of_bytes(b"\x00\x00\x01\x00") == "0048"  # 256 = 4*62 + 8, two leading zero bytes
    assert base62_of_bytes(bytes(4)) == "0000"
    assert base62_of_bytes(b"\xff\xff\xff\xff") == "4gfFC3"


def test_base32_bytes_drops_the_spare_bits() -> None:
    raw = bytes(range(32))
    text = base64.b32encode(raw).decode().rstrip("=").lower()
    assert len(text) == 52 and base32_bytes(text) == raw
    assert base32_bytes(text.upper()) == raw


# --- 52-character PATs ------------------------------------------------------------------


def test_generated_legacy_pats_pass_with_their_seed(rng: random.Random) -> None:
    for _ in range(50):
        user = ado_legacy_pat(rng)
        assert legacy_pat_kind(user) == "user"
        verdict = CHECK.check(user)
        assert verdict.liveness is Liveness.LIVE_LOOKING and verdict.breadth is Breadth.ACCOUNT
        assert "personal access token (52-character format)" in (verdict.scope or "")
        application = ado_legacy_pat(rng, ADO_APPLICATION_SEED)
        assert legacy_pat_kind(application) == "application"
        assert "application token" in (CHECK.check(application).scope or "")


def test_one_changed_character_fails_the_crc(rng: random.Random) -> None:
    for _ in range(100):
        # The last character also holds 4 spare bits the checksum does not cover.
        changed = change_one(ado_legacy_pat(rng), rng, 0, 51, BASE32_LOWER)
        verdict = CHECK.check(changed)
        assert verdict.liveness is Liveness.FAKE and "CRC-32" in verdict.reason


def test_random_base32_fails_the_crc(rng: random.Random) -> None:
    for _ in range(200):
        assert CHECK.check("".join(rng.choice(BASE32_LOWER) for _ in range(52))).liveness is Liveness.FAKE


def test_legacy_rule_needs_an_azure_devops_word(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = Detector([r for r in bundled_rules if r.id == "azure-devops-pat-legacy"])
    pat = ado_legacy_pat(rng)
    assert detect_text(detector, f"secret = {pat}") == []
    for line in (
        f"AZURE_DEVOPS_EXT_PAT={pat}",
        f"git clone https://{pat}@dev.azure.com/acme/p/_git/r",
        f"https://me:{pat}@acme.visualstudio.com/p/_git/r",
        f"export AZDO_PERSONAL_ACCESS_TOKEN={pat}",
        f'<add key="ClearTextPassword" value="{pat}" />',
        f"vsce publish -p {pat}",
        f"SYSTEM_ACCESSTOKEN: {pat}",
    ):
        assert [m.secret for m in detect_text(detector, line)] == [pat], line


# --- 84-character CASK PATs --------------------------------------------------------------


def test_generated_cask_pats_pass(rng: random.Random) -> None:
    for _ in range(50):
        for pat in (ado_cask_pat(rng), ado_cask_pat(rng, checksum_in_base64=True)):
            assert len(pat) == 84 and pat[52:58] == "JQQJ99" and pat[76:80] == "AZDO"
            verdict = CHECK.check(pat)
            assert verdict.liveness is Liveness.LIVE_LOOKING, pat
            assert "Azure DevOps personal access token (created 20" in (verdict.scope or "")


def test_creation_month_is_read_from_the_date_characters(rng: random.Random) -> None:
    pat = ado_cask_pat(rng)
    expected = f"{2024 + ord(pat[58]) - ord('A')}-{ord(pat[59]) - ord('A') + 1:02d}"
    assert f"(created {expected})" in (CHECK.check(pat).scope or "")


def test_changed_cask_pats_fail_the_marvin_checksum(rng: random.Random) -> None:
    for _ in range(100):
        for changed in (change_one(ado_cask_pat(rng), rng, 80), change_one(ado_cask_pat(rng), rng, 0, 52)):
            verdict = CHECK.check(changed)
            assert verdict.liveness is Liveness.FAKE and "Marvin32" in verdict.reason


def test_cut_short_pats_are_fake(rng: random.Random) -> None:
    assert CHECK.check(ado_cask_pat(rng)[:-2]).liveness is Liveness.FAKE
    assert CHECK.check(ado_legacy_pat(rng)[:-2]).liveness is Liveness.FAKE


# --- base64 in .npmrc --------------------------------------------------------------------


def test_base64_wrapped_pats(rng: random.Random) -> None:
    legacy = CHECK.check(base64_text(ado_legacy_pat(rng)))
    assert legacy.liveness is Liveness.LIVE_LOOKING and "inside base64" in legacy.reason
    assert CHECK.check(base64_text(ado_cask_pat(rng))).liveness is Liveness.LIVE_LOOKING
    broken = change_one(ado_legacy_pat(rng), rng, 0, 51, BASE32_LOWER)
    assert CHECK.check(base64_text(broken)).liveness is Liveness.FAKE
    assert CHECK.check(base64_text("not a personal access token at all")).liveness is Liveness.FAKE


def test_npmrc_rule_reads_the_password_line(bundled_rules: list[Rule], rng: random.Random) -> None:
    detector = Detector([r for r in bundled_rules if r.id == "azure-devops-pat-npmrc"])
    wrapped = base64_text(ado_legacy_pat(rng))
    text = (
        "//pkgs.dev.azure.com/acme/_packaging/feed/npm/registry/:username=acme\n"
        f"//pkgs.dev.azure.com/acme/_packaging/feed/npm/registry/:_password={wrapped}\n"
        f"//registry.example.com/:_password={wrapped}\n"
    )
    assert [(m.secret, m.line) for m in detect_text(detector, text)] == [(wrapped, 2)]


# --- generated values against the placeholder heuristics ----------------------------------


@pytest.mark.parametrize("make", [ado_legacy_pat, ado_cask_pat, lambda r: ado_cask_pat(r, checksum_in_base64=True)])
def test_generated_pats_never_look_like_placeholders(make: object, rng: random.Random) -> None:
    for _ in range(500):
        assert placeholder_reason(make(rng)) is None  # type: ignore[operator]


def test_pats_with_zero_platform_data_are_not_fake(bundled_rules: list[Rule], rng: random.Random) -> None:
    rule = next(r for r in bundled_rules if r.id == "azure-devops-pat")
    judge = Judge(builtin_validators(), [rule])
    pat = ado_cask_pat(rng, zero_platform=True)
    assert CHECK.check(pat).liveness is Liveness.LIVE_LOOKING
    assert judge.judge(rule, pat).liveness is Liveness.LIVE_LOOKING
