"""Rules from gitleaks / betterleaks TOML configurations (``--rules x.toml``).

Each ``[[rules]]`` entry becomes a sprawl Rule: its Go (RE2) regex is translated
to the ``regex`` module's dialect and narrowed to one capture group, the secret.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import RuleError
from scanner.model import Rule, Severity

#: ``Rule.kind`` of every imported rule; `rules check` does not ask these for examples.
IMPORTED_KIND = "gitleaks rule"
DEFAULT_REGISTRY = "custom"
# gitleaks has no severities; an imported rule describes a credential someone
# cared enough to write a rule for. A tag "severity:<level>" overrides it.
DEFAULT_SEVERITY = Severity.HIGH

_ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_KNOWN_RULE_KEYS = frozenset(
    {"id", "description", "regex", "secretGroup", "entropy", "keywords", "tags", "path",
     "allowlist", "allowlists", "required", "skipReport", "filter", "validate"}
)
_REPEAT = re.compile(r"\{\d+(?:,\d*)?\}")
_FLAGS = re.compile(r"\(\?([imsU]*(?:-[imsU]*)?)([:)])")
_NAMED_GROUP = re.compile(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")
_HEX_BRACED = re.compile(r"x\{([0-9A-Fa-f]{1,6})\}")
_HEX_PAIR = re.compile(r"x([0-9A-Fa-f]{2})")
_PROPERTY = re.compile(r"[pP](?:\{\^?[A-Za-z_]+\}|[A-Za-z])")
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
# betterleaks writes the entropy gate as a CEL filter that discards a finding.
_ENTROPY_FILTER = re.compile(
    r'\s*(?:filter\.)?entropy\(\s*finding\[\s*"secret"\s*\]\s*\)\s*(<=|<)\s*([0-9]+(?:\.[0-9]+)?)\s*'
)
# Escapes that mean the same in RE2 and the regex module.
_SAME_ESCAPES = frozenset("AtnrfvadDwWsSbB")
# RE2's Perl classes and word boundary know ASCII only; the regex module's
# are Unicode unless scoped with (?a:...).
_ASCII_ESCAPES = frozenset("dDwWsSbB")
# RE2's POSIX classes are ASCII too (the regex module's are Unicode).
_POSIX_ASCII = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class GoRegexError(ValueError):
    """A Go regex construct with no faithful translation."""


@dataclass(frozen=True)
class GoPattern:
    """A Go regex translated for the ``regex`` module."""

    source: str
    groups: int  # capture groups in the Go pattern
    crosses_lines: bool  # some construct may match a newline
    # The groups that can be "the first non-empty one" (gitleaks' secret when
    # no secretGroup is given): none inside another capture group or after one
    # in the same branch. They sit in different branches of an alternation.
    first_groups: tuple[int, ...] = ()


def _char(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


@dataclass
class _Frame:
    """One open group: its flags and the scoped-flag groups opened inside it."""

    flags: str
    wraps: list[str] = field(default_factory=list)
    capturing: bool = False
    # A capture group stands earlier in the current branch (directly, or in a
    # closed subgroup); and whether one is anywhere inside this group.
    captured_in_branch: bool = False
    holds_capture: bool = False


class _Translator:
    """One left-to-right pass over a Go pattern."""

    def __init__(self, pattern: str, keep: Collection[int] | None) -> None:
        self.pattern = pattern
        self.keep = None if keep is None else frozenset(keep)
        self.out: list[str] = []
        self.groups = 0
        self.first_groups: list[int] = []
        self.crosses = "\n" in pattern
        self.frames = [_Frame(flags="")]
        self.class_ascii = False  # the class being read holds \w, \d or \s
        self.class_unicode = False  # ... or \p{...}

    def run(self) -> GoPattern:
        text = self.pattern
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                i = self._escape(i, in_class=False)
                continue
            if char == "[":
                i = self._class(i)
                continue
            if char == "(":
                i = self._open(i)
                continue
            frame = self.frames[-1]
            if char == ")":
                if len(self.frames) == 1:
                    raise GoRegexError(f"unbalanced ')' at position {i}")
                self.out.append(")" * len(frame.wraps) + ")")
                self.frames.pop()
                if frame.holds_capture:
                    self.frames[-1].captured_in_branch = True
            elif char == "|":
                # Go keeps a group's (?i) in force past "|" up to the group's end;
                # a scoped (?i:...) must be closed and reopened around the bar.
                self.out.append(")" * len(frame.wraps) + "|" + "".join(f"(?{w}:" for w in frame.wraps))
                frame.captured_in_branch = False
            elif char == "^":
                # Without (?m), Go's ^ is the start of the text only.
                self.out.append("^" if "m" in frame.flags else r"\A")
            elif char == "$":
                # Go's $ (without m) is the end of the text, where a pattern like
                # ``(?:['"\s]|$)`` ends a token; the detector hands the regex one
                # line at a time, so the line end stands in for the text end.
                self.out.append("(?m:$)")
            elif char == "{":
                repeat = _REPEAT.match(text, i)
                if repeat is None:  # RE2 reads "{" that starts no repeat as a literal
                    self.out.append(r"\{")
                else:
                    self.out.append(repeat.group())
                    i = repeat.end()
                    continue
            else:
                if char == "." and "s" in frame.flags:
                    self.crosses = True
                self.out.append(char)
            i += 1
        if len(self.frames) != 1:
            raise GoRegexError("missing ')'")
        self.out.append(")" * len(self.frames[0].wraps))
        return GoPattern("".join(self.out), self.groups, self.crosses, tuple(self.first_groups))

    def _open(self, i: int) -> int:
        text = self.pattern
        frame = self.frames[-1]
        flags = _FLAGS.match(text, i)
        if flags is not None and flags.group(1):
            spec = flags.group(1)
            if "U" in spec:
                raise GoRegexError("the ungreedy flag (?U) has no equivalent here")
            on, _, off = spec.partition("-")
            merged = "".join(sorted((set(frame.flags) | set(on)) - set(off)))
            if flags.group(2) == ":":
                self.out.append(f"(?{spec}:")
                self.frames.append(_Frame(flags=merged))
            else:
                self.out.append(f"(?{spec}:")
                frame.wraps.append(spec)
                frame.flags = merged
            return flags.end()
        named = _NAMED_GROUP.match(text, i)
        if named is not None or not text.startswith("(?", i):
            self.groups += 1
            if not any(f.capturing or f.captured_in_branch for f in self.frames):
                self.first_groups.append(self.groups)
            frame.captured_in_branch = True
            for outer in self.frames:
                outer.holds_capture = True
            if self.keep is None or (self.groups in self.keep and len(self.keep) == 1):
                self.out.append("(")
            elif self.groups in self.keep:
                # Several kept groups (alternatives) share one name, hence one
                # number: whichever branch matched fills it.
                self.out.append("(?P<secret>")
            else:
                self.out.append("(?:")
            self.frames.append(_Frame(flags=frame.flags, capturing=True, holds_capture=True))
            return named.end() if named is not None else i + 1
        # (?:...) and anything else RE2 would not accept (lookarounds) pass as they are.
        self.out.append("(?")
        self.frames.append(_Frame(flags=frame.flags))
        return i + 2

    def _escape(self, i: int, *, in_class: bool) -> int:
        text = self.pattern
        if i + 1 >= len(text):
            raise GoRegexError("trailing backslash")
        char = text[i + 1]
        if char == "Q" and not in_class:
            end = text.find(r"\E", i + 2)
            literal = text[i + 2 :] if end < 0 else text[i + 2 : end]
            self.crosses |= "\n" in literal
            self.out.append("".join(_char(ord(c)) if not c.isalnum() else c for c in literal))
            return len(text) if end < 0 else end + 2
        hex_match = _HEX_BRACED.match(text, i + 1) or _HEX_PAIR.match(text, i + 1)
        if hex_match is not None:
            code = int(hex_match.group(1), 16)
            if code > 0x10FFFF:
                raise GoRegexError(f"escape \\x{{{hex_match.group(1)}}} is past the last Unicode character")
            self.crosses |= code == 10
            self.out.append(_char(code))
            return hex_match.end()
        if char.isdigit():
            return self._octal(i)
        if char == "z" and not in_class:
            self.out.append(r"\Z")
            return i + 2
        if char in "pP":
            prop = _PROPERTY.match(text, i + 1)
            if prop is None:
                raise GoRegexError(f"bad Unicode class escape at position {i}")
            # \P{...} and the control-character class include the newline.
            self.crosses |= char == "P" or prop.group().lstrip("p{^").startswith("C")
            self.class_unicode = True
            self.out.append("\\" + prop.group())
            return prop.end()
        if char in _SAME_ESCAPES:
            self.crosses |= char in "sWDn"
            if char in _ASCII_ESCAPES:
                if in_class:
                    self.class_ascii = True
                else:
                    self.out.append(f"(?a:\\{char})")
                    return i + 2
            self.out.append(text[i : i + 2])
            return i + 2
        if char.isascii() and char.isalnum():
            raise GoRegexError(f"escape \\{char} is not valid in Go regular expressions")
        self.out.append(text[i : i + 2])  # an escaped punctuation character
        return i + 2

    def _octal(self, i: int) -> int:
        """RE2 octal: \\0 plus up to two octal digits, or \\1-\\7 followed by
        at least one more (a lone \\1 would be a backreference: not in RE2)."""
        text = self.pattern
        start = i + 1
        if text[start] in "89" or (
            text[start] != "0" and not (start + 1 < len(text) and text[start + 1] in "01234567")
        ):
            raise GoRegexError(f"escape \\{text[start]} (backreferences are not supported in Go regular expressions)")
        end = start + 1
        while end < len(text) and end - start < 3 and text[end] in "01234567":
            end += 1
        code = int(text[start:end], 8)
        self.crosses |= code == 10
        self.out.append(_char(code))
        return end

    def _class(self, i: int) -> int:
        text = self.pattern
        start = len(self.out)
        self.class_ascii = self.class_unicode = False
        self.out.append("[")
        i += 1
        if text.startswith("^", i):
            self.out.append("^")
            self.crosses = True  # a negated class matches the newline unless it lists it
            i += 1
        if text.startswith("]", i):  # a "]" first in the class is a literal
            self.out.append(r"\]")
            i += 1
        while i < len(text):
            char = text[i]
            if char == "]":
                self.out.append("]")
                # \w, \d, \s inside: ASCII, unless \p{...} in the same class
                # needs Unicode (then \w & co. stay Unicode: a rare mix).
                if self.class_ascii and not self.class_unicode:
                    self.out.insert(start, "(?a:")
                    self.out.append(")")
                return i + 1
            if char == "\\":
                i = self._escape(i, in_class=True)
                continue
            if char == "[":
                posix = _POSIX_CLASS.match(text, i)
                if posix is not None:
                    negated, name = posix.group(1), posix.group(2)
                    if name not in _POSIX_ASCII:
                        raise GoRegexError(f"unknown character class [:{name}:]")
                    self.crosses |= bool(negated) or name in ("space", "cntrl")
                    # A negated one has no range form inside a class: kept as written.
                    self.out.append(posix.group() if negated else _POSIX_ASCII[name])
                    i = posix.end()
                    continue
                self.out.append(r"\[")  # a plain "[" inside a class is a literal in RE2
            else:
                self.out.append(char)
            i += 1
        raise GoRegexError("missing ']'")


def translate_go_regex(pattern: str, *, keep: Collection[int] | None = None) -> GoPattern:
    """Translate a Go (RE2) pattern for the ``regex`` module.

    Where the dialects differ: a mid-pattern ``(?i)`` applies to the end of its
    group in Go (the regex module would apply it to the whole pattern), ``\\z``,
    ``\\Q...\\E``, ``\\x{...}``, octal escapes, ``^``/``$`` without ``(?m)``
    (the text's start; for ``$`` see the comment where it is translated), a
    ``{`` that starts no repeat, ``[`` inside a class; ``\\w``, ``\\d``, ``\\s``,
    ``\\b`` and POSIX classes know ASCII only in Go (here: ``(?a:...)`` and
    ranges), while ``\\pL`` and ``(?i)`` are Unicode in both.

    ``keep``: None keeps every capture group; otherwise only those (counting
    from 1, as Go does) stay capturing, as one group; the others become ``(?:``.
    """
    return _Translator(pattern, keep).run()


def _default_warn(message: str) -> None:
    print(f"sprawl: warning: {message}", file=sys.stderr)


def _names(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} and {len(ids) - limit} more"


def _string_list(file: Path, rule_id: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{file}: rule '{rule_id}': '{key}' must be a list of non-empty strings")
    return tuple(value)


def _entropy_gate(file: Path, rule_id: str, entry: dict[str, Any], ignored: dict[str, list[str]]) -> float:
    """The minimum entropy a secret needs, from ``entropy`` (gitleaks drops a
    secret whose entropy is at or below it) or a betterleaks entropy filter."""
    entropy = entry.get("entropy", 0)
    if isinstance(entropy, bool) or not isinstance(entropy, (int, float)) or entropy < 0:
        raise RuleError(f"{file}: rule '{rule_id}': 'entropy' must be a number of at least 0")
    # Our detector drops a secret below min_entropy; "at or below" is "below
    # the next float up".
    gate = math.nextafter(float(entropy), math.inf) if entropy > 0 else 0.0
    cel = entry.get("filter")
    if cel is not None:
        parsed = _ENTROPY_FILTER.fullmatch(cel) if isinstance(cel, str) else None
        if parsed is None:
            ignored.setdefault("'filter' expressions", []).append(rule_id)
        else:
            threshold = float(parsed.group(2))
            gate = max(gate, math.nextafter(threshold, math.inf) if parsed.group(1) == "<=" else threshold)
    return gate


def _tag_fields(file: Path, rule_id: str, tags: tuple[str, ...]) -> tuple[str, Severity]:
    """Registry and severity from the sprawl tags ``registry:<name>`` and ``severity:<level>``."""
    registry, severity = DEFAULT_REGISTRY, DEFAULT_SEVERITY
    for tag in tags:
        name, _, value = tag.partition(":")
        if name == "registry" and value:
            registry = value
        elif name == "severity" and value:
            try:
                severity = Severity(value.lower())
            except ValueError:
                valid = ", ".join(s.value for s in Severity)
                raise RuleError(f"{file}: rule '{rule_id}': tag '{tag}': severity is not one of {valid}") from None
    return registry, severity


def _parse_rule(
    file: Path, index: int, entry: Any, ignored: dict[str, list[str]], skipped: dict[str, list[str]]
) -> Rule | None:
    if not isinstance(entry, dict):
        raise RuleError(f"{file}: rule #{index + 1}: expected a [[rules]] table")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not _ID_SHAPE.fullmatch(rule_id):
        raise RuleError(
            f"{file}: rule #{index + 1}: 'id' must be letters, digits, '.', '_' or '-' (at most 100)"
        )
    for key in sorted(set(entry) - _KNOWN_RULE_KEYS):
        ignored.setdefault(f"unknown key '{key}'", []).append(rule_id)
    description = entry.get("description", "")
    pattern = entry.get("regex")
    path = entry.get("path")
    for key, value in (("description", description), ("regex", pattern), ("path", path)):
        if value is not None and not isinstance(value, str):
            raise RuleError(f"{file}: rule '{rule_id}': '{key}' must be a string")
    if not pattern and not path:
        raise RuleError(f"{file}: rule '{rule_id}': has neither 'regex' nor 'path'")
    keywords = tuple(k.lower() for k in _string_list(file, rule_id, "keywords", entry.get("keywords")))
    tags = _string_list(file, rule_id, "tags", entry.get("tags"))
    secret_group = entry.get("secretGroup", 0)
    if isinstance(secret_group, bool) or not isinstance(secret_group, int) or secret_group < 0:
        raise RuleError(f"{file}: rule '{rule_id}': 'secretGroup' must be a whole number of at least 0")
    skip_report = entry.get("skipReport", False)
    if not isinstance(skip_report, bool):
        raise RuleError(f"{file}: rule '{rule_id}': 'skipReport' must be true or false")
    min_entropy = _entropy_gate(file, rule_id, entry, ignored)
    registry, severity = _tag_fields(file, rule_id, tags)
    if not pattern:
        skipped.setdefault("match file names only ('path' without 'regex')", []).append(rule_id)
        return None
    if skip_report:
        skipped.setdefault("only support composite rules ('skipReport')", []).append(rule_id)
        return None
    for key, label in (
        ("path", "'path' restrictions (the regex runs on every file)"),
        ("allowlist", "allowlists"),
        ("allowlists", "allowlists"),
        ("required", "'required' companions (reported without them)"),
        ("validate", "'validate' expressions"),
    ):
        if entry.get(key):
            ignored.setdefault(label, []).append(rule_id)
    try:
        counted = translate_go_regex(pattern)
        if secret_group > counted.groups:
            raise RuleError(
                f"{file}: rule '{rule_id}': secretGroup {secret_group}, but the regex has "
                f"{counted.groups} capture group(s)"
            )
        # gitleaks' secret: the secretGroup, else the first non-empty capture
        # group, else the whole match.
        keep = (secret_group,) if secret_group else counted.first_groups
        translated = translate_go_regex(pattern, keep=keep)
    except GoRegexError as exc:
        raise RuleError(f"{file}: rule '{rule_id}': regex: {exc}") from exc
    source = translated.source if keep else f"({translated.source})"
    return Rule(
        id=rule_id,
        name=description.strip() or rule_id,
        registry=registry,
        kind=IMPORTED_KIND,
        pattern=source,
        keywords=keywords,
        severity=severity,
        min_entropy=min_entropy,
        # gitleaks regexes carry their own boundaries.
        boundary=False,
        multiline=translated.crosses_lines,
        context=False,
        source_file=str(file),
    )


def load_gitleaks_rules(file: Path, *, warn: Callable[[str], None] | None = None) -> list[Rule]:
    """The rules of one gitleaks/betterleaks TOML file (patterns not yet compiled).

    Rules that only match file names (``path`` without ``regex``) and
    ``skipReport`` components are not loaded; allowlists, ``path`` restrictions,
    ``required`` companions, ``validate`` and non-entropy ``filter`` expressions
    and ``[extend]`` are not applied. Each is said once per file through ``warn``
    (default: a ``sprawl: warning:`` line on stderr).
    """
    import tomllib

    say = warn or _default_warn
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{file}: cannot read rule file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{file}: not valid TOML: {exc}") from exc
    entries = document.get("rules", [])
    if not isinstance(entries, list):
        raise RuleError(f"{file}: 'rules' must be an array of [[rules]] tables")
    ignored: dict[str, list[str]] = {}
    skipped: dict[str, list[str]] = {}
    rules = [
        rule
        for index, entry in enumerate(entries)
        if (rule := _parse_rule(file, index, entry, ignored, skipped)) is not None
    ]
    if not entries:
        raise RuleError(f"{file}: no [[rules]] in this gitleaks configuration")
    for reason, ids in skipped.items():
        say(f"{file}: not loaded, {len(ids)} rule(s) that {reason}: {_names(ids)}")
    if "extend" in document:
        ignored.setdefault("[extend] (only the rules in this file are loaded)", [])
    file_wide = [key for key in ("allowlist", "allowlists", "prefilter", "filter") if key in document]
    if file_wide:
        ignored.setdefault("file-wide " + ", ".join(file_wide), [])
    if ignored:
        parts = [f"{label} ({_names(ids)})" if ids else label for label, ids in ignored.items()]
        say(f"{file}: not applied: {'; '.join(parts)}")
    return rules
