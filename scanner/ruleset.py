"""Loading and validating detection rules from YAML.

Rules are data (``rules/*.yaml``). A broken file or rule fails with one line
naming the file and the rule id. ``check_rules`` is the self-test behind
``sprawl rules check``: ids unique, patterns compile with exactly one group,
every example is found and every negative example is not.
"""

from __future__ import annotations

import fnmatch
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import yaml

from scanner.errors import ConfigError, RuleError
from scanner.model import Breadth, Rule, Severity, VerifySpec

_REQUIRED = ("id", "name", "kind", "pattern", "keywords", "severity")
_OPTIONAL = (
    "registry",
    "min_entropy",
    "structure",
    "boundary",
    "multiline",
    "context",
    "span",
    "prefilter",
    "scope",
    "breadth",
    "references",
    "revoke_url",
    "remediation",
    "examples",
    "negative_examples",
    "verify",
)
_VERIFY_KEYS = frozenset(
    {"method", "url", "headers", "basic_auth", "live", "revoked", "inconclusive", "body", "prefixes"}
)
# A live check's URL is a fixed https address on a named host: no port, no
# credentials, no placeholders (the secret travels in a header, never a URL).
_VERIFY_URL = regex.compile(
    r"https://(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?P<rest>/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?"
)
_HEADER_NAME = regex.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
# Headers the HTTP client sets itself; a rule must not steer them.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "user-agent"})
_PLACEHOLDER = regex.compile(r"\{[^{}]*\}")
# libyaml's loader is ten times faster than the pure-Python one; rule loading
# is on the start-up path of every command (and of commit hooks).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID_SHAPE = regex.compile(r"[a-z0-9][a-z0-9.-]{1,79}")


def bundled_rules_dir() -> Path:
    """The rules shipped with sprawl: inside the wheel, or the checkout's ``rules/``."""
    here = Path(__file__).resolve().parent
    installed = here / "_rules"
    if installed.is_dir():
        return installed
    return here.parent / "rules"


def rule_files(path: Path) -> list[Path]:
    """The rule files at ``path``: the file itself, or every YAML file in a folder."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if path.is_file():
        return [path]
    raise RuleError(f"{path}: no such rule file or folder")


def load_rules(extra_paths: Sequence[Path] = (), *, include_bundled: bool = True) -> list[Rule]:
    """Load bundled rules (unless told not to) plus every file under ``extra_paths``.

    Only the bundled rules may carry ``verify`` blocks: a rule file from a
    scanned repository or ``--rules`` must not choose where secrets are sent."""
    # Bundled rules are compiled when first needed (the test suite compiles and
    # checks every one); a user's rules are compiled now, so a broken pattern
    # fails before the scan starts, naming its file and rule.
    files: list[tuple[Path, bool]] = []
    if include_bundled:
        files.extend((file, False) for file in rule_files(bundled_rules_dir()))
    for path in extra_paths:
        files.extend((file, True) for file in rule_files(Path(path)))
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for file, compile_now in files:
        for rule in load_rule_file(file, compile_now=compile_now, allow_verify=not compile_now):
            if rule.id in seen:
                raise RuleError(
                    f"{file}: rule '{rule.id}': duplicate id, already defined in {seen[rule.id]}"
                )
            seen[rule.id] = str(file)
            rules.append(rule)
    return rules


def load_rule_file(file: Path, *, compile_now: bool = True, allow_verify: bool = False) -> list[Rule]:
    """Parse one YAML rule file: a mapping with ``rules:`` (and an optional
    file-wide ``registry``) or a bare list of rules. A ``.toml`` file is a
    gitleaks/betterleaks configuration (gitleaks_rules.py). ``verify`` blocks
    are refused unless ``allow_verify`` (sprawl's own rules)."""
    if file.suffix == ".toml":
        from scanner.gitleaks_rules import load_gitleaks_rules

        imported = load_gitleaks_rules(file)
        if compile_now:
            for rule in imported:
                compile_rule_pattern(rule)
        return imported
    try:
        document = yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{file}: cannot read rule file: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise RuleError(f"{file}: not valid YAML{where}") from exc
    default_registry: str | None = None
    if isinstance(document, dict):
        unknown = set(document) - {"registry", "rules"}
        if unknown:
            raise RuleError(f"{file}: unknown top-level key(s): {', '.join(sorted(unknown))}")
        default_registry = document.get("registry")
        entries = document.get("rules")
    else:
        entries = document
    if not isinstance(entries, list):
        raise RuleError(f"{file}: expected a list of rules (or a mapping with 'rules:')")
    rules = [
        _parse_rule(file, index, entry, default_registry, allow_verify=allow_verify)
        for index, entry in enumerate(entries)
    ]
    if compile_now:
        for rule in rules:
            compile_rule_pattern(rule)
    return rules


def _fail(file: Path, rule_id: str, message: str) -> RuleError:
    return RuleError(f"{file}: rule '{rule_id}': {message}")


def _string_list(file: Path, rule_id: str, key: str, value: Any, *, join_parts: bool = False) -> tuple[str, ...]:
    """A list of strings; with ``join_parts`` an item may itself be a list of
    strings that are concatenated (so rule files can hold examples without
    holding a scannable token literal)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(file, rule_id, f"'{key}' must be a list")
    items: list[str] = []
    for item in value:
        if join_parts and isinstance(item, list) and all(isinstance(p, str) for p in item):
            items.append("".join(item))
        elif isinstance(item, str):
            items.append(item)
        else:
            raise _fail(file, rule_id, f"'{key}' must hold strings")
    return tuple(items)


def _parse_rule(
    file: Path, index: int, entry: Any, default_registry: str | None, *, allow_verify: bool = False
) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"{file}: rule #{index + 1}: expected a mapping")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not _ID_SHAPE.fullmatch(rule_id):
        raise RuleError(f"{file}: rule #{index + 1}: 'id' must be lowercase letters, digits, '-' or '.'")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise _fail(file, rule_id, f"unknown key(s): {', '.join(sorted(unknown))}")
    for key in _REQUIRED:
        if key not in entry:
            raise _fail(file, rule_id, f"missing required key '{key}'")
    registry = entry.get("registry", default_registry)
    if not isinstance(registry, str) or not registry:
        raise _fail(file, rule_id, "missing 'registry' (on the rule or at the top of the file)")
    for key in ("name", "kind", "pattern"):
        if not isinstance(entry[key], str) or not entry[key]:
            raise _fail(file, rule_id, f"'{key}' must be a non-empty string")
    try:
        severity = Severity(entry["severity"])
    except ValueError:
        valid = ", ".join(s.value for s in Severity)
        raise _fail(file, rule_id, f"severity '{entry['severity']}' is not one of {valid}") from None
    keywords = _string_list(file, rule_id, "keywords", entry["keywords"])
    if not keywords or any(not k for k in keywords):
        raise _fail(file, rule_id, "'keywords' must list at least one non-empty literal")
    min_entropy = entry.get("min_entropy", 0.0)
    if not isinstance(min_entropy, (int, float)) or isinstance(min_entropy, bool) or not 0 <= min_entropy <= 8:
        raise _fail(file, rule_id, "'min_entropy' must be a number from 0 to 8")
    for flag in ("boundary", "multiline", "context"):
        if flag in entry and not isinstance(entry[flag], bool):
            raise _fail(file, rule_id, f"'{flag}' must be true or false")
    span = entry.get("span", 4096)
    if not isinstance(span, int) or isinstance(span, bool) or not 256 <= span <= 1 << 20:
        raise _fail(file, rule_id, "'span' must be a whole number of characters from 256 to 1048576")
    prefilter = entry.get("prefilter")
    if prefilter is not None and (not isinstance(prefilter, str) or not prefilter or not prefilter.isascii()):
        raise _fail(file, rule_id, "'prefilter' must be a non-empty ASCII regex")
    try:
        breadth = Breadth(entry.get("breadth", "unknown"))
    except ValueError:
        valid = ", ".join(b.value for b in Breadth)
        raise _fail(file, rule_id, f"breadth '{entry['breadth']}' is not one of {valid}") from None
    for key in ("structure", "revoke_url", "remediation", "scope"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise _fail(file, rule_id, f"'{key}' must be a string")
    verify: tuple[VerifySpec, ...] = ()
    if entry.get("verify") is not None:
        if not allow_verify:
            raise _fail(
                file,
                rule_id,
                "'verify' is accepted only in sprawl's bundled rules (a rule file must not choose where secrets are sent)",
            )
        verify = _parse_verify(file, rule_id, entry["verify"])
    rule = Rule(
        id=rule_id,
        name=entry["name"],
        registry=registry,
        kind=entry["kind"],
        pattern=entry["pattern"],
        keywords=keywords,
        severity=severity,
        min_entropy=float(min_entropy),
        structure=entry.get("structure"),
        boundary=entry.get("boundary", True),
        multiline=entry.get("multiline", False),
        context=entry.get("context", False),
        span=span,
        prefilter=prefilter,
        scope=entry.get("scope"),
        breadth=breadth,
        references=_string_list(file, rule_id, "references", entry.get("references")),
        revoke_url=entry.get("revoke_url"),
        remediation=entry.get("remediation"),
        examples=_string_list(file, rule_id, "examples", entry.get("examples"), join_parts=True),
        negative_examples=_string_list(
            file, rule_id, "negative_examples", entry.get("negative_examples"), join_parts=True
        ),
        verify=verify,
        source_file=str(file),
    )
    return rule


def _parse_verify(file: Path, rule_id: str, value: Any) -> tuple[VerifySpec, ...]:
    """A rule's ``verify`` block: one mapping, or a list of them told apart by ``prefixes``."""
    blocks = value if isinstance(value, list) else [value]
    if not blocks:
        raise _fail(file, rule_id, "'verify' must be a mapping or a non-empty list of mappings")
    specs = tuple(
        _parse_verify_block(file, rule_id, f"verify[{n}]" if isinstance(value, list) else "verify", block)
        for n, block in enumerate(blocks)
    )
    for spec in specs[:-1]:
        if not spec.prefixes:
            raise _fail(
                file, rule_id, "'verify': every block but the last needs 'prefixes' (the first that fits a secret is used)"
            )
    return specs


def _parse_verify_block(file: Path, rule_id: str, where: str, block: Any) -> VerifySpec:
    def fail(message: str) -> RuleError:
        return _fail(file, rule_id, f"'{where}': {message}")

    if not isinstance(block, dict):
        raise fail("must be a mapping")
    unknown = set(block) - _VERIFY_KEYS
    if unknown:
        raise fail(f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    method = block.get("method", "GET")
    if method != "GET":
        raise fail(f"method '{method}' is not allowed: live checks are read-only GET requests")
    url = block.get("url")
    if not isinstance(url, str) or not _VERIFY_URL.fullmatch(url):
        raise fail("'url' must be a fixed https://host/path address (no port, user, placeholder or fragment)")
    headers: list[tuple[str, str]] = []
    raw_headers = block.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise fail("'headers' must be a mapping of header name to value")
    for name, header_value in raw_headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise fail(f"header name {name!r} is not a valid HTTP header name")
        if name.lower() in _RESERVED_HEADERS:
            raise fail(f"header '{name}' is set by sprawl itself")
        headers.append((name, _template(fail, f"header '{name}'", header_value)))
    basic_auth: tuple[str, str] | None = None
    raw_basic = block.get("basic_auth")
    if raw_basic is not None:
        if not isinstance(raw_basic, dict) or set(raw_basic) != {"username", "password"}:
            raise fail("'basic_auth' must be a mapping with 'username' and 'password'")
        if any(name.lower() == "authorization" for name, _ in headers):
            raise fail("'basic_auth' and an Authorization header exclude each other")
        basic_auth = (
            _template(fail, "basic_auth username", raw_basic["username"]),
            _template(fail, "basic_auth password", raw_basic["password"]),
        )
    carried = [v for _, v in headers] + list(basic_auth or ())
    if not any("{secret}" in v for v in carried):
        raise fail("no header or basic_auth field carries {secret}")
    live = _statuses(fail, "live", block.get("live"), required=True)
    revoked = _statuses(fail, "revoked", block.get("revoked", []))
    raw_inconclusive = block.get("inconclusive") or {}
    if not isinstance(raw_inconclusive, dict) or not all(isinstance(v, str) and v for v in raw_inconclusive.values()):
        raise fail("'inconclusive' must map HTTP statuses to what they may mean")
    inconclusive_codes = _statuses(fail, "inconclusive", list(raw_inconclusive))
    if len({*live, *revoked, *inconclusive_codes}) != len(live) + len(revoked) + len(inconclusive_codes):
        raise fail("a status may appear in only one of 'live', 'revoked' and 'inconclusive'")
    raw_body = block.get("body") or {}
    if not isinstance(raw_body, dict) or not all(
        isinstance(k, str) and k and (v is None or isinstance(v, (str, int, bool))) for k, v in raw_body.items()
    ):
        raise fail("'body' must map JSON field names (dotted paths) to plain values")
    prefixes = _string_list(file, rule_id, f"{where}.prefixes", block.get("prefixes"))
    if any(not p for p in prefixes):
        raise fail("'prefixes' must not hold an empty string")
    return VerifySpec(
        url=url,
        headers=tuple(headers),
        basic_auth=basic_auth,
        live=live,
        revoked=revoked,
        inconclusive=tuple(sorted((int(k), v) for k, v in raw_inconclusive.items())),
        body=tuple(raw_body.items()),
        prefixes=prefixes,
        method=method,
    )


def _template(fail: Callable[[str], RuleError], what: str, value: Any) -> str:
    """A header or basic-auth template: a plain string whose only placeholder is ``{secret}``."""
    if not isinstance(value, str):
        raise fail(f"{what} must be a string")
    if "\r" in value or "\n" in value:
        raise fail(f"{what} must be one line")
    for placeholder in _PLACEHOLDER.findall(value):
        if placeholder != "{secret}":
            raise fail(f"{what}: unknown placeholder {placeholder} (only {{secret}})")
    return value


def _statuses(fail: Callable[[str], RuleError], key: str, value: Any, *, required: bool = False) -> tuple[int, ...]:
    if not isinstance(value, list) or (required and not value):
        raise fail(f"'{key}' must be a {'non-empty ' if required else ''}list of HTTP statuses")
    for status in value:
        # Redirects are the client's business (same host once, else unknown).
        valid = isinstance(status, int) and not isinstance(status, bool) and 200 <= status <= 599
        if not valid or 300 <= status <= 399:
            raise fail(f"'{key}': {status!r} is not an HTTP status from 200-299 or 400-599")
    return tuple(value)


# Characters that may continue a token; a match must not touch one on either side.
_TOKEN_CHAR = r"[A-Za-z0-9_-]"
# Real logs and exports glue tokens to ANSI colour codes (``\x1b[32mnpm_``),
# percent-escapes (``%3Dnpm_``) and JSON escapes (``\nnpm_``, ``\u003dnpm_``):
# the letter those end in is not part of the token, so it must not block a match.
_GLUE_BEFORE = r"(?:\x1b\[[0-9;?]*[A-Za-z]|%[0-9A-Fa-f]{2}|\\[nrtbf]|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})"
BOUNDARY_START = rf"(?:(?<!{_TOKEN_CHAR})|(?<={_GLUE_BEFORE}))"
BOUNDARY_END = rf"(?!{_TOKEN_CHAR})"


def compile_rule_pattern(rule: Rule) -> regex.Pattern[str]:
    """Compile a rule's pattern (wrapped in token boundaries unless the rule
    opts out), insisting on exactly one capture group: the secret."""
    source = rule.pattern
    if rule.boundary:
        source = f"{BOUNDARY_START}(?:{source}){BOUNDARY_END}"
    try:
        compiled = regex.compile(source, regex.MULTILINE if rule.multiline else 0)
    except regex.error as exc:
        raise RuleError(f"{rule.source_file}: rule '{rule.id}': pattern does not compile: {exc}") from exc
    if compiled.groups != 1:
        raise RuleError(
            f"{rule.source_file}: rule '{rule.id}': pattern has {compiled.groups} capture groups, "
            "need exactly 1 (the secret); use (?:...) for the others"
        )
    return compiled


def select_rules(rules: Iterable[Rule], only: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Rule]:
    """Keep rules whose id matches an ``only`` pattern (all if none) and no
    ``exclude`` pattern. Patterns are ids or shell globs (``npm-*``)."""
    rules = list(rules)
    for pattern in (*only, *exclude):
        if not any(fnmatch.fnmatchcase(rule.id, pattern) for rule in rules):
            raise ConfigError(f"no rule matches '{pattern}' (see 'sprawl rules list')")
    selected = [
        rule
        for rule in rules
        if (not only or any(fnmatch.fnmatchcase(rule.id, p) for p in only))
        and not any(fnmatch.fnmatchcase(rule.id, p) for p in exclude)
    ]
    if not selected:
        raise ConfigError("the rule selection left no rules to scan with")
    return selected


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    if not value:
        return 0.0
    total = len(value)
    # Counter counts in C; this runs once per candidate match.
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


@dataclass(frozen=True)
class CheckProblem:
    """One failure found by ``check_rules``."""

    rule_id: str
    source_file: str
    message: str

    def __str__(self) -> str:
        return f"{self.source_file}: rule '{self.rule_id}': {self.message}"
