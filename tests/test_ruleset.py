"""Rule files: schema, one-line errors naming file and rule id, selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import ConfigError, RuleError
from scanner.ruleset import bundled_rules_dir, load_rule_file, load_rules, select_rules

GOOD = """
registry: demo
rules:
  - id: demo-token
    name: Demo token
    kind: api-token
    pattern: '(dmo_[a-z]{8})'
    keywords: [dmo_]
    severity: high
    examples: [['dmo_', 'qwertyui']]
    negative_examples: ['dmo_short']
"""


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bundled_rules_load_with_starter_registries() -> None:
    rules = load_rules()
    ids = {r.id for r in rules}
    assert {"npm-access-token", "pypi-api-token", "testpypi-api-token", "github-classic-token"} <= ids
    assert all(Path(r.source_file).parent == bundled_rules_dir() for r in rules)


def test_examples_given_as_parts_are_joined(tmp_path: Path) -> None:
    (rule,) = load_rule_file(write(tmp_path, GOOD))
    assert rule.examples == ("dmo_qwertyui",)
    assert rule.registry == "demo"


@pytest.mark.parametrize(
    "mutation,message",
    [
        (("pattern: '(dmo_[a-z]{8})'", "pattern: '(dmo_[a-z]{8}'"), "r.yaml: rule 'demo-token': pattern does not compile"),
        (("pattern: '(dmo_[a-z]{8})'", "pattern: '(dmo)_([a-z]{8})'"), "r.yaml: rule 'demo-token': pattern has 2 capture groups"),
        (("pattern: '(dmo_[a-z]{8})'", "pattern: 'dmo_[a-z]{8}'"), "r.yaml: rule 'demo-token': pattern has 0 capture groups"),
        (("severity: high", "severity: severe"), "r.yaml: rule 'demo-token': severity 'severe' is not one of"),
        (("keywords: [dmo_]", "keywords: []"), "r.yaml: rule 'demo-token': 'keywords' must list"),
        (("    kind: api-token\n", ""), "r.yaml: rule 'demo-token': missing required key 'kind'"),
        (("    kind: api-token\n", "    kind: api-token\n    colour: red\n"), "r.yaml: rule 'demo-token': unknown key(s): colour"),
        (("id: demo-token", "id: Demo Token"), "r.yaml: rule #1: 'id' must be"),
    ],
)
def test_broken_rule_fails_with_one_line_naming_file_and_rule(tmp_path: Path, mutation: tuple[str, str], message: str) -> None:
    path = write(tmp_path, GOOD.replace(*mutation))
    with pytest.raises(RuleError) as caught:
        load_rule_file(path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(str(tmp_path / message.split(":")[0]))
    assert message.split(": ", 1)[1] in text


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - id: x\n    name: [unclosed\n")
    with pytest.raises(RuleError, match=r"r\.yaml: not valid YAML \(line \d+\)"):
        load_rule_file(path)


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleError, match=r"b\.yaml: rule 'demo-token': duplicate id, already defined in .*a\.yaml"):
        load_rules([tmp_path], include_bundled=False)


def test_custom_rule_folder_adds_to_bundled(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    ids = {r.id for r in load_rules([tmp_path])}
    assert "demo-token" in ids and "npm-access-token" in ids


def test_missing_rule_path(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="no such rule file or folder"):
        load_rules([tmp_path / "nope.yaml"])


def test_select_only_and_exclude_with_globs() -> None:
    rules = load_rules()
    assert {r.id for r in select_rules(rules, only=["*pypi-api-token"])} == {"pypi-api-token", "testpypi-api-token"}
    assert "testpypi-api-token" not in {r.id for r in select_rules(rules, exclude=["testpypi-*"])}
    with pytest.raises(ConfigError, match="no rule matches 'nonexistent'"):
        select_rules(rules, only=["nonexistent"])
    with pytest.raises(ConfigError, match="left no rules"):
        select_rules(rules, only=["npm-*"], exclude=["npm-*"])


def test_span_must_be_a_sane_whole_number(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    severity: high\n", "    severity: high\n    multiline: true\n    span: 10\n"))
    with pytest.raises(RuleError, match=r"rule 'demo-token': 'span' must be a whole number"):
        load_rule_file(path)
