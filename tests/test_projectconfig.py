"""Project configuration: discovery, both file formats, type checks with
one-line errors naming file, line and key, and flag > file > default."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanner.config import DEFAULT_MAX_FILE_SIZE
from scanner.errors import ConfigError
from scanner.model import Severity
from scanner.projectconfig import (
    describe,
    find_config,
    load_project_config,
    render_settings,
    resolve_scan_config,
    search_start,
)

# A value shaped like nothing real; the tests check it is never printed.
KEY_VALUE = "kv-" + "q7" * 12

FULL_YAML = f"""\
# sprawl settings for this project
rules: [rules/acme.yaml]
disable-rules:
  - npm-*
exclude-paths: ["*.min.js", tests/fixtures/**]
fail-on: high
baseline: .sprawl-baseline.json
baseline-key: "{KEY_VALUE}"
max-file-size: 10M
max-archive-depth: 2
jobs: 3
"""

FULL_TOML = f"""\
[project]
name = "demo"

[tool.sprawl]
rules = ["rules/acme.yaml"]
disable-rules = ["npm-*"]
exclude-paths = ["*.min.js"]
fail-on = "critical"
baseline-key = "{KEY_VALUE}"
max-file-size = 2048
jobs = 0

[tool.other]
jobs = 9
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def no_config_above(path: Path) -> bool:
    return find_config(path) is None


# --- discovery ---------------------------------------------------------------


def test_closest_folder_wins(tmp_path: Path) -> None:
    outer = write(tmp_path / ".sprawl.yaml", "")
    inner = write(tmp_path / "a" / ".sprawl.yml", "")
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    assert find_config(tmp_path / "a" / "b" / "c") == inner
    assert find_config(tmp_path / "a") == inner
    assert find_config(tmp_path) == outer


def test_in_one_folder_yaml_beats_yml_beats_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.sprawl]\njobs = 1\n")
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    write(tmp_path / ".sprawl.yml", "")
    assert find_config(tmp_path) == tmp_path / ".sprawl.yml"
    write(tmp_path / ".sprawl.yaml", "")
    assert find_config(tmp_path) == tmp_path / ".sprawl.yaml"


def test_pyproject_without_tool_sprawl_is_passed_over(tmp_path: Path) -> None:
    top = write(tmp_path / ".sprawl.yaml", "")
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'sprawl-plugin'\n[tool.ruff]\nline-length = 99\n")
    write(tmp_path / "pkg" / "sub" / "pyproject.toml", "this is [not toml\n")  # never parsed: no mention
    assert find_config(tmp_path / "pkg" / "sub") == top


def test_broken_pyproject_that_may_hold_our_table_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.sprawl]\njobs = \n")
    with pytest.raises(ConfigError, match=rf"^{tmp_path / 'pyproject.toml'}: not valid TOML"):
        find_config(tmp_path)


def test_nothing_found(tmp_path: Path) -> None:
    if not no_config_above(tmp_path.parent):
        pytest.skip("a configuration file sits above the test folder")
    assert find_config(tmp_path) is None


def test_search_starts_at_the_first_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "d" / "f.txt", "x")
    assert search_start([str(tmp_path / "d")]) == tmp_path / "d"
    assert search_start([str(tmp_path / "d" / "f.txt"), "/elsewhere"]) == tmp_path / "d"
    monkeypatch.chdir(tmp_path)
    assert search_start(["-"]) == tmp_path
    assert search_start(["d"]) == tmp_path / "d"


# --- loading -----------------------------------------------------------------


def test_yaml_values_and_their_lines(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "acme.yaml", "rules: []\n")
    config = load_project_config(write(tmp_path / ".sprawl.yaml", FULL_YAML))
    assert config.rules == (tmp_path / "rules" / "acme.yaml",)
    assert config.disable_rules == ("npm-*",)
    assert config.exclude_paths == ("*.min.js", "tests/fixtures/**")
    assert config.fail_on == "high"
    assert config.baseline == tmp_path / ".sprawl-baseline.json"
    assert config.baseline_key == KEY_VALUE
    assert (config.max_file_size, config.max_archive_depth, config.jobs) == (10 << 20, 2, 3)
    where = str(tmp_path / ".sprawl.yaml")
    assert config.origin("rules") == f"{where}:2"
    assert config.origin("disable-rules") == f"{where}:3"
    assert config.origin("jobs") == f"{where}:11"
    assert KEY_VALUE not in repr(config)


def test_pyproject_table_values_and_their_lines(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "acme.yaml", "rules: []\n")
    config = load_project_config(write(tmp_path / "pyproject.toml", FULL_TOML))
    assert config.rules == (tmp_path / "rules" / "acme.yaml",)
    assert (config.fail_on, config.max_file_size, config.jobs) == ("critical", 2048, 0)
    assert config.baseline is None and config.max_archive_depth is None
    assert config.origin("fail-on") == f"{tmp_path / 'pyproject.toml'}:8"
    assert config.origin("jobs") == f"{tmp_path / 'pyproject.toml'}:11"  # not [tool.other]'s


def test_empty_yaml_is_an_empty_configuration(tmp_path: Path) -> None:
    config = load_project_config(write(tmp_path / ".sprawl.yaml", "# nothing yet\n"))
    assert config.rules is None and config.fail_on is None and config.origins == ()


@pytest.mark.parametrize(
    "text,message",
    [
        ("jobs: 2\nfail_on: low\n", ":2: unknown key 'fail_on'; did you mean 'fail-on'?"),
        ("colour: red\n", ":1: unknown key 'colour' (known: rules, disable-rules,"),
        ("rules: rules.yaml\n", ":1: 'rules' must be a list of non-empty strings, not 'rules.yaml'"),
        ("rules: [missing.yaml]\n", ":1: 'rules': {root}/missing.yaml does not exist"),
        ("disable-rules: [npm-*, 3]\n", ":1: 'disable-rules' must be a list of non-empty strings, not a list"),
        ("exclude-paths: ['']\n", ":1: 'exclude-paths' must be a list of non-empty strings"),
        ("exclude-paths: ['!keep.txt']\n", ":1: 'exclude-paths': '!keep.txt': negation ('!') is not supported"),
        ("\nfail-on: severe\n", ":2: 'fail-on' must be one of info, low, medium, high, critical, never, not 'severe'"),
        ("baseline: 12\n", ":1: 'baseline' must be a file path, not 12"),
        ("max-file-size: lots\n", ":1: 'max-file-size' must be a size such as 500k, 100M or 2G, or a number of bytes, not 'lots'"),
        ("max-file-size: 0\n", ":1: 'max-file-size' must be more than 0 bytes"),
        ("max-archive-depth: two\n", ":1: 'max-archive-depth' must be a whole number of at least 0, not 'two'"),
        ("jobs: -1\n", ":1: 'jobs' must be a whole number of at least 0, not -1"),
        ("jobs: true\n", ":1: 'jobs' must be a whole number of at least 0, not true/false"),
        ("jobs: 1\njobs: 2\n", ":2: 'jobs' is set twice (first on line 1)"),
        ("- jobs\n", ":1: expected a mapping of settings"),
        ("jobs: [1,\n", ": not valid YAML (line 2)"),
    ],
)
def test_bad_yaml_is_one_line_naming_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / ".sprawl.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_project_config(path)
    assert str(caught.value).startswith(f"{path}{message.format(root=tmp_path)}")
    assert "\n" not in str(caught.value)


def test_the_baseline_key_is_never_echoed_in_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / ".sprawl.yaml", "baseline-key: 918273645546372819\n")
    with pytest.raises(ConfigError) as caught:
        load_project_config(path)
    assert str(caught.value) == f"{path}:1: 'baseline-key' must be a non-empty string (quote it), not a number"
    assert "918273645546372819" not in str(caught.value)


@pytest.mark.parametrize(
    "text,message",
    [
        ("[tool.sprawl]\njobs = 'many'\n", ":2: 'jobs' must be a whole number of at least 0, not 'many'"),
        ("[tool.sprawl]\nfail_on = 'low'\n", ":2: unknown key 'fail_on'; did you mean 'fail-on'?"),
        ("[tool]\nsprawl = { jobs = -2 }\n", " [tool.sprawl]: 'jobs' must be a whole number of at least 0, not -2"),
        ("[tool]\nsprawl = 3\n", ": [tool.sprawl] must be a table of settings"),
        ("[project]\nname = 'x'\n", ": no [tool.sprawl] table"),
        ("[tool.sprawl\n", ": not valid TOML"),
    ],
)
def test_bad_toml_is_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_project_config(path)
    assert str(caught.value).startswith(f"{path}{message}")
    assert "\n" not in str(caught.value)


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: no such configuration file$"):
        load_project_config(tmp_path / "nope.yaml")


# --- precedence --------------------------------------------------------------


def resolve(paths: list[str], flags: dict[str, object | None] | None = None, *, env: dict[str, str] | None = None,
            config_file: Path | None = None, use_config: bool = True):  # type: ignore[no-untyped-def]
    return resolve_scan_config(paths, flags or {}, config_file=config_file, use_config=use_config, env=env or {})


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    write(tmp_path / "rules" / "acme.yaml", "rules: []\n")
    write(tmp_path / "extra.yaml", "rules: []\n")
    write(tmp_path / ".sprawl.yaml", FULL_YAML)
    (tmp_path / "src").mkdir()
    return tmp_path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config, origins = resolve([str(tmp_path)], use_config=False)
    assert config.fail_on is Severity.LOW
    assert config.max_file_size == DEFAULT_MAX_FILE_SIZE
    assert config.archive_limits.max_depth == 5
    assert config.jobs >= 1  # 0 means: every core for a folder
    assert (config.rule_paths, config.exclude, config.path_excludes) == ((), (), ())
    assert (config.baseline, config.baseline_key, config.config_file) == (None, None, None)
    assert origins["config"] == "--no-config"
    assert {origins[k] for k in ("fail-on", "max-file-size", "jobs", "rules", "baseline-key")} == {"default"}


def test_the_file_beats_the_defaults(project: Path) -> None:
    config, origins = resolve([str(project / "src")])
    where = str(project / ".sprawl.yaml")
    assert config.config_file == project / ".sprawl.yaml"
    assert config.fail_on is Severity.HIGH
    assert config.rule_paths == (project / "rules" / "acme.yaml",)
    assert config.exclude == ("npm-*",)
    assert config.path_excludes == ("*.min.js", "tests/fixtures/**")
    assert config.baseline == project / ".sprawl-baseline.json"
    assert config.baseline_key == KEY_VALUE
    assert (config.max_file_size, config.archive_limits.max_depth, config.jobs) == (10 << 20, 2, 3)
    assert origins["fail-on"] == f"{where}:6"
    assert origins["exclude-paths"] == f"{where}:5"
    assert origins["baseline-key"] == f"{where}:8"
    assert origins["config"] == "found from the scanned root upward"


def test_flags_beat_the_file_and_lists_are_combined(project: Path) -> None:
    flags: dict[str, object | None] = {
        "fail_on": "never",
        "max_file_size": "1k",
        "max_archive_depth": 0,
        "jobs": 1,
        "baseline": Path("other.json"),
        "rules": [project / "extra.yaml", project / "rules" / "acme.yaml"],
        "exclude": ["github-*"],
        "only": ["acme-*"],
        "include_fake": True,
        "fail_on_unused": None,
    }
    with pytest.raises(ValueError, match="fail_on_unused"):
        resolve([str(project)], flags)
    del flags["fail_on_unused"]
    config, origins = resolve([str(project)], flags)
    assert config.fail_on is None
    assert (config.max_file_size, config.archive_limits.max_depth, config.jobs) == (1024, 0, 1)
    assert config.baseline == Path("other.json")
    # the file's rules first, then the flag's; the same file once
    assert config.rule_paths == (project / "rules" / "acme.yaml", project / "extra.yaml")
    assert config.exclude == ("npm-*", "github-*")
    assert config.only == ("acme-*",) and config.include_fake and not config.show_secrets
    where = str(project / ".sprawl.yaml")
    assert origins["fail-on"] == "--fail-on"
    assert origins["max-archive-depth"] == "--max-archive-depth"
    assert origins["rules"] == f"{where}:2 + --rules"
    assert origins["disable-rules"] == f"{where}:3 + --exclude"
    assert origins["only"] == "--only"


def test_environment_beats_the_file_for_the_baseline_key(project: Path) -> None:
    config, origins = resolve([str(project)], env={"SPRAWL_BASELINE_KEY": "from-env"})
    assert config.baseline_key == "from-env"
    assert origins["baseline-key"] == "env SPRAWL_BASELINE_KEY"
    config, origins = resolve([str(project)], env={"SPRAWL_BASELINE_KEY": ""})
    assert config.baseline_key == KEY_VALUE


def test_config_flag_replaces_discovery_and_no_config_ignores_files(project: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "elsewhere" / "ci.yaml", "fail-on: critical\n")
    config, origins = resolve([str(project)], config_file=other)
    assert config.fail_on is Severity.CRITICAL and config.path_excludes == ()
    assert config.config_file == other and origins["config"] == "--config"
    assert origins["fail-on"] == f"{other}:1"
    config, _ = resolve([str(project)], use_config=False)
    assert config.fail_on is Severity.LOW and config.config_file is None
    with pytest.raises(ConfigError, match="--config and --no-config cannot be used together"):
        resolve([str(project)], config_file=other, use_config=False)


def test_a_bad_flag_value_names_the_flag(project: Path) -> None:
    with pytest.raises(ConfigError, match="--fail-on 'severe' is not one of"):
        resolve([str(project)], {"fail_on": "severe"})


# --- showing -----------------------------------------------------------------


def test_show_table_names_every_setting_and_never_the_key(project: Path) -> None:
    config, origins = resolve([str(project)])
    out = io.StringIO()
    render_settings(config, origins, "table", out)
    text = out.getvalue()
    assert KEY_VALUE not in text
    lines = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert set(lines) == {key for key, _, _ in describe(config, origins)}
    assert lines["baseline-key"].split()[1:] == ["(set)", f"{project / '.sprawl.yaml'}:8"]
    assert lines["fail-on"].split()[1:] == ["high", f"{project / '.sprawl.yaml'}:6"]
    assert lines["max-archive-depth"].split()[1:] == ["2", f"{project / '.sprawl.yaml'}:10"]


def test_show_json(project: Path) -> None:
    config, origins = resolve([str(project)], {"jobs": 2})
    out = io.StringIO()
    render_settings(config, origins, "json", out)
    assert KEY_VALUE not in out.getvalue()
    settings = json.loads(out.getvalue())["settings"]
    assert settings["jobs"] == {"value": 2, "origin": "--jobs"}
    assert settings["exclude-paths"]["value"] == ["*.min.js", "tests/fixtures/**"]
    assert settings["baseline-key"]["value"] == "(set)"
    assert settings["config"]["value"] == str(project / ".sprawl.yaml")
    with pytest.raises(ConfigError, match="--format 'xml' is not one of table, json"):
        render_settings(config, origins, "xml", io.StringIO())
