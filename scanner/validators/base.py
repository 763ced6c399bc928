"""The Validator interface and the registry of offline structure checks.

A rule names its check with ``structure: <name>``; the name must be a key of
the registry returned by ``builtin_validators()``, which imports each check's
module only when the check is first needed.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from types import ModuleType

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


# Which module of scanner.validators defines each built-in check, so a scan
# imports only the checks its candidates need (a commit hook that finds
# nothing imports none). tests/validators/test_base.py holds this table to
# what the modules themselves define.
_BUILTIN_MODULES: tuple[tuple[str, str], ...] = (
    ("aws-codeartifact-jwe", "jwt"),
    ("azure-devops-pat", "azure_devops"),
    ("base64-password", "context_value"),
    ("basic-auth", "context_value"),
    ("buildkite-packages-token", "buildkite"),
    ("context-secret", "context_value"),
    ("cosign-private-key", "cosign"),
    ("crates-trusted-publishing", "crates"),
    ("github-crc32", "github"),
    ("github-installation-jwt", "jwt"),
    ("gitlab-prefixed", "gitlab"),
    ("gitlab-routable", "gitlab"),
    ("gnupg-key-file", "pgp"),
    ("google-service-account-key", "google"),
    ("jfrog-access-token", "jfrog"),
    ("jfrog-api-key", "jfrog"),
    ("jfrog-reference-token", "jfrog"),
    ("jsr-crc32", "jsr"),
    ("jwt-expiry", "jwt"),
    ("npmjs-auth-token", "context_value"),
    ("nuget-apikey-v4", "nuget"),
    ("packagist-token", "packagist"),
    ("pgp-private-key", "pgp"),
    ("pypi-macaroon", "pypi"),
    ("snapcraft-login", "snapcraft"),
    ("uuid4-token", "uuid_token"),
)


def _validator_classes(module: ModuleType) -> list[type[Validator]]:
    import inspect

    return [
        value
        for _, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, Validator) and value.name and value.__module__ == module.__name__
    ]


def plugin_validator_classes() -> list[type[Validator]]:
    """The checks other packages register under the ``sprawl.validators``
    entry-point group."""
    import inspect
    from importlib.metadata import entry_points

    classes: list[type[Validator]] = []
    for entry_point in entry_points(group="sprawl.validators"):
        loaded = entry_point.load()
        if inspect.isclass(loaded) and issubclass(loaded, Validator):
            classes.append(loaded)
    return classes


def discover_validator_classes() -> list[type[Validator]]:
    """Every check, found by importing every module of scanner.validators
    (each Validator subclass with a ``name``) plus the plugins."""
    import importlib
    import pkgutil

    import scanner.validators as package

    classes: list[type[Validator]] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        classes += _validator_classes(importlib.import_module(f"{package.__name__}.{module_info.name}"))
    return classes + plugin_validator_classes()


class ValidatorRegistry(Mapping[str, Validator]):
    """Structure checks by name, each module imported on first use; plugins
    (entry points) are looked up only for a name that is not built in, or
    when the whole registry is listed."""

    def __init__(self) -> None:
        self._modules = dict(_BUILTIN_MODULES)
        self._instances: dict[str, Validator] = {}
        self._plugins: dict[str, type[Validator]] | None = None

    def _plugin_map(self) -> dict[str, type[Validator]]:
        if self._plugins is None:
            plugins: dict[str, type[Validator]] = {}
            for cls in plugin_validator_classes():
                if cls.name in self._modules or cls.name in plugins:
                    raise RuleError(f"two structure checks are named '{cls.name}'")
                plugins[cls.name] = cls
            self._plugins = plugins
        return self._plugins

    def _builtin_class(self, name: str) -> type[Validator]:
        import importlib

        module = importlib.import_module(f"scanner.validators.{self._modules[name]}")
        for cls in _validator_classes(module):
            if cls.name == name:
                return cls
        raise RuleError(f"structure check '{name}' is not in scanner.validators.{self._modules[name]}")

    def __getitem__(self, name: str) -> Validator:
        found = self._instances.get(name)
        if found is None:
            if name in self._modules:
                cls = self._builtin_class(name)
            elif name in self._plugin_map():
                cls = self._plugin_map()[name]
            else:
                raise KeyError(name)
            found = self._instances[name] = cls()
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._modules or (isinstance(name, str) and name in self._plugin_map())

    def __iter__(self) -> Iterator[str]:
        return iter([*self._modules, *self._plugin_map()])

    def __len__(self) -> int:
        return len(self._modules) + len(self._plugin_map())


def builtin_validators() -> ValidatorRegistry:
    """Every structure check: the built-in ones plus those other packages
    register under the ``sprawl.validators`` entry-point group, keyed by the
    name rules use. Each is imported when first looked up."""
    return ValidatorRegistry()
