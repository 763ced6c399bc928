"""Google service-account keys (registry-credentials.md section 14): the
``private_key`` PEM of a ``"type": "service_account"`` JSON key file.

The PEM must hold a DER PKCS#8 PrivateKeyInfo; for RSA keys (what Google
issues) the modulus must equal p x q, which no hand-made or damaged key passes.
"""

from __future__ import annotations

import base64
import binascii
import re

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.base import Validator

_HEADER = "-----BEGIN PRIVATE KEY-----"
_FOOTER = "-----END PRIVATE KEY-----"
# Inside JSON the PEM's line breaks are \n escapes (doubled when the JSON is
# itself embedded in a string); in other files they are real line breaks.
_BREAKS = re.compile(r"\\+[nr]|\s")
_SEQUENCE, _INTEGER, _OCTET_STRING, _OID = 0x30, 0x02, 0x04, 0x06
_RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption
_MIN_RSA_BITS = 512


class DerError(ValueError):
    """The bytes are not the expected DER structure."""


def read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER element at ``offset``: (tag, content, offset after it)."""
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        size = first & 0x7F
        if not 1 <= size <= 4 or offset + size > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    end = offset + length
    if end > len(data):
        raise DerError("truncated")
    return tag, data[offset:end], end


def read_sequence(data: bytes) -> list[tuple[int, bytes]]:
    """The elements of a DER SEQUENCE that spans all of ``data`` exactly."""
    tag, content, end = read_tlv(data, 0)
    if tag != _SEQUENCE or end != len(data):
        raise DerError("not one DER SEQUENCE")
    return elements_of(content)


def elements_of(content: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) elements that make up a constructed element's content."""
    elements: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(content):
        element_tag, element, offset = read_tlv(content, offset)
        elements.append((element_tag, element))
    return elements


def _integer(element: tuple[int, bytes]) -> int:
    tag, content = element
    if tag != _INTEGER or not content:
        raise DerError("expected an INTEGER")
    return int.from_bytes(content, "big", signed=True)


def pem_der(pem: str) -> bytes:
    """The DER bytes inside a ``BEGIN PRIVATE KEY`` PEM (raw or JSON-escaped)."""
    if not pem.startswith(_HEADER) or not pem.endswith(_FOOTER):
        raise DerError("not a complete PRIVATE KEY PEM")
    body = _BREAKS.sub("", pem[len(_HEADER) : -len(_FOOTER)])
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DerError("PEM body is not base64") from exc


def rsa_key_bits(der: bytes) -> int | None:
    """Modulus size of a PKCS#8 RSA key (None for other algorithms); DerError
    when the structure is wrong or the modulus is not p x q."""
    elements = read_sequence(der)
    if len(elements) < 3 or _integer(elements[0]) not in (0, 1):
        raise DerError("not a PKCS#8 PrivateKeyInfo")
    if elements[1][0] != _SEQUENCE:
        raise DerError("no algorithm identifier")
    algorithm = elements_of(elements[1][1])
    if not algorithm or algorithm[0][0] != _OID:
        raise DerError("no algorithm identifier")
    if elements[2][0] != _OCTET_STRING:
        raise DerError("no private key octet string")
    if algorithm[0][1] != _RSA_OID:
        return None
    numbers = [_integer(e) for e in read_sequence(elements[2][1])]
    if len(numbers) < 9:
        raise DerError("RSAPrivateKey lacks its nine integers")
    _, modulus, _, _, prime1, prime2, *_ = numbers
    if modulus.bit_length() < _MIN_RSA_BITS or modulus != prime1 * prime2:
        raise DerError("RSA modulus is not the product of its primes (damaged or fabricated)")
    return modulus.bit_length()


class GoogleServiceAccountKey(Validator):
    """The private key of a service-account JSON key file parses, and an RSA
    key's modulus equals the product of its primes."""

    structured = True

    name = "google-service-account-key"

    def check(self, secret: str) -> StructureResult:
        try:
            bits = rsa_key_bits(pem_der(secret))
        except DerError as exc:
            return StructureResult(Liveness.FAKE, reason=f"malformed private key: {exc} (truncated or fabricated?)")
        algorithm = f"RSA {bits}" if bits else "non-RSA"
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="PKCS#8 key parses" + ("; modulus = p x q" if bits else ""),
            scope=f"Google Cloud service-account key ({algorithm}): acts as the service account, "
            "with every IAM role it holds (e.g. Artifact Registry writer)",
            breadth=Breadth.ACCOUNT,
        )
