"""CI and build logs: GitHub Actions, GitLab CI, Jenkins, Buildkite, Travis CI,
CircleCI, Azure Pipelines and the verbose output of publish commands.

A log is recognised by its content and normalised before matching (escape
sequences, runner timestamp prefixes and section markers removed); every
match is placed back at its original line and column with the log's own
timestamp. Values a log registers as masked (``::add-mask::``) that appear
unmasked elsewhere in the same log are reported as masking leaks.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import AnyStr, Generic
from urllib.parse import quote, quote_plus

from scanner.model import Chunk, Provenance
from scanner.sources.ansi import MappedLine, strip_escape_bytes, strip_escapes
from scanner.sources.base import Source, SourceStats
from scanner.sources.formats import SNIFF_BYTES, ContentFormat, ExportFormat, ExportOptions
from scanner.sources.text import decode_text

SOURCE_KIND = "ci-log"

# A log is cut into chunks of about this many bytes, at line ends, so a large
# log is matched on several cores and placing a match stays cheap.
CHUNK_BYTES = 2 << 20

# What the source appends to a chunk for each unmasked copy of a masked value;
# the bundled rule ci-masking-leak (rules/ci.yaml) matches it and the placer
# reports the match at the copy. NULs keep it from ever occurring in a log.
MASKING_LEAK_MARKER = "\x00sprawl-masking-leak\x00"
# A masked value shorter than this is not tracked: runners mask such values
# too, but finding "1234" elsewhere in a log proves nothing.
MIN_MASKED_LENGTH = 6
# Each masked value is looked for in a few forms, one pass over the log each:
# a log registering more values than this has only the first ones tracked.
MAX_MASKED_VALUES = 64

# (Only the year is spelled out as digits: "." is checked faster than a class,
# and with the fixed separators and zone nothing but a timestamp fits.)
_DATE_TIME = r"[0-9]{4}-..-..T..:..:.."
_ZONE = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})"


@cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


@cache
def _pattern_bytes(source: str) -> re.Pattern[bytes]:
    # Whole logs are only rewritten, never read for groups: capturing costs.
    return re.compile(re.sub(r"\(\?P<\w+>", "(?:", source).encode("ascii"))


@dataclass(frozen=True)
class Prefix:
    """A runner's per-line prefix. ``pattern`` matches it at a line start; its
    group ``ts`` (when present) is the line's timestamp, ``job``/``step``
    name the job and step (``gh run view --log`` output). ``then`` is markup
    that may follow it (the Actions runner's ``##[group]``)."""

    name: str
    pattern: str
    then: tuple[str, ...] = ()
    # True when the CI system cannot be told from the prefix alone.
    generic: bool = False


# Markup the Actions runner puts after its prefix (each alternative on its own:
# a literal start lets the regex engine skip to it).
_ACTIONS_MARKUP = (r"##\[[a-z]+\]", r"\[command\]")

# Tried in this order against the first lines of a log; the first that fits
# enough of them (see _pick_prefix) is removed from every line it starts.
PREFIXES: tuple[Prefix, ...] = (
    # gh run view --log: job <TAB> step <TAB> the Actions line
    Prefix(
        "gh-cli",
        rf"(?P<job>[^\t\n]*)\t(?P<step>[^\t\n]*)\t(?P<ts>{_DATE_TIME}\.[0-9]{{1,9}}Z) ?",
        then=_ACTIONS_MARKUP,
    ),
    # Actions runner and Azure Pipelines agent: 7 fractional digits; the
    # ##[group] / ##[command] / ##[debug] markers are presentation, not output
    Prefix("actions", rf"(?P<ts>{_DATE_TIME}\.[0-9]{{7}}Z) ?", then=_ACTIONS_MARKUP),
    # GitLab Runner FF_TIMESTAMPS: microseconds, stream id, O/E, ' ' or '+'
    Prefix("gitlab", rf"(?P<ts>{_DATE_TIME}\.[0-9]{{6}}Z) [0-9a-f]{{2}}[OE][ +]"),
    # Jenkins Timestamper in Pipeline console text
    Prefix("jenkins", rf"\[(?P<ts>{_DATE_TIME}(?:\.[0-9]{{1,9}})?{_ZONE})\] "),
    # docker logs -t, kubectl logs --timestamps, most log shippers
    Prefix("iso", rf"(?P<ts>{_DATE_TIME}(?:\.[0-9]{{1,9}})?{_ZONE}) ", generic=True),
    # Timestamper /timestamps/?time=yyyy-MM-dd HH:mm:ss&appendLog (server time zone: no `when`)
    Prefix("date-time", r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,6})?  ?", generic=True),
    # classic Timestamper: clock or elapsed time, no date
    Prefix("clock", r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,3})?  ?", generic=True),
)
# The system a non-generic prefix belongs to.
_PREFIX_SYSTEMS = {"gh-cli": "github-actions", "actions": "github-actions", "gitlab": "gitlab-ci", "jenkins": "jenkins"}

# GitLab section markers and Travis fold/time markers, as left once escape
# sequences are gone: "section_start:1700000000:step_script\r" + visible text.
# (Each with its literal start, so the regex engine skips to it: an
# alternation of the two would be tried at every position.)
_MARKERS: tuple[tuple[str, str], ...] = (
    ("section_", r"section_(?:start|end):[0-9]+:[A-Za-z0-9_.\-]+(?:\[[^\]\r\n]*\])?\r?"),
    ("travis_", r"travis_(?:fold|time):(?:start|end):[^\r\n]*?\r"),
)
# The same markers carry the only timestamps of a GitLab trace without
# FF_TIMESTAMPS and of a Travis log.
_SECTION_TIME = re.compile(rb"section_(start|end):([0-9]{9,11}):([A-Za-z0-9_.\-]+)")
_TRAVIS_TIME = re.compile(rb"travis_time:end:[0-9a-f]+:start=[0-9]+,finish=([0-9]{10,20})")
_BUILDKITE_TIME = re.compile(r"\x1b_bk;t=([0-9]{10,16})(?:\x07|\x1b\\)")

_MARKER_SYSTEMS = frozenset({"gitlab-ci", "travis-ci"})
_NOTE_SYSTEMS = frozenset({"jenkins", "log"})
_MASKING_SYSTEMS = frozenset({"github-actions", "azure-pipelines", "log"})


@dataclass(frozen=True)
class LogKind:
    """What a log was recognised as: the CI system (or "log") and the runner
    prefix on its lines, if any."""

    system: str
    prefix: Prefix | None = None

    @property
    def markers(self) -> bool:
        """Section markers to remove (GitLab, Travis)."""
        return self.system in _MARKER_SYSTEMS

    @property
    def notes(self) -> bool:
        """Jenkins console notes may be present."""
        return self.system in _NOTE_SYSTEMS

    @property
    def masks(self) -> bool:
        """The log may register masked values (Actions, Azure)."""
        return self.system in _MASKING_SYSTEMS


# ---------------------------------------------------------------------------
# Recognition

# One of the first lines that starts with one of these (after a runner
# prefix) names the system; the first such line decides.
_LINE_SIGNALS: tuple[tuple[str, str], ...] = (
    (r"##\[section\]Starting: ", "azure-pipelines"),
    (r"##\[(?:group|endgroup|command)\]", "github-actions"),
    (r"Running with gitlab-runner |section_start:[0-9]+:", "gitlab-ci"),
    (r"\[Pipeline\] |Started by (?:user|timer|an SCM change|upstream project|GitHub push|remote host)", "jenkins"),
    (r"travis_fold:start:|travis_time:start:", "travis-ci"),
    (r"#!/bin/bash -eo pipefail\r?$|Build-agent version ", "circleci"),
    (r"~~~ (?:Running|Preparing|Setting up|Cloning)", "buildkite"),
    (
        (
            r"npm (?:verb|sill|http fetch|notice) |Uploading distributions to https?://|Pushing gem to https?://"
            r"|Successfully registered gem: |[ \t]+Uploading \S+ v[0-9]"
            r"|WARNING! Using --password via the CLI is insecure|Login Succeeded\r?$"
        ),
        "publish-output",
    ),
)
_LINE_SIGNAL = re.compile(
    "^(?:" + "|".join(f"(?P<s{index}>{source})" for index, (source, _) in enumerate(_LINE_SIGNALS)) + ")",
    re.MULTILINE,
)
# How each line signal starts: only a line that starts so is matched.
_SIGNAL_STARTS = (
    "##[", "Running with", "section_start:", "[Pipeline]", "Started by", "travis_", "#!/bin/bash", "Build-agent",
    "~~~ ", "npm ", "Uploading", "Pushing gem", "Successfully registered", " ", "\t", "WARNING!", "Login Succeeded",
)  # fmt: skip
# Anywhere in the head (literal, then the pattern): these only ever come
# from one system, and carry a real escape character or carriage return.
_ANYWHERE_SIGNALS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("\x1b_bk;t=", re.compile(r"\x1b_bk;t=[0-9]+"), "buildkite"),
    ("\x1b[8mha:", re.compile(r"\x1b\[8mha:"), "jenkins"),
    ("travis_fold:start:", re.compile(r"travis_fold:start:[^\s]+\r"), "travis-ci"),
    ("section_start:", re.compile(r"section_start:[0-9]{9,11}:[A-Za-z0-9_.\-]+\r"), "gitlab-ci"),
)
# Files that are documents, data or code: never read as logs, whatever they quote.
_NOT_LOGS = frozenset({
    ".md", ".markdown", ".rst", ".adoc", ".html", ".htm", ".xhtml", ".xml", ".json", ".jsonl", ".ndjson",
    ".yaml", ".yml", ".toml", ".csv", ".tsv", ".ini", ".cfg", ".conf", ".properties", ".py", ".js", ".mjs",
    ".ts", ".go", ".rb", ".java", ".kt", ".rs", ".c", ".h", ".cpp", ".cs", ".php", ".sh", ".ps1", ".docx",
    ".odt", ".pdf", ".npmrc", ".pypirc", ".env",
})  # fmt: skip
_LOG_EXTENSIONS = frozenset({".log", ".out", ".err", ".trace", ".console", ".logs"})
_CI_PATH_WORDS = re.compile(
    r"(?:^|[/!_.\-])(?:ci|build|builds|job|jobs|log|logs|pipeline|pipelines|actions|workflow|workflows|runner"
    r"|jenkins|gitlab|buildkite|travis|circleci|artifacts|console|consoletext)(?:$|[/!_.\-])",
    re.IGNORECASE,
)
# A GitHub Actions archive member: "3_build.txt" or "build/3_Run npm publish.txt".
ACTIONS_MEMBER = re.compile(r"(?:^|/)(?:(?P<job>[^/]+)/)?(?P<number>[0-9]+)_(?P<name>[^/]+)\.txt$")
# Signs that a file named like a log is one: escape sequences, a progress
# bar's bare \r, or shell-trace lines (set -x).
_WEAK_SIGNAL = re.compile(r"\x1b[\[\]_(]|\r(?!\n)|^\+ \S", re.MULTILINE)


def _extension(display: str) -> str:
    name = display.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _named_like_a_log(display: str) -> bool:
    extension = _extension(display)
    if extension in _LOG_EXTENSIONS:
        return True
    if extension not in ("", ".txt"):
        return False
    member = display.rsplit("!", 1)[-1]
    return _CI_PATH_WORDS.search(display) is not None or ACTIONS_MEMBER.search(member) is not None


def _head_lines(head: str, limit: int = 12) -> list[str]:
    """The first non-empty complete lines of a head (the last, possibly cut, one left out)."""
    lines = head.split("\n", 64)
    if len(lines) > 1:
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:limit]


def _pick_prefix(lines: Sequence[str]) -> Prefix | None:
    """The first runner prefix that at least a third of ``lines`` (escape
    sequences removed) start with."""
    if not lines:
        return None
    # A third is enough: Jenkins leaves its own [Pipeline] lines without a
    # time, and a prefix is only ever removed from a line that starts with it.
    needed = max(1, (len(lines) + 2) // 3)
    for prefix in PREFIXES:
        pattern = _pattern(prefix.pattern)
        if sum(1 for line in lines if pattern.match(line)) >= needed:
            return prefix
    return None


def recognise(head: str, display: str, *, forced: bool = False) -> LogKind | None:
    """What ``head`` (the start of a decoded file) is, or None when it is not
    a log. ``forced`` (``logs:PATH``, or the sniff already said yes) makes
    anything a log and only asks which kind."""
    if not forced and _extension(display) in _NOT_LOGS:
        return None
    visible = strip_escapes(head)
    lines = _head_lines(visible, 24)
    # Every prefix starts with a digit or "[" (gh run view: after two tabs).
    hinted = any(line[:1].isdigit() or line[:1] == "[" or "\t" in line for line in lines)
    prefix = _pick_prefix(lines) if hinted else None
    if prefix is not None and not prefix.generic:
        system = _PREFIX_SYSTEMS[prefix.name]
        if system == "github-actions" and "##[section]Starting: " in visible:
            system = "azure-pipelines"
        return LogKind(system, prefix)
    found: str | None = None
    if prefix is not None:  # a generic one: the signals stand after it
        pattern = _pattern(prefix.pattern)
        lines = [line[match.end() :] if (match := pattern.match(line)) else line for line in lines]
    for line in lines:
        if line.startswith(_SIGNAL_STARTS) and (signal := _LINE_SIGNAL.match(line)) and signal.lastgroup:
            found = _LINE_SIGNALS[int(signal.lastgroup[1:])][1]
            break
    if found is None:
        found = next((name for word, signal, name in _ANYWHERE_SIGNALS if word in head and signal.search(head)), None)
    if found is None and (forced or (_named_like_a_log(display) and (prefix is not None or _WEAK_SIGNAL.search(head)))):
        found = "log"
    return LogKind(found, prefix) if found is not None else None


def _head_text(head: bytes) -> str | None:
    """The sniffed bytes as text (UTF-16 from Windows agents included)."""
    if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_text(head)
    return head.decode("utf-8", errors="replace").removeprefix("\ufeff")


def sniff(display: str, head: bytes) -> bool:
    """True when ``head`` looks like a CI or build log: by content first; a
    log-like name only together with content signals."""
    if head.startswith(b"PK"):
        return False
    text = _head_text(head)
    return text is not None and recognise(text, display) is not None


# ---------------------------------------------------------------------------
# Normalisation


def normalize(data: bytes, kind: LogKind, *, continues_line: bool = False) -> bytes:
    """``data`` (UTF-8) as a person reads it: escape sequences, section
    markers and the runner prefix of each line removed. Keeps every ``\\n``,
    so line N of the result is line N of ``data``. ``continues_line``:
    ``data`` starts in the middle of a line (no prefix there)."""
    data = strip_escape_bytes(data, notes=kind.notes)
    if kind.markers:
        for needle, source in _MARKERS:
            if needle.encode() in data:
                data = _pattern_bytes(source).sub(b"", data)
    prefix = kind.prefix
    if prefix is None:
        return data
    for source in (prefix.pattern, *prefix.then):
        if not continues_line:
            first = _pattern_bytes(source).match(data)
            if first is not None:
                data = data[first.end() :]
        data = _pattern_bytes(f"\\n(?:{source})").sub(b"\n", data)
    return data


def normalize_line(
    line: str, kind: LogKind, *, continues_line: bool = False
) -> tuple[MappedLine, re.Match[str] | None]:
    """One original line normalised as :func:`normalize` does it, with the
    original column of each remaining character, and the runner prefix match."""
    mapped = MappedLine(line)
    mapped.strip_escapes(notes=kind.notes)
    if kind.markers:
        for needle, source in _MARKERS:
            if needle in mapped.text:
                mapped.remove(_pattern(source))
    found = None
    if kind.prefix is not None and not continues_line:
        found = mapped.remove(_pattern(kind.prefix.pattern), at_start=True)
        for source in kind.prefix.then:
            mapped.remove(_pattern(source), at_start=True)
    return mapped, found


# ---------------------------------------------------------------------------
# Timestamps


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 timestamp with zone (any number of fractional digits)."""
    try:
        base = datetime(
            int(value[0:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]), int(value[17:19])
        )
        rest = value[19:]
        micros = 0
        if rest.startswith("."):
            digits = len(rest) - len(rest[1:].lstrip("0123456789"))
            micros = int((rest[1:digits] + "000000")[:6])
            rest = rest[digits:]
        zone: timezone = UTC
        if rest not in ("Z", ""):
            sign = -1 if rest[0] == "-" else 1
            zone = timezone(sign * timedelta(hours=int(rest[1:3]), minutes=int(rest[-2:])))
    except (ValueError, IndexError):
        return None
    return base.replace(microsecond=micros, tzinfo=zone)


def _epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


Section = tuple[datetime | None, str | None]


def last_section(data: bytes, end: int) -> Section | None:
    """(time, section name) of the last GitLab or Travis marker before ``end``."""
    best: tuple[int, Section] | None = None
    for needle, pattern in ((b"section_", _SECTION_TIME), (b"travis_time:end:", _TRAVIS_TIME)):
        position = data.rfind(needle, 0, end)
        while position >= 0:
            found = pattern.match(data, position)
            if found is not None:
                if found.lastindex == 3:  # a GitLab section marker
                    section = found.group(3).decode("ascii") if found.group(1) == b"start" else None
                    value: Section = (_epoch(int(found.group(2))), section)
                else:
                    value = (_epoch(int(found.group(1)) / 1e9), None)
                if best is None or position > best[0]:
                    best = (position, value)
                break
            position = data.rfind(needle, 0, position)
    return best[1] if best is not None else None


# ---------------------------------------------------------------------------
# Masking leaks

_ADD_MASK = re.compile(rb"(?P<quote>['\"]?)::add-mask::(?P<value>[^\r\n]*)")
_AZURE_SECRET = re.compile(
    rb"(?P<quote>['\"]?)##vso\[task\.(?:setsecret|setvariable [^\]\r\n]*\bissecret=true\b[^\]\r\n]*)\](?P<value>[^\r\n]*)"
)
_REGISTRATION_LINE = re.compile(r"\s*(?:::add-mask::|##vso\[task\.set(?:secret|variable)\b)")
_UNEXPANDED = re.compile(r"^[$%]|\$\{|\$\(|\*\*\*|\[MASKED\]|\[REDACTED\]|\bsecrets\.")


def masked_values(data: bytes) -> list[str]:
    """Values the log itself registered as secret (GitHub ``::add-mask::``,
    Azure ``##vso[task.setsecret]`` / ``issecret=true``), in order."""
    values: list[str] = []
    patterns = []
    if b"::add-mask::" in data:
        patterns.append(_ADD_MASK)
    if b"##vso[task.set" in data:
        patterns.append(_AZURE_SECRET)
    for pattern in patterns:
        for found in pattern.finditer(data):
            value = strip_escapes(found.group("value").decode("utf-8", "replace")).strip()
            quote_char = found.group("quote").decode("ascii")
            if quote_char and value.endswith(quote_char):
                value = value[:-1].rstrip()
            if len(value) < MIN_MASKED_LENGTH or _UNEXPANDED.search(value) or value in values:
                continue
            values.append(value)
            if len(values) == MAX_MASKED_VALUES:
                return values
    return values


def _base64_cores(value: bytes) -> set[bytes]:
    """Parts of the base64 of ``value`` that are the same wherever it stands
    in a longer encoded string (one per byte alignment, both alphabets)."""
    cores: set[bytes] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for lead in range(3):
            encoded = encode(b"\x00" * lead + value + b"\x00\x00")
            core = encoded[-(-8 * lead // 6) : 8 * (lead + len(value)) // 6]
            if len(core) >= 8:
                cores.add(core)
    return cores


def encoded_forms(value: str) -> set[bytes]:
    """How ``value`` may appear unmasked: as is, URL-encoded, base64."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {raw, quote(value, safe="").encode("ascii"), quote_plus(value, safe="").encode("ascii")}
    return forms | _base64_cores(raw)


@dataclass(frozen=True)
class Leak:
    """An unmasked copy of a masked value: its byte offsets in the log and
    the value it is a copy of."""

    start: int
    end: int
    value: str


def find_leaks(data: bytes, kind: LogKind, values: Sequence[str]) -> list[Leak]:
    """Every unmasked copy of ``values`` in ``data``, except the bare
    registration commands themselves (the runner consumes those)."""
    found: dict[int, Leak] = {}
    for value in values:
        for form in encoded_forms(value):
            position = data.find(form)
            while position >= 0:
                previous = found.get(position)
                if previous is None or previous.end - previous.start < len(form):
                    found[position] = Leak(position, position + len(form), value)
                position = data.find(form, position + 1)
    leaks = []
    for leak in sorted(found.values(), key=lambda item: item.start):
        start = data.rfind(b"\n", 0, leak.start) + 1
        end = data.find(b"\n", leak.start)
        line = data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")
        mapped, _ = normalize_line(line, kind)
        if not _REGISTRATION_LINE.match(mapped.text):
            leaks.append(leak)
    return leaks


# ---------------------------------------------------------------------------
# Placing matches


@dataclass(frozen=True)
class _Marker:
    """A masking-leak marker: the value's offsets in the chunk text and the
    byte offsets of the copy in the chunk's original bytes."""

    start: int
    end: int
    original_start: int
    original_end: int


# Lines of a chunk are indexed by blocks of about this many characters.
_INDEX_BLOCK = 1 << 16


class _LineIndex(Generic[AnyStr]):
    """Where the lines of a text (or bytes) start, without a Python step per
    line: the line number at every ~64 KiB is counted in C, the rest is a
    short scan inside one block. Built only for chunks that have matches."""

    def __init__(self, data: AnyStr, end: int, newline: AnyStr) -> None:
        self._data: AnyStr = data
        self._end = end
        self._newline: AnyStr = newline
        starts, lines = [0], [0]
        position = _INDEX_BLOCK
        while position < end:
            cut = data.find(newline, position, end)
            if cut < 0:
                break
            lines.append(lines[-1] + data.count(newline, starts[-1], cut + 1))
            starts.append(cut + 1)
            position = cut + 1 + _INDEX_BLOCK
        self._starts, self._lines = starts, lines

    def line_of(self, offset: int) -> tuple[int, int, int]:
        """(0-based line number, start, end) of the line holding ``offset``."""
        block = bisect.bisect_right(self._starts, offset) - 1
        floor = self._starts[block]
        index = self._lines[block] + self._data.count(self._newline, floor, offset)
        start = self._data.rfind(self._newline, floor, offset) + 1 or floor
        return index, start, self._line_end(start)

    def line(self, index: int) -> tuple[int, int]:
        """(start, end) of 0-based line ``index``."""
        block = bisect.bisect_right(self._lines, index) - 1
        start = self._starts[block]
        for _ in range(index - self._lines[block]):
            start = self._data.find(self._newline, start, self._end) + 1
        return start, self._line_end(start)

    def _line_end(self, start: int) -> int:
        end = self._data.find(self._newline, start, self._end)
        return self._end if end < 0 else end


class LogPlacer:
    """Places offsets of a log chunk's normalised text at the original line
    and column, with the line's own timestamp. Lines are only worked out for
    the offsets asked about, so a chunk without matches costs nothing."""

    def __init__(
        self,
        original: bytes,
        *,
        display: str,
        kind: LogKind,
        extra: tuple[tuple[str, str], ...],
        first_line: int,
        first_column: int,
        body_length: int,
        markers: Sequence[_Marker] = (),
        carried: Section = (None, None),
    ) -> None:
        self._original = original
        self._display = display
        self._kind = kind
        self._extra = extra
        self._first_line = first_line
        self._first_column = first_column  # characters before the chunk on its first line
        self._body_length = body_length
        self._markers = tuple(markers)
        self._marker_starts = [marker.start for marker in self._markers]
        self._carried = carried
        self._text_lines: _LineIndex[str] | None = None
        self._original_lines: _LineIndex[bytes] | None = None

    def place(self, text: str, offset: int) -> tuple[Provenance, int, int]:
        if offset >= self._body_length and self._markers:
            index = max(0, bisect.bisect_right(self._marker_starts, offset) - 1)
            return self._place_original(_marker_target(self._markers[index], offset))
        if self._text_lines is None:
            self._text_lines = _LineIndex(text, self._body_length, "\n")
        line_index, line_start, line_end = self._text_lines.line_of(offset)
        start, end = self._original_index().line(line_index)
        original_line = self._original[start:end].decode("utf-8", "replace")
        mapped, prefix = normalize_line(original_line, self._kind, continues_line=self._continues(line_index))
        column = offset - line_start
        # The rewritten line is the chunk's line unless bytes that were not
        # UTF-8 straddled a removed sequence; the chunk's column is then the best guess.
        if mapped.text == text[line_start:line_end]:
            column = mapped.original_column(column, len(original_line))
        provenance = self._provenance(original_line, start, prefix)
        return provenance, self._first_line + line_index, self._column(line_index, column)

    def _continues(self, line_index: int) -> bool:
        return line_index == 0 and self._first_column > 0

    def _column(self, line_index: int, column: int) -> int:
        return column + 1 + (self._first_column if line_index == 0 else 0)

    def _original_index(self) -> _LineIndex[bytes]:
        if self._original_lines is None:
            self._original_lines = _LineIndex(self._original, len(self._original), b"\n")
        return self._original_lines

    def _place_original(self, offset: int) -> tuple[Provenance, int, int]:
        line_index, start, end = self._original_index().line_of(offset)
        line = self._original[start:end].decode("utf-8", "replace")
        column = len(self._original[start:offset].decode("utf-8", "replace"))
        _, prefix = normalize_line(line, self._kind, continues_line=self._continues(line_index))
        return self._provenance(line, start, prefix), self._first_line + line_index, self._column(line_index, column)

    def _provenance(self, line: str, line_start: int, prefix: re.Match[str] | None) -> Provenance:
        extra = list(self._extra)
        when: datetime | None = None
        if prefix is not None:
            groups = prefix.groupdict()
            if groups.get("ts"):
                when = parse_timestamp(groups["ts"])
            if groups.get("job") is not None:
                extra += [("job", groups["job"]), ("step", groups["step"] or "")]
        if when is None and "\x1b_bk;t=" in line:
            found = _BUILDKITE_TIME.search(line)
            if found is not None:
                when = _epoch(int(found.group(1)) / 1000)
        if when is None and self._kind.markers:
            when, section = last_section(self._original, line_start) or self._carried
            if section:
                extra.append(("section", section))
        return Provenance(source=SOURCE_KIND, path=self._display, when=when, extra=tuple(extra))


def _marker_target(marker: _Marker, offset: int) -> int:
    """The original byte offset for ``offset`` inside a marker's value: the
    copy's first byte for the value's first character, its last for the last."""
    value_length = marker.end - marker.start
    copy_length = marker.original_end - marker.original_start
    relative = min(max(offset - marker.start, 0), value_length - 1)
    if relative == value_length - 1:
        return marker.original_end - 1
    return marker.original_start + relative * copy_length // value_length


# ---------------------------------------------------------------------------
# Reading


def member_extra(display: str) -> tuple[tuple[str, str], ...]:
    """Job and step names from the path of a GitHub Actions archive member
    (``run.zip!build/3_Run npm publish.txt``)."""
    if "!" not in display:
        return ()
    found = ACTIONS_MEMBER.search(display.rsplit("!", 1)[-1])
    if found is None:
        return ()
    if found.group("job") is None:
        return (("job", found.group("name")),)
    return (("job", found.group("job")), ("step", found.group("name")), ("step_number", found.group("number")))


def utf8(data: bytes) -> bytes | None:
    """``data`` as UTF-8 without a byte-order mark (UTF-16/32 logs from
    Windows agents re-encoded), or None when it is binary."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if b"\x00" not in data[:SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data
    text = decode_text(data)
    return None if text is None else text.encode("utf-8", "surrogatepass")


def read_log(
    data: bytes, display: str, stats: SourceStats, *, extra: tuple[tuple[str, str], ...] = ()
) -> Iterator[Chunk]:
    """The chunks of one file taken for a log (by the sniff, or by
    ``logs:PATH``). Binary content is counted and skipped."""
    raw = utf8(data)
    if raw is None:
        stats.skip("binary")
        return
    stats.scanned(len(data))
    yield from read_utf8(raw, display, extra=extra, digest_of=data)


def read_utf8(
    raw: bytes, display: str, *, extra: tuple[tuple[str, str], ...] = (), digest_of: bytes | None = None
) -> Iterator[Chunk]:
    """The chunks of a log already in UTF-8 (``digest_of``: the file's own
    bytes, when they differ)."""
    kind = recognise(raw[:SNIFF_BYTES].decode("utf-8", "replace"), display, forced=True) or LogKind("log")
    extra = (("ci", kind.system), *(extra or member_extra(display)))
    # Identical bytes read the same way normalise identically, so their
    # matches can be reused (the pipeline keys on digest and first line).
    digest = hashlib.sha256(raw if digest_of is None else digest_of)
    digest.update(f"\x00{kind.system}\x00{kind.prefix.name if kind.prefix else ''}".encode())
    yield from log_chunks(raw, display, kind, extra=extra, digest=digest.hexdigest())


def log_chunks(
    raw: bytes, display: str, kind: LogKind, *, extra: tuple[tuple[str, str], ...], digest: str
) -> Iterator[Chunk]:
    """Normalised chunks of a log, cut at line ends."""
    values = masked_values(raw) if kind.masks else []
    leaks = find_leaks(raw, kind, values) if values else []
    leak_starts = [leak.start for leak in leaks]
    provenance = Provenance(source=SOURCE_KIND, path=display, extra=extra)
    position, line, column = 0, 1, 0
    carried: Section = (None, None)
    while position < len(raw):
        end = _chunk_end(raw, position)
        piece = raw[position:end]
        body = normalize(piece, kind, continues_line=column > 0).decode("utf-8", "replace")
        chunk_leaks = leaks[bisect.bisect_left(leak_starts, position) : bisect.bisect_left(leak_starts, end)]
        content, markers = _with_markers(body, chunk_leaks, position)
        placer = LogPlacer(
            piece,
            display=display,
            kind=kind,
            extra=extra,
            first_line=line,
            first_column=column,
            body_length=len(body),
            markers=markers,
            carried=carried,
        )
        yield Chunk(content=content, provenance=provenance, digest=digest, first_line=line, locator=placer)
        if kind.markers:
            carried = last_section(piece, len(piece)) or carried
        newlines = piece.count(b"\n")
        line += newlines
        tail = piece[piece.rfind(b"\n") + 1 :] if newlines else piece
        column = len(tail.decode("utf-8", "replace")) + (0 if newlines else column)
        position = end


def _chunk_end(data: bytes, position: int) -> int:
    limit = position + CHUNK_BYTES
    if limit >= len(data):
        return len(data)
    cut = data.rfind(b"\n", position, limit)
    if cut >= 0:
        return cut + 1
    # One enormous line: cut after a space so no token is split, else at a
    # character boundary.
    cut = data.rfind(b" ", position, limit)
    if cut > position:
        return cut + 1
    while limit > position + 1 and data[limit] & 0xC0 == 0x80:
        limit -= 1
    return limit


def _with_markers(body: str, leaks: Sequence[Leak], offset: int) -> tuple[str, list[_Marker]]:
    if not leaks:
        return body, []
    parts = [body, "\n"]
    length = len(body) + 1
    markers = []
    for leak in leaks:
        start = length + len(MASKING_LEAK_MARKER)
        markers.append(_Marker(start, start + len(leak.value), leak.start - offset, leak.end - offset))
        part = f"{MASKING_LEAK_MARKER}{leak.value}\x00\n"
        parts.append(part)
        length += len(part)
    return "".join(parts), markers


def read(data: bytes, display: str, stats: SourceStats) -> Iterator[Chunk]:
    """ContentFormat entry point: a file the sniff recognised."""
    yield from read_log(data, display, stats)


CI_LOG = ContentFormat(name="ci-log", sniff=sniff, read=read)


# ---------------------------------------------------------------------------
# logs:PATH


class LogsSource(Source):
    """``logs:PATH``: every file under PATH read as a log, whatever it looks
    like (archives are opened, a GitHub Actions run archive by its layout)."""

    kind = SOURCE_KIND

    def __init__(self, path: str, options: ExportOptions) -> None:
        self._path = path
        self._options = options

    def chunks(self, stats: SourceStats) -> Iterator[Chunk]:
        from scanner.sources.ci_github import ForcedLogFiles

        yield from ForcedLogFiles(self._path, self._options).chunks(stats)


def _never(path: str) -> bool:
    return False


LOGS_EXPORT = ExportFormat(name="logs", recognize=_never, open=LogsSource)
