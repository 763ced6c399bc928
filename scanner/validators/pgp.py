"""OpenPGP private keys: armored blocks (RFC 4880 section 6, the packets inside)
and GnuPG's private-keys-v1.d key files.

Tells an unprotected secret key (usable by anyone who reads it) from a
passphrase-protected one and from exports that hold no secret at all (GnuPG
stubs for keys kept on a smartcard or not exported), and names the key
(algorithm, fingerprint, first user id) so it can be found and revoked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from scanner.model import Breadth, Liveness, StructureResult
from scanner.validators.armor import unescape_block, unwrap_base64
from scanner.validators.base import Validator

BEGIN = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
END = "-----END PGP PRIVATE KEY BLOCK-----"
# base64 of the BEGIN line: how a key looks after `base64 -w0 key.asc`, the usual
# way to fit it into one CI variable.
BASE64_PREFIX = "LS0tLS1CRUdJTiBQR1AgUFJJVkFURSBLRVkgQkxPQ0st"

_TAG_SECRET_KEY = 5
_TAG_SECRET_SUBKEY = 7
_TAG_USER_ID = 13

_ALGORITHMS = {
    1: "RSA",
    2: "RSA",
    3: "RSA",
    16: "Elgamal",
    17: "DSA",
    18: "ECDH",
    19: "ECDSA",
    20: "Elgamal",
    22: "EdDSA",
    25: "X25519",
    26: "X448",
    27: "Ed25519",
    28: "Ed448",
}
# Public-key MPIs and secret-key MPIs per algorithm for v3/v4 keys (RFC 4880
# 5.5.2, 5.5.3; RFC 6637; the EdDSA draft). ECC keys start with a curve OID.
_PUBLIC_MPIS = {1: 2, 2: 2, 3: 2, 16: 3, 20: 3, 17: 4}
_SECRET_MPIS = {1: 4, 2: 4, 3: 4, 16: 1, 20: 1, 17: 1, 18: 1, 19: 1, 22: 1}
# RFC 9580 native key formats: fixed-size public and secret fields.
_NATIVE_SIZES = {25: (32, 32), 26: (56, 56), 27: (32, 32), 28: (57, 57)}
_CURVES = {
    "2a8648ce3d030107": "P-256",
    "2b81040022": "P-384",
    "2b81040023": "P-521",
    "2b06010401da470f01": "Ed25519",
    "2b060104019755010501": "Curve25519",
    "2b2403030208010107": "brainpoolP256r1",
    "2b240303020801010b": "brainpoolP384r1",
    "2b240303020801010d": "brainpoolP512r1",
}
# S2K usage octet: 0 = secret material in the clear; these = protected by a
# passphrase; any other value names a cipher (legacy, also protected).
_S2K_AEAD, _S2K_SHA1, _S2K_CHECKSUM = 253, 254, 255
# GnuPG's private S2K extension: "GNU" + mode 1 (no secret: stub) or 2 (on a card).
_S2K_GNU = 101


class PgpError(ValueError):
    """The block is not a well-formed OpenPGP private-key export."""


class _UnknownAlgorithm(PgpError):
    """A public-key algorithm whose fields this module does not know."""


@dataclass
class SecretPacket:
    """What one Secret-Key or Secret-Subkey packet says about its secret."""

    version: int
    algorithm: int
    protection: str  # "none", "passphrase", "stub", "card", "unknown"
    bits: int | None = None
    curve: str | None = None
    fingerprint: str | None = None


@dataclass
class PgpKey:
    """A decoded private-key block."""

    packets: list[SecretPacket] = field(default_factory=list)
    user_id: str | None = None
    truncated: bool = False


# ---------------------------------------------------------------- armor


_HEADER = re.compile(r"[A-Za-z][A-Za-z0-9-]*:\s")
_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/=]+")


def _crc24_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
        table.append(crc & 0xFFFFFF)
    return tuple(table)


_CRC24_TABLE = _crc24_table()


def crc24(data: bytes) -> int:
    """The OpenPGP armor checksum (RFC 4880 6.1): CRC-24, init 0xB704CE, poly 0x1864CFB."""
    crc = 0xB704CE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ _CRC24_TABLE[(crc >> 16) ^ byte]
    return crc


def dearmor(text: str) -> bytes:
    """The binary packets inside an armored private-key block (or its base64).

    Lenient about layout (indentation, escaped newlines, a lost blank line after
    the headers), strict about content: the body must be base64 and, when the
    optional ``=XXXX`` CRC-24 line is present, must match it.
    """
    text = text.strip()
    if text.startswith(BASE64_PREFIX):
        unwrapped = unwrap_base64(text, END)
        if unwrapped is None:
            raise PgpError("the base64-wrapped block does not decode to an armored key")
        text = unwrapped
    text = unescape_block(text)
    start = text.find(BEGIN)
    end = text.find(END, start + 1)
    if start < 0 or end < 0:
        raise PgpError("no BEGIN/END armor lines")
    lines = [line.strip().strip("\"'") for line in text[start + len(BEGIN) : end].split("\n")]
    body: list[str] = []
    checksum: str | None = None
    for line in lines:
        if not line:
            continue
        if not body and _HEADER.match(line + " "):
            continue  # an armor header such as "Version: GnuPG v2" or "Comment: ..."
        if line.startswith("=") and len(line) == 5:
            checksum = line[1:]
            break
        for word in line.split():  # a block flattened onto one line keeps spaces
            if word.startswith("=") and len(word) == 5 and body:
                checksum = word[1:]
                break
            body.append(word)
    data = "".join(body)
    if not data or not _BASE64_CHARS.fullmatch(data) or len(data) % 4:
        raise PgpError("the armored body is not base64")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PgpError("the armored body is not base64") from exc
    if checksum is not None:
        try:
            expected = int.from_bytes(base64.b64decode(checksum, validate=True), "big")
        except (binascii.Error, ValueError) as exc:
            raise PgpError("the armor checksum line is not base64") from exc
        if crc24(raw) != expected:
            raise PgpError("the armor checksum (CRC-24) does not match: altered or truncated")
    return raw


# ---------------------------------------------------------------- packets


class _Reader:
    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > self.end:
            raise PgpError("truncated packet")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def mpi(self) -> tuple[int, bytes]:
        bits = self.number(2)
        return bits, self.take((bits + 7) // 8)


def split_packets(raw: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """(tag, body) of each packet, and whether the data ended mid-packet."""
    packets: list[tuple[int, bytes]] = []
    reader = _Reader(raw)
    while reader.pos < reader.end:
        try:
            tag, length = _packet_header(reader)
            packets.append((tag, reader.take(length)))
        except PgpError:
            return packets, True
    return packets, False


def _packet_header(reader: _Reader) -> tuple[int, int]:
    first = reader.byte()
    if not first & 0x80:
        raise PgpError("not an OpenPGP packet")
    if first & 0x40:  # new format (RFC 4880 4.2.2)
        tag = first & 0x3F
        octet = reader.byte()
        if octet < 192:
            return tag, octet
        if octet < 224:
            return tag, ((octet - 192) << 8) + reader.byte() + 192
        if octet == 255:
            return tag, reader.number(4)
        raise PgpError("partial body length in a key packet")
    tag = (first >> 2) & 0x0F
    length_type = first & 0x03
    if length_type == 3:
        raise PgpError("indeterminate length in a key packet")
    return tag, reader.number((1, 2, 4)[length_type])


def parse_secret_packet(body: bytes) -> SecretPacket:
    """Read a Secret-Key / Secret-Subkey packet body far enough to know
    whether its secret is in the clear."""
    reader = _Reader(body)
    version = reader.byte()
    if version not in (3, 4, 5, 6):
        raise PgpError(f"unknown key version {version}")
    reader.take(4)  # creation time
    if version == 3:
        reader.take(2)  # validity days
    algorithm = reader.byte()
    if version in (5, 6):
        # the public material's length is explicit: an unknown algorithm can be skipped
        length = reader.number(4)
        start = reader.pos
        reader.take(length)
        public_end = reader.pos
        try:
            bits, curve = _public_material(_Reader(body, start, public_end), algorithm)
        except _UnknownAlgorithm:
            bits, curve = None, None
    else:
        try:
            bits, curve = _public_material(reader, algorithm)
        except _UnknownAlgorithm:
            # where the S2K usage octet sits depends on the algorithm's fields
            return SecretPacket(version, algorithm, "unknown")
        public_end = reader.pos
    packet = SecretPacket(version, algorithm, "unknown", bits, curve, _fingerprint(version, body[:public_end]))
    usage = reader.byte()
    if usage == 0:
        packet.protection = "none"
        _check_clear_secret(reader, version, algorithm)
        return packet
    packet.protection = _protected_kind(reader, version, usage)
    return packet


def _public_material(reader: _Reader, algorithm: int) -> tuple[int | None, str | None]:
    """Skip the public key fields; return (bits, curve) where they say."""
    if algorithm in _PUBLIC_MPIS:
        bits = None
        for index in range(_PUBLIC_MPIS[algorithm]):
            size, _ = reader.mpi()
            if index == 0:
                bits = size
        return bits, None
    if algorithm in (18, 19, 22):
        oid = reader.take(reader.byte())
        reader.mpi()  # the public point
        if algorithm == 18:
            reader.take(reader.byte())  # KDF parameters
        return None, _CURVES.get(oid.hex(), f"curve {oid.hex()}")
    if algorithm in _NATIVE_SIZES:
        reader.take(_NATIVE_SIZES[algorithm][0])
        return None, None
    raise _UnknownAlgorithm(f"unknown public-key algorithm {algorithm}")


def _check_clear_secret(reader: _Reader, version: int, algorithm: int) -> None:
    """An unprotected v3/v4 secret ends in a two-octet sum of its bytes (RFC
    4880 5.5.3): check it, so an edited or fabricated block is caught."""
    if version not in (3, 4):
        return  # v5/v6 dropped the checksum; nothing more to check offline
    start = reader.pos
    if algorithm in _SECRET_MPIS:
        for _ in range(_SECRET_MPIS[algorithm]):
            reader.mpi()
    elif algorithm in _NATIVE_SIZES:
        reader.take(_NATIVE_SIZES[algorithm][1])
    else:
        return
    material = reader.data[start : reader.pos]
    if reader.number(2) != sum(material) & 0xFFFF:
        raise PgpError("the secret-key checksum does not match: altered or fabricated")


def _protected_kind(reader: _Reader, version: int, usage: int) -> str:
    """'passphrase', or 'stub'/'card' for GnuPG's S2K extension (no secret here)."""
    if usage not in (_S2K_AEAD, _S2K_SHA1, _S2K_CHECKSUM):
        return "passphrase"  # legacy: the octet is a cipher id, simple MD5 S2K
    try:
        if version in (5, 6):
            reader.byte()  # count of the S2K fields that follow
        reader.byte()  # symmetric cipher
        if usage == _S2K_AEAD:
            reader.byte()  # AEAD mode
        if version == 6:
            reader.byte()  # S2K specifier length
        specifier = reader.byte()
        if specifier == _S2K_GNU:
            reader.byte()  # hash algorithm
            if reader.take(3) == b"GNU":
                mode = reader.byte()
                return {1: "stub", 2: "card"}.get(mode, "passphrase")
    except PgpError:
        pass  # protected either way; the S2K details are only a refinement
    return "passphrase"


def _fingerprint(version: int, public_body: bytes) -> str | None:
    """The key's fingerprint (RFC 4880 12.2, RFC 9580 5.5.4), from its public part."""
    if version == 4:
        return hashlib.sha1(b"\x99" + len(public_body).to_bytes(2, "big") + public_body).hexdigest().upper()
    if version in (5, 6):
        prefix = b"\x9a" if version == 5 else b"\x9b"
        return hashlib.sha256(prefix + len(public_body).to_bytes(4, "big") + public_body).hexdigest().upper()
    return None  # v3 fingerprints use MD5 over the MPIs; not worth it for such old keys


def decode_key(raw: bytes) -> PgpKey:
    """Every secret (sub)key packet and the first user id; the first packet
    must be a Secret-Key packet."""
    packets, truncated = split_packets(raw)
    if not packets:
        raise PgpError("no OpenPGP packet")
    if packets[0][0] != _TAG_SECRET_KEY:
        raise PgpError(f"first packet has tag {packets[0][0]}, not a Secret-Key packet (5)")
    key = PgpKey(truncated=truncated)
    for index, (tag, body) in enumerate(packets):
        if tag in (_TAG_SECRET_KEY, _TAG_SECRET_SUBKEY):
            try:
                key.packets.append(parse_secret_packet(body))
            except PgpError:
                if index == 0:
                    raise
                key.truncated = True  # a damaged subkey: judge by what did parse
        elif tag == _TAG_USER_ID and key.user_id is None:
            key.user_id = _printable(body.decode("utf-8", "replace"))
    return key


def _printable(text: str, limit: int = 80) -> str:
    cleaned = "".join(c for c in text if c.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


# ---------------------------------------------------------------- verdict


def _describe(packet: SecretPacket) -> str:
    name = _ALGORITHMS.get(packet.algorithm, f"algorithm {packet.algorithm}")
    if packet.bits:
        name += f" {packet.bits}"
    elif packet.curve:
        name += f" {packet.curve}"
    if packet.fingerprint:
        name += f", fingerprint {packet.fingerprint}"
    return name


def judge_key(key: PgpKey) -> StructureResult:
    """Liveness, scope and breadth of a decoded private-key block."""
    primary = key.packets[0]
    who = f" for {key.user_id!r}" if key.user_id else ""
    label = f"OpenPGP private key ({_describe(primary)}){who}"
    kinds = {p.protection for p in key.packets}
    if "none" in kinds:
        which = "" if primary.protection == "none" else " (a subkey)"
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="armor and Secret-Key packet decode; secret material is not passphrase-protected",
            scope=f"{label}; unprotected{which}: usable by anyone to sign releases, tags and commits as its owner",
            breadth=Breadth.ACCOUNT,
        )
    if "unknown" in kinds and "passphrase" not in kinds:
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="armor and Secret-Key packet decode; the key's algorithm is not one this check knows",
            scope=f"{label}; whether it is passphrase-protected could not be read",
        )
    if "passphrase" in kinds:
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="armor and Secret-Key packet decode; secret material is passphrase-protected",
            scope=(
                f"{label}; passphrase-protected: usable by whoever also has the passphrase "
                "(look for a *_PASSPHRASE / signing password next to it)"
            ),
        )
    return StructureResult(
        Liveness.FAKE,
        reason="no secret key material: GnuPG stubs for keys kept on a smartcard or not exported",
    )


class PgpPrivateKey(Validator):
    """Decodes an armored OpenPGP private-key block (also escaped or base64-wrapped)."""

    structured = True

    name = "pgp-private-key"

    def check(self, secret: str) -> StructureResult:
        try:
            key = decode_key(dearmor(secret))
        except PgpError as exc:
            return StructureResult(Liveness.FAKE, reason=f"not a usable OpenPGP private key: {exc}")
        return judge_key(key)


# ---------------------------------------------------------------- GnuPG key files

# GnuPG >= 2.1 keeps each secret key in private-keys-v1.d/<keygrip>.key; the
# extended (text) format holds it as an S-expression in a "Key:" item.
_SEXP_KIND = re.compile(r"\((protected-private-key|shadowed-private-key|private-key)\s*\(\s*(rsa|ecc|dsa|elg)\b")
_SEXP_CURVE = re.compile(r"\(\s*curve\s+\"?([\w.-]+)")
# the secret parts: d (RSA, ECC) or x (DSA, Elgamal), as #hex# or a quoted string
_SEXP_SECRET = re.compile(r"\(\s*[dx]\s+(?:#[0-9A-Fa-f\s]{32,}#|\"[^\"]{16,}\")")
_SEXP_PROTECTED = re.compile(r"\(\s*protected\s+openpgp-[\w-]+\s")


class GnupgKeyFile(Validator):
    """A GnuPG private-keys-v1.d key in the extended text format."""

    structured = True

    name = "gnupg-key-file"

    def check(self, secret: str) -> StructureResult:
        text = unescape_block(secret)
        # continuation lines start with a space; where GnuPG broke the line is
        # not known (inside a hex string or between elements), so try both joins
        verdicts = [self._judge(re.sub(r"\n[ \t]", "", text)), self._judge(re.sub(r"\n[ \t]+", " ", text))]
        return next((v for v in verdicts if v.liveness is not Liveness.FAKE), verdicts[0])

    def _judge(self, text: str) -> StructureResult:
        kind = _SEXP_KIND.search(text)
        if kind is None:
            return StructureResult(Liveness.FAKE, reason="not a GnuPG private-key S-expression")
        curve = _SEXP_CURVE.search(text)
        label = f"GnuPG private key file ({kind.group(2).upper()}{' ' + curve.group(1) if curve else ''})"
        if kind.group(1) == "shadowed-private-key":
            return StructureResult(Liveness.FAKE, reason="a shadowed key: the secret lives on a smartcard or token")
        if kind.group(1) == "protected-private-key":
            if not _SEXP_PROTECTED.search(text):
                return StructureResult(Liveness.FAKE, reason="protected key without its protected element (truncated?)")
            return StructureResult(
                Liveness.LIVE_LOOKING,
                reason="protected-private-key S-expression",
                scope=f"{label}; passphrase-protected: usable by whoever also has the passphrase",
            )
        if not _SEXP_SECRET.search(text):
            return StructureResult(Liveness.FAKE, reason="private-key without its secret parameter (truncated?)")
        return StructureResult(
            Liveness.LIVE_LOOKING,
            reason="private-key S-expression with its secret parameter in the clear",
            scope=f"{label}; unprotected: usable by anyone to sign as the key's owner",
            breadth=Breadth.ACCOUNT,
        )
