"""The Validator interface and the registry of offline structure checks.

A rule names its check with ``structure: <name>``; the name must be a key of
the registry returned by ``builtin_validators()``.
"""

from __future__ import annotations

import abc

from scanner.errors import RuleError
from scanner.model import StructureResult


class Validator(abc.ABC):
    """An offline, pure judgement of one candidate secret's structure."""

    #: the name rules use in their ``structure:`` field
    name: str = ""
    #: True when check() parses the whole value (macaroon, key block, JWT): the
    #: judge then skips its looks-random heuristics, which only suit opaque tokens.
    structured: bool = False

    @abc.abstractmethod
    def check(self, secret: str) -> StructureResult:
        """Judge ``secret`` from its own bytes alone (no I/O)."""


def builtin_validators() -> dict[str, Validator]:
    """Every structure check: each Validator subclass with a ``name`` in the
    modules of scanner.validators, plus those other packages register under
    the ``sprawl.validators`` entry-point group. Keyed by the name rules use."""
    import importlib
    import inspect
    import pkgutil
    from importlib.metadata import entry_points

    import scanner.validators as package

    classes: list[type[Validator]] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Validator) and value.name and value.__module__ == module.__name__:
                classes.append(value)
    for entry_point in entry_points(group="sprawl.validators"):
        loaded = entry_point.load()
        if inspect.isclass(loaded) and issubclass(loaded, Validator):
            classes.append(loaded)
    validators: dict[str, Validator] = {}
    for cls in classes:
        if cls.name in validators:
            raise RuleError(f"two structure checks are named '{cls.name}'")
        validators[cls.name] = cls()
    return validators
