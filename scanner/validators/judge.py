"""Combines the placeholder heuristics and a rule's structure check into one
offline verdict per candidate secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from scanner.errors import RuleError
from scanner.model import Breadth, Liveness, Rule, StructureResult
from scanner.validators.base import Validator
from scanner.validators.placeholders import body_reason, notation_reason


def literal_prefix(rule: Rule, secret: str) -> str:
    """The longest of the rule's keywords that ``secret`` starts with ('' if none)."""
    lowered = secret.lower()
    return max((k for k in rule.keywords if lowered.startswith(k.lower())), key=len, default="")


class Judge:
    """Offline liveness, scope and breadth for (rule, secret) pairs, memoised."""

    def __init__(self, validators: Mapping[str, Validator], rules: list[Rule]) -> None:
        for rule in rules:
            if rule.structure is not None and rule.structure not in validators:
                known = ", ".join(sorted(validators))
                raise RuleError(
                    f"{rule.source_file}: rule '{rule.id}': unknown structure check "
                    f"'{rule.structure}' (known: {known})"
                )
        # Kept as given, not copied: the registry imports each check on first use.
        self._validators = validators
        self._memo: dict[tuple[str, str], StructureResult] = {}

    def judge(self, rule: Rule, secret: str) -> StructureResult:
        key = (rule.id, secret)
        verdict = self._memo.get(key)
        if verdict is None:
            verdict = self._memo[key] = self._judge(rule, secret)
        return verdict

    def _judge(self, rule: Rule, secret: str) -> StructureResult:
        reason = notation_reason(secret)
        if reason is not None:
            return StructureResult(Liveness.FAKE, reason=reason)
        validator = self._validators.get(rule.structure) if rule.structure else None
        if validator is None:
            verdict = StructureResult(Liveness.UNVERIFIABLE, reason="no offline structure to check")
        else:
            verdict = validator.check(secret)
        if verdict.liveness is Liveness.FAKE:
            return verdict
        # A value whose whole structure was parsed (a macaroon, a key block, a
        # JWT) is not judged by how random its text looks: base64 of structured
        # bytes has runs of "A" and, now and then, a word like "test".
        if validator is None or not validator.structured:
            prefix = literal_prefix(rule, secret)
            reason = body_reason(secret[len(prefix) :])
            if reason is not None:
                return StructureResult(Liveness.FAKE, reason=reason)
        # The rule's own words fill in what the token's structure did not say.
        if verdict.scope is None and rule.scope is not None:
            verdict = replace(verdict, scope=rule.scope)
        if verdict.breadth is Breadth.UNKNOWN and rule.breadth is not Breadth.UNKNOWN:
            verdict = replace(verdict, breadth=rule.breadth)
        return verdict
