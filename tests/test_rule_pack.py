"""The quality bar for the rule pack: for every token-format rule, 20 freshly
generated valid credentials are each found with the right rule, liveness,
scope, line and column; every decoy produces no reported finding."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scanner.config import ScanConfig
from scanner.pipeline import scan
from scanner.ruleset import load_rules
from tests.factories import DecoyCase, TokenCase, all_cases

CASES, DECOYS = all_cases()
PER_CASE = 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_generated_credentials_are_found_and_judged(case: TokenCase, tmp_path: Path) -> None:
    rng = random.Random(case.name)
    expected = {}
    for number in range(PER_CASE):
        secret = case.make(rng)
        content, line, column = case.render(secret)
        folder = tmp_path / f"{number:02d}"
        folder.mkdir()
        (folder / case.filename).write_text(content)
        expected[str(folder / case.filename)] = (secret, line, column)
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    found = {
        (o.provenance.path, f.secret): (f.rule_id, f.liveness, f.scope, o.line, o.column)
        for f in result.findings
        for o in f.occurrences
    }
    for path, (secret, line, column) in expected.items():
        got = found.get((path, secret))
        assert got is not None, f"{case.name}: not found in {path}: {[k for k in found if k[0] == path]}"
        rule_id, liveness, scope, got_line, got_column = got
        assert (rule_id, liveness, got_line, got_column) == (case.rule_id, case.liveness, line, column), path
        if case.scope is not None:
            assert scope is not None and case.scope in scope, (case.scope, scope)


@pytest.mark.parametrize("decoy", DECOYS, ids=[d.label for d in DECOYS])
def test_decoys_are_not_reported(decoy: DecoyCase, tmp_path: Path) -> None:
    rng = random.Random(decoy.label)
    for number in range(PER_CASE):
        (tmp_path / f"{number:02d}-{decoy.filename}").write_text(decoy.make(rng))
    result = scan(ScanConfig(paths=(str(tmp_path),)))
    assert [(f.rule_id, f.redacted, f.liveness.value, f.liveness_reason) for f in result.findings] == []


def test_every_token_format_rule_has_generated_cases() -> None:
    covered = {case.rule_id for case in CASES}
    token_rules = {rule.id for rule in load_rules() if not rule.context}
    assert token_rules - covered == set()
