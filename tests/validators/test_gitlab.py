"""GitLab tokens: routable checksum, length field and routing payload; other prefixes."""

from __future__ import annotations

import base64
import random
import zlib

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.gitlab import (
    GitLabPrefixed,
    GitLabRoutablePat,
    decode_routing,
    parse_routable,
    routable_crc,
    routing_words,
    to_base36,
)
from tests.factories.group_b import BASE36, ROUTING, change_last, gitlab_plain, gitlab_routable

PAT = GitLabRoutablePat()
OTHER = GitLabPrefixed()


def _seal(head: str) -> str:
    return head + routable_crc(head)


def test_base36_and_crc_encoding() -> None:
    assert to_base36(0, 2) == "00"
    assert to_base36(35, 1) == "z"
    assert to_base36(36, 2) == "10"
    text = "glpat-abc.01.03"
    assert int(routable_crc(text), 36) == zlib.crc32(text.encode())
    assert len(routable_crc("")) == 7


@pytest.mark.parametrize("versioned", [True, False])
def test_generated_routable_pats_pass_and_name_their_ids(versioned: bool, rng: random.Random) -> None:
    for _ in range(30):
        user = rng.randrange(1, 1 << 40)
        verdict = PAT.check(gitlab_routable(rng, routing={"o": 7, "u": user}, versioned=versioned))
        assert verdict.liveness is Liveness.LIVE_LOOKING, verdict.reason
        assert verdict.breadth is Breadth.ACCOUNT
        assert f"organisation 7, user {user}" in (verdict.scope or "")
        assert ("version 01" if versioned else "unversioned") in verdict.reason


def test_every_routing_key_is_named(rng: random.Random) -> None:
    token = gitlab_routable(rng, routing={"c": 3, "g": 40, "o": 1, "p": 4711, "u": 99})
    assert "organisation 1, group 40, project 4711, user 99, cell 3" in (PAT.check(token).scope or "")


def test_both_payload_layouts_decode(rng: random.Random) -> None:
    payload = b"o:1\nu:2s"
    noise = rng.randbytes(16)
    current = base64.urlsafe_b64encode(noise + payload + bytes([len(payload)])).decode().rstrip("=")
    early = base64.urlsafe_b64encode(payload + noise + bytes([16])).decode().rstrip("=")
    for encoded in (current, early):
        for versioned in (True, False):
            assert decode_routing(encoded, versioned) == {"o": "1", "u": "2s"}
    assert routing_words({"o": "1", "u": "2s"}) == "organisation 1, user 100"


def test_checksum_covers_the_prefix(rng: random.Random) -> None:
    token = gitlab_routable(rng)
    body = token.removeprefix("glpat-")
    without_prefix = "glpat-" + body[:-7] + routable_crc(body[:-7])
    verdict = PAT.check(without_prefix)
    assert verdict.liveness is Liveness.FAKE and "checksum" in verdict.reason


@pytest.mark.parametrize("versioned", [True, False])
def test_one_changed_checksum_character_fails(versioned: bool, rng: random.Random) -> None:
    verdict = PAT.check(change_last(gitlab_routable(rng, versioned=versioned), BASE36))
    assert verdict.liveness is Liveness.FAKE
    assert "CRC-32" in verdict.reason


def test_length_field_must_match_the_payload(rng: random.Random) -> None:
    token = gitlab_routable(rng)
    head, payload_length = token[:-9], int(token[-9:-7], 36)
    wrong = _seal(head + to_base36(payload_length + 1, 2))
    verdict = PAT.check(wrong)
    assert verdict.liveness is Liveness.FAKE and "length field" in verdict.reason


def test_payload_shorter_than_the_format_allows_fails(rng: random.Random) -> None:
    payload = "".join(rng.choice(BASE36) for _ in range(24))
    verdict = PAT.check(_seal(f"glpat-{payload}.01.{to_base36(24, 2)}"))
    assert verdict.liveness is Liveness.FAKE


def test_undecodable_payload_with_valid_checksum_is_kept(rng: random.Random) -> None:
    # A future payload layout must not make a checksummed token disappear.
    payload = base64.urlsafe_b64encode(rng.randbytes(30)).decode().rstrip("=")
    verdict = PAT.check(_seal(f"glpat-{payload}.01.{to_base36(len(payload), 2)}"))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert "not decoded" in verdict.reason
    assert verdict.scope is not None and "organisation" not in verdict.scope


def test_unknown_version_is_kept_and_noted(rng: random.Random) -> None:
    token = gitlab_routable(rng)
    head = token[:-7].replace(".01.", ".02.")
    verdict = PAT.check(_seal(head))
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert "version not known" in verdict.reason


def test_legacy_pat_is_not_a_routable_one(rng: random.Random) -> None:
    assert PAT.check(gitlab_plain("glpat-")(rng)).liveness is Liveness.FAKE
    assert parse_routable(gitlab_plain("glpat-")(rng)) is None


def test_other_prefixes_plain_form_is_unverifiable(rng: random.Random) -> None:
    for prefix in ("gldt-", "glrt-", "glcbt-", "glft-"):
        verdict = OTHER.check(gitlab_plain(prefix)(rng))
        assert verdict.liveness is Liveness.UNVERIFIABLE
        assert verdict.scope is None  # the rule's words apply


def test_other_prefixes_routable_form_is_checked(rng: random.Random) -> None:
    token = gitlab_routable(rng, "glrt-t1_", ROUTING)
    verdict = OTHER.check(token)
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert "organisation 1, project 4711" in verdict.reason
    assert OTHER.check(change_last(token, BASE36)).liveness is Liveness.FAKE
