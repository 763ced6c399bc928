"""cosign / sigstore private keys: ``-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----``
(cosign >= 2) and ``ENCRYPTED COSIGN PRIVATE KEY`` (v1).

The PEM body is JSON from go-securesystemslib ``encrypted``: scrypt parameters
and salt, a NaCl secretbox nonce and the sealed PKCS#8 key. The structure is
checked offline, then the empty password is tried (``COSIGN_PASSWORD=""`` is
common in CI): if it opens the box, anyone holding the block can sign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators import secretbox
from scanner.validators.armor import unescape_block, unwrap_base64
from scanner.validators.base import Validator

_BLOCK = re.compile(r"-----BEGIN (ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY)-----(.*?)-----END \1-----", re.DOTALL)
# base64 of "-----BEGIN ENCRYPTED ": how the block looks after `base64 -w0 cosign.key`.
BASE64_PREFIX = "LS0tLS1CRUdJTiBFTkNSWVBURUQg"
_SALT_SIZE = 32
# Trying the empty password costs one scrypt run; only with parameters in the
# range cosign writes (N = 2^15, r = 8, p = 1, or the 2^16 "standard" set), so a
# crafted block cannot make the scanner spend gigabytes or minutes.
_MAX_N, _MAX_R, _MAX_P = 1 << 16, 8, 1


class CosignError(ValueError):
    """Not a well-formed encrypted cosign key."""


@dataclass(frozen=True)
class EncryptedKey:
    label: str
    n: int
    r: int
    p: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise CosignError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CosignError(f"{what} is not base64") from exc


def _pem_body(secret: str) -> tuple[str, bytes]:
    text = secret.strip()
    if text.startswith(BASE64_PREFIX):
        unwrapped = unwrap_base64(text, "-----END ENCRYPTED ")
        if unwrapped is None:
            raise CosignError("the base64-wrapped block does not decode to a key file")
        text = unwrapped
    text = unescape_block(text)
    match = _BLOCK.search(text)
    if match is None:
        raise CosignError("no matching BEGIN/END lines")
    body = "".join(line.strip().strip("\"'") for line in match.group(2).split("\n"))
    try:
        return match.group(1), base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CosignError("the PEM body is not base64") from exc


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse(secret: str) -> EncryptedKey:
    """Decode the PEM block and its JSON envelope, or raise CosignError."""
    label, raw = _pem_body(secret)
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CosignError("the PEM body is not JSON") from exc
    if not isinstance(envelope, dict):
        raise CosignError("the PEM body is not a JSON object")
    kdf, cipher = envelope.get("kdf"), envelope.get("cipher")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise CosignError("kdf is not scrypt")
    if not isinstance(cipher, dict) or cipher.get("name") != "nacl/secretbox":
        raise CosignError("cipher is not nacl/secretbox")
    params = kdf.get("params")
    if not isinstance(params, dict) or not all(_positive_int(params.get(k)) for k in ("N", "r", "p")):
        raise CosignError("scrypt parameters are missing")
    key = EncryptedKey(
        label=label,
        n=params["N"],
        r=params["r"],
        p=params["p"],
        salt=_b64(kdf.get("salt"), "salt"),
        nonce=_b64(cipher.get("nonce"), "nonce"),
        ciphertext=_b64(envelope.get("ciphertext"), "ciphertext"),
    )
    if len(key.salt) != _SALT_SIZE:
        raise CosignError(f"salt is {len(key.salt)} bytes, not {_SALT_SIZE}")
    if len(key.nonce) != secretbox.NONCE_SIZE:
        raise CosignError(f"nonce is {len(key.nonce)} bytes, not {secretbox.NONCE_SIZE}")
    if len(key.ciphertext) <= secretbox.TAG_SIZE:
        raise CosignError("ciphertext is too short to hold a key")
    return key


def open_with(key: EncryptedKey, password: bytes) -> bytes | None:
    """The PKCS#8 key if ``password`` opens the box; None if it does not or
    the scrypt parameters are outside what cosign writes."""
    if key.n > _MAX_N or key.n & (key.n - 1) or key.r > _MAX_R or key.p > _MAX_P:
        return None
    box_key = hashlib.scrypt(
        password, salt=key.salt, n=key.n, r=key.r, p=key.p, maxmem=256 * key.r * key.n + (1 << 20), dklen=32
    )
    return secretbox.open_box(box_key, key.nonce, key.ciphertext)


class CosignPrivateKey(Validator):
    """Structure of an encrypted cosign/sigstore key, and whether the empty password opens it."""

    structured = True

    name = "cosign-private-key"

    def check(self, secret: str) -> StructureResult:
        try:
            key = parse(secret)
        except CosignError as exc:
            return StructureResult(Liveness.FAKE, reason=f"not an encrypted cosign key: {exc}")
        plaintext = open_with(key, b"")
        if plaintext is not None:  # the Poly1305 tag verified: the password is right
            return StructureResult(
                Liveness.LIVE_LOOKING,
                reason="decrypts with an empty password",
                scope=(
                    "cosign signing key encrypted with an EMPTY password: "
                    "usable by anyone to sign images and artifacts"
                ),
                breadth=Breadth.ACCOUNT,
            )
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason=f"{key.label} decodes (scrypt N={key.n}, nacl/secretbox); not the empty password",
            scope="cosign signing key (encrypted; the password may be nearby, e.g. COSIGN_PASSWORD)",
        )
