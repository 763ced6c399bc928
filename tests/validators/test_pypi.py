"""PyPI macaroon decoding: location, scope, expiry, malformed tokens."""

from __future__ import annotations

import random
import time

from scanner.model import Breadth, Liveness
from scanner.validators.pypi import PyPIMacaroon, decode_token
from tests.tokenfactory import macaroon_v2, pypi_token

CHECK = PyPIMacaroon()


def test_prefixes_match_the_fact_sheet(rng: random.Random) -> None:
    assert pypi_token(rng).startswith("pypi-AgEIcHlwaS5vcmcCJ")
    assert pypi_token(rng, test_pypi=True).startswith("pypi-AgENdGVzdC5weXBpLm9yZwIk")


def test_user_token_is_whole_account(rng: random.Random) -> None:
    verdict = CHECK.check(pypi_token(rng))
    assert (verdict.liveness, verdict.scope, verdict.breadth) == (
        Liveness.LIVE_LOOKING, "PyPI: whole account", Breadth.ACCOUNT,
    )


def test_project_token_names_projects(rng: random.Random) -> None:
    verdict = CHECK.check(pypi_token(rng, caveats=[[1, ["zeta", "alpha"]], [2, ["id-1", "id-2"]]]))
    assert verdict.scope == "PyPI: projects alpha, zeta"
    assert verdict.breadth is Breadth.PROJECT


def test_legacy_caveats(rng: random.Random) -> None:
    user = CHECK.check(pypi_token(rng, caveats=[{"version": 1, "permissions": "user"}]))
    assert user.scope == "PyPI: whole account"
    project = CHECK.check(pypi_token(rng, caveats=[{"version": 1, "permissions": {"projects": ["foo"]}}]))
    assert project.scope == "PyPI: project foo"


def test_testpypi_is_test_breadth(rng: random.Random) -> None:
    verdict = CHECK.check(pypi_token(rng, test_pypi=True))
    assert verdict.scope == "TestPyPI: whole account"
    assert verdict.breadth is Breadth.TEST


def test_trusted_publishing_token(rng: random.Random) -> None:
    now = int(time.time())
    verdict = CHECK.check(pypi_token(rng, caveats=[[4, "pub-id"], [2, ["p1"]], [0, now + 900, now]]))
    assert verdict.scope == "PyPI trusted-publishing token (15 min)"
    assert verdict.liveness is Liveness.LIVE_LOOKING
    assert verdict.expires_at is not None


def test_expired_token(rng: random.Random) -> None:
    verdict = CHECK.check(pypi_token(rng, caveats=[[3, "u"], [0, 1_600_000_000, 1_599_999_000]]))
    assert verdict.liveness is Liveness.EXPIRED
    assert verdict.expires_at is not None and verdict.expires_at.year == 2020


def test_truncated_token_is_fake(rng: random.Random) -> None:
    token = pypi_token(rng)
    for cut in (10, 43, 60):
        assert CHECK.check(token[:-cut]).liveness is Liveness.FAKE


def test_wrong_location_or_identifier_is_fake(rng: random.Random) -> None:
    import base64

    def encode(raw: bytes) -> str:
        return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    sig = bytes(32)
    other_host = encode(macaroon_v2("evil.example", "6c5e8f7a-1b2c-4d3e-8f9a-0b1c2d3e4f5a", [], sig))
    assert "location" in CHECK.check(other_host).reason
    not_uuid = encode(macaroon_v2("pypi.org", "not-a-uuid", [], sig))
    assert CHECK.check(not_uuid).liveness is Liveness.FAKE


def test_decode_exposes_caveats(rng: random.Random) -> None:
    macaroon = decode_token(pypi_token(rng, caveats=[[1, ["x"]]]))
    assert macaroon.location == "pypi.org"
    assert macaroon.caveats == [b'[1,["x"]]']
    assert len(macaroon.signature) == 32
