"""What ``sprawl hunt`` looks for: leaked values read from a file or stdin (never
from the command line, where shell history and ``ps`` would keep them), or
sha256 digests of values the responder does not hold."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import ConfigError

# Shorter values would be found all over any text; the responder hunts a
# credential, not a word.
MIN_SECRET_LENGTH = 6
_HEX = frozenset(string.hexdigits)


@dataclass(frozen=True)
class HuntTargets:
    """Values to find (kept out of every repr) and sha256 digests (lower-case hex)."""

    values: tuple[str, ...] = field(default=(), repr=False)
    digests: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.values and not self.digests:
            raise ConfigError("nothing to hunt: give a secret (--secret-file, --secret-stdin) or --sha256")


def value_sha256(value: str) -> str:
    """The digest a responder would compute: sha256 of the value's UTF-8 bytes."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def parse_secrets(text: str, origin: str) -> tuple[str, ...]:
    """One secret per line: trailing whitespace (and the ``\\r`` of CRLF) is
    stripped, blank lines are ignored, repeats are kept once.

    Errors name ``origin`` and the line, never the value."""
    values: list[str] = []
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        value = line.rstrip()
        if not value:
            continue
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{origin}: line {number}: too short to hunt (at least {MIN_SECRET_LENGTH} characters; "
                "one secret per line)"
            )
        if value not in values:
            values.append(value)
    if not values:
        raise ConfigError(f"{origin}: no secret in it (one per line; blank lines are ignored)")
    return tuple(values)


def read_secret_bytes(data: bytes, origin: str) -> tuple[str, ...]:
    """Secrets from raw bytes (a file or a pipe), which must be UTF-8 text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{origin}: not UTF-8 text (byte {exc.start})") from exc
    return parse_secrets(text, origin)


def read_secret_file(path: Path) -> tuple[str, ...]:
    """The secrets listed in ``path``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--secret-file {path}: cannot read it: {exc.strerror or exc}") from exc
    return read_secret_bytes(data, f"--secret-file {path}")


def parse_sha256(text: str) -> str:
    """A sha256 digest given on the command line, lower-cased."""
    digest = text.strip().lower()
    if len(digest) != 64 or not set(digest) <= _HEX:
        # Not echoed: a responder may have pasted the secret itself here.
        raise ConfigError(
            f"--sha256: a value of {len(text)} characters is not a sha256 digest (64 hexadecimal characters); "
            "to hunt the value itself, give it with --secret-file or --secret-stdin"
        )
    return digest
