"""Verdicts of live checks, so each distinct secret is checked once per endpoint.

Always kept for the run; optionally also in a file (off unless a path is given)
that stores only sha256-derived keys and verdicts, never a secret, for a short TTL.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.verify.limits import Clock, SystemClock
from scanner.verify.spec import Outcome, Verdict

# Long enough for a sweep's repositories to share answers, short enough that a
# token revoked this morning is not still reported live tonight.
DEFAULT_TTL = timedelta(hours=1)
_FORMAT = "sprawl-verify-cache/1"


@dataclass(frozen=True)
class CacheKey:
    """One check: a verify block (by fingerprint) and a secret (by sha256)."""

    endpoint: str
    secret_sha256: str

    @property
    def digest(self) -> str:
        """The key as a file stores it: no secret hash on its own, only combined."""
        return hashlib.sha256(f"{self.endpoint}\0{self.secret_sha256}".encode()).hexdigest()


class VerdictCache:
    """Verdicts for this run, plus (with ``path``) live/revoked verdicts kept on disk for ``ttl``."""

    def __init__(self, path: Path | None = None, *, ttl: timedelta = DEFAULT_TTL, clock: Clock | None = None) -> None:
        self._path = path
        self._ttl = ttl
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._run: dict[CacheKey, Verdict] = {}
        self._disk: dict[str, dict[str, Any]] = self._load() if path is not None else {}
        self._dirty = False

    def get(self, key: CacheKey) -> Verdict | None:
        verdict = self._run.get(key)
        if verdict is not None:
            return verdict
        entry = self._disk.get(key.digest)
        if entry is None:
            return None
        verdict = Verdict(
            Outcome(entry["outcome"]),
            entry["host"],
            datetime.fromisoformat(entry["checked_at"]),
            entry["http_status"],
            entry.get("detail", ""),
            cached=True,
        )
        if self._clock.now() - verdict.checked_at > self._ttl:
            return None
        self._run[key] = verdict
        return verdict

    def put(self, key: CacheKey, verdict: Verdict) -> None:
        self._run[key] = verdict
        # An unknown answer (timeout, 5xx) is worth asking again next run.
        if self._path is not None and verdict.outcome is not Outcome.UNKNOWN:
            self._disk[key.digest] = {
                "outcome": verdict.outcome.value,
                "host": verdict.host,
                "http_status": verdict.http_status,
                "detail": verdict.detail,
                "checked_at": verdict.checked_at.isoformat(),
            }
            self._dirty = True

    def save(self) -> None:
        """Write the file (if any), dropping expired entries; 0600, replaced atomically."""
        if self._path is None or not self._dirty:
            return
        now = self._clock.now()
        fresh = {
            digest: entry
            for digest, entry in self._disk.items()
            if now - datetime.fromisoformat(entry["checked_at"]) <= self._ttl
        }
        document = json.dumps({"format": _FORMAT, "entries": fresh}, sort_keys=True)
        folder = self._path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".verify-cache-", dir=folder)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(document)
                os.replace(temporary, self._path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ConfigError(f"{self._path}: cannot write the verify cache: {exc.strerror or exc}") from exc
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]]:
        assert self._path is not None
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self._path}: cannot read the verify cache: {exc}") from exc
        try:
            entries = _entries(json.loads(text))
        except ValueError as exc:
            raise ConfigError(f"{self._path}: not a sprawl verify cache (delete it to start afresh)") from exc
        if entries is None:
            raise ConfigError(f"{self._path}: not a sprawl verify cache (delete it to start afresh)")
        return entries


def _entries(document: Any) -> dict[str, dict[str, Any]] | None:
    """The entries of a cache file's JSON, or None when it is not one."""
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        return None
    entries = document.get("entries")
    if not isinstance(entries, dict):
        return None
    for entry in entries.values():
        if not isinstance(entry, dict) or entry.get("outcome") not in {o.value for o in Outcome}:
            return None
        if not isinstance(entry.get("host"), str) or not isinstance(entry.get("http_status"), int):
            return None
        try:
            datetime.fromisoformat(entry["checked_at"])
        except (KeyError, TypeError, ValueError):
            return None
    return entries
