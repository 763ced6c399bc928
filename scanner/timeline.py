"""Per-credential exposure timelines from a finished scan: every occurrence in
its own time order, first and last exposure, public reach and whether the
secret is still present. Pure; also rebuilds a ScanResult from a JSON report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from scanner.errors import SourceError
from scanner.exposure import Audience, PlaceExposure, PlaceKind, classify
from scanner.model import (
    Breadth,
    Finding,
    Liveness,
    Occurrence,
    Provenance,
    ScanResult,
    ScanStats,
    Severity,
)

# The git source's ``state`` values (scanner/sources/git.py; "message" marks
# a commit or tag message), spelled out to keep git code out of reporters.
STILL_PRESENT = "still-present"
HISTORY_ONLY = "history-only"
UNREACHABLE = "unreachable"
MESSAGE = "message"

SEVERITIES_DESCENDING: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


def as_utc(when: datetime | None) -> datetime | None:
    """``when`` in UTC; a time without a zone is taken as UTC (as sources do)."""
    if when is None:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def format_time(when: datetime | None) -> str:
    """``2026-01-02 10:01:00 UTC``, or ``time unknown``."""
    if when is None:
        return "time unknown"
    return as_utc(when).strftime("%Y-%m-%d %H:%M:%S UTC")  # type: ignore[union-attr]


#: How a git state reads in a report.
STATE_LABELS = {
    STILL_PRESENT: "still present",
    HISTORY_ONLY: "history only",
    UNREACHABLE: "unreachable",
    MESSAGE: "commit message",
}


def clean(text: str) -> str:
    """``text`` with control characters, bidi overrides and lone surrogates
    shown as escapes: names come from scanned content and must not rearrange
    or hide what a report says."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address a report may link to; None for
    anything else (a ``javascript:`` or ``file:`` URL from a JSONL provenance)."""
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not url.isprintable() or " " in url:
        return None
    return url


def masked(text: str, finding: Finding, show_secrets: bool) -> str:
    """Validator-written text with any copy of the raw secret masked, unless
    raw values were asked for."""
    if show_secrets or not finding.secret or finding.secret not in text:
        return text
    return text.replace(finding.secret, "[REDACTED]")


@dataclass(frozen=True)
class Event:
    """One occurrence of a credential, placed in time and classified."""

    occurrence: Occurrence
    when: datetime | None  # UTC; None when the source gives no time
    exposure: PlaceExposure
    # git: still-present, history-only, unreachable or message; else None.
    state: str | None = None

    @property
    def kind(self) -> PlaceKind:
        return self.exposure.kind

    @property
    def public(self) -> bool:
        return self.exposure.public

    @property
    def location(self) -> str:
        """``path:line:column``."""
        return self.occurrence.location

    @property
    def details(self) -> tuple[str, ...]:
        """What else a responder needs: commit, git state, author, job or channel context."""
        provenance = self.occurrence.provenance
        extra = dict(provenance.extra)
        parts: list[str] = []
        if provenance.commit:
            parts.append(f"commit {provenance.commit[:12]}")
        if self.state in STATE_LABELS:
            parts.append(STATE_LABELS[self.state])
        if provenance.author:
            parts.append(f"by {provenance.author}")
        for key in ("thread_ts", "edited", "field", "comment_id", "version", "attachment", "view"):
            if extra.get(key):
                parts.append(f"{key.replace('_', ' ')} {extra[key]}")
        return tuple(parts)


def _event(occurrence: Occurrence) -> Event:
    provenance = occurrence.provenance
    state = dict(provenance.extra).get("state") if provenance.source == "git" else None
    return Event(occurrence, as_utc(provenance.when), classify(provenance), state)


def _event_order(event: Event) -> tuple[bool, datetime, str, str, int, int]:
    # Untimed events go last, in a stable order of place.
    provenance = event.occurrence.provenance
    when = event.when or datetime.max.replace(tzinfo=UTC)
    return (event.when is None, when, provenance.path, provenance.commit or "", event.occurrence.line, event.occurrence.column)


@dataclass(frozen=True)
class CredentialTimeline:
    """One distinct credential and every place it was seen, oldest first."""

    finding: Finding
    events: tuple[Event, ...]  # timed events by time, then the untimed ones
    still_present: bool | None  # None: not known (exports are snapshots)
    presence: str  # the still_present verdict, explained

    @property
    def timed(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.when is not None)

    @property
    def untimed(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.when is None)

    @property
    def first(self) -> Event | None:
        """The earliest exposure with a known time."""
        timed = self.timed
        return timed[0] if timed else None

    @property
    def last(self) -> Event | None:
        """The latest exposure with a known time."""
        timed = self.timed
        return timed[-1] if timed else None

    @property
    def public_events(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.public)

    @property
    def reached_public(self) -> bool:
        return any(e.public for e in self.events)

    @property
    def first_public(self) -> Event | None:
        """The first public exposure (by time; an untimed one when none has a time)."""
        public = self.public_events
        return public[0] if public else None

    @property
    def audience(self) -> Audience:
        """The widest audience any copy reached."""
        return min((e.exposure.audience for e in self.events), key=lambda a: a.rank, default=Audience.UNKNOWN)

    @property
    def public_places(self) -> tuple[str, ...]:
        """Each public place once, in time order."""
        return tuple(dict.fromkeys(e.exposure.place for e in self.public_events))


def credential_timeline(finding: Finding) -> CredentialTimeline:
    """The timeline of one finding."""
    events = tuple(sorted((_event(o) for o in finding.occurrences), key=_event_order))
    still_present, presence = _presence(finding, events)
    return CredentialTimeline(finding, events, still_present, presence)


def _presence(finding: Finding, events: Sequence[Event]) -> tuple[bool | None, str]:
    """Whether the secret is still where it was found, and why we say so."""
    current = sorted({e.occurrence.provenance.path for e in events if e.state == STILL_PRESENT})
    if current or finding.still_present:
        where = ", ".join(current)
        return True, f"yes: in the current tree of the default branch ({where})" if where else "yes: in the current tree"
    files = sorted({e.occurrence.provenance.path for e in events if e.occurrence.provenance.source in ("file", "stdin")})
    if files:
        return True, f"yes: in the scanned files ({', '.join(files)})"
    exports = [e for e in events if e.kind is not PlaceKind.GIT]
    if exports:
        return None, (
            "not known: it is in the scanned logs or exports, which are snapshots; whether the messages,"
            " logs or pages were deleted since is not known"
        )
    states = {e.state for e in events}
    if states <= {UNREACHABLE}:
        return False, (
            "no: only in unreachable git objects, until the repository is garbage-collected"
            " (a hosting service may keep them reachable by commit id)"
        )
    return False, (
        "no longer in the current tree, but still in git history: every clone keeps it until history"
        " is rewritten (git filter-repo --replace-text, force-push, re-clone)"
    )


@dataclass(frozen=True)
class SummaryRow:
    """Credentials of one registry, by severity."""

    registry: str
    by_severity: tuple[tuple[Severity, int], ...]  # every severity, most severe first
    total: int
    public: int  # credentials that reached a public place
    still_present: int


@dataclass(frozen=True)
class Timeline:
    """Every credential's timeline, most severe and earliest exposed first."""

    result: ScanResult
    credentials: tuple[CredentialTimeline, ...]

    @property
    def summary(self) -> tuple[SummaryRow, ...]:
        """One row per registry (most severe registries first), not totalled."""
        groups: dict[str, list[CredentialTimeline]] = {}
        for credential in self.credentials:
            groups.setdefault(credential.finding.registry, []).append(credential)
        rows = [_summary_row(registry, members) for registry, members in groups.items()]
        rows.sort(key=lambda row: (tuple(-count for _, count in row.by_severity), row.registry))
        return tuple(rows)

    @property
    def totals(self) -> SummaryRow:
        return _summary_row("all registries", self.credentials)

    @property
    def start(self) -> datetime | None:
        """The earliest exposure of any credential."""
        times = [c.first.when for c in self.credentials if c.first is not None and c.first.when is not None]
        return min(times, default=None)

    @property
    def end(self) -> datetime | None:
        """The latest exposure of any credential."""
        times = [c.last.when for c in self.credentials if c.last is not None and c.last.when is not None]
        return max(times, default=None)


def _summary_row(registry: str, members: Iterable[CredentialTimeline]) -> SummaryRow:
    members = list(members)
    counts = {severity: 0 for severity in SEVERITIES_DESCENDING}
    for credential in members:
        counts[credential.finding.severity] += 1
    return SummaryRow(
        registry=registry,
        by_severity=tuple(counts.items()),
        total=len(members),
        public=sum(1 for c in members if c.reached_public),
        still_present=sum(1 for c in members if c.still_present),
    )


def _credential_order(credential: CredentialTimeline) -> tuple[int, bool, datetime, str, str]:
    first = credential.first
    when = first.when if first is not None and first.when is not None else datetime.max.replace(tzinfo=UTC)
    finding = credential.finding
    return (-finding.severity.rank, first is None, when, finding.rule_id, finding.id)


def build_timeline(result: ScanResult) -> Timeline:
    """Timelines of every finding of ``result``."""
    credentials = sorted((credential_timeline(f) for f in result.findings), key=_credential_order)
    return Timeline(result, tuple(credentials))


# ------------------------------------------------------------ JSON reports

_E = TypeVar("_E", Severity, Liveness, Breadth)


class _Reader:
    """Typed access to one JSON object of a report, with errors that name
    the file and the key (``report.json: findings[2].occurrences[0]: 'line' ...``)."""

    def __init__(self, name: str, where: str, data: object) -> None:
        if not isinstance(data, dict):
            raise SourceError(f"{name}: {where}: expected a JSON object, found {_json_kind(data)}")
        self.name = name
        self.where = where
        self.data: dict[str, Any] = data

    def _fail(self, key: str, expected: str) -> SourceError:
        return SourceError(
            f"{self.name}: {self.where}: {key!r} must be {expected}, not {_json_kind(self.data.get(key))}"
        )

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer")
        return value

    def number(self, key: str) -> float:
        value = self.data.get(key, 0)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._fail(key, "a number")
        return float(value)

    def optional_bool(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true, false or null")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def time(self, key: str) -> datetime | None:
        value = self.optional_text(key)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise SourceError(f"{self.name}: {self.where}: {key!r} is not an ISO 8601 time: {value!r}") from exc

    def choice(self, key: str, enum: type[_E]) -> _E:
        value = self.data.get(key)
        try:
            return enum(value)
        except ValueError as exc:
            valid = ", ".join(member.value for member in enum)
            raise SourceError(f"{self.name}: {self.where}: {key!r} must be one of {valid}, not {value!r}") from exc

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        value = self.data.get(key) or {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(key, "an object of strings")
        return tuple(value.items())

    def objects(self, key: str) -> list[object]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _occurrence(reader: _Reader) -> Occurrence:
    provenance = Provenance(
        source=reader.text("source"),
        path=reader.text("path"),
        commit=reader.optional_text("commit"),
        author=reader.optional_text("author"),
        when=reader.time("date"),
        url=reader.optional_text("url"),
        extra=reader.pairs("extra"),
    )
    line = reader.integer("line")
    column = reader.integer("column")
    return Occurrence(
        provenance,
        line,
        column,
        reader.integer("end_line", line),
        reader.integer("end_column", column),
    )


def finding_from_dict(data: object, name: str, where: str) -> Finding:
    """One finding of a ``--format json``/``jsonl`` report. The raw secret is
    there only when the report was written with --show-secrets ("" otherwise)."""
    reader = _Reader(name, where, data)
    occurrences = tuple(
        _occurrence(_Reader(name, f"{where}.occurrences[{index}]", item))
        for index, item in enumerate(reader.objects("occurrences"))
    )
    return Finding(
        id=reader.text("id"),
        rule_id=reader.text("rule_id"),
        rule_name=reader.text("rule_name"),
        registry=reader.text("registry"),
        kind=reader.text("kind"),
        secret=reader.optional_text("secret") or "",
        secret_sha256=reader.text("secret_sha256"),
        redacted=reader.text("redacted"),
        liveness=reader.choice("liveness", Liveness),
        liveness_reason=reader.optional_text("liveness_reason") or "",
        scope=reader.optional_text("scope"),
        breadth=reader.choice("breadth", Breadth),
        severity=reader.choice("severity", Severity),
        occurrences=occurrences,
        expires_at=reader.time("expires_at"),
        revoke_url=reader.optional_text("revoke_url"),
        remediation=reader.optional_text("remediation"),
        references=reader.texts("references"),
        fingerprint=reader.optional_text("fingerprint"),
        still_present=reader.optional_bool("still_present"),
    )


def _stats(reader: _Reader) -> ScanStats:
    skipped = reader.data.get("skipped") or {}
    if not isinstance(skipped, dict) or not all(isinstance(v, int) for v in skipped.values()):
        raise SourceError(f"{reader.name}: stats: 'skipped' must be an object of counts")
    return ScanStats(
        inputs_scanned=reader.integer("inputs_scanned", 0),
        bytes_scanned=reader.integer("bytes_scanned", 0),
        duplicates_skipped=reader.integer("duplicates_skipped", 0),
        skipped=tuple(sorted(skipped.items())),
        errors=reader.texts("errors"),
        gaps=reader.texts("gaps"),
        fake_suppressed=reader.integer("fake_suppressed", 0),
        baselined=reader.integer("baselined", 0),
        allowed_inline=reader.integer("allowed_inline", 0),
        rules_loaded=reader.integer("rules_loaded", 0),
        seconds=reader.number("seconds"),
    )


#: The JSON report shape this loader understands (scanner/report/serialize.py).
REPORT_SCHEMA_VERSION = 1


def result_from_report(data: object, name: str, *, show_secrets: bool = False) -> ScanResult:
    """A ScanResult rebuilt from a ``sprawl scan --format json`` document (or
    a list of ``--format jsonl`` findings). ``show_secrets`` keeps raw values
    the report may hold; without it they are dropped on loading."""
    if isinstance(data, list):
        findings = [finding_from_dict(item, name, f"line {index + 1}") for index, item in enumerate(data)]
        stats = ScanStats()
    else:
        reader = _Reader(name, "top level", data)
        tool = reader.data.get("tool")
        if not isinstance(tool, dict) or tool.get("name") != "sprawl":
            raise SourceError(f"{name}: not a sprawl JSON report (expected \"tool\": {{\"name\": \"sprawl\"}})")
        version = reader.data.get("schema_version")
        if version != REPORT_SCHEMA_VERSION:
            raise SourceError(
                f"{name}: 'schema_version' {version!r} is not supported (this sprawl reads {REPORT_SCHEMA_VERSION})"
            )
        findings = [
            finding_from_dict(item, name, f"findings[{index}]") for index, item in enumerate(reader.objects("findings"))
        ]
        stats = _stats(_Reader(name, "stats", reader.data.get("stats") or {}))
    if not show_secrets:
        findings = [_without_secret(f) for f in findings]
    return ScanResult(findings=tuple(findings), stats=stats, show_secrets=show_secrets)


def _without_secret(finding: Finding) -> Finding:
    return replace(finding, secret="") if finding.secret else finding


def parse_report_text(text: str, name: str, *, show_secrets: bool = False) -> ScanResult:
    """``text`` of a JSON report, or of a JSON Lines report (one finding per line)."""
    import json

    try:
        data: object = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if exc.msg != "Extra data" or not lines:
            raise SourceError(f"{name}: not a JSON report: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        parsed: list[object] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as inner:
                raise SourceError(f"{name}: line {number}: not JSON: {inner.msg}") from inner
        data = parsed
    if isinstance(data, Mapping) and "findings" not in data and "rule_id" in data:
        data = [data]  # a JSON Lines report with a single finding
    return result_from_report(data, name, show_secrets=show_secrets)
