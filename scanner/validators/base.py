"""The Validator interface and the registry of offline structure checks.

A rule names its check with ``structure: <name>``; the name must be a key of
the registry returned by ``builtin_validators()``.
"""

from __future__ import annotations

import abc

from scanner.model import StructureResult


class Validator(abc.ABC):
    """An offline, pure judgement of one candidate secret's structure."""

    #: the name rules use in their ``structure:`` field
    name: str = ""

    @abc.abstractmethod
    def check(self, secret: str) -> StructureResult:
        """Judge ``secret`` from its own bytes alone (no I/O)."""


def builtin_validators() -> dict[str, Validator]:
    """Every structure check sprawl ships, keyed by the name rules use."""
    from scanner.validators.github import GitHubStyleChecksum
    from scanner.validators.pypi import PyPIMacaroon

    validators: list[Validator] = [GitHubStyleChecksum(), PyPIMacaroon()]
    return {validator.name: validator for validator in validators}
