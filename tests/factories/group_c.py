"""Cases for the structured and self-expiring tokens: GitHub's 2026 installation
token, JFrog, Azure DevOps, AWS CodeArtifact, Google, Buildkite and Snapcraft.

Every value is built here at run time: JWTs and JWEs from headers and claims
made up on the spot with random signatures, checksums computed by these
generators, RSA keys from freshly found primes. None was ever issued.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import string
import time
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

from scanner.model import Liveness
from scanner.validators.azure_devops import CASK_CHECKSUM_SEED, marvin32
from scanner.validators.checksums import BASE62_ALPHABET
from tests.factories import DecoyCase, TokenCase
from tests.tokenfactory import base62, macaroon_v2

HOUR = 3600
DAY = 24 * HOUR
B64URL_ALPHABET = string.ascii_letters + string.digits + "-_"
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567"
ULID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


# --- shared pieces ------------------------------------------------------------------


def random_bytes(rng: random.Random, count: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(count))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes, *, escape_slashes: bool = False) -> str:
    """A compact JWS from the given parts (the signature is whatever bytes we pass)."""
    payload = compact_json(claims)
    if escape_slashes:  # Java JSON writers (JFrog) escape '/' as '\/'
        payload = payload.replace("/", "\\/")
    return ".".join((b64url(compact_json(header).encode()), b64url(payload.encode()), b64url(signature)))


def now() -> int:
    return int(time.time())


def truncate(token: str, rng: random.Random, cut: tuple[int, int] = (3, 20)) -> str:
    """The token with a few characters chopped off its end (a copy cut short)."""
    return token[: -rng.randint(*cut)]


def change_one(token: str, rng: random.Random, start: int = 0, end: int | None = None, alphabet: str = "") -> str:
    """The token with one character in ``token[start:end]`` swapped for another
    from ``alphabet`` (default: letters of the same case, or digits)."""
    end = len(token) if end is None else end
    position = rng.randrange(start, end)
    old = token[position]
    pool = alphabet or (
        string.digits if old.isdigit() else string.ascii_lowercase if old.islower() else string.ascii_uppercase
    )
    new = rng.choice([c for c in pool if c != old])
    return token[:position] + new + token[position + 1 :]


# --- GitHub 2026 installation token (section 3) ----------------------------------------


def github_installation_token(rng: random.Random, *, issued_ago: int | None = None) -> str:
    """``ghs_<app id>_<JWT>``, about 520 characters; the JWT lives one hour."""
    app_id = rng.randint(10_000, 3_999_999)
    issued = now() - (rng.randint(0, 50 * 60) if issued_ago is None else issued_ago)
    claims = {
        "jti": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "iat": issued,
        "exp": issued + HOUR,
        "aid": app_id,
        "iid": rng.randint(1_000_000, 99_999_999),
        "oid": rng.randint(1_000_000, 299_999_999),
    }
    return f"ghs_{app_id}_" + jwt({"alg": "RS256", "typ": "JWT"}, claims, random_bytes(rng, 256))


def expired_github_installation_token(rng: random.Random) -> str:
    return github_installation_token(rng, issued_ago=rng.randint(2 * HOUR, 400 * DAY))


# --- JFrog (section 11) ---------------------------------------------------------------


def jfrog_api_key(rng: random.Random) -> str:
    return "AKCp" + rng.choice("5689") + "".join(rng.choice(BASE58_ALPHABET) for _ in range(68))


def jfrog_reference_token(rng: random.Random, *, expiry: int | None = None) -> str:
    """base64 of ``reftkn:01:<10-digit expiry>:<27 random alphanumerics>``."""
    expiry = now() + rng.randint(30 * DAY, 365 * DAY) if expiry is None else expiry
    random_part = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(27))
    return base64.b64encode(f"reftkn:01:{expiry:010d}:{random_part}".encode()).decode()


def _ulid(rng: random.Random) -> str:
    return "01" + "".join(rng.choice(ULID_ALPHABET) for _ in range(24))


def jfrog_access_token(
    rng: random.Random,
    *,
    scope: str = "applied-permissions/user",
    expires_in: int | None = 365 * DAY,
    service: str = "jfac",
) -> str:
    """An access/identity token as JFrog Access writes it: RS256 with a
    ``ver``/``kid`` header and ``jf…@<instance>`` subject and issuer."""
    instance = _ulid(rng)
    user = rng.choice(["ci-deployer", "release-bot", "svc-publish", "jenkins", "admin"])
    # Issued a while ago, but (unless expires_in is negative) not yet expired.
    issued = now() - rng.randint(0, 20 * DAY if expires_in is None else max(0, min(20 * DAY, expires_in // 2)))
    claims: dict[str, Any] = {
        "ext": '{"revocable":"true"}',
        "sub": f"{service}@{instance}/users/{user}",
        "scp": scope,
        "aud": "*@*",
        "iss": f"jffe@{instance}",
    }
    if expires_in is not None:
        claims["exp"] = issued + expires_in
    claims["iat"] = issued
    claims["jti"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    header = {"ver": "2", "typ": "JWT", "alg": "RS256", "kid": b64url(random_bytes(rng, 32))}
    return jwt(header, claims, random_bytes(rng, 256), escape_slashes=True)


def other_jwt(rng: random.Random) -> str:
    """A JWT of some web application: valid shape, nothing to do with JFrog."""
    issued = now() - rng.randint(0, DAY)
    claims = {
        "sub": str(rng.randint(1000, 99999)),
        "name": "Jane Roe",
        "role": "editor",
        "iat": issued,
        "exp": issued + DAY,
    }
    return jwt({"alg": "HS256", "typ": "JWT"}, claims, random_bytes(rng, 32))


# --- AWS CodeArtifact (section 13) --------------------------------------------------------


def codeartifact_token(rng: random.Random, *, issued_ago: int | None = None) -> str:
    """A 5-part JWE with the header CodeArtifact writes (12 h default lifetime)."""
    issued = now() - (rng.randint(0, 11 * HOUR) if issued_ago is None else issued_ago)
    header = {
        "ver": 1,
        "isu": issued,
        "enc": "A128GCM",
        "tag": b64url(random_bytes(rng, 16)),
        "exp": issued + 12 * HOUR,
        "alg": "A128GCMKW",
        "iv": b64url(random_bytes(rng, 12)),
    }
    parts = [
        compact_json(header).encode(),
        random_bytes(rng, 16),  # the wrapped content key
        random_bytes(rng, 12),  # IV
        random_bytes(rng, rng.randint(600, 700)),  # ciphertext
        random_bytes(rng, 16),  # GCM tag
    ]
    return ".".join(b64url(p) for p in parts)


def expired_codeartifact_token(rng: random.Random) -> str:
    return codeartifact_token(rng, issued_ago=rng.randint(13 * HOUR, 300 * DAY))


# --- Azure DevOps (sections 1 and 12) ---------------------------------------------------

ADO_USER_SEED = 0xE0B9692D
ADO_APPLICATION_SEED = 0x1019F92E


def ado_legacy_pat(rng: random.Random, seed: int = ADO_USER_SEED) -> str:
    """52 base32 characters: 28 random bytes with CRC-32^seed spread over
    bytes 22, 8, 7 and 2 (little-endian), as SEC101_102_AdoPat.cs reads it."""
    data = random_bytes(rng, 28)
    stored = (zlib.crc32(data) ^ seed).to_bytes(4, "little")
    raw = bytearray(32)
    raw[0:2], raw[3:7], raw[9:22], raw[23:32] = data[0:2], data[2:6], data[6:19], data[19:28]
    raw[22], raw[8], raw[7], raw[2] = stored
    return base64.b32encode(bytes(raw)).decode("ascii").lower().rstrip("=")


def _base62_bytes(data: bytes) -> str:
    """The checksum bytes as one big-endian number in base62 (0-9A-Za-z)."""
    number, digits = int.from_bytes(data, "big"), ""
    while True:
        number, remainder = divmod(number, 62)
        digits = BASE62_ALPHABET[remainder] + digits
        if not number:
            return "0" * min(len(data) - len(data.lstrip(b"\0")), len(data) - 1) + digits


def ado_cask_pat(rng: random.Random, *, zero_platform: bool = False, checksum_in_base64: bool = False) -> str:
    """84 characters: 52 random, JQQJ99, year and month, platform and provider
    reserved data (as issued PATs carry them), AZDO, and 4 characters of the
    Marvin32 checksum of the first 60 decoded bytes."""
    while True:
        year, month = rng.choice("ABC"), rng.choice("ABCDEFGHIJKL")
        platform = bytes([0, 0x20, 0, 0, 0]) + (
            bytes(4) if zero_platform else bytes([rng.randint(1, 63)]) + random_bytes(rng, 3)
        )
        head = base62(rng, 52) + "JQQJ99" + year + month + base64.b64encode(platform).decode() + "AAAS" + "AZDO"
        if not head.isalnum():
            continue
        checksum = marvin32(base64.b64decode(head), CASK_CHECKSUM_SEED).to_bytes(4, "little")
        tail = base64.b64encode(checksum).decode()[:4] if checksum_in_base64 else _base62_bytes(checksum)[:4]
        if len(tail) == 4 and tail.isalnum():
            return head + tail


def base64_text(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- Google (section 14) --------------------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 3000) if all(p % q for q in range(2, int(p**0.5) + 1))]
_KEY_POOL_SIZE = 6


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if any(candidate % p == 0 for p in _SMALL_PRIMES) or pow(2, candidate - 1, candidate) != 1:
            continue
        if all(pow(rng.randrange(2, candidate - 1), candidate - 1, candidate) == 1 for _ in range(4)):
            return candidate


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def rsa_pkcs8(rng: random.Random, bits: int = 2048) -> bytes:
    """A real RSA key (fresh primes) as DER PKCS#8 PrivateKeyInfo."""
    e = 65537
    while True:
        p, q = _prime(rng, bits // 2), _prime(rng, bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    d = pow(e, -1, phi)
    rsa = _der(0x30, b"".join(_der_int(v) for v in (0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))
    algorithm = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    return _der(0x30, _der_int(0) + algorithm + _der(0x04, rsa))


@functools.lru_cache(maxsize=1)
def _key_pool() -> tuple[bytes, ...]:
    # Finding 2048-bit primes takes about 0.3 s per key here; a small pool of
    # real keys, drawn from at random, keeps the suite quick.
    pool_rng = random.Random("group-c service-account keys")
    return tuple(rsa_pkcs8(pool_rng) for _ in range(_KEY_POOL_SIZE))


def service_account_der(rng: random.Random) -> bytes:
    return rng.choice(_key_pool())


def pem(der: bytes, newline: str = "\\n") -> str:
    """PEM text; ``newline`` is the JSON escape by default (how key files hold it)."""
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return newline.join(["-----BEGIN PRIVATE KEY-----", *lines, "-----END PRIVATE KEY-----"])


def service_account_pem(rng: random.Random) -> str:
    return pem(service_account_der(rng))


def google_access_token(rng: random.Random) -> str:
    return "ya29.a0" + "".join(rng.choice(B64URL_ALPHABET) for _ in range(rng.randint(150, 230)))


def google_refresh_token(rng: random.Random) -> str:
    return "1//0" + rng.choice("369cdgfe") + "".join(rng.choice(B64URL_ALPHABET) for _ in range(98))


def google_client_secret(rng: random.Random) -> str:
    return "GOCSPX-" + "".join(rng.choice(B64URL_ALPHABET) for _ in range(28))


# --- Buildkite (section 20) -----------------------------------------------------------------


def buildkite_packages_token(rng: random.Random, *, expires_in: int | None = 10 * 60) -> str:
    """``bkpt_`` + base64 of ``{"_rails":{"data":…,"exp":…}}`` + ``--`` + 40 hex."""
    envelope: dict[str, Any] = {"data": [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2)]}
    if expires_in is not None:
        moment = datetime.fromtimestamp(now() + expires_in, tz=UTC)
        envelope["exp"] = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z"
    message = base64.b64encode(compact_json({"_rails": envelope}).encode()).decode()
    return f"bkpt_{message}--{rng.getrandbits(160):040x}"


def buildkite_api_token(rng: random.Random) -> str:
    return f"bkua_{rng.getrandbits(160):040x}"


# --- Snapcraft (section 20) -----------------------------------------------------------------


def _v1_packet(key: str, value: bytes) -> bytes:
    body = key.encode() + b" " + value + b"\n"
    return f"{len(body) + 4:04x}".encode() + body


def macaroon_v1(location: str, identifier: bytes, caveats: list[list[tuple[str, bytes]]], signature: bytes) -> bytes:
    """pymacaroons' v1 serialisation (before base64url)."""
    packets = [_v1_packet("location", location.encode()), _v1_packet("identifier", identifier)]
    for caveat in caveats:
        packets.extend(_v1_packet(k, v) for k, v in caveat)
    packets.append(_v1_packet("signature", signature))
    return b"".join(packets)


def snapcraft_login(rng: random.Random, *, compact: bool = False, binary: bool = False) -> str:
    """``snapcraft export-login`` output: base64 of the u1-macaroon document with
    a store root macaroon (third-party caveat to login.ubuntu.com) and its discharge."""
    caveat_id = b64url(random_bytes(rng, 48)).encode()
    if binary:
        root = macaroon_v2(
            "api.snapcraft.io", str(uuid.UUID(int=rng.getrandbits(128))), [caveat_id], random_bytes(rng, 32)
        )
        discharge = macaroon_v2(
            "login.ubuntu.com", caveat_id.decode(), [b"login.ubuntu.com|last_auth|2026-01-01"], random_bytes(rng, 32)
        )
    else:
        third_party = [("cid", caveat_id), ("vid", random_bytes(rng, 72)), ("cl", b"login.ubuntu.com")]
        first_party = [("cid", b"api.snapcraft.io|valid_since|2026-01-01T00:00:00")]
        root = macaroon_v1(
            "api.snapcraft.io",
            rng.getrandbits(256).to_bytes(32, "big").hex().encode(),
            [first_party, third_party],
            random_bytes(rng, 32),
        )
        discharge = macaroon_v1(
            "login.ubuntu.com",
            caveat_id,
            [[("cid", b"login.ubuntu.com|account|" + b64url(random_bytes(rng, 60)).encode())]],
            random_bytes(rng, 32),
        )
    document = {"t": "u1-macaroon", "v": {"r": b64url(root), "d": b64url(discharge)}}
    text = compact_json(document) if compact else json.dumps(document)
    return base64.b64encode(text.encode()).decode()


def snapcraft_candid_login(rng: random.Random) -> str:
    macaroons = [
        {
            "c": [{"i": b64url(random_bytes(rng, 40))}],
            "l": "api.snapcraft.io",
            "i64": b64url(random_bytes(rng, 48)),
            "s64": b64url(random_bytes(rng, 32)),
        }
    ]
    document = {"t": "macaroon", "v": base64.b64encode(compact_json(macaroons).encode()).decode()}
    return base64.b64encode(json.dumps(document).encode()).decode()


# --- file contents ---------------------------------------------------------------------------

SA_PRETTY = (
    "{\n"
    '  "type": "service_account",\n'
    '  "project_id": "acme-artifacts-4821",\n'
    '  "private_key_id": "' + "9f2c" * 10 + '",\n'
    '  "private_key": "{secret}\\n",\n'
    '  "client_email": "publisher@acme-artifacts-4821.iam.gserviceaccount.com",\n'
    '  "client_id": "104857204857204857204",\n'
    '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",\n'
    '  "token_uri": "https://oauth2.googleapis.com/token",\n'
    '  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",\n'
    '  "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/'
    'publisher%40acme-artifacts-4821.iam.gserviceaccount.com",\n'
    '  "universe_domain": "googleapis.com"\n'
    "}\n"
)
SA_SORTED_ONE_LINE = (
    'GCP_SA_KEY=\'{"auth_provider_x509_cert_url":"https://www.googleapis.com/oauth2/v1/certs",'
    '"auth_uri":"https://accounts.google.com/o/oauth2/auth",'
    '"client_email":"ar-writer@build-infra-77.iam.gserviceaccount.com","client_id":"117441117441117441117",'
    '"private_key":"{secret}\\n","private_key_id":"' + "5e1a" * 10 + '","project_id":"build-infra-77",'
    '"token_uri":"https://oauth2.googleapis.com/token","type":"service_account"}\'\n'
)
JFROG_CLI_CONF = """{
  "servers": [
    {
      "url": "https://acme.jfrog.io/",
      "artifactoryUrl": "https://acme.jfrog.io/artifactory/",
      "user": "ci-deployer",
      "accessToken": "{secret}",
      "serverId": "acme",
      "isDefault": true
    }
  ],
  "version": "6"
}
"""

CASES = [
    # GitHub 2026 installation token
    TokenCase(
        "github-app-installation-token-jwt",
        github_installation_token,
        "GITHUB_TOKEN={secret}\n",
        scope="installation token (1 h)",
    ),
    TokenCase(
        "github-app-installation-token-jwt",
        expired_github_installation_token,
        "git clone https://x-access-token:{secret}@github.com/acme/tool.git\n",
        liveness=Liveness.EXPIRED,
        scope="installation token (1 h)",
        label="expired",
    ),
    # JFrog
    TokenCase(
        "jfrog-api-key",
        jfrog_api_key,
        "curl -H 'X-JFrog-Art-Api: {secret}' -T pkg.tgz https://acme.jfrog.io/artifactory/npm-local/\n",
        scope="API key",
    ),
    TokenCase("jfrog-api-key", jfrog_api_key, "ARTIFACTORY_API_KEY={secret}\n", label="env"),
    TokenCase(
        "jfrog-reference-token", jfrog_reference_token, "JF_ACCESS_TOKEN={secret}\n", scope="reference token (expires"
    ),
    TokenCase(
        "jfrog-reference-token",
        lambda r: jfrog_reference_token(r, expiry=0),
        "//acme.jfrog.io/artifactory/api/npm/npm/:_authToken={secret}\n",
        ".npmrc",
        scope="no expiry",
        label="no-expiry",
    ),
    TokenCase(
        "jfrog-reference-token",
        lambda r: jfrog_reference_token(r, expiry=now() - r.randint(DAY, 300 * DAY)),
        "password={secret}\n",
        liveness=Liveness.EXPIRED,
        label="expired",
    ),
    TokenCase(
        "jfrog-access-token",
        jfrog_access_token,
        JFROG_CLI_CONF,
        "jfrog-cli.conf.v6",
        scope="JFrog access token for user",
    ),
    TokenCase(
        "jfrog-access-token",
        lambda r: jfrog_access_token(r, scope="applied-permissions/admin", expires_in=None),
        "export JF_ACCESS_TOKEN={secret}\n",
        scope="instance administrator",
        label="admin-no-expiry",
    ),
    TokenCase(
        "jfrog-access-token",
        lambda r: jfrog_access_token(r, scope="member-of-groups:readers api:*", service="jfrt", expires_in=DAY),
        "Authorization: Bearer {secret}\n",
        scope="named groups",
        label="legacy-groups",
    ),
    TokenCase(
        "jfrog-access-token",
        lambda r: jfrog_access_token(r, expires_in=HOUR),
        "JFROG_ACCESS_TOKEN={secret}\n",
        liveness=Liveness.LIVE_LOOKING,
        label="one-hour",
    ),
    TokenCase(
        "jfrog-access-token",
        lambda r: jfrog_access_token(r, expires_in=-r.randint(HOUR, 30 * DAY)),
        "JF_ACCESS_TOKEN={secret}\n",
        liveness=Liveness.EXPIRED,
        label="expired",
    ),
    # Azure DevOps
    TokenCase(
        "azure-devops-pat",
        ado_cask_pat,
        "export AZURE_DEVOPS_EXT_PAT={secret}\n",
        scope="Azure DevOps personal access token (created",
    ),
    TokenCase(
        "azure-devops-pat",
        lambda r: ado_cask_pat(r, checksum_in_base64=True),
        "vsce publish -p {secret}\n",
        label="base64-checksum",
    ),
    TokenCase(
        "azure-devops-pat", ado_cask_pat, 'REPO="https://{secret}@dev.azure.com/acme/Tools/_git/tools"\n', label="url"
    ),
    # PATs whose platform bytes are all zero (…ACAAAAAAAAAAAAASAZDO…) are real too.
    TokenCase(
        "azure-devops-pat", lambda r: ado_cask_pat(r, zero_platform=True), "VSCE_PAT={secret}\n", label="zero-platform"
    ),
    TokenCase(
        "azure-devops-pat-legacy",
        ado_legacy_pat,
        "AZURE_DEVOPS_EXT_PAT={secret}\n",
        scope="personal access token (52-character format)",
    ),
    TokenCase(
        "azure-devops-pat-legacy",
        ado_legacy_pat,
        "git remote add origin https://build:{secret}@dev.azure.com/acme/Tools/_git/tools\n",
        label="url",
    ),
    TokenCase("azure-devops-pat-legacy", ado_legacy_pat, 'env:\n  VSCE_PAT: "{secret}"\n', label="vsce"),
    TokenCase(
        "azure-devops-pat-legacy",
        ado_legacy_pat,
        '<packageSourceCredentials>\n  <acme>\n    <add key="Username" value="build" />\n    <add key="ClearTextPassword" value="{secret}" />\n  </acme>\n</packageSourceCredentials>\n',
        "NuGet.Config",
        label="nuget-config",
    ),
    TokenCase(
        "azure-devops-pat-legacy",
        lambda r: ado_legacy_pat(r, ADO_APPLICATION_SEED),
        "index-url = https://acme:{secret}@pkgs.dev.azure.com/acme/_packaging/feed/pypi/simple/\n",
        "pip.conf",
        scope="application token",
        label="application",
    ),
    TokenCase(
        "azure-devops-pat-npmrc",
        lambda r: base64_text(ado_legacy_pat(r)),
        "; begin auth token\n//pkgs.dev.azure.com/acme/_packaging/feed/npm/registry/:username=acme\n"
        "//pkgs.dev.azure.com/acme/_packaging/feed/npm/registry/:_password={secret}\n; end auth token\n",
        ".npmrc",
        scope="52-character format",
    ),
    TokenCase(
        "azure-devops-pat-npmrc",
        lambda r: base64_text(ado_cask_pat(r)),
        "//acme.pkgs.visualstudio.com/_packaging/shared%40Local/npm/registry/:_password={secret}\n",
        ".npmrc",
        label="cask",
    ),
    # AWS CodeArtifact
    TokenCase(
        "aws-codeartifact-token",
        codeartifact_token,
        "registry=https://acme-123456789012.d.codeartifact.eu-west-1.amazonaws.com/npm/npm-store/\n"
        "//acme-123456789012.d.codeartifact.eu-west-1.amazonaws.com/npm/npm-store/:_authToken={secret}\n",
        ".npmrc",
        scope="CodeArtifact authorization token",
    ),
    TokenCase(
        "aws-codeartifact-token",
        expired_codeartifact_token,
        "[global]\nindex-url = https://aws:{secret}@acme-123456789012.d.codeartifact.us-east-1.amazonaws.com/pypi/pypi-store/simple/\n",
        "pip.conf",
        liveness=Liveness.EXPIRED,
        label="expired",
    ),
    # Google
    TokenCase(
        "google-service-account-key", service_account_pem, SA_PRETTY, "sa.json", scope="service-account key (RSA 2048)"
    ),
    TokenCase("google-service-account-key", service_account_pem, SA_SORTED_ONE_LINE, ".env", label="sorted-one-line"),
    TokenCase(
        "google-oauth-access-token",
        google_access_token,
        "//europe-west1-npm.pkg.dev/acme/npm/:_authToken={secret}\n",
        ".npmrc",
        liveness=Liveness.UNVERIFIABLE,
        scope="access token",
    ),
    TokenCase(
        "google-oauth-refresh-token",
        google_refresh_token,
        "CLIENT_ID=${{ secrets.CWS_CLIENT_ID }}\nREFRESH_TOKEN={secret}\n",
        liveness=Liveness.UNVERIFIABLE,
        scope="refresh token",
    ),
    TokenCase(
        "google-oauth-refresh-token",
        google_refresh_token,
        '{"accessToken":null,"refreshToken":"{secret}","tokenEndpoint":"https://oauth2.googleapis.com/token"}\n',
        "pub-credentials.json",
        liveness=Liveness.UNVERIFIABLE,
        label="pub",
    ),
    TokenCase(
        "google-oauth-client-secret",
        google_client_secret,
        '  "client_secret": "{secret}",\n',
        "client_secret.json",
        liveness=Liveness.UNVERIFIABLE,
        scope="client secret",
    ),
    # Buildkite
    TokenCase(
        "buildkite-packages-token",
        buildkite_packages_token,
        "//packages.buildkite.com/acme/npm-private/npm/:_authToken={secret}\n",
        ".npmrc",
        scope="Buildkite Packages",
    ),
    TokenCase(
        "buildkite-packages-token",
        lambda r: buildkite_packages_token(r, expires_in=None),
        "BUILDKITE_PACKAGES_TOKEN={secret}\n",
        label="no-expiry",
    ),
    TokenCase(
        "buildkite-packages-token",
        lambda r: buildkite_packages_token(r, expires_in=-r.randint(HOUR, 100 * DAY)),
        "curl -H 'Authorization: Bearer {secret}' https://api.buildkite.com/v2/packages/\n",
        liveness=Liveness.EXPIRED,
        label="expired",
    ),
    TokenCase(
        "buildkite-api-token",
        buildkite_api_token,
        "BUILDKITE_API_TOKEN={secret}\n",
        liveness=Liveness.UNVERIFIABLE,
        scope="Buildkite API access token",
    ),
    # Snapcraft
    TokenCase(
        "snapcraft-login", snapcraft_login, "export SNAPCRAFT_STORE_CREDENTIALS={secret}\n", scope="Snap Store login"
    ),
    TokenCase(
        "snapcraft-login",
        lambda r: snapcraft_login(r, compact=True, binary=True),
        "SNAPCRAFT_STORE_CREDENTIALS: {secret}\n",
        label="compact-v2",
    ),
    TokenCase("snapcraft-login", snapcraft_candid_login, "{secret}\n", "snapcraft-login", label="candid"),
]


def _jwt_with_bad_payload(rng: random.Random) -> str:
    token = jfrog_access_token(rng)
    header, _, signature = token.split(".")
    return ".".join((header, b64url(b'{"sub":"jfac@01h/users/x","scp":'), signature))


DECOYS = [
    DecoyCase(
        "web app jwt",
        lambda r: f"# session settings\nSESSION_JWT={other_jwt(r)}\nJWT_SECRET=${{JWT_SECRET}}\n",
        "app.env",
    ),
    DecoyCase(
        "non-jfrog jwt next to artifactory",
        lambda r: f"ARTIFACTORY_URL=https://acme.jfrog.io/artifactory  # auth: {other_jwt(r)}\n",
    ),
    DecoyCase("truncated jfrog access token", lambda r: f"JF_ACCESS_TOKEN={truncate(jfrog_access_token(r), r)}\n"),
    DecoyCase("jfrog token with broken payload", lambda r: f"JF_ACCESS_TOKEN={_jwt_with_bad_payload(r)}\n"),
    DecoyCase(
        "jfrog api key outside base58",
        lambda r: "X-JFrog-Art-Api: AKCp" + "".join(r.choice("0OIl" + BASE58_ALPHABET[:20]) for _ in range(69)) + "\n",
    ),
    DecoyCase("truncated jfrog api key", lambda r: f"ARTIFACTORY_API_KEY={jfrog_api_key(r)[:-5]}\n"),
    DecoyCase(
        "jfrog reference prefix with garbage", lambda r: "JF_ACCESS_TOKEN=" + "cmVmdGtuOjAx" + base62(r, 52) + "\n"
    ),
    DecoyCase(
        "jfrog placeholder",
        lambda r: (
            "JF_ACCESS_TOKEN=cmVmdXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\nAKCpXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n"
        ),
    ),
    DecoyCase(
        "truncated github installation token",
        lambda r: f"GITHUB_TOKEN={truncate(github_installation_token(r), r, (1, 30))}\n",
    ),
    DecoyCase(
        "ado legacy checksum changed",
        lambda r: f"AZURE_DEVOPS_EXT_PAT={change_one(ado_legacy_pat(r), r, 0, 51, BASE32_LOWER)}\n",
    ),
    DecoyCase(
        "ado legacy random with context",
        lambda r: "AZURE_DEVOPS_EXT_PAT=" + "".join(r.choice(BASE32_LOWER) for _ in range(52)) + "\n",
    ),
    DecoyCase("base32 without context", lambda r: "secret = " + ado_legacy_pat(r) + "\n"),
    DecoyCase("ado cask checksum changed", lambda r: f"AZURE_DEVOPS_EXT_PAT={change_one(ado_cask_pat(r), r, 80)}\n"),
    DecoyCase("ado cask body changed", lambda r: f"VSCE_PAT={change_one(ado_cask_pat(r), r, 0, 52)}\n"),
    DecoyCase(
        "ado npmrc password changed",
        lambda r: (
            f"//pkgs.dev.azure.com/acme/_packaging/f/npm/registry/:_password={base64_text(change_one(ado_legacy_pat(r), r, 0, 51, BASE32_LOWER))}\n"
        ),
        ".npmrc",
    ),
    DecoyCase(
        "ado npmrc placeholder",
        lambda r: (
            "//pkgs.dev.azure.com/acme/_packaging/f/npm/registry/:_password=[BASE64_ENCODED_PERSONAL_ACCESS_TOKEN]\n"
        ),
        ".npmrc",
    ),
    DecoyCase(
        "truncated codeartifact token",
        lambda r: "//d.codeartifact.amazonaws.com/npm/r/:_authToken=" + truncate(codeartifact_token(r), r) + "\n",
        ".npmrc",
    ),
    DecoyCase(
        "codeartifact variable",
        lambda r: (
            "export CODEARTIFACT_AUTH_TOKEN=`aws codeartifact get-authorization-token --domain acme --query authorizationToken --output text`\n"
        ),
    ),
    DecoyCase(
        "truncated service account key",
        lambda r: SA_PRETTY.replace("{secret}", service_account_pem(r)[:-200] + "\\n-----END PRIVATE KEY-----"),
    ),
    DecoyCase(
        "service account key with a changed modulus",
        lambda r: SA_PRETTY.replace("{secret}", pem(_flip_modulus(service_account_der(r)))),
    ),
    DecoyCase(
        "service account key placeholder",
        lambda r: SA_PRETTY.replace(
            "{secret}", "-----BEGIN PRIVATE KEY-----\\n<your private key>\\n-----END PRIVATE KEY-----"
        ),
    ),
    DecoyCase(
        "refresh-like path without keyword",
        lambda r: "see http://mirror.example.org:1//" + "".join(r.choice(B64URL_ALPHABET) for _ in range(40)) + "\n",
    ),
    DecoyCase(
        "google placeholders",
        lambda r: (
            "ACCESS=ya29.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nclient_secret=GOCSPX-XXXXXXXXXXXXXXXXXXXXXXXXXXXX\nREFRESH_TOKEN=1//xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
        ),
    ),
    DecoyCase(
        "buildkite garbage message",
        lambda r: "BUILDKITE_PACKAGES_TOKEN=bkpt_" + base62(r, 60) + "--" + f"{r.getrandbits(160):040x}\n",
    ),
    DecoyCase("truncated buildkite token", lambda r: f"BUILDKITE_PACKAGES_TOKEN={buildkite_packages_token(r)[:-8]}\n"),
    DecoyCase("truncated snapcraft login", lambda r: f"SNAPCRAFT_STORE_CREDENTIALS={snapcraft_login(r)[:-40]}\n"),
    DecoyCase(
        "snapcraft test fixture",
        lambda r: (
            "SNAPCRAFT_STORE_CREDENTIALS="
            + base64_text(
                json.dumps({"t": "u1-macaroon", "v": {"r": "fake root macaroon", "d": "fake discharge macaroon"}})
            )
            + "\n"
        ),
    ),
]


def _flip_modulus(der: bytes) -> bytes:
    """The key with one byte of its modulus changed: DER still parses, n != p x q."""
    position = 40  # well inside the modulus of a 2048-bit PKCS#8 key
    return der[:position] + bytes([der[position] ^ 0x01]) + der[position + 1 :]
