"""Cases for the starter rules: npm, GitHub classic, PyPI/TestPyPI."""

from __future__ import annotations

import base64
import time
import uuid

from scanner.model import Liveness
from tests.factories import DecoyCase, TokenCase
from tests.tokenfactory import break_checksum, github_style, npm_token, pypi_token

CASES = [
    TokenCase("npm-access-token", npm_token, "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={secret}\n", ".npmrc", scope="npm access token"),
    TokenCase("npm-access-token", npm_token, 'env:\n  NODE_AUTH_TOKEN: "\x1b[32m{secret}\x1b[0m"\n', "ci.log", label="ansi"),
    TokenCase("github-classic-token", lambda r: github_style("ghp", r), "GH_TOKEN={secret}\n", scope="personal access token (classic)", label="ghp"),
    TokenCase("github-classic-token", lambda r: github_style("gho", r), "x {secret}\n", scope="OAuth", label="gho"),
    TokenCase("github-classic-token", lambda r: github_style("ghu", r), "x {secret}\n", scope="user-to-server", label="ghu"),
    TokenCase("github-classic-token", lambda r: github_style("ghs", r), "x {secret}\n", scope="installation token (1 h)", label="ghs"),
    TokenCase("github-classic-token", lambda r: github_style("ghr", r), "x {secret}\n", scope="refresh token", label="ghr"),
    TokenCase("pypi-api-token", pypi_token, "[pypi]\nusername = __token__\npassword = {secret}\n", ".pypirc", scope="PyPI: whole account"),
    TokenCase("pypi-api-token", lambda r: pypi_token(r, caveats=[[1, ["pkg-a"]], [2, ["0b6c2a9e-1d2f-4c3b-9a8e-7f6d5c4b3a21"]]]), "TWINE_PASSWORD={secret}\n", scope="PyPI: project pkg-a", label="project"),
    TokenCase("pypi-api-token", lambda r: pypi_token(r, caveats=[[3, "u"], [0, int(time.time()) - 86400, int(time.time()) - 90000]]), "x={secret}\n", liveness=Liveness.EXPIRED, label="expired"),
    TokenCase("testpypi-api-token", lambda r: pypi_token(r, test_pypi=True), "[testpypi]\npassword = {secret}\n", ".pypirc", scope="TestPyPI"),
]


DECOYS = [
    DecoyCase("npm checksum changed", lambda r: f"//registry.npmjs.org/:_authToken={break_checksum(npm_token(r))}\n"),
    DecoyCase("github checksum changed", lambda r: f"GH_TOKEN={break_checksum(github_style('ghp', r))}\n"),
    DecoyCase("npm variable", lambda r: "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
    DecoyCase("actions secret", lambda r: "NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"),
    DecoyCase("masked", lambda r: "NODE_AUTH_TOKEN=***\nnpm_****abcd\n"),
    DecoyCase("partial redaction", lambda r: f"token: {npm_token(r)[:12]}...{npm_token(r)[-4:]}\n"),
    DecoyCase("truncated npm", lambda r: f"token: {npm_token(r)[:-3]}\n"),
    DecoyCase("truncated pypi", lambda r: f"password = {pypi_token(r)[:-20]}\n"),
    DecoyCase("pypi doc prefix", lambda r: "password = pypi-AgEIcHlwaS5vcmc...\n"),
    DecoyCase("sequential npm", lambda r: "npm_abcdefghijklmnopqrstuvwxyz0123456789\n"),
    DecoyCase("repeated ghp", lambda r: "ghp_" + "x" * 36 + "\n"),
    DecoyCase("github readme fixture", lambda r: "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a\n"),
    DecoyCase("git sha", lambda r: f"commit {r.getrandbits(160):040x}\n"),
    DecoyCase("integrity", lambda r: '"integrity": "sha512-' + "".join(r.choice("ABCDEFGHabcdefgh0123456789+/") for _ in range(86)) + '=="\n'),
    DecoyCase("uuid", lambda r: f"id: {uuid.UUID(int=r.getrandbits(128), version=4)}\n"),
    DecoyCase(
        "base64 image",
        lambda r: '<img src="data:image/png;base64,'
        + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(r.getrandbits(8) for _ in range(6000))).decode()
        + '">\n',
        "page.html",
    ),
    DecoyCase("docker digest", lambda r: f"image@sha256:{r.getrandbits(256):064x}\n"),
]
