"""Baselines: fingerprints of accepted findings, with who accepted them, why and
until when, so a scan reports only what is new. Keyed fingerprints only: a
baseline file never holds a secret, nor any part or redaction of one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.model import Finding, ScanResult

BASELINE_VERSION = 1
DEFAULT_BASELINE_FILE = ".sprawl-baseline.json"
KEY_ENV = "SPRAWL_BASELINE_KEY"

# The key used when neither SPRAWL_BASELINE_KEY nor the config's baseline-key
# is set. A public default is acceptable because a fingerprint of a secret is
# only as strong as the secret's own entropy: a random 40-character token
# cannot be recovered from its HMAC whatever the key. The key matters for
# low-entropy values (a password caught by a context rule), which could be
# confirmed by hashing dictionary guesses under a known key; a team whose
# baseline is readable by others should set its own random key.
DEFAULT_BASELINE_KEY = "sprawl-baseline-default-key/v1"

# Fed to the HMAC before the fields, so these fingerprints can never collide
# with an HMAC of something else under the same key.
_FINGERPRINT_DOMAIN = b"sprawl-fingerprint/v1\0"
_KEY_CHECK_INPUT = b"sprawl-baseline-key-check/v1"
_KEY_CHECK_LENGTH = 16

_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_KEY_CHECK = re.compile(rf"[0-9a-f]{{{_KEY_CHECK_LENGTH}}}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_TOP_KEYS = ("entries", "key_check", "version")
_ENTRY_KEYS = ("expires", "fingerprint", "hint", "owner", "reason", "rule_id")
# Keys that suggest a value (or part of one) was written into the file by
# hand or by another tool; such a file is refused rather than kept in git.
_PLAINTEXT_KEYS = frozenset(
    {"secret", "value", "token", "password", "plaintext", "raw", "redacted", "match", "key", "credential"}
)


def baseline_key(configured: str | None) -> bytes:
    """The HMAC key: the configured one (SPRAWL_BASELINE_KEY or config
    ``baseline-key``, resolved by the caller), else DEFAULT_BASELINE_KEY.
    An empty string counts as not set, as an empty environment variable does."""
    return (configured or DEFAULT_BASELINE_KEY).encode("utf-8", "surrogatepass")


def fingerprint(key: bytes, rule_id: str, secret: str) -> str:
    """HMAC-SHA256 (hex) of the rule id and the secret under ``key``.

    Each field is length-prefixed, so no (rule id, secret) pair can encode to
    the same bytes as another. Nothing about the location goes in: the
    fingerprint survives line moves, renames, squash merges and rebases.
    """
    message = bytearray(_FINGERPRINT_DOMAIN)
    for part in (rule_id, secret):
        data = part.encode("utf-8", "surrogatepass")
        message += len(data).to_bytes(8, "big") + data
    return hmac.new(key, bytes(message), hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    """A short HMAC of a fixed string: tells a wrong key from "nothing
    matches" (an update or prune under the wrong key would otherwise
    duplicate or drop every entry)."""
    return hmac.new(key, _KEY_CHECK_INPUT, hashlib.sha256).hexdigest()[:_KEY_CHECK_LENGTH]


@dataclass(frozen=True)
class BaselineEntry:
    """One accepted finding. ``hint`` says where it was first seen (a path,
    set once and never rewritten) so a reader knows what the entry is about."""

    fingerprint: str
    rule_id: str
    reason: str = ""
    owner: str = ""
    expires: date | None = None
    hint: str = ""

    def expired(self, today: date) -> bool:
        """True once ``today`` is past the expiry day (the day itself still counts)."""
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Baseline:
    """Every accepted finding, sorted by fingerprint, and a check value of the
    key the fingerprints were made with. Build with ``Baseline.of``."""

    key_check: str
    entries: tuple[BaselineEntry, ...] = ()
    version: int = BASELINE_VERSION

    @classmethod
    def of(cls, key_check: str, entries: Iterable[BaselineEntry]) -> Baseline:
        return cls(key_check=key_check, entries=tuple(sorted(entries, key=lambda e: e.fingerprint)))

    def by_fingerprint(self) -> dict[str, BaselineEntry]:
        return {entry.fingerprint: entry for entry in self.entries}


def _hint(finding: Finding) -> str:
    path = finding.occurrences[0].provenance.path if finding.occurrences else ""
    # A path is not secret, but one that embeds the value (a file named after
    # the token, a URL with credentials) must not carry it into the file.
    return path.replace(finding.secret, "[REDACTED]") if finding.secret else path


def _entries_for(
    findings: Iterable[Finding], key: bytes, *, reason: str, owner: str, expires: date | None
) -> dict[str, BaselineEntry]:
    entries: dict[str, BaselineEntry] = {}
    for finding in findings:
        fp = fingerprint(key, finding.rule_id, finding.secret)
        entries.setdefault(
            fp,
            BaselineEntry(
                fingerprint=fp,
                rule_id=finding.rule_id,
                reason=reason,
                owner=owner,
                expires=expires,
                hint=_hint(finding),
            ),
        )
    return entries


def _require_key(baseline: Baseline, key: bytes, origin: str = "the baseline") -> None:
    if not hmac.compare_digest(baseline.key_check, key_check(key)):
        raise ConfigError(
            f"{origin}: made with a different baseline key; set the same {KEY_ENV} "
            "(or config baseline-key) that created it"
        )


def create_baseline(
    findings: Iterable[Finding], key: bytes, *, reason: str = "", owner: str = "", expires: date | None = None
) -> Baseline:
    """A baseline accepting every finding."""
    entries = _entries_for(findings, key, reason=reason, owner=owner, expires=expires)
    return Baseline.of(key_check(key), entries.values())


def update_baseline(
    baseline: Baseline,
    findings: Iterable[Finding],
    key: bytes,
    *,
    reason: str = "",
    owner: str = "",
    expires: date | None = None,
) -> tuple[Baseline, list[BaselineEntry]]:
    """``baseline`` plus an entry for each finding it does not know yet, and
    those new entries. Existing entries are kept exactly as they are (expired
    ones too: renewing an acceptance is a decision, not a side effect)."""
    _require_key(baseline, key)
    known = baseline.by_fingerprint()
    fresh = _entries_for(findings, key, reason=reason, owner=owner, expires=expires)
    added = sorted((e for fp, e in fresh.items() if fp not in known), key=lambda e: e.fingerprint)
    if not added:
        return baseline, []
    return Baseline.of(baseline.key_check, [*baseline.entries, *added]), added


def prune_baseline(baseline: Baseline, findings: Iterable[Finding], key: bytes) -> tuple[Baseline, list[BaselineEntry]]:
    """``baseline`` without the entries no finding matches any more, and those
    dropped entries."""
    _require_key(baseline, key)
    found = {fingerprint(key, f.rule_id, f.secret) for f in findings}
    kept = [e for e in baseline.entries if e.fingerprint in found]
    dropped = [e for e in baseline.entries if e.fingerprint not in found]
    if not dropped:
        return baseline, []
    return Baseline.of(baseline.key_check, kept), dropped


# The note added to the liveness reason of a finding whose acceptance ran out.
def _expired_note(entry: BaselineEntry) -> str:
    assert entry.expires is not None
    who = f", owner {entry.owner}" if entry.owner else ""
    return f"baseline entry expired {entry.expires.isoformat()}{who}"


def apply_baseline(result: ScanResult, baseline: Baseline | None, key: bytes, today: date) -> ScanResult:
    """``result`` with every finding's fingerprint set and the findings the
    baseline accepts (entry present, not expired) left out and counted in
    ``stats.baselined``. A finding whose entry expired is kept, its
    ``liveness_reason`` ending in "baseline entry expired YYYY-MM-DD"."""
    if baseline is not None:
        _require_key(baseline, key)
    known = baseline.by_fingerprint() if baseline is not None else {}
    kept: list[Finding] = []
    hidden = 0
    for finding in result.findings:
        fp = fingerprint(key, finding.rule_id, finding.secret)
        entry = known.get(fp)
        if entry is not None and not entry.expired(today):
            hidden += 1
            continue
        changes: dict[str, Any] = {"fingerprint": fp}
        if entry is not None:
            note = _expired_note(entry)
            changes["liveness_reason"] = f"{finding.liveness_reason}; {note}" if finding.liveness_reason else note
        kept.append(replace(finding, **changes))
    stats = replace(result.stats, baselined=result.stats.baselined + hidden)
    return replace(result, findings=tuple(kept), stats=stats)


# ---------------------------------------------------------------- the file


def baseline_to_dict(baseline: Baseline) -> dict[str, Any]:
    return {
        "version": baseline.version,
        "key_check": baseline.key_check,
        "entries": [
            {
                "fingerprint": e.fingerprint,
                "rule_id": e.rule_id,
                "reason": e.reason,
                "owner": e.owner,
                "expires": e.expires.isoformat() if e.expires is not None else None,
                "hint": e.hint,
            }
            for e in baseline.entries
        ],
    }


def dumps_baseline(baseline: Baseline) -> str:
    """The file's text: sorted keys and entries, no run timestamps, so the
    same baseline always gives the same bytes (and small, clean diffs)."""
    return json.dumps(baseline_to_dict(baseline), indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write ``baseline`` to ``path``, replacing it in one step (a crash never
    leaves half a file)."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "w", encoding="ascii", newline="\n") as out:
            out.write(dumps_baseline(baseline))
        os.replace(temporary, path)
    except OSError as e:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write baseline: {e.strerror or e}") from e


def load_baseline(path: Path, key: bytes | None = None) -> Baseline:
    """Read and validate a baseline file; with ``key``, also check that the
    file was made with it. Any problem is a one-line ConfigError naming the
    file (and the entry)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: baseline file not found (create one with 'sprawl baseline create')") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read baseline: {getattr(e, 'strerror', None) or e}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    baseline = parse_baseline(data, str(path))
    if key is not None:
        _require_key(baseline, key, str(path))
    return baseline


def parse_baseline(data: object, origin: str) -> Baseline:
    """A Baseline from parsed JSON; ``origin`` names the file in errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: a baseline is a JSON object with 'version', 'key_check' and 'entries'")
    _check_keys(data, _TOP_KEYS, origin)
    version = data["version"]
    if version != BASELINE_VERSION or isinstance(version, bool):
        raise ConfigError(f"{origin}: baseline version {version!r} is not supported (expected {BASELINE_VERSION})")
    check = data["key_check"]
    if not isinstance(check, str) or not _KEY_CHECK.fullmatch(check):
        raise ConfigError(f"{origin}: 'key_check' must be {_KEY_CHECK_LENGTH} lower-case hex characters")
    raw_entries = data["entries"]
    if not isinstance(raw_entries, list):
        raise ConfigError(f"{origin}: 'entries' must be a list")
    entries: dict[str, BaselineEntry] = {}
    for index, raw in enumerate(raw_entries):
        where = f"{origin}: entries[{index}]"
        entry = _parse_entry(raw, where)
        if entry.fingerprint in entries:
            raise ConfigError(f"{where}: fingerprint {entry.fingerprint[:12]}... is listed twice")
        entries[entry.fingerprint] = entry
    return Baseline.of(check, entries.values())


def _check_keys(data: Mapping[Any, Any], expected: tuple[str, ...], where: str) -> None:
    for name in sorted(data, key=str):
        if str(name).lower() in _PLAINTEXT_KEYS:
            raise ConfigError(
                f"{where}: key '{name}' looks like a plaintext value; a baseline holds only fingerprints "
                "(remove it and rotate the credential if it was real)"
            )
        if name not in expected:
            raise ConfigError(f"{where}: unknown key '{name}' (expected {', '.join(expected)})")
    for name in expected:
        if name not in data:
            raise ConfigError(f"{where}: missing '{name}'")


def _parse_entry(raw: object, where: str) -> BaselineEntry:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: an entry must be a JSON object")
    _check_keys(raw, _ENTRY_KEYS, where)
    fp = raw["fingerprint"]
    if not isinstance(fp, str) or not _FINGERPRINT.fullmatch(fp):
        raise ConfigError(f"{where}: 'fingerprint' must be 64 lower-case hex characters (HMAC-SHA256)")
    strings = {}
    for name in ("rule_id", "reason", "owner", "hint"):
        value = raw[name]
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{name}' must be a string")
        strings[name] = value
    if not strings["rule_id"]:
        raise ConfigError(f"{where}: 'rule_id' must not be empty")
    expires = raw["expires"]
    if expires is not None:
        if not isinstance(expires, str) or not _DATE.fullmatch(expires):
            raise ConfigError(f"{where}: 'expires' must be null or a date YYYY-MM-DD, not {expires!r}")
        try:
            expires = date.fromisoformat(expires)
        except ValueError as e:
            raise ConfigError(f"{where}: 'expires' {raw['expires']!r} is not a valid date") from e
    return BaselineEntry(
        fingerprint=fp,
        rule_id=strings["rule_id"],
        reason=strings["reason"],
        owner=strings["owner"],
        expires=expires,
        hint=strings["hint"],
    )


def parse_expires(text: str | None, flag: str = "--expires") -> date | None:
    """A YYYY-MM-DD flag value as a date (None stays None)."""
    if text is None:
        return None
    if not _DATE.fullmatch(text.strip()):
        raise ConfigError(f"{flag} '{text}' is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as e:
        raise ConfigError(f"{flag} '{text}' is not a valid date") from e
