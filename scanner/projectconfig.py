"""Project configuration: ``.sprawl.yaml`` (or ``.sprawl.yml``) or ``[tool.sprawl]``
in ``pyproject.toml``, found from the scanned root upward, merged with flags into
a ScanConfig (flag > file > default), remembering where every value came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from scanner.config import DEFAULT_MAX_FILE_SIZE, ScanConfig, auto_jobs, parse_fail_on, parse_size
from scanner.errors import ConfigError
from scanner.model import Severity

CONFIG_NAMES = (".sprawl.yaml", ".sprawl.yml")
PYPROJECT = "pyproject.toml"
BASELINE_KEY_ENV = "SPRAWL_BASELINE_KEY"
KEYS = (
    "rules",
    "disable-rules",
    "exclude-paths",
    "fail-on",
    "baseline",
    "baseline-key",
    "max-file-size",
    "max-archive-depth",
    "jobs",
)
#: the names ``resolve_scan_config`` accepts in ``flags`` (the scan command's parameters)
FLAG_NAMES = frozenset(
    {"rules", "only", "exclude", "fail_on", "max_file_size", "max_archive_depth", "jobs", "baseline",
     "include_fake", "show_secrets"}
)
DEFAULT = "default"
_TOML_TABLE = re.compile(r"\[\s*tool\s*\.\s*sprawl\s*\]\s*(?:#.*)?")
_TOML_KEY = re.compile(r"""\s*(["']?)([A-Za-z0-9_-]+)\1\s*=""")


@dataclass(frozen=True)
class ProjectConfig:
    """The settings one configuration file makes; None = not set there.
    Paths are absolute (relative ones are taken from the file's folder)."""

    path: Path
    rules: tuple[Path, ...] | None = None
    disable_rules: tuple[str, ...] | None = None
    exclude_paths: tuple[str, ...] | None = None
    fail_on: str | None = None  # a severity name or "never"
    baseline: Path | None = None
    baseline_key: str | None = field(default=None, repr=False)
    max_file_size: int | None = None
    max_archive_depth: int | None = None
    jobs: int | None = None
    # (key, "file:line") for each key set; the line when the format tells it.
    origins: tuple[tuple[str, str], ...] = ()

    def origin(self, key: str) -> str:
        """Where ``key`` was set: ``/abs/.sprawl.yaml:4`` (or the file alone)."""
        return dict(self.origins).get(key, str(self.path))


def _has_tool_sprawl(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # unreadable: cannot be ours; the walk goes on
    if "sprawl" not in text:  # most pyproject files: no need to parse
        return False
    return "sprawl" in _parse_toml(pyproject, text).get("tool", {})


def find_config(start: Path) -> Path | None:
    """The configuration file for a scan rooted at ``start`` (a folder): the
    closest folder from ``start`` up to the filesystem root holding
    ``.sprawl.yaml``, ``.sprawl.yml`` or a ``pyproject.toml`` with
    ``[tool.sprawl]``, in that order of preference within one folder."""
    folder = Path(os.path.abspath(start))
    for directory in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_tool_sprawl(pyproject):
            return pyproject
    return None


def search_start(paths: Sequence[str]) -> Path:
    """Where discovery starts: the first scanned path if it is a folder, else
    its folder; the working directory for stdin."""
    first = paths[0] if paths else "-"
    if first.startswith("git:") and not os.path.exists(first):
        first = first[4:]  # git:PATH names a repository to scan as history
    if first in ("-", ""):
        return Path.cwd()
    path = Path(os.path.abspath(first))
    return path if path.is_dir() else path.parent


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _toml_lines(text: str) -> dict[str, int]:
    """Line of each key written directly under ``[tool.sprawl]`` (tomllib
    keeps no positions; a key written another way simply gets no line)."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = _TOML_TABLE.fullmatch(stripped) is not None
        elif inside:
            key = _TOML_KEY.match(line)
            if key is not None:
                lines.setdefault(key.group(2), number)
    return lines


def _read_toml(path: Path, text: str) -> dict[str, tuple[Any, int | None]]:
    document = _parse_toml(path, text)
    tool = document.get("tool", {})
    if not isinstance(tool, dict) or "sprawl" not in tool:
        raise ConfigError(f"{path}: no [tool.sprawl] table")
    table = tool["sprawl"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.sprawl] must be a table of settings")
    lines = _toml_lines(text)
    return {key: (value, lines.get(key)) for key, value in table.items()}


def _read_yaml(path: Path, text: str) -> dict[str, tuple[Any, int | None]]:
    import yaml

    # libyaml's loader when available: this is on the start-up path of hooks.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
        if root is None:  # an empty file is an empty configuration
            return {}
        if not isinstance(root, yaml.MappingNode):
            raise ConfigError(f"{path}:{root.start_mark.line + 1}: expected a mapping of settings")
        values: dict[str, tuple[Any, int | None]] = {}
        for key_node, value_node in root.value:
            line = key_node.start_mark.line + 1
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ConfigError(f"{path}:{line}: setting names must be strings")
            if key in values:
                raise ConfigError(f"{path}:{line}: '{key}' is set twice (first on line {values[key][1]})")
            values[key] = (loader.construct_object(value_node, deep=True), line)
        return values
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from exc
    finally:
        loader.dispose()


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Checker:
    """Type checks for one file's values, each failure one line naming the
    file, line and key."""

    def __init__(self, path: Path, toml: bool) -> None:
        self.path = path
        self.toml = toml

    def where(self, line: int | None) -> str:
        if line is not None:
            return f"{self.path}:{line}"
        return f"{self.path} [tool.sprawl]" if self.toml else str(self.path)

    def fail(self, key: str, line: int | None, expected: str, value: Any = None) -> ConfigError:
        # A plain value is quoted back, except the baseline key's: it is a secret.
        shown = key != "baseline-key" and isinstance(value, (str, int, float)) and not isinstance(value, bool)
        got = (f"'{value}'" if isinstance(value, str) else str(value)) if shown else _kind(value)
        return ConfigError(f"{self.where(line)}: '{key}' must be {expected}, not {got}")

    def strings(self, key: str, value: Any, line: int | None) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, line, "a list of non-empty strings", value)
        return tuple(value)

    def count(self, key: str, value: Any, line: int | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, line, "a whole number of at least 0", value)
        return value


def load_project_config(path: Path) -> ProjectConfig:
    """Read and type-check one configuration file: YAML, or a TOML file's
    ``[tool.sprawl]`` table. Unknown keys and bad values raise ConfigError."""
    path = Path(os.path.abspath(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such configuration file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc}") from exc
    toml = path.suffix == ".toml"
    raw = _read_toml(path, text) if toml else _read_yaml(path, text)
    check = _Checker(path, toml)
    base = path.parent
    settings: dict[str, Any] = {}
    origins: list[tuple[str, str]] = []
    for key, (value, line) in raw.items():
        if key not in KEYS:
            hint = key.replace("_", "-").lower()
            suggestion = f"; did you mean '{hint}'?" if hint in KEYS else f" (known: {', '.join(KEYS)})"
            raise ConfigError(f"{check.where(line)}: unknown key '{key}'{suggestion}")
        origins.append((key, check.where(line) if line is not None else str(path)))
        if key == "rules":
            rule_paths = tuple(base / Path(p).expanduser() for p in check.strings(key, value, line))
            for rule_path in rule_paths:
                if not rule_path.exists():
                    raise ConfigError(f"{check.where(line)}: 'rules': {rule_path} does not exist")
            settings["rules"] = rule_paths
        elif key == "disable-rules":
            settings["disable_rules"] = check.strings(key, value, line)
        elif key == "exclude-paths":
            patterns = check.strings(key, value, line)
            for pattern in patterns:
                if pattern.startswith("!"):
                    raise ConfigError(
                        f"{check.where(line)}: 'exclude-paths': '{pattern}': negation ('!') is not supported"
                    )
            settings["exclude_paths"] = patterns
        elif key == "fail-on":
            names = [s.value for s in Severity] + ["never"]
            if not isinstance(value, str) or value.lower() not in names:
                raise check.fail(key, line, f"one of {', '.join(names)}", value)
            settings["fail_on"] = value.lower()
        elif key == "baseline":
            if not isinstance(value, str) or not value.strip():
                raise check.fail(key, line, "a file path", value)
            settings["baseline"] = base / Path(value).expanduser()
        elif key == "baseline-key":
            # Never echo the value: it is a secret.
            if not isinstance(value, str) or not value:
                raise check.fail(key, line, "a non-empty string (quote it)", value)
            settings["baseline_key"] = value
        elif key == "max-file-size":
            settings["max_file_size"] = _size(check, key, value, line)
        elif key == "max-archive-depth":
            settings["max_archive_depth"] = check.count(key, value, line)
        elif key == "jobs":
            settings["jobs"] = check.count(key, value, line)
    return ProjectConfig(path=path, origins=tuple(origins), **settings)


def _size(check: _Checker, key: str, value: Any, line: int | None) -> int:
    expected = "a size such as 500k, 100M or 2G, or a number of bytes"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise check.fail(key, line, expected, value)
    if isinstance(value, int):
        size = value
    else:
        try:
            size = parse_size(value)
        except ConfigError as exc:
            raise check.fail(key, line, expected, value) from exc
    if size <= 0:
        raise ConfigError(f"{check.where(line)}: '{key}' must be more than 0 bytes")
    return size


def _joined(*origins: str) -> str:
    return " + ".join(o for o in origins if o) or DEFAULT


def resolve_scan_config(
    paths: Sequence[str],
    flags: Mapping[str, object | None],
    *,
    config_file: Path | None,
    use_config: bool,
    env: Mapping[str, str],
) -> tuple[ScanConfig, dict[str, str]]:
    """The effective ScanConfig for scanning ``paths``, and where each setting
    came from ("default", "/abs/.sprawl.yaml:4", "--fail-on", "env SPRAWL_BASELINE_KEY").

    ``flags`` holds the scan command's options by parameter name (FLAG_NAMES),
    None for one not given. A flag beats the file, the file beats the default;
    list settings (``rules``, ``disable-rules`` with ``--exclude``) are combined.
    """
    from scanner.sources.archives import ArchiveLimits

    unknown = set(flags) - FLAG_NAMES
    if unknown:
        raise ValueError(f"unknown flag name(s): {', '.join(sorted(unknown))}")
    if config_file is not None and not use_config:
        raise ConfigError("--config and --no-config cannot be used together")
    origins: dict[str, str] = {}
    project: ProjectConfig | None = None
    if config_file is not None:
        project = load_project_config(config_file)
        origins["config"] = "--config"
    elif use_config:
        found = find_config(search_start(paths))
        project = load_project_config(found) if found is not None else None
        origins["config"] = "found from the scanned root upward" if found is not None else "none found"
    else:
        origins["config"] = "--no-config"

    def flag(name: str) -> Any:
        return flags.get(name)

    def from_file(key: str) -> tuple[Any, str]:
        value = getattr(project, key.replace("-", "_")) if project is not None else None
        return value, (project.origin(key) if project is not None and value is not None else "")

    # Lists: the file's entries, then the flag's.
    file_rules, file_rules_origin = from_file("rules")
    flag_rules = [Path(p) for p in flag("rules") or ()]
    rule_paths: list[Path] = []
    for rule_path in [*(file_rules or ()), *flag_rules]:
        if os.path.abspath(rule_path) not in {os.path.abspath(p) for p in rule_paths}:
            rule_paths.append(rule_path)
    origins["rules"] = _joined(file_rules_origin, "--rules" if flag_rules else "")
    file_disabled, file_disabled_origin = from_file("disable-rules")
    flag_excluded = tuple(flag("exclude") or ())
    excluded = tuple(dict.fromkeys([*(file_disabled or ()), *flag_excluded]))
    origins["disable-rules"] = _joined(file_disabled_origin, "--exclude" if flag_excluded else "")
    only = tuple(flag("only") or ())
    origins["only"] = "--only" if only else DEFAULT
    file_excludes, origins["exclude-paths"] = from_file("exclude-paths")
    origins["exclude-paths"] = origins["exclude-paths"] or DEFAULT

    def scalar(key: str, flag_name: str, default: Any) -> Any:
        if flag(flag_name) is not None:
            origins[key] = "--" + key
            return flag(flag_name)
        value, where = from_file(key)
        if value is not None:
            origins[key] = where
            return value
        origins[key] = DEFAULT
        return default

    fail_on_text = scalar("fail-on", "fail_on", "low")
    fail_on = parse_fail_on(str(fail_on_text))
    size = scalar("max-file-size", "max_file_size", DEFAULT_MAX_FILE_SIZE)
    max_file_size = parse_size(size) if isinstance(size, str) else int(size)
    depth = int(scalar("max-archive-depth", "max_archive_depth", ArchiveLimits().max_depth))
    jobs = int(scalar("jobs", "jobs", 0))
    baseline_value = scalar("baseline", "baseline", None)
    baseline = Path(baseline_value) if baseline_value is not None else None
    key_from_env = env.get(BASELINE_KEY_ENV) or None
    if key_from_env is not None:
        baseline_key: str | None = key_from_env
        origins["baseline-key"] = f"env {BASELINE_KEY_ENV}"
    else:
        baseline_key, where = from_file("baseline-key")
        origins["baseline-key"] = where or DEFAULT

    config = ScanConfig(
        paths=tuple(paths),
        rule_paths=tuple(rule_paths),
        only=only,
        exclude=excluded,
        max_file_size=max_file_size,
        archive_limits=replace(ArchiveLimits(), max_depth=depth),
        include_fake=bool(flag("include_fake")),
        show_secrets=bool(flag("show_secrets")),
        fail_on=fail_on,
        jobs=jobs or auto_jobs(tuple(paths)),
        path_excludes=tuple(file_excludes or ()),
        baseline=baseline,
        baseline_key=baseline_key,
        config_file=project.path if project is not None else None,
    )
    return config, origins


def describe(config: ScanConfig, origins: Mapping[str, str]) -> list[tuple[str, Any, str]]:
    """(setting, value, origin) for every setting a configuration file can
    make, as ``config show`` prints them. The baseline key is never shown."""

    def listed(values: Sequence[object]) -> list[str]:
        return [str(v) for v in values]

    rows: list[tuple[str, Any, str]] = [
        ("config", str(config.config_file) if config.config_file else None, origins.get("config", DEFAULT)),
        ("rules", listed(config.rule_paths), origins.get("rules", DEFAULT)),
        ("disable-rules", listed(config.exclude), origins.get("disable-rules", DEFAULT)),
        ("only", listed(config.only), origins.get("only", DEFAULT)),
        ("exclude-paths", listed(config.path_excludes), origins.get("exclude-paths", DEFAULT)),
        ("fail-on", config.fail_on.value if config.fail_on else "never", origins.get("fail-on", DEFAULT)),
        ("baseline", str(config.baseline) if config.baseline else None, origins.get("baseline", DEFAULT)),
        ("baseline-key", "(set)" if config.baseline_key else None, origins.get("baseline-key", DEFAULT)),
        ("max-file-size", config.max_file_size, origins.get("max-file-size", DEFAULT)),
        ("max-archive-depth", config.archive_limits.max_depth, origins.get("max-archive-depth", DEFAULT)),
        ("jobs", config.jobs, origins.get("jobs", DEFAULT)),
    ]
    return rows


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "(built-in default)" if key == "baseline-key" else "(none)"
    if isinstance(value, list):
        return ", ".join(value) if value else "(none)"
    if key == "max-file-size":
        return f"{value} bytes ({value / (1 << 20):g} MiB)"
    return str(value)


def render_settings(config: ScanConfig, origins: Mapping[str, str], output_format: str, out: TextIO) -> None:
    """``sprawl config show``: an aligned text table, or JSON for machines."""
    rows = describe(config, origins)
    if output_format == "json":
        import json

        settings = {key: {"value": value, "origin": origin} for key, value, origin in rows}
        json.dump({"settings": settings}, out, indent=2)
        out.write("\n")
        return
    if output_format != "table":
        raise ConfigError(f"--format '{output_format}' is not one of table, json")
    table = [("setting", "value", "origin")] + [(key, _shown(key, value), origin) for key, value, origin in rows]
    widths = [max(len(row[column]) for row in table) for column in range(2)]
    out.writelines(f"{key:<{widths[0]}}  {value:<{widths[1]}}  {origin}".rstrip() + "\n" for key, value, origin in table)
