"""Cases for CI-style publish variables and publish command lines, signing keys
(OpenPGP blocks, GnuPG key files, cosign) and the registries found only by
context: Quay robots, Hex, CocoaPods, Open VSX, Anaconda, Gemfury, Packagecloud.

Key blocks are built here byte by byte (OpenPGP packets, cosign's scrypt +
secretbox envelope) from seeded random data: they have the right structure
and no real key behind them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from collections.abc import Callable

from scanner.model import Liveness
from scanner.validators import secretbox
from scanner.validators.pgp import crc24
from tests.factories import DecoyCase, TokenCase
from tests.tokenfactory import base62

HEX = "0123456789abcdef"
ED25519_OID = bytes.fromhex("2b06010401da470f01")

# ------------------------------------------------------------------ plain values


def hex_string(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(HEX) for _ in range(length))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def opaque_token(rng: random.Random, length: int = 40) -> str:
    """A base62 value that an unknown registry could have issued (no prefix)."""
    while True:
        value = base62(rng, length)
        # the ci-variable rules skip values that look like words or numbers; a
        # random value is one of those only by rare chance, but keep tests exact
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def password(rng: random.Random, length: int = 20) -> str:
    """A generated password with some punctuation, as people store in CI."""
    # no '%' or '*': "%X%" and "***" read as templates and masks
    alphabet = string.ascii_letters + string.digits + "!@^&~+-_"
    while True:
        value = rng.choice(string.ascii_letters) + "".join(rng.choice(alphabet) for _ in range(length - 1))
        if any(c.isdigit() for c in value):
            return value


def quay_token(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(64))


def gemfury_token(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 33)))
        if value[0].isalnum() and any(c.isdigit() for c in value):
            return value


def anaconda_token(rng: random.Random) -> str:
    """Shape seen in public samples (two letters, dash, UUID); unconfirmed."""
    return rng.choice(["an", "sd", "ma"]) + "-" + uuid4(rng)


# ------------------------------------------------------------------ OpenPGP


def _mpi(value: bytes) -> bytes:
    """An OpenPGP multiprecision integer: bit count, then the big-endian bytes."""
    value = value.lstrip(b"\x00") or b"\x00"
    return ((len(value) - 1) * 8 + value[0].bit_length()).to_bytes(2, "big") + value


def _random_mpi(rng: random.Random, bits: int) -> bytes:
    raw = bytearray(rng.getrandbits(8) for _ in range((bits + 7) // 8))
    raw[0] |= 0x80 >> ((8 - bits % 8) % 8)  # top bit set: exactly ``bits`` bits
    raw[0] &= 0xFF >> ((8 - bits % 8) % 8)
    return _mpi(bytes(raw))


def packet(tag: int, body: bytes, *, old_format: bool = False) -> bytes:
    """One OpenPGP packet (RFC 4880 4.2), old- or new-format header."""
    if old_format:
        if len(body) < 256:
            return bytes([0x80 | tag << 2, len(body)]) + body
        if len(body) < 65536:
            return bytes([0x81 | tag << 2]) + len(body).to_bytes(2, "big") + body
        return bytes([0x82 | tag << 2]) + len(body).to_bytes(4, "big") + body
    header = bytes([0xC0 | tag])
    if len(body) < 192:
        return header + bytes([len(body)]) + body
    if len(body) < 8384:
        size = len(body) - 192
        return header + bytes([(size >> 8) + 192, size & 0xFF]) + body
    return header + b"\xff" + len(body).to_bytes(4, "big") + body


def _public_part(rng: random.Random, algorithm: str) -> tuple[bytes, list[bytes]]:
    """v4 public fields and the secret MPIs that go with them."""
    created = rng.randint(1_420_070_400, 1_760_000_000).to_bytes(4, "big")
    if algorithm == "rsa":
        bits = rng.choice([2048, 3072, 4096])
        public = b"\x04" + created + b"\x01" + _random_mpi(rng, bits) + _mpi(b"\x01\x00\x01")
        secrets = [_random_mpi(rng, bits - 1), _random_mpi(rng, bits // 2), _random_mpi(rng, bits // 2), _random_mpi(rng, bits // 2 - 1)]
        return public, secrets
    point = b"\x40" + bytes(rng.getrandbits(8) for _ in range(32))
    public = b"\x04" + created + b"\x16" + bytes([len(ED25519_OID)]) + ED25519_OID + _mpi(point)
    return public, [_random_mpi(rng, rng.randint(250, 256))]


def secret_key_body(rng: random.Random, algorithm: str = "ed25519", protection: str = "none") -> bytes:
    """A v4 Secret-Key packet body: public part, S2K usage, secret part.

    ``protection``: "none" (clear MPIs + checksum), "passphrase" (S2K usage
    254, iterated+salted SHA-256, AES-256, random encrypted bytes), "stub"
    (GnuPG's gnu-dummy: no secret) or "card" (gnu-divert-to-card).
    """
    public, secrets = _public_part(rng, algorithm)
    if protection == "none":
        material = b"".join(secrets)
        return public + b"\x00" + material + (sum(material) & 0xFFFF).to_bytes(2, "big")
    if protection == "passphrase":
        s2k = b"\xfe\x09\x03\x08" + bytes(rng.getrandbits(8) for _ in range(8)) + bytes([rng.randint(96, 255)])
        iv = bytes(rng.getrandbits(8) for _ in range(16))
        encrypted = bytes(rng.getrandbits(8) for _ in range(len(b"".join(secrets)) + 20))
        return public + s2k + iv + encrypted
    mode = {"stub": 1, "card": 2}[protection]
    serial = b"\x10" + bytes(rng.getrandbits(8) for _ in range(16)) if mode == 2 else b""
    return public + b"\xfe\x00\x65\x00GNU" + bytes([mode]) + serial


def pgp_packets(
    rng: random.Random,
    algorithm: str = "ed25519",
    protection: str = "none",
    *,
    subkey_protection: str | None = None,
    old_format: bool = False,
) -> bytes:
    """A transferable secret key: Secret-Key, User ID, signature, and an
    optional Secret-Subkey with its binding signature."""
    user = f"{rng.choice(['Ada Lovelace', 'Grace Hopper', 'Release Bot'])} <{base62(rng, 6).lower()}@mail.invalid>"
    data = packet(5, secret_key_body(rng, algorithm, protection), old_format=old_format)
    data += packet(13, user.encode(), old_format=old_format)
    data += packet(2, bytes(rng.getrandbits(8) for _ in range(rng.randint(90, 140))), old_format=old_format)
    if subkey_protection is not None:
        data += packet(7, secret_key_body(rng, algorithm, subkey_protection), old_format=old_format)
        data += packet(2, bytes(rng.getrandbits(8) for _ in range(rng.randint(90, 140))), old_format=old_format)
    return data


def armor(data: bytes, *, headers: tuple[str, ...] = (), checksum: bool = True, width: int = 64) -> str:
    """ASCII armor (RFC 4880 6.2) around ``data``."""
    encoded = base64.b64encode(data).decode()
    lines = ["-----BEGIN PGP PRIVATE KEY BLOCK-----", *headers, ""]
    lines += [encoded[i : i + width] for i in range(0, len(encoded), width)]
    if checksum:
        lines.append("=" + base64.b64encode(crc24(data).to_bytes(3, "big")).decode())
    lines.append("-----END PGP PRIVATE KEY BLOCK-----")
    return "\n".join(lines)


def pgp_block(rng: random.Random, algorithm: str = "ed25519", protection: str = "none", **kwargs: object) -> str:
    headers = rng.choice([(), ("Version: GnuPG v2",), ("Comment: release signing key",)])
    return armor(pgp_packets(rng, algorithm, protection, **kwargs), headers=headers, checksum=rng.random() < 0.8)  # type: ignore[arg-type]


def escaped(block: str) -> str:
    """The block on one line with ``\\n`` escapes (.env files, JSON, CI variables)."""
    return block.replace("\n", "\\n")


def indented(block: str, indent: str = "    ") -> str:
    """The block as a YAML literal scalar's lines below the first."""
    return block.replace("\n", "\n" + indent)


# ------------------------------------------------------------------ GnuPG key files


def _sexp_hex(rng: random.Random, size: int) -> str:
    return "#" + "".join(rng.choice("0123456789ABCDEF") for _ in range(size * 2)) + "#"


def gnupg_key_sexp(rng: random.Random, kind: str = "private-key", algorithm: str = "ecc") -> str:
    """The ``Key:`` value of a private-keys-v1.d/<keygrip>.key file in GnuPG's
    extended format: an S-expression folded onto continuation lines."""
    if algorithm == "ecc":
        params = f"(curve Ed25519)(flags eddsa)(q {_sexp_hex(rng, 33)})"
        secret = f"(d {_sexp_hex(rng, 32)})"
    else:
        params = f"(n {_sexp_hex(rng, 256)})(e #010001#)"
        secret = f"(d {_sexp_hex(rng, 256)})(p {_sexp_hex(rng, 128)})(q {_sexp_hex(rng, 128)})(u {_sexp_hex(rng, 128)})"
    if kind == "protected-private-key":
        iterations = rng.randint(10_000_000, 60_000_000)
        secret = (
            f"(protected openpgp-s2k3-ocb-aes ((sha1 {_sexp_hex(rng, 8)} \"{iterations}\")"
            f"{_sexp_hex(rng, 12)}){_sexp_hex(rng, 120)})(protected-at \"2024{rng.randint(1, 12):02d}15T1{rng.randint(0, 9)}2{rng.randint(0, 9)}31\")"
        )
    elif kind == "shadowed-private-key":
        secret = f"(shadowed t1-v1 (#D2760001240103040006{rng.getrandbits(32):08X}0000# OPENPGP.1))"
    sexp = f"({kind} ({algorithm} {params}{secret}))"
    return "\n ".join(sexp[i : i + 64] for i in range(0, len(sexp), 64))


GNUPG_KEY_FILE = "Created: 20240611T093117\nKey: {secret}\nLabel: release signing\n"


# ------------------------------------------------------------------ cosign


def cosign_block(
    rng: random.Random, password: bytes = b"", *, label: str = "ENCRYPTED SIGSTORE PRIVATE KEY", n: int = 1024
) -> str:
    """A cosign key file: PEM around go-securesystemslib's JSON envelope, the
    'private key' sealed with scrypt(password) + secretbox like cosign does.

    ``n`` is scrypt's cost; cosign writes 32768, tests use less to stay fast.
    """
    salt = bytes(rng.getrandbits(8) for _ in range(32))
    nonce = bytes(rng.getrandbits(8) for _ in range(24))
    plaintext = b"\x30\x81\x87\x02\x01\x00" + bytes(rng.getrandbits(8) for _ in range(132))  # PKCS#8-shaped
    key = hashlib.scrypt(password, salt=salt, n=n, r=8, p=1, maxmem=256 * 8 * n + (1 << 20), dklen=32)
    envelope = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(secretbox.seal(key, nonce, plaintext)).decode(),
    }
    body = base64.b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode()
    lines = [f"-----BEGIN {label}-----", *(body[i : i + 64] for i in range(0, len(body), 64)), f"-----END {label}-----"]
    return "\n".join(lines)


def wrap_base64(block: str) -> str:
    """``base64 -w0`` of a key file: how keys are pasted into one CI variable."""
    return base64.b64encode((block + "\n").encode()).decode()


# ------------------------------------------------------------------ cases

_Make = Callable[[random.Random], str]

CASES: list[TokenCase] = []
DECOYS: list[DecoyCase] = []


def _upper_alnum(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def _hex_value(length: int) -> _Make:
    def make(rng: random.Random) -> str:
        while True:
            value = hex_string(rng, length)
            if any(c.isalpha() for c in value) and any(c.isdigit() for c in value):
                return value

    return make


def _opaque(length: int = 40) -> _Make:
    return lambda rng: opaque_token(rng, length)


def _pgp(algorithm: str = "ed25519", protection: str = "none", **kwargs: object) -> _Make:
    return lambda rng: pgp_block(rng, algorithm, protection, **kwargs)


UNPROTECTED = "unprotected: usable by anyone"
PROTECTED = "passphrase-protected"
EMPTY_PASSWORD = "EMPTY password"
COSIGN_ENCRYPTED = "password may be nearby"
UNVERIFIABLE = Liveness.UNVERIFIABLE

CASES += [
    # ---- OpenPGP private keys
    TokenCase("pgp-private-key", _pgp("ed25519"), "{secret}\n", "signing-key.asc", scope=UNPROTECTED, label="ed25519"),
    TokenCase("pgp-private-key", _pgp("rsa", old_format=True), "{secret}\n", "secring.asc", scope=UNPROTECTED, label="rsa-old-format"),
    TokenCase("pgp-private-key", _pgp("rsa", "passphrase", subkey_protection="passphrase"), "{secret}\n", "release.asc", scope=PROTECTED, label="protected"),
    TokenCase("pgp-private-key", _pgp("rsa", "stub", subkey_protection="none"), "{secret}\n", "subkeys.asc", scope="unprotected (a subkey)", label="subkey-only"),
    TokenCase("pgp-private-key", lambda r: escaped(pgp_block(r)), 'GPG_PRIVATE_KEY="{secret}"\nGPG_PASSPHRASE=\n', ".env", scope=UNPROTECTED, label="escaped-env"),
    TokenCase("pgp-private-key", lambda r: escaped(pgp_block(r, "rsa", "passphrase")), '{"signing": {"key": "{secret}"}}\n', "terraform.tfstate", scope=PROTECTED, label="escaped-json"),
    TokenCase("pgp-private-key", lambda r: indented(pgp_block(r)), "apiVersion: v1\nkind: Secret\nstringData:\n  key.asc: |\n    {secret}\n", "secret.yaml", scope=UNPROTECTED, label="yaml-block"),
    # base64 -w0 of the block: the detector decodes it; the finding is the block, at the base64 text
    TokenCase("pgp-private-key", _pgp("rsa"), "MAVEN_GPG_PRIVATE_KEY={secret}\nMAVEN_GPG_PASSPHRASE=\n", ".env", scope=UNPROTECTED, encode=lambda b: wrap_base64(b), label="base64"),
    TokenCase("pgp-private-key-base64", lambda r: _wrapped(wrap_base64(pgp_block(r, "rsa", "passphrase")), 76), "{secret}\n", "key.asc.b64", scope=PROTECTED),
    TokenCase("pgp-private-key-base64", lambda r: _wrapped(wrap_base64(pgp_block(r)), 64).replace("\n", "\n    "), "data:\n  key: |\n    {secret}\n", "secret.yaml", scope=UNPROTECTED, label="yaml"),
    TokenCase("gnupg-private-key-file", lambda r: gnupg_key_sexp(r, "private-key", r.choice(["ecc", "rsa"])), GNUPG_KEY_FILE, "4F2A.key", scope=UNPROTECTED, label="clear"),
    TokenCase("gnupg-private-key-file", lambda r: gnupg_key_sexp(r, "protected-private-key", r.choice(["ecc", "rsa"])), GNUPG_KEY_FILE, "9C1B.key", scope=PROTECTED),
    # ---- cosign / sigstore
    TokenCase("cosign-private-key", lambda r: cosign_block(r), "{secret}\n", "cosign.key", scope=EMPTY_PASSWORD, label="empty-password"),
    TokenCase("cosign-private-key", lambda r: cosign_block(r, password(r).encode()), "{secret}\n", "cosign.key", scope=COSIGN_ENCRYPTED, label="password"),
    TokenCase("cosign-private-key", lambda r: escaped(cosign_block(r, label="ENCRYPTED COSIGN PRIVATE KEY")), "COSIGN_PRIVATE_KEY='{secret}'\nCOSIGN_PASSWORD=''\n", ".env", scope=EMPTY_PASSWORD, label="v1-escaped"),
    TokenCase("cosign-private-key", lambda r: cosign_block(r, b"s3cret-pass"), "env:\n  COSIGN_PRIVATE_KEY: {secret}\n", "release.yml", scope=COSIGN_ENCRYPTED, encode=lambda b: wrap_base64(b), label="base64"),
    TokenCase("cosign-private-key-base64", lambda r: _wrapped(wrap_base64(cosign_block(r)), 76), "{secret}\n", "cosign.key.b64", scope=EMPTY_PASSWORD),
    # ---- Quay robot tokens (a token-format rule: it wins over the generic docker-login rule)
    TokenCase("quay-robot-token", quay_token, 'docker login -u="acme+ci_push" -p="{secret}" quay.io\n', "deploy.sh", UNVERIFIABLE, scope="Quay robot"),
    TokenCase("quay-robot-token", quay_token, "podman login registry.internal \\\n  --username acme+deployer \\\n  --password {secret}\n", "push.sh", UNVERIFIABLE, scope="Quay robot", label="continued"),
    TokenCase("quay-robot-token", quay_token, "steps:\n  - uses: docker/login-action@v3\n    with:\n      registry: quay.io\n      username: acme+github\n      password: {secret}\n", "ci.yml", UNVERIFIABLE, scope="Quay robot", label="login-action"),
    TokenCase("quay-robot-token", quay_token, "skopeo copy --dest-creds acme+mirror:{secret} docker://a docker://quay.io/acme/a\n", "mirror.sh", UNVERIFIABLE, scope="Quay robot", label="creds"),
    TokenCase("quay-robot-token", quay_token, "echo '{secret}' | docker login --username=acme+ci --password-stdin quay.io\n", "ci.sh", UNVERIFIABLE, scope="Quay robot", label="stdin"),
]


def _wrapped(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _ci(rule_id: str, make: _Make, template: str, filename: str, scope: str, label: str = "") -> TokenCase:
    return TokenCase(rule_id, make, template, filename, UNVERIFIABLE, scope=scope, label=label)


GHA = "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    env:\n      {line}\n    steps:\n      - run: make publish\n"


def _gha(line: str) -> str:
    return GHA.replace("{line}", line)


CASES += [
    _ci("ci-npm-token", _opaque(36), "export NPM_TOKEN={secret}\nnpm publish\n", "publish.sh", "npm registry token", "shell"),
    _ci("ci-npm-token", _opaque(36), _gha('NODE_AUTH_TOKEN: "{secret}"'), "release.yml", "npm registry token", "actions"),
    _ci("ci-npm-token", _opaque(36), "FROM node:22\nARG NPM_TOKEN={secret}\nRUN npm ci\n", "Dockerfile", "npm registry token", "dockerfile-arg"),
    _ci("ci-npm-token", _opaque(36), "FROM node:22\nENV NPM_TOKEN {secret}\n", "Dockerfile", "npm registry token", "dockerfile-env"),
    _ci("ci-npm-token", _opaque(36), '$env:YARN_NPM_AUTH_TOKEN = "{secret}"\nyarn npm publish\n', "publish.ps1", "npm registry token", "powershell"),
    _ci("ci-npm-token", _opaque(36), "set NPM_TOKEN={secret}\r\nnpm publish\r\n", "publish.cmd", "npm registry token", "cmd"),
    _ci("ci-npm-token", _opaque(36), "env:\n  - name: NPM_TOKEN\n    value: {secret}\n", "deployment.yaml", "npm registry token", "k8s"),
    _ci("ci-npm-token", _opaque(36), '{"environment": [{"name": "NPM_TOKEN", "value": "{secret}"}]}\n', "task.json", "npm registry token", "ecs"),
    _ci("ci-pypi-token", lambda r: password(r, 24), "variables:\n  TWINE_USERNAME: ci\n  TWINE_PASSWORD: '{secret}'\n", ".gitlab-ci.yml", "upload credential for PyPI", "gitlab"),
    _ci("ci-pypi-token", _opaque(40), "POETRY_PYPI_TOKEN_INTERNAL={secret}\n", ".env", "upload credential for PyPI", "poetry-env"),
    _ci("twine-password-flag", _opaque(40), "twine upload --repository-url https://pypi.internal/ -u ci -p {secret} dist/*\n", "release.sh", "upload credential for PyPI", "twine"),
    _ci("uv-publish-token-flag", _opaque(40), "uv publish \\\n  --publish-url https://pypi.internal/ \\\n  --token {secret}\n", "release.sh", "upload credential for PyPI", "uv-continued"),
    _ci("poetry-credentials-cli", _opaque(40), "poetry config http-basic.internal ci {secret}\n", "setup.sh", "upload credential for PyPI", "poetry-config"),
    _ci("pdm-publish-password-flag", lambda r: password(r, 24), "pdm publish --repository internal --username ci -P '{secret}'\n", "release.sh", "upload credential for PyPI"),
    _ci("hatch-publish-auth-flag", _opaque(40), "hatch publish -u __token__ -a {secret}\n", "release.sh", "upload credential for PyPI"),
    _ci("ci-rubygems-key", _hex_value(48), _gha("GEM_HOST_API_KEY: {secret}"), "gem.yml", "RubyGems"),
    _ci("cargo-token-cli", _opaque(32), "cargo publish --locked --token {secret}\n", "release.sh", "Cargo registry token", "publish"),
    _ci("ci-cargo-token", _opaque(32), "CARGO_REGISTRY_TOKEN={secret}\n", ".env", "Cargo registry token", "env"),
    _ci("ci-nuget-key", _opaque(46), "$env:NUGET_API_KEY = '{secret}'\ndotnet nuget push *.nupkg\n", "push.ps1", "NuGet feed API key"),
    _ci("nuget-api-key-flag", _opaque(46), "dotnet nuget push bin/Release/*.nupkg --source https://api.nuget.org/v3/index.json --api-key {secret}\n", "publish.sh", "NuGet feed API key", "dotnet"),
    _ci("powershell-gallery-api-key-flag", _opaque(46), "Publish-Module -Path ./Acme -NuGetApiKey '{secret}'\n", "publish.ps1", "NuGet feed API key", "psgallery"),
    _ci("ci-container-registry-password", lambda r: password(r, 20), "DOCKERHUB_USERNAME=acme\nDOCKERHUB_PASSWORD={secret}\n", ".env", "container registry login"),
    _ci("ci-gradle-property-secret", _opaque(32), "ORG_GRADLE_PROJECT_githubPackagesPassword={secret}\n", "ci.env", "Gradle project property"),
    _ci("ci-clojars-password", _opaque(32), "export CLOJARS_USERNAME=acme\nexport CLOJARS_PASSWORD={secret}\n", "deploy.sh", "Clojars"),
    _ci("ci-jfrog-token", _opaque(64), "JF_URL=https://acme.jfrog.io\nJF_ACCESS_TOKEN={secret}\n", ".env", "JFrog Artifactory"),
    _ci("ci-github-token", _opaque(40), "GITHUB_TOKEN={secret}\n", ".env", "GitHub credential"),
    _ci("ci-gitlab-token", _opaque(26), "variables:\n  CI_DEPLOY_PASSWORD: {secret}\n", ".gitlab-ci.yml", "GitLab token"),
    _ci("ci-huggingface-token", _opaque(37), "HF_TOKEN={secret}\n", ".env", "Hugging Face"),
    _ci("ci-terraform-token", _opaque(40), "export TF_TOKEN_app_terraform_io={secret}\n", "env.sh", "Terraform Cloud"),
    _ci("jsr-publish-token-flag", _opaque(40), "npx jsr publish --token {secret}\n", "release.sh", "JSR publish token"),
    _ci("ci-jsr-token", _opaque(40), _gha("JSR_TOKEN: {secret}"), "jsr.yml", "JSR publish token"),
    _ci("ci-cloudsmith-key", _hex_value(40), "CLOUDSMITH_API_KEY={secret}\n", ".env", "Cloudsmith"),
    _ci("vsce-pat-flag", _opaque(40), "npx @vscode/vsce publish -p {secret}\n", "release.sh", "vsce"),
    _ci("ci-vsce-pat", _opaque(40), "VSCE_PAT={secret}\n", ".env", "vsce"),
    _ci("ci-snapcraft-credentials", _opaque(180), "SNAPCRAFT_STORE_CREDENTIALS={secret}\n", ".env", "Snap Store"),
    _ci("ci-codeartifact-token", _opaque(60), "CODEARTIFACT_AUTH_TOKEN={secret}\n", ".env", "CodeArtifact"),
    # ---- context-only registries
    _ci("hex-api-key", _hex_value(32), _gha("HEX_API_KEY: {secret}"), "hex.yml", "Hex API key"),
    _ci("hex-organization-key", _hex_value(32), "mix hex.organization auth acme --key {secret}\n", "setup.sh", "Hex organization key"),
    _ci("cocoapods-trunk-netrc", _hex_value(32), "machine trunk.cocoapods.org\n  login release@mail.invalid\n  password {secret}\n", ".netrc", "CocoaPods trunk session"),
    _ci("cocoapods-trunk-netrc", _hex_value(32), "machine api.github.com login bot password x0\nmachine trunk.cocoapods.org login a@mail.invalid password {secret}\n", ".netrc", "CocoaPods trunk session", "one-line"),
    _ci("cocoapods-trunk-token", _hex_value(32), _gha("COCOAPODS_TRUNK_TOKEN: {secret}"), "pods.yml", "CocoaPods trunk session"),
    TokenCase("openvsx-token", uuid4, "OVSX_PAT={secret}\n", ".env", scope="Open VSX"),
    TokenCase("ovsx-pat-flag", uuid4, "npx ovsx publish dist/ext.vsix \\\n  -p {secret}\n", "release.sh", scope="Open VSX"),
    _ci("anaconda-channel-url-token", anaconda_token, "channels:\n  - https://conda.anaconda.org/t/{secret}/acme-private\n  - conda-forge\n", "environment.yml", "anaconda.org token in a channel URL"),
    _ci("anaconda-token-flag", lambda r: opaque_token(r, 30), "anaconda -t {secret} upload --user acme dist/*.conda\n", "upload.sh", "anaconda.org API token"),
    _ci("anaconda-token", anaconda_token, "ANACONDA_API_TOKEN={secret}\n", ".env", "anaconda.org API token", "env"),
    _ci("gemfury-push-url", gemfury_token, "curl -F package=@dist/pkg-1.0.0.tgz https://{secret}@push.fury.io/acme/\n", "publish.sh", "Gemfury push token"),
    _ci("gemfury-repo-url", gemfury_token, "--extra-index-url https://{secret}:@pypi.fury.io/acme/\nrequests\n", "requirements.txt", "Gemfury token in an install URL"),
    _ci("gemfury-token", gemfury_token, "FURY_TOKEN={secret}\n", ".env", "Gemfury token"),
    _ci("fury-api-token-flag", gemfury_token, "fury push dist/pkg-1.0.0.tgz --as=acme --api-token={secret}\n", "publish.sh", "Gemfury token"),
    _ci("packagecloud-config-token", _hex_value(48), '{"url":"https://packagecloud.io","token":"{secret}"}\n', ".packagecloud", "Packagecloud API token"),
    _ci("packagecloud-token", _hex_value(48), "PACKAGECLOUD_TOKEN={secret}\n", ".env", "Packagecloud API token"),
]


def _altered_secret(rng: random.Random) -> str:
    """An unprotected key with one byte of its secret material changed and no
    armor CRC: only the key packet's own checksum can tell."""
    body = bytearray(secret_key_body(rng, "rsa", "none"))
    body[-3] ^= 0x01  # the last secret byte, just before the two-octet checksum
    return armor(packet(5, bytes(body)) + packet(13, b"Ada <ada@mail.invalid>"), checksum=False)


def _truncated_block(block: str) -> str:
    lines = block.split("\n")
    return "\n".join(lines[:3] + lines[-2:])  # keeps the CRC line (if any) and END


def _public_packets(rng: random.Random) -> bytes:
    return packet(6, _public_part(rng, "ed25519")[0]) + packet(13, b"Ada <ada@mail.invalid>")


SECRET_REFS = [
    "NPM_TOKEN: ${{ secrets.NPM_TOKEN }}",
    "NODE_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    "NODE_AUTH_TOKEN: XXXXX-XXXXX-XXXXX-XXXXX",  # what actions/setup-node writes
    'export NPM_TOKEN="${NPM_TOKEN:-}"',
    "NPM_TOKEN: $(npmToken)",
    "TWINE_PASSWORD=$PYPI_API_TOKEN",
    "TWINE_PASSWORD=[MASKED]",
    "TWINE_PASSWORD: PYPI_API_TOKEN_PROD",
    "UV_PUBLISH_TOKEN: ${{ steps.mint.outputs.api-token }}",
    "GH_TOKEN: ${{ github.token }}",
    "export GITHUB_TOKEN=$(gh auth token)",
    "GITHUB_TOKEN=`cat /run/secrets/github`",
    "NPM_TOKEN=/run/secrets/npm_token",
    "NPM_TOKEN=my-super-secret-npm-token",
    "NPM_TOKEN=<your-npm-token>",
    "CARGO_REGISTRY_TOKEN=%CARGO_TOKEN%",
    "HEX_API_KEY: ${{ secrets.HEX_API_KEY }}",
    "COCOAPODS_TRUNK_TOKEN=${{ secrets.COCOAPODS_TRUNK_TOKEN }}",
    "OVSX_PAT: ${{ secrets.OVSX_PAT }}",
    "PACKAGECLOUD_TOKEN: ${PACKAGECLOUD_TOKEN}",
    "ORG_GRADLE_PROJECT_signingInMemoryKeyId: 9A3F7C21",
    "ORG_GRADLE_PROJECT_signingInMemoryKey: ${{ secrets.GPG_KEY }}",
    "PYPI_TOKEN_REQUIRED=true",
    "PYPI_TOKEN=1234987650917",
]
COMMANDS = [
    'twine upload -u __token__ -p "$PYPI_API_TOKEN" dist/*',
    "uv publish --token ${{ secrets.PYPI_TOKEN }}",
    'cargo publish --token "$CARGO_REGISTRY_TOKEN"',
    "cargo login --help",
    "dotnet nuget push *.nupkg -k $NUGET_API_KEY -s https://api.nuget.org/v3/index.json",
    "nuget push Acme.1.0.0.nupkg -ApiKey %NUGET_KEY%",
    "vsce publish -p $VSCE_PAT",
    "npx ovsx publish -p ${OVSX_PAT}",
    "deno publish --token $JSR_TOKEN",
    "anaconda -t $ANACONDA_TOKEN upload dist/*.conda",
    "mix hex.organization auth acme --key $HEX_ORG_KEY",
    "fury push pkg.tgz --api-token=$FURY_TOKEN",
    "poetry config pypi-token.pypi $PYPI_TOKEN",
]

DECOYS += [
    DecoyCase("ci variable references", lambda r: "\n".join(SECRET_REFS) + "\n", "ci.env"),
    DecoyCase("publish commands with variables", lambda r: "\n".join(COMMANDS) + "\n", "release.sh"),
    DecoyCase("ci value too short", lambda r: f"NPM_TOKEN={base62(r, 10)}\nHEX_API_KEY={hex_string(r, 31)}\n", ".env"),
    DecoyCase("hex key wrong length", lambda r: f"HEX_API_KEY={hex_string(r, 40)}\nCOCOAPODS_TRUNK_TOKEN={hex_string(r, 33)}\n", ".env"),
    DecoyCase("packagecloud token wrong length", lambda r: f"PACKAGECLOUD_TOKEN={hex_string(r, 40)}\n", ".env"),
    DecoyCase("open vsx nil uuid", lambda r: "OVSX_PAT=00000000-0000-0000-0000-000000000000\n", ".env"),
    DecoyCase("open vsx time-based uuid", lambda r: f"OVSX_PAT={uuid.UUID(int=r.getrandbits(128), version=1)}\n", ".env"),
    DecoyCase("netrc other host", lambda r: f"machine github.com\n  login bot\n  password {hex_string(r, 32)}x\n", ".netrc"),
    DecoyCase("netrc cocoapods variable", lambda r: "machine trunk.cocoapods.org login me@mail.invalid password $TRUNK\n", ".netrc"),
    DecoyCase("gemfury templates", lambda r: "https://${FURY_TOKEN}@push.fury.io/acme/\ngit push https://release-bot@git.fury.io/acme/pkg.git\nhttps://TOKEN@push.fury.io/USERNAME/\n", "README.md"),
    DecoyCase("anaconda template url", lambda r: "channels:\n  - https://conda.anaconda.org/t/<TOKEN>/acme\n  - https://conda.anaconda.org/t/${ANACONDA_TOKEN}/acme\n", "environment.yml"),
    DecoyCase("packagecloud placeholder", lambda r: '{"url":"https://packagecloud.io","token":"<your api token>"}\n', ".packagecloud"),
    DecoyCase("quay robot template", lambda r: 'docker login -u="acme+ci" -p="${QUAY_ROBOT_TOKEN}" quay.io\n', "deploy.sh"),
    DecoyCase("quay robot masked", lambda r: 'docker login -u="acme+ci" -p="' + "X" * 64 + '" quay.io\n', "deploy.sh"),
    DecoyCase("upper-case checksum near a plus", lambda r: f"SHA256 (pkg+extra-1.0.tar.gz) = {_upper_alnum(r, 64)}\n", "SHASUMS"),
    # signing keys that hold no usable secret, or were altered
    DecoyCase("pgp stub-only export", lambda r: pgp_block(r, "rsa", "stub", subkey_protection="card") + "\n", "subkeys.asc"),
    DecoyCase("pgp crc changed", lambda r: _crc_changed(armor(pgp_packets(r))) + "\n", "key.asc"),
    DecoyCase("pgp secret altered, no crc", lambda r: _altered_secret(r) + "\n", "key.asc"),
    DecoyCase("pgp truncated", lambda r: _truncated_block(pgp_block(r, "rsa")) + "\n", "key.asc"),
    DecoyCase("pgp public key", lambda r: armor(_public_packets(r)).replace("PRIVATE", "PUBLIC") + "\n", "KEYS"),
    DecoyCase("pgp public key under a private header", lambda r: armor(_public_packets(r)) + "\n", "key.asc"),
    DecoyCase("pgp placeholder", lambda r: 'GPG_PRIVATE_KEY="-----BEGIN PGP PRIVATE KEY BLOCK-----\\n...\\n-----END PGP PRIVATE KEY BLOCK-----"\n', ".env.example"),
    DecoyCase("pgp base64 of a stub", lambda r: "MAVEN_GPG_PRIVATE_KEY=" + wrap_base64(pgp_block(r, "ed25519", "stub")) + "\n", ".env"),
    DecoyCase("gnupg shadowed key", lambda r: GNUPG_KEY_FILE.replace("{secret}", gnupg_key_sexp(r, "shadowed-private-key", "rsa")), "7E3D.key"),
    DecoyCase("cosign truncated", lambda r: _truncated_block(cosign_block(r)) + "\n", "cosign.key"),
    DecoyCase("cosign placeholder", lambda r: "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n<paste cosign.key here>\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "README.md"),
]


def _crc_changed(block: str) -> str:
    lines = block.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("=") and len(line) == 5)
    lines[index] = "=" + ("AAAA" if lines[index][1:] != "AAAA" else "BBBB")
    return "\n".join(lines)
