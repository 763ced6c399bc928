"""``sprawl rules check`` and ``sprawl rules list``.

The check runs each rule's examples through the real detector and offline
judge: an example must be found and judged not fake; a negative example must
produce no reportable finding (either no match, or a match judged fake).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from scanner.engine import Detector
from scanner.errors import RuleError
from scanner.gitleaks_rules import IMPORTED_KIND
from scanner.model import Chunk, Liveness, Provenance, Rule
from scanner.ruleset import CheckProblem, compile_rule_pattern
from scanner.validators.base import builtin_validators
from scanner.validators.judge import Judge


def _chunk(text: str) -> Chunk:
    return Chunk(content=text, provenance=Provenance(source="rule-example", path="<example>"), digest="")


def check_rules(rules: Sequence[Rule]) -> list[CheckProblem]:
    """Every problem with ``rules``; an empty list means they are sound."""
    problems: list[CheckProblem] = []
    counts = Counter(rule.id for rule in rules)
    for rule_id, count in counts.items():
        if count > 1:
            source = next(r.source_file for r in rules if r.id == rule_id)
            problems.append(CheckProblem(rule_id, source, f"id used by {count} rules"))
    judge = Judge(builtin_validators(), list(rules))
    for rule in rules:
        try:
            compile_rule_pattern(rule)
        except RuleError as exc:
            problems.append(CheckProblem(rule.id, rule.source_file, str(exc).split(": ", 2)[-1]))
            continue
        problems.extend(_check_examples(rule, judge))
    return problems


def _check_examples(rule: Rule, judge: Judge) -> list[CheckProblem]:
    problems: list[CheckProblem] = []
    detector = Detector([rule])

    def fail(message: str) -> None:
        problems.append(CheckProblem(rule.id, rule.source_file, message))

    # A rule imported from a gitleaks/betterleaks TOML file has no place for
    # examples: that its pattern compiles is all there is to check.
    if rule.kind != IMPORTED_KIND:
        if not rule.examples:
            fail("has no examples")
        if not rule.negative_examples:
            fail("has no negative examples")
    for number, example in enumerate(rule.examples, 1):
        matches = detector.detect(_chunk(example))
        if not matches:
            fail(f"example {number} is not matched")
            continue
        verdicts = [judge.judge(rule, m.secret) for m in matches]
        if all(v.liveness is Liveness.FAKE for v in verdicts):
            fail(f"example {number} is matched but judged fake: {verdicts[0].reason}")
    for number, negative in enumerate(rule.negative_examples, 1):
        for match in detector.detect(_chunk(negative)):
            verdict = judge.judge(rule, match.secret)
            if verdict.liveness is not Liveness.FAKE:
                fail(f"negative example {number} is reported ({verdict.liveness.value})")
                break
    return problems


def render_rule_list(rules: Sequence[Rule], output_format: str, out: TextIO) -> None:
    """The rule table (rich) or a JSON list."""
    ordered = sorted(rules, key=lambda r: (r.registry, r.id))
    if output_format == "json":
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "registry": r.registry,
                "kind": r.kind,
                "severity": r.severity.value,
                "keywords": list(r.keywords),
                "structure": r.structure,
                "revoke_url": r.revoke_url,
                "source_file": r.source_file,
            }
            for r in ordered
        ]
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    if output_format != "table":
        from scanner.errors import ConfigError

        raise ConfigError(f"--format '{output_format}' is not one of table, json")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(ordered)} rules")
    for column in ("id", "registry", "kind", "severity", "offline check", "name"):
        table.add_column(column)
    for r in ordered:
        table.add_row(r.id, r.registry, r.kind, r.severity.value, r.structure or "-", r.name)
    Console(file=out, width=None if out.isatty() else 160).print(table)
