"""Snapcraft exported logins: base64 JSON whose macaroons (v1 or v2) must parse."""

from __future__ import annotations

import base64
import json
import random

import pytest

from scanner.model import Breadth, Liveness
from scanner.validators.placeholders import placeholder_reason
from scanner.validators.pypi import MacaroonError
from scanner.validators.snapcraft import SnapcraftLogin, parse_v1
from tests.factories.group_c import (
    b64url,
    macaroon_v1,
    random_bytes,
    snapcraft_candid_login,
    snapcraft_login,
)

CHECK = SnapcraftLogin()


def _login(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def _macaroon(rng: random.Random, signature_length: int = 32) -> str:
    return b64url(macaroon_v1("api.snapcraft.io", b"root-id", [], random_bytes(rng, signature_length)))


def test_the_documented_prefixes() -> None:
    document = {"t": "u1-macaroon", "v": {"r": "x", "d": "y"}}
    assert _login(document).startswith("eyJ0IjogInUxLW1hY2Fyb29uIi")
    compact = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    assert compact.startswith("eyJ0IjoidTEtbWFjYXJvb24i")


@pytest.mark.parametrize(
    "make",
    [
        snapcraft_login,
        lambda r: snapcraft_login(r, compact=True),
        lambda r: snapcraft_login(r, binary=True),
        snapcraft_candid_login,
    ],
)
def test_generated_logins_parse(make: object, rng: random.Random) -> None:
    for _ in range(20):
        verdict = CHECK.check(make(rng))  # type: ignore[operator]
        assert verdict.liveness is Liveness.LIVE_LOOKING, verdict.reason
        assert verdict.breadth is Breadth.ACCOUNT and "Snap Store login" in (verdict.scope or "")


def test_v1_parser_reads_packets(rng: random.Random) -> None:
    raw = macaroon_v1("loc", b"id", [[("cid", b"a|b|c")]], random_bytes(rng, 32))
    assert [key for key, _ in parse_v1(raw)] == ["location", "identifier", "cid", "signature"]
    for broken in (raw[:-3], raw[4:], b"zzzz" + raw, raw.replace(b"cid", b"xyz")):
        with pytest.raises(MacaroonError):
            parse_v1(broken)


@pytest.mark.parametrize(
    "document",
    [
        {
            "t": "u1-macaroon",
            "v": {"r": "fake root macaroon", "d": "fake discharge macaroon"},
        },  # craft-store's test fixture
        {"t": "u1-macaroon", "v": "not a dict"},
        {"t": "macaroon", "v": "short"},
        {"t": "bearer", "v": "abc"},
        ["u1-macaroon"],
    ],
)
def test_documents_without_macaroons_are_fake(document: object) -> None:
    assert CHECK.check(_login(document)).liveness is Liveness.FAKE


def test_a_short_signature_or_missing_discharge_is_fake(rng: random.Random) -> None:
    assert (
        CHECK.check(_login({"t": "u1-macaroon", "v": {"r": _macaroon(rng), "d": _macaroon(rng, 31)}})).liveness
        is Liveness.FAKE
    )
    assert CHECK.check(_login({"t": "u1-macaroon", "v": {"r": _macaroon(rng)}})).liveness is Liveness.FAKE
    assert (
        CHECK.check(_login({"t": "u1-macaroon", "v": {"r": _macaroon(rng), "d": _macaroon(rng)}})).liveness
        is Liveness.LIVE_LOOKING
    )


def test_cut_short_logins_are_fake(rng: random.Random) -> None:
    login = snapcraft_login(rng)
    for cut in (1, 2, 3, 5, 40, 200):
        assert CHECK.check(login[:-cut]).liveness is Liveness.FAKE, cut


def test_generated_logins_never_look_like_placeholders(rng: random.Random) -> None:
    for make in (snapcraft_login, snapcraft_candid_login):
        for _ in range(200):
            assert placeholder_reason(make(rng)) is None
