"""The structure-check registry: its name table matches what the modules
define, and checks are imported only when looked up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scanner.errors import RuleError
from scanner.validators.base import Validator, ValidatorRegistry, builtin_validators, discover_validator_classes


def test_table_names_every_check_the_modules_define() -> None:
    discovered = {cls.name: cls for cls in discover_validator_classes()}
    registry = builtin_validators()
    assert sorted(registry) == sorted(discovered)
    for name, cls in discovered.items():
        assert type(registry[name]) is cls


def test_checks_are_imported_on_first_use() -> None:
    code = (
        "import sys\n"
        "from scanner.validators.base import builtin_validators\n"
        "registry = builtin_validators()\n"
        "assert 'pypi-macaroon' in registry\n"
        "assert 'scanner.validators.pypi' not in sys.modules\n"
        "registry['pypi-macaroon']\n"
        "assert 'scanner.validators.pypi' in sys.modules\n"
        "assert 'scanner.validators.pgp' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_name() -> None:
    registry = builtin_validators()
    assert "no-such-check" not in registry
    with pytest.raises(KeyError):
        registry["no-such-check"]


def test_plugin_may_not_reuse_a_builtin_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clash(Validator):
        name = "github-crc32"

        def check(self, secret: str):  # type: ignore[no-untyped-def]
            raise AssertionError

    monkeypatch.setattr("scanner.validators.base.plugin_validator_classes", lambda: [Clash])
    with pytest.raises(RuleError, match="two structure checks are named 'github-crc32'"):
        len(ValidatorRegistry())


def test_plugin_checks_are_found_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class Extra(Validator):
        name = "acme-token"

        def check(self, secret: str):  # type: ignore[no-untyped-def]
            raise AssertionError

    monkeypatch.setattr("scanner.validators.base.plugin_validator_classes", lambda: [Extra])
    registry = ValidatorRegistry()
    assert "acme-token" in registry
    assert isinstance(registry["acme-token"], Extra)
    assert "acme-token" in list(registry)
