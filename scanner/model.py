"""Core value types shared by every stage of the pipeline.

Frozen dataclasses and enums only: no I/O, no behaviour beyond small derived
properties. Secrets never appear in a ``repr`` so they cannot leak into logs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanner.locate import Placer


class Severity(enum.Enum):
    """How bad a finding is; ordered, so thresholds can be compared."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def __lt__(self, other: Severity) -> bool:
        return self.rank < other.rank

    def __le__(self, other: Severity) -> bool:
        return self.rank <= other.rank

    def __gt__(self, other: Severity) -> bool:
        return self.rank > other.rank

    def __ge__(self, other: Severity) -> bool:
        return self.rank >= other.rank

    def raised(self, steps: int = 1) -> Severity:
        """This severity moved ``steps`` up (or down, if negative), clamped."""
        index = min(max(self.rank + steps, 0), len(_SEVERITY_ORDER) - 1)
        return _SEVERITY_ORDER[index]


_SEVERITY_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


class Liveness(enum.Enum):
    """How live a credential looks (offline) or is (after an opt-in live check)."""

    LIVE = "live"
    REVOKED = "revoked"
    LIVE_LOOKING = "live-looking"
    UNVERIFIABLE = "unverifiable"
    EXPIRED = "expired"
    FAKE = "fake"


class Breadth(enum.Enum):
    """What a credential can reach; drives severity (see scoring.py)."""

    ACCOUNT = "account"  # publish anything the account owns
    PROJECT = "project"  # publish to named projects / one registry feed
    READ_ONLY = "read-only"  # pull/read only
    TEST = "test"  # a test registry (test.pypi.org, ...)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Provenance:
    """Where some content came from. Flat and hashable.

    ``path`` is a display path; archive members read ``outer.tgz!inner/file``.
    ``extra`` holds source-specific pairs (channel, job name, page title, ...).
    """

    source: str
    path: str
    commit: str | None = None
    author: str | None = None
    when: datetime | None = None
    url: str | None = None
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A unit of decoded text handed to the detector.

    ``digest`` identifies the content (git blob id, or sha256 of the bytes) so
    the pipeline scans identical content once. ``first_line`` is the line number
    of the chunk's first line within the original input.
    """

    content: str
    provenance: Provenance
    digest: str
    first_line: int = 1
    # Set by sources that rewrite what they read (logs, chat, documents):
    # maps offsets in ``content`` back to original places (see locate.py).
    locator: Placer | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class VerifySpec:
    """A rule's opt-in live check: one read-only GET to the registry's own host
    (validated in ruleset.py, run by scanner/verify only under ``--verify``).

    ``headers`` and ``basic_auth`` may hold the placeholder ``{secret}``; the
    URL never does, so the secret cannot end up in a URL or a log of one.
    """

    url: str
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth: tuple[str, str] | None = None  # (username, password) templates
    live: tuple[int, ...] = (200,)
    revoked: tuple[int, ...] = ()
    # Statuses that prove nothing either way, with what they may mean.
    inconclusive: tuple[tuple[int, str], ...] = ()
    # JSON fields (dotted paths) a live answer's body must hold; a live status
    # whose body says otherwise (e.g. ``"authenticated": false``) is revoked.
    body: tuple[tuple[str, str | int | bool | None], ...] = ()
    # The check applies only to secrets starting with one of these (all if empty).
    prefixes: tuple[str, ...] = ()
    method: str = "GET"

    @property
    def host(self) -> str:
        return self.url.split("/", 3)[2]


@dataclass(frozen=True)
class Rule:
    """One detection rule, loaded from YAML (see ruleset.py)."""

    id: str
    name: str
    registry: str
    kind: str
    pattern: str
    keywords: tuple[str, ...]
    severity: Severity
    min_entropy: float = 0.0
    structure: str | None = None
    boundary: bool = True
    multiline: bool = False
    # A context rule finds a value by where it stands (``_authToken=``,
    # ``<password>``) rather than by its own shape; where a token-format rule
    # matches overlapping text, the token-format match wins.
    context: bool = False
    # For a multiline rule: how far (characters) before and after a keyword
    # hit a match may reach; the regex runs only over that neighbourhood.
    span: int = 4096
    # A looser regex (Hyperscan syntax, matched case-insensitively, ^/$ at
    # line ends) that every match of ``pattern`` also matches within the same
    # line: where Hyperscan serves, the rule is tried only around its
    # matches instead of at every keyword hit. Keywords still serve elsewhere.
    prefilter: str | None = None
    # What the credential can do when its own structure does not say
    # (a validator's verdict takes precedence).
    scope: str | None = None
    breadth: Breadth = Breadth.UNKNOWN
    references: tuple[str, ...] = ()
    revoke_url: str | None = None
    remediation: str | None = None
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    # Opt-in live checks (``--verify``), first whose prefixes fit the secret wins.
    verify: tuple[VerifySpec, ...] = ()
    source_file: str = ""


@dataclass(frozen=True)
class Match:
    """One regex hit inside one chunk. Positions are relative to the chunk's
    content; ``line`` already includes the chunk's ``first_line`` offset."""

    rule_id: str
    secret: str = field(repr=False)
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    # The line where the match starts carries the inline marker ``sprawl:allow``:
    # the pipeline leaves the match out (and counts it) instead of reporting it.
    allowed: bool = False


@dataclass(frozen=True)
class Occurrence:
    """One place a secret was seen."""

    provenance: Provenance
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def location(self) -> str:
        """Human form, ``path:line:column``."""
        return f"{self.provenance.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class StructureResult:
    """What an offline check concluded about one candidate secret."""

    liveness: Liveness
    reason: str = ""
    scope: str | None = None
    breadth: Breadth = Breadth.UNKNOWN
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Finding:
    """One distinct secret (rule id + value), with every place it appears."""

    id: str
    rule_id: str
    rule_name: str
    registry: str
    kind: str
    secret: str = field(repr=False)
    secret_sha256: str
    redacted: str
    liveness: Liveness
    liveness_reason: str
    scope: str | None
    breadth: Breadth
    severity: Severity
    occurrences: tuple[Occurrence, ...]
    expires_at: datetime | None = None
    revoke_url: str | None = None
    remediation: str | None = None
    references: tuple[str, ...] = ()
    # HMAC-SHA256 of (rule id, secret) under the baseline key (baseline.py);
    # set once a scan knows its key, stable across moves, renames and rebases.
    fingerprint: str | None = None
    # Git history: whether the secret is in the current tree of the default
    # branch (None when the source has no such notion).
    still_present: bool | None = None


@dataclass(frozen=True)
class ScanStats:
    """Counts for the summary line and the machine-readable reports."""

    inputs_scanned: int = 0
    bytes_scanned: int = 0
    duplicates_skipped: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    errors: tuple[str, ...] = ()
    fake_suppressed: int = 0
    # Findings hidden by a baseline entry, and matches on lines marked sprawl:allow.
    baselined: int = 0
    allowed_inline: int = 0
    # Parts of a readable input that could not be scanned (missing or corrupt
    # git objects, history cut off by a shallow clone): the result is
    # incomplete, but unlike ``errors`` they do not by themselves fail the scan.
    gaps: tuple[str, ...] = ()
    rules_loaded: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class ScanResult:
    """Everything a reporter needs: finished, immutable."""

    findings: tuple[Finding, ...]
    stats: ScanStats
    rules: tuple[Rule, ...] = ()
    show_secrets: bool = False

    @property
    def incomplete(self) -> bool:
        return bool(self.stats.errors or self.stats.gaps)
