"""OpenPGP private-key blocks (armor, CRC-24, Secret-Key packets, protection) and
GnuPG key files, on keys built here packet by packet (structure only, no real key)."""

from __future__ import annotations

import base64
import hashlib
import random

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.pgp import GnupgKeyFile, PgpPrivateKey, crc24, dearmor
from tests.factories.group_d2 import (
    armor,
    escaped,
    gnupg_key_sexp,
    indented,
    packet,
    pgp_block,
    pgp_packets,
    secret_key_body,
    wrap_base64,
)

check = PgpPrivateKey().check


@pytest.fixture
def rng() -> random.Random:
    return random.Random(4880)


def test_crc24_matches_the_catalogued_check_value() -> None:
    # CRC-24/OPENPGP of "123456789" (the standard CRC catalogue check value)
    assert crc24(b"123456789") == 0x21CF02


def test_crc24_of_nothing_is_the_initial_value() -> None:
    assert crc24(b"") == 0xB704CE


@pytest.mark.parametrize("algorithm", ["ed25519", "rsa"])
@pytest.mark.parametrize("old_format", [False, True])
def test_unprotected_key_is_usable_by_anyone(rng: random.Random, algorithm: str, old_format: bool) -> None:
    verdict = check(pgp_block(rng, algorithm, "none", old_format=old_format))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is Breadth.ACCOUNT
    assert verdict.scope is not None and "unprotected: usable by anyone" in verdict.scope


def test_scope_names_algorithm_fingerprint_and_user(rng: random.Random) -> None:
    body = secret_key_body(rng, "ed25519", "none")
    data = packet(5, body) + packet(13, b"Release Bot <bot@mail.invalid>")
    # v4 fingerprint: SHA-1 over 0x99, the two-octet length and the public part (51 bytes for EdDSA)
    public = body[:51]
    fingerprint = hashlib.sha1(b"\x99" + len(public).to_bytes(2, "big") + public).hexdigest().upper()
    scope = check(armor(data)).scope or ""
    assert "EdDSA Ed25519" in scope
    assert fingerprint in scope
    assert "Release Bot <bot@mail.invalid>" in scope


def test_rsa_scope_gives_the_modulus_size(rng: random.Random) -> None:
    scope = check(pgp_block(rng, "rsa", "none")).scope or ""
    assert any(f"RSA {bits}" in scope for bits in (2048, 3072, 4096))


def test_passphrase_protected_key_keeps_unknown_breadth(rng: random.Random) -> None:
    verdict = check(pgp_block(rng, "rsa", "passphrase", subkey_protection="passphrase"))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is Breadth.UNKNOWN  # the rule's base severity (high) applies
    assert "passphrase-protected" in (verdict.scope or "")


def test_legacy_cipher_usage_octet_counts_as_protected(rng: random.Random) -> None:
    body = bytearray(secret_key_body(rng, "ed25519", "none"))
    body[51] = 9  # S2K usage octet = a cipher id (AES-256): pre-RFC 4880 protection
    assert "passphrase-protected" in (check(armor(packet(5, bytes(body)))).scope or "")


@pytest.mark.parametrize("protection", ["stub", "card"])
def test_stub_only_export_holds_no_secret(rng: random.Random, protection: str) -> None:
    verdict = check(pgp_block(rng, "rsa", protection, subkey_protection=protection))
    assert verdict.liveness is Liveness.FAKE
    assert "smartcard" in verdict.reason


def test_stub_primary_with_clear_subkey_is_still_usable(rng: random.Random) -> None:
    verdict = check(pgp_block(rng, "rsa", "stub", subkey_protection="none"))
    assert verdict.breadth is Breadth.ACCOUNT
    assert "(a subkey)" in (verdict.scope or "")


def test_block_without_crc_line_is_accepted(rng: random.Random) -> None:
    assert check(armor(pgp_packets(rng), checksum=False)).liveness is Liveness.LIVE_LOOKING


def test_changed_crc_is_fake(rng: random.Random) -> None:
    lines = armor(pgp_packets(rng)).split("\n")
    lines[-2] = "=" + ("AAAA" if lines[-2][1:] != "AAAA" else "BBBB")
    verdict = check("\n".join(lines))
    assert verdict.liveness is Liveness.FAKE
    assert "CRC-24" in verdict.reason


def test_altered_secret_material_fails_the_packet_checksum(rng: random.Random) -> None:
    body = bytearray(secret_key_body(rng, "rsa", "none"))
    body[-3] ^= 0x40
    verdict = check(armor(packet(5, bytes(body)), checksum=False))
    assert verdict.liveness is Liveness.FAKE
    assert "checksum" in verdict.reason


def test_public_key_packet_under_a_private_header_is_fake(rng: random.Random) -> None:
    public = secret_key_body(rng, "ed25519", "none")[:51]
    verdict = check(armor(packet(6, public)))
    assert verdict.liveness is Liveness.FAKE
    assert "tag 6" in verdict.reason


@pytest.mark.parametrize(
    "body",
    [
        "...",
        "<paste your key here>",
        "bm90IGEga2V5IGF0IGFsbA==",  # base64 of plain text: not a packet
        "xVgE",  # a packet header that promises more than is there
    ],
)
def test_placeholders_and_garbage_are_fake(body: str) -> None:
    block = f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----"
    assert check(block).liveness is Liveness.FAKE


def test_truncated_first_packet_is_fake(rng: random.Random) -> None:
    data = pgp_packets(rng, "rsa")
    assert check(armor(data[:120], checksum=False)).liveness is Liveness.FAKE


def test_unknown_version_is_fake(rng: random.Random) -> None:
    body = b"\x07" + secret_key_body(rng)[1:]
    assert "version 7" in check(armor(packet(5, body))).reason


@pytest.mark.parametrize(
    "layout",
    [
        escaped,
        lambda b: b.replace("\n", "\\\\n"),  # escaped twice (JSON inside JSON)
        lambda b: b.replace("\n", "\r\n"),
        lambda b: indented(b, "    "),
        lambda b: b.replace("/", "\\/"),  # JSON's optional escape
        lambda b: b.replace("\n\n", "\n"),  # blank line after the headers lost
        wrap_base64,
        lambda b: "\n".join(wrap_base64(b)[i : i + 76] for i in range(0, len(wrap_base64(b)), 76)),
        lambda b: "\n".join(wrap_base64(b)[i : i + 76] for i in range(0, len(wrap_base64(b)), 76)) + "\ndone\nfi",
    ],
)
def test_escaped_indented_and_wrapped_forms(rng: random.Random, layout) -> None:  # type: ignore[no-untyped-def]
    block = armor(pgp_packets(rng, "rsa"), headers=("Version: GnuPG v2",))
    verdict = check(layout(block))
    assert verdict.liveness is Liveness.LIVE_LOOKING, verdict.reason
    assert verdict.breadth is Breadth.ACCOUNT


def test_block_flattened_onto_one_line(rng: random.Random) -> None:
    block = armor(pgp_packets(rng))
    head, *body, tail = block.split("\n")
    assert check(" ".join([head, *[line for line in body if line], tail])).liveness is Liveness.LIVE_LOOKING


def test_dearmor_returns_the_packets(rng: random.Random) -> None:
    data = pgp_packets(rng)
    assert dearmor(armor(data)) == data
    assert dearmor(wrap_base64(armor(data))) == data


def test_base64_wrapper_that_does_not_decode_is_fake() -> None:
    assert check("LS0tLS1CRUdJTiBQR1AgUFJJVkFURSBLRVkgQkxPQ0st!!!!").liveness is Liveness.FAKE


def _v6_ed25519(rng: random.Random, protected: bool) -> bytes:
    public = bytes(rng.getrandbits(8) for _ in range(32))
    head = b"\x06" + rng.getrandbits(32).to_bytes(4, "big") + bytes([27]) + len(public).to_bytes(4, "big") + public
    if not protected:
        return head + b"\x00" + bytes(rng.getrandbits(8) for _ in range(32))
    s2k = b"\x04\x03\x08" + bytes(rng.getrandbits(8) for _ in range(16)) + b"\x01\x02\x13"  # Argon2
    fields = b"\x09\x02" + bytes([len(s2k)]) + s2k + bytes(rng.getrandbits(8) for _ in range(15))
    return head + b"\xfd" + bytes([len(fields)]) + fields + bytes(rng.getrandbits(8) for _ in range(48))


def test_rfc9580_v6_keys(rng: random.Random) -> None:
    body = _v6_ed25519(rng, protected=False)
    clear = check(armor(packet(5, body), checksum=False))
    assert clear.breadth is Breadth.ACCOUNT
    fingerprint = hashlib.sha256(b"\x9b" + (42).to_bytes(4, "big") + body[:42]).hexdigest().upper()
    assert fingerprint in (clear.scope or "")
    assert "Ed25519" in (clear.scope or "")
    locked = check(armor(packet(5, _v6_ed25519(rng, protected=True)), checksum=False))
    assert "passphrase-protected" in (locked.scope or "")


def test_unknown_algorithm_in_a_v4_key_is_reported_without_a_protection_claim(rng: random.Random) -> None:
    body = b"\x04" + rng.getrandbits(32).to_bytes(4, "big") + bytes([99]) + bytes(rng.getrandbits(8) for _ in range(64))
    verdict = check(armor(packet(5, body)))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert "could not be read" in (verdict.scope or "")


def test_armor_body_must_be_base64() -> None:
    block = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxVgE#not base64#\n-----END PGP PRIVATE KEY BLOCK-----"
    assert "not base64" in check(block).reason


def test_generated_blocks_round_trip(rng: random.Random) -> None:
    for _ in range(30):
        block = pgp_block(rng, rng.choice(["rsa", "ed25519"]), "none")
        assert check(block).liveness is Liveness.LIVE_LOOKING
        assert base64.b64decode(wrap_base64(block)).decode().strip() == block


# ---- GnuPG private-keys-v1.d key files (extended format)

check_key_file = GnupgKeyFile().check


@pytest.mark.parametrize("algorithm", ["ecc", "rsa"])
def test_gnupg_clear_key_file(rng: random.Random, algorithm: str) -> None:
    verdict = check_key_file(gnupg_key_sexp(rng, "private-key", algorithm))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.breadth is Breadth.ACCOUNT
    assert "unprotected" in (verdict.scope or "")


def test_gnupg_protected_key_file(rng: random.Random) -> None:
    verdict = check_key_file(gnupg_key_sexp(rng, "protected-private-key", "ecc"))
    assert verdict.breadth is Breadth.UNKNOWN
    assert "Ed25519" in (verdict.scope or "") and "passphrase-protected" in (verdict.scope or "")


def test_gnupg_key_file_folded_between_elements(rng: random.Random) -> None:
    sexp = gnupg_key_sexp(rng, "protected-private-key", "rsa").replace("\n ", "")
    folded = sexp.replace("(protected openpgp", "(protected\n openpgp")
    assert check_key_file(folded).liveness is Liveness.LIVE_LOOKING


@pytest.mark.parametrize(
    "text",
    [
        "(shadowed-private-key (rsa (n #00AB#)(e #010001#)(shadowed t1-v1 (#D2760001240103040006# OPENPGP.1))))",
        "(private-key (ecc (curve Ed25519)(q #40AB#)))",  # no secret parameter
        "(protected-private-key (rsa (n #00AB#)(e #010001#)",  # cut before the protected element
        "(public-key (rsa (n #00AB#)(e #010001#)))",
    ],
)
def test_gnupg_key_files_without_a_secret_are_fake(text: str) -> None:
    assert check_key_file(text).liveness is Liveness.FAKE
