"""Generated credentials and decoys for the rule-pack tests.

Each module in this package defines ``CASES`` (TokenCase: how to build a
valid credential of one rule and how it should be judged) and ``DECOYS``
(DecoyCase: look-alikes that must produce no reported finding). The values
are built at run time with correct checksums and structure; none was ever
issued by a registry.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from collections.abc import Callable
from dataclasses import dataclass

from scanner.model import Liveness


@dataclass(frozen=True)
class TokenCase:
    """One kind of credential a rule must find.

    ``template`` is the file content with ``{secret}`` where the credential
    stands; ``encode`` turns the credential into the text written there (for
    base64-wrapped or escaped credentials: the finding must point at the
    encoded text). ``scope`` is a substring the finding's scope must contain.
    """

    rule_id: str
    make: Callable[[random.Random], str]
    template: str = "{secret}\n"
    filename: str = "input.txt"
    liveness: Liveness = Liveness.LIVE_LOOKING
    scope: str | None = None
    encode: Callable[[str], str] | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return f"{self.rule_id}{'-' + self.label if self.label else ''}"

    def render(self, secret: str) -> tuple[str, int, int]:
        """File content, and the line and column where the credential text starts."""
        written = self.encode(secret) if self.encode else secret
        before = self.template[: self.template.index("{secret}")]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return self.template.replace("{secret}", written), line, column


@dataclass(frozen=True)
class DecoyCase:
    """A look-alike that must not be reported: ``make`` returns file content."""

    label: str
    make: Callable[[random.Random], str]
    filename: str = "decoy.txt"


def all_cases() -> tuple[list[TokenCase], list[DecoyCase]]:
    """Every CASES and DECOYS entry of every module in this package."""
    import tests.factories as package

    cases: list[TokenCase] = []
    decoys: list[DecoyCase] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
        decoys.extend(getattr(module, "DECOYS", []))
    return cases, decoys
