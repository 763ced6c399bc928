"""`rules check`: the bundled pack is sound, and broken examples are caught."""

from __future__ import annotations

from pathlib import Path

from scanner.rulecheck import check_rules
from scanner.ruleset import load_rule_file, load_rules
from tests.tokenfactory import break_checksum, npm_token


def test_bundled_rules_pass_the_self_test() -> None:
    assert [str(p) for p in check_rules(load_rules())] == []


def test_unmatched_example_and_reported_negative_are_problems(tmp_path: Path) -> None:
    good = npm_token()
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"""
registry: npm
rules:
  - id: bad-npm
    name: bad
    kind: api-token
    pattern: '(npm_[A-Za-z0-9]{{36}})'
    keywords: [npm_]
    severity: high
    structure: github-crc32
    examples: ['nothing here', '{break_checksum(good)}']
    negative_examples: ['{good}']
"""
    )
    problems = [str(p) for p in check_rules(load_rule_file(path))]
    assert problems == [
        f"{path}: rule 'bad-npm': example 1 is not matched",
        f"{path}: rule 'bad-npm': example 2 is matched but judged fake: CRC-32 checksum does not match (fabricated or mistyped)",
        f"{path}: rule 'bad-npm': negative example 1 is reported (live-looking)",
    ]


def test_a_pattern_that_does_not_compile_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "registry: x\nrules:\n  - id: x-token\n    name: X\n    kind: api-token\n"
        "    pattern: '(xtok_[a-z]{10}'\n    keywords: [xtok_]\n    severity: high\n"
        "    examples: ['xtok_abcdefghij']\n    negative_examples: ['nothing']\n"
    )
    problems = [str(p) for p in check_rules(load_rule_file(path, compile_now=False))]
    assert len(problems) == 1 and problems[0].startswith(f"{path}: rule 'x-token': pattern does not compile")
